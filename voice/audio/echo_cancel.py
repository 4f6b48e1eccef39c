"""Acoustic echo cancellation through the sound server, and the check for hearing our own output.

A kiosk hears its own loudspeaker. PulseAudio's ``module-echo-cancel`` with WebRTC's canceller
makes a filtered microphone (a new source) and a speaker that feeds it the reference (a new sink);
the kiosk records from the one and plays into the other. Measured in the test harness with the
speaker mixed into the microphone at -6/-12/-20 dB: WebRTC removes 20-22 dB of the echo, Speex
(``aec_method=speex``, the same libspeexdsp an in-process canceller would use) 11 dB at -6 dB and
none at -20 dB, so WebRTC it is. With the kiosk's own PortAudio streams, though, the echo still
came through as words and a spoken "stop" was lost at -6 dB (the ALSA pulse plugin underruns
when a stream starts, which may upset the canceller's alignment), so ``voice run`` leaves it off
unless asked (--echo-cancel auto|webrtc) until that is understood. Its gain controls are off:
they turn the master microphone down and would amplify the residual echo the kiosk's echo gate
still has to judge.

Everything here talks to the server with ``pactl`` (PulseAudio, or PipeWire's pipewire-pulse).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

from voice.errors import DeviceError

log = logging.getLogger(__name__)

AEC_SOURCE = "clinic_voice_aec_source"
AEC_SINK = "clinic_voice_aec_sink"
AEC_ARGS = 'aec_args="analog_gain_control=0 digital_gain_control=0"'
PACTL_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class EchoCancelDevices:
    """The sound server's echo-cancelled microphone and the speaker that feeds its reference."""

    source: str
    sink: str
    loaded_here: bool  # False when a canceller with these names was already running


def _pactl(*args: str) -> str:
    """Run pactl and return its output (DeviceError with one sentence when it cannot)."""
    if shutil.which("pactl") is None:
        raise DeviceError(
            "Echo cancellation needs the sound server's pactl tool (Debian: pulseaudio-utils)."
        )
    try:
        result = subprocess.run(
            ["pactl", *args],
            capture_output=True,
            text=True,
            timeout=PACTL_TIMEOUT_S,
            env={**os.environ, "LC_ALL": "C"},
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise DeviceError("The sound server did not answer within 5 s.") from exc
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise DeviceError(f"The sound server refused 'pactl {args[0]}': {' '.join(detail[-1:])}")
    return result.stdout


def _json_list(kind: str) -> list[dict[str, Any]]:
    try:
        rows = json.loads(_pactl("-f", "json", "list", kind))
    except json.JSONDecodeError as exc:
        raise DeviceError(f"The sound server's list of {kind} could not be read ({exc}).") from exc
    return [r for r in rows if isinstance(r, dict)]


def _master(row: dict[str, Any]) -> str | None:
    master = row.get("properties", {}).get("device.master_device")
    return master if isinstance(master, str) and master else None


def start_echo_cancel() -> EchoCancelDevices:
    """Load WebRTC echo cancellation on the default microphone and speaker (or reuse it)."""
    sources = {s.get("name"): s for s in _json_list("sources")}
    if AEC_SOURCE in sources:
        return EchoCancelDevices(AEC_SOURCE, AEC_SINK, loaded_here=False)
    mic = _pactl("get-default-source").strip()
    speaker = _pactl("get-default-sink").strip()
    row = sources.get(mic)
    if mic == f"{speaker}.monitor" or (row is not None and row.get("monitor_source") == speaker):
        raise DeviceError(
            f"The default microphone is the kiosk's own speaker output ({mic}); "
            "connect a microphone or choose one with --input-device."
        )
    _pactl(
        "load-module",
        "module-echo-cancel",
        "aec_method=webrtc",
        AEC_ARGS,
        f"source_master={mic}",
        f"sink_master={speaker}",
        f"source_name={AEC_SOURCE}",
        f"sink_name={AEC_SINK}",
    )
    log.info("echo cancellation (webrtc) on microphone %s and speaker %s", mic, speaker)
    return EchoCancelDevices(AEC_SOURCE, AEC_SINK, loaded_here=True)


def use_in_this_process(devices: EchoCancelDevices) -> None:
    """Make this process's default PulseAudio devices the echo-cancelled pair.

    libpulse reads PULSE_SOURCE and PULSE_SINK whenever a stream is connected to "the default"
    device, which is what PortAudio's ALSA ``default`` (the pulse plugin) does.
    """
    os.environ["PULSE_SOURCE"] = devices.source
    os.environ["PULSE_SINK"] = devices.sink


def own_output_capture(pid: int | None = None) -> str | None:
    """The source this process records from, if it is a monitor of a sink it plays into.

    Follows filter devices (the echo canceller's source and sink) to their masters. None when
    the capture is a real microphone, or when the process has no capture stream.
    """
    pid_text = str(pid if pid is not None else os.getpid())
    sources = _json_list("sources")
    sinks = _json_list("sinks")
    by_index_src = {s.get("index"): s for s in sources}
    by_name_src = {s.get("name"): s for s in sources}
    by_index_sink = {s.get("index"): s for s in sinks}
    by_name_sink = {s.get("name"): s for s in sinks}

    def mine(row: dict[str, Any]) -> bool:
        return bool(row.get("properties", {}).get("application.process.id") == pid_text)

    played: set[str] = set()
    for stream in _json_list("sink-inputs"):
        sink = by_index_sink.get(stream.get("sink")) if mine(stream) else None
        while sink is not None and sink.get("name") not in played:
            played.add(str(sink.get("name")))
            master = _master(sink)
            sink = by_name_sink.get(master) if master else None
    # The kiosk's speaker stream may be closed between sentences: its default sink counts too.
    default_sink = os.environ.get("PULSE_SINK") or _pactl("get-default-sink").strip()
    sink = by_name_sink.get(default_sink)
    while sink is not None and sink.get("name") not in played:
        played.add(str(sink.get("name")))
        master = _master(sink)
        sink = by_name_sink.get(master) if master else None
    for stream in _json_list("source-outputs"):
        source = by_index_src.get(stream.get("source")) if mine(stream) else None
        seen: set[str] = set()
        while source is not None and source.get("name") not in seen:
            name = str(source.get("name"))
            seen.add(name)
            if source.get("monitor_source") in played:
                return name
            master = _master(source)
            source = by_name_src.get(master) if master else None
    return None
