"""Kiosk health: a failing part is logged once, reminded rarely, and readable by monitoring."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from voice.kiosk.health import Health, Log, Part, write_health_file

VOICE = str(Path(sys.executable).with_name("voice"))


def test_a_failing_part_is_logged_once_then_reminded_rarely() -> None:
    health = Health(reminder_s=300)
    logs = [health.report(Part.MICROPHONE, False, now=t, detail="gone") for t in range(0, 900, 2)]
    assert logs.count(Log.FAILING) == 1
    assert logs.count(Log.REMINDER) == 2  # at 300 s and 600 s, not 450 warnings
    assert not health.listening
    assert health.report(Part.MICROPHONE, True, now=901) is Log.RECOVERED
    assert health.report(Part.MICROPHONE, True, now=903) is Log.NOTHING
    assert health.listening


def test_working_parts_are_not_logged() -> None:
    health = Health()
    assert health.report(Part.SPEAKER, True, now=0) is Log.NOTHING
    assert health.works(Part.SPEECH)  # never reported: taken to work


def test_the_health_line_names_every_part(tmp_path: Path) -> None:
    health = Health()
    health.report(Part.SPEAKER, False, now=10, detail="The speaker is not available")
    line = health.line(now=70, wall_time=1_700_000_000.0)
    assert line["ok"] is False and line["listening"] is True
    parts = line["parts"]
    assert isinstance(parts, dict)
    assert set(parts) == {"microphone", "speaker", "speech"}
    speaker = {"ok": False, "detail": "The speaker is not available", "for_s": 60.0}
    assert parts["speaker"] == speaker
    path = tmp_path / "health.json"
    write_health_file(path, line)
    assert json.loads(path.read_text()) == line
    assert [p.name for p in tmp_path.iterdir()] == ["health.json"]


@pytest.mark.e2e
def test_a_kiosk_without_a_microphone_says_so_once_and_in_its_health_file(
    tmp_path: Path,
) -> None:
    """No microphone: one warning, not one per retry, and a health line monitoring can read."""
    health = tmp_path / "health.json"
    kiosk = subprocess.Popen(
        [VOICE, "run", "--input-device", "no such microphone", "--no-keys", "--no-captions",
         "--voice", "espeak", "--health-file", str(health)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not health.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(6)  # a few retries (every 2 s)
    finally:
        kiosk.send_signal(signal.SIGTERM)
        _, err = kiosk.communicate(timeout=30)
    line = json.loads(health.read_text())
    assert line["listening"] is False and line["ok"] is False
    assert "microphone" in line["parts"]["microphone"]["detail"].lower()
    assert err.count("No microphone could be opened") == 1, err
    assert "Traceback" not in err
