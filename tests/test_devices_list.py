"""`voice devices`: its lines explain the columns, and an empty list says what to check."""

from __future__ import annotations

import types
from typing import Any

import pytest

from voice.audio import devices


def _fake_sounddevice(found: list[dict[str, Any]]) -> types.ModuleType:
    module = types.ModuleType("sounddevice")
    module.query_devices = lambda: found  # type: ignore[attr-defined]
    module.default = types.SimpleNamespace(device=(1, 0))  # type: ignore[attr-defined]
    module.PortAudioError = RuntimeError  # type: ignore[attr-defined]
    return module


def test_the_columns_are_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    found = [
        {"name": "USB speaker", "max_input_channels": 0, "max_output_channels": 2},
        {"name": "USB microphone", "max_input_channels": 1, "max_output_channels": 0},
    ]
    monkeypatch.setattr(devices, "import_sounddevice", lambda: _fake_sounddevice(found))
    lines = devices.list_devices()
    text = "\n".join(lines)
    assert "--input-device" in lines[0] and "microphone channels" in text
    assert "  0  USB speaker  (in 0, out 2)  <- default output" in lines
    assert "  1  USB microphone  (in 1, out 0)  <- default input" in lines


def test_no_devices_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devices, "import_sounddevice", lambda: _fake_sounddevice([]))
    assert devices.list_devices() == [
        "No audio devices found. Check that a microphone and speaker are connected."
    ]
