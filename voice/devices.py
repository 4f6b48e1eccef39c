"""Listing audio devices for `voice devices`."""

from __future__ import annotations

from voice.errors import DeviceError
from voice.microphone import _sounddevice


def list_devices() -> list[str]:
    """One line per device: index, name, inputs/outputs, default markers."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        default_in, default_out = sd.default.device
    except sd.PortAudioError as exc:
        raise DeviceError(f"Audio devices could not be listed ({exc}).") from exc
    lines = []
    for index, dev in enumerate(devices):
        marks = []
        if index == default_in:
            marks.append("default input")
        if index == default_out:
            marks.append("default output")
        mark = f"  <- {', '.join(marks)}" if marks else ""
        lines.append(
            f"{index:3d}  {dev['name']}  (in {dev['max_input_channels']}, "
            f"out {dev['max_output_channels']}){mark}"
        )
    if not lines:
        lines.append("No audio devices found. Check that a microphone and speaker are connected.")
    else:
        lines.append("Use --input-device / --output-device with an index or part of a name.")
    return lines
