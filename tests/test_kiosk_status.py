"""Tests for the kiosk's JSON-lines status log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voice.errors import UsageError
from voice.kiosk.status import StatusLog


def test_status_log_writes_json_lines_with_the_given_clock(tmp_path: Path) -> None:
    path = tmp_path / "status.jsonl"
    status = StatusLog(path, clock=lambda: 12.34567)
    assert status.enabled
    status.write("say", kind="answer")
    status.close()
    status.write("after_close")  # ignored, not an error
    assert not status.enabled
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"t": 12.3457, "event": "say", "kind": "answer"}
    ]


def test_status_log_off_without_a_path() -> None:
    status = StatusLog(None)
    assert not status.enabled
    status.write("anything")
    status.close()


def test_an_unwritable_status_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot be written"):
        StatusLog(tmp_path / "missing" / "status.jsonl")
