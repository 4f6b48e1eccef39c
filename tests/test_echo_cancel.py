"""The sound server's echo canceller as the kiosk sets it up (virtual PulseAudio devices)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from pulse_harness import MIC_SOURCE, ROOM_SINK, VirtualAudio

from voice.audio import echo_cancel
from voice.audio.echo_cancel import (
    AEC_ARGS,
    AEC_SINK,
    AEC_SOURCE,
    start_echo_cancel,
    stop_echo_cancel,
)
from voice.errors import DeviceError
from voice.kiosk import loop
from voice.kiosk.settings import EchoCancel
from voice.kiosk.status import StatusLog


@pytest.fixture
def room(virtual_audio: VirtualAudio, monkeypatch: pytest.MonkeyPatch) -> Iterator[VirtualAudio]:
    """The echoing room's devices as this process's sound server (pactl talks to it)."""
    modules = virtual_audio.open_room()
    for name in ("PULSE_SERVER", "PULSE_CLIENTCONFIG", "PULSE_RUNTIME_PATH"):
        monkeypatch.setenv(name, virtual_audio.env[name])
    yield virtual_audio
    virtual_audio.close_room(modules)  # unloads any canceller left behind


def _cancellers(audio: VirtualAudio) -> list[tuple[int, str]]:
    rows = [line.split("\t") for line in audio.pactl("list", "short", "modules").splitlines()]
    return [(int(r[0]), r[2]) for r in rows if len(r) >= 3 and r[1] == "module-echo-cancel"]


@pytest.mark.e2e
def test_it_loads_webrtc_with_the_extended_filter_on_the_default_devices(
    room: VirtualAudio,
) -> None:
    devices = start_echo_cancel()
    assert (devices.source, devices.sink) == (AEC_SOURCE, AEC_SINK)
    assert (devices.microphone, devices.speaker) == (MIC_SOURCE, ROOM_SINK)
    ((module, argument),) = _cancellers(room)
    assert devices.module == module
    assert "aec_method=webrtc" in argument and "extended_filter=1" in argument
    stop_echo_cancel(devices)
    assert _cancellers(room) == []


@pytest.mark.e2e
def test_a_running_canceller_is_reused_and_left_running(room: VirtualAudio) -> None:
    loaded = start_echo_cancel()
    again = start_echo_cancel()
    assert again.module is None and again.source == AEC_SOURCE
    stop_echo_cancel(again)  # not loaded by this caller: stays
    assert [m for m, _ in _cancellers(room)] == [loaded.module]
    stop_echo_cancel(loaded)


@pytest.mark.e2e
def test_a_canceller_with_other_settings_is_replaced(room: VirtualAudio) -> None:
    # What an older kiosk left behind: the default filter, which fails on a busy machine.
    old = room.load_module(
        "module-echo-cancel",
        "aec_method=webrtc",
        'aec_args="analog_gain_control=0 digital_gain_control=0"',
        f"source_master={MIC_SOURCE}",
        f"sink_master={ROOM_SINK}",
        f"source_name={AEC_SOURCE}",
        f"sink_name={AEC_SINK}",
    )
    devices = start_echo_cancel()
    ((module, argument),) = _cancellers(room)
    assert module != old and devices.module == module and AEC_ARGS in argument
    stop_echo_cancel(devices)


@pytest.mark.e2e
def test_the_kiosks_own_speaker_as_microphone_is_refused(room: VirtualAudio) -> None:
    room.pactl("set-default-source", f"{ROOM_SINK}.monitor")
    try:
        with pytest.raises(DeviceError, match="own speaker output"):
            start_echo_cancel()
    finally:
        room.pactl("set-default-source", MIC_SOURCE)
    assert _cancellers(room) == []


def _kiosk_stub(mode: EchoCancel, tmp_path: Path) -> SimpleNamespace:
    """Just what Kiosk._start_echo_cancel uses."""
    settings = SimpleNamespace(echo_cancel=mode, input_device=None, output_device=None)
    return SimpleNamespace(
        settings=settings,
        status=StatusLog(tmp_path / "status.jsonl"),
        stop_requested=threading.Event(),
        _echo_cancel=None,
    )


def test_auto_falls_back_to_the_echo_gate_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_server() -> echo_cancel.EchoCancelDevices:
        raise DeviceError("The sound server did not answer within 5 s.")

    monkeypatch.setattr(loop, "start_echo_cancel", no_server)
    kiosk = _kiosk_stub(EchoCancel.AUTO, tmp_path)
    with caplog.at_level(logging.WARNING, logger="voice.kiosk.loop"):
        loop.Kiosk._start_echo_cancel(kiosk)  # type: ignore[arg-type]
    kiosk.status.close()
    assert kiosk._echo_cancel is None
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("Echo cancellation is off (The sound server did not answer")
    assert "echo gate alone" in line
    assert '"on": false' in (tmp_path / "status.jsonl").read_text()
