"""Acoustic echo cancellation through the sound server, and the check for hearing our own output.

A kiosk hears its own loudspeaker. PulseAudio's ``module-echo-cancel`` with WebRTC's canceller
makes a filtered microphone (a new source) and a speaker that feeds it the reference (a new sink);
the kiosk records from the one and plays into the other. Speex (``aec_method=speex``, the same
libspeexdsp an in-process canceller would use) removed 11 dB of echo at -6 dB and none at -20 dB in
the test room, so WebRTC it is.

WebRTC's canceller must run with ``extended_filter=1``. The module lines the speaker's reference up
with the microphone from latency snapshots, and re-aligns every second by dropping reference
samples ("Playback after capture (-38321), drop sink" in the daemon's log). On a busy machine those
snapshots jitter by tens of milliseconds, and the default filter (about 48 ms at 16 kHz) then no
longer covers the echo: with the kiosk's own streams it removed 0-4 dB, and a spoken "stop" was
lost at -6 dB. The extended filter (128 ms, with its own delay tracking) removed 23-44 dB (median
31) of the kiosk's echo at -6 dB in the same room with the machine as busy. Keeping one output
stream open between utterances made no difference (measured: about 20 dB either way when the
machine is quiet, a few dB either way when it is busy without the extended filter). The gain
controls are off: they turn the master microphone down and would amplify the residual echo the
kiosk's echo gate still has to judge.

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
AEC_ARGS = 'aec_args="analog_gain_control=0 digital_gain_control=0 extended_filter=1"'
PACTL_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class EchoCancelDevices:
    """The sound server's echo-cancelled microphone and the speaker that feeds its reference."""

    source: str
    sink: str
    microphone: str  # the master devices it filters
    speaker: str
    module: int | None  # the module loaded here (unloaded by stop_echo_cancel); None: reused


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
    mic = _pactl("get-default-source").strip()
    speaker = _pactl("get-default-sink").strip()
    running = sources.get(AEC_SOURCE)
    if running is not None:
        reused = _reuse(running, mic, speaker)
        if reused is not None:
            return reused
        sources = {s.get("name"): s for s in _json_list("sources")}
        mic = _pactl("get-default-source").strip()
        speaker = _pactl("get-default-sink").strip()
    row = sources.get(mic)
    if mic == f"{speaker}.monitor" or (row is not None and row.get("monitor_source") == speaker):
        raise DeviceError(
            f"The default microphone is the kiosk's own speaker output ({mic}); "
            "connect a microphone or choose one with --input-device."
        )
    output = _pactl(
        "load-module",
        "module-echo-cancel",
        "aec_method=webrtc",
        AEC_ARGS,
        f"source_master={mic}",
        f"sink_master={speaker}",
        f"source_name={AEC_SOURCE}",
        f"sink_name={AEC_SINK}",
    )
    try:
        module: int | None = int(output.strip())
    except ValueError:
        module = None  # loaded, but the server did not say as what: it stays loaded
    return EchoCancelDevices(AEC_SOURCE, AEC_SINK, mic, speaker, module)


def _reuse(running: dict[str, Any], mic: str, speaker: str) -> EchoCancelDevices | None:
    """The kiosk's canceller already loaded, if it has today's settings and devices.

    Otherwise (left by an older version, or the default devices have changed since) it is
    unloaded, and None returned so that it is loaded again.
    """
    module = running.get("owner_module")
    argument = ""
    for line in _pactl("list", "short", "modules").splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and fields[0] == str(module):
            argument = fields[2]
    masters = (_master(running) or mic, _master_of_sink(AEC_SINK) or speaker)
    # The defaults may be the canceller itself (set up so by hand): then it is used as it is.
    by_hand = mic == AEC_SOURCE or speaker == AEC_SINK
    if by_hand or (AEC_ARGS in argument and masters == (mic, speaker)):
        return EchoCancelDevices(AEC_SOURCE, AEC_SINK, *masters, module=None)
    if module is None:
        raise DeviceError(
            f"An echo canceller named {AEC_SOURCE} is loaded with other settings and cannot be "
            "replaced; unload it (pactl unload-module module-echo-cancel)."
        )
    log.info("replacing the echo canceller loaded with other settings or devices (%s)", argument)
    _pactl("unload-module", str(module))
    return None


def _master_of_sink(name: str) -> str | None:
    for row in _json_list("sinks"):
        if row.get("name") == name:
            return _master(row)
    return None


def stop_echo_cancel(devices: EchoCancelDevices) -> None:
    """Unload the canceller if this process loaded it (a reused one is left running)."""
    if devices.module is not None:
        _pactl("unload-module", str(devices.module))


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
