"""Audio devices: importing sounddevice, naming a device, and listing them (`voice devices`)."""

from __future__ import annotations

from types import ModuleType

from voice.errors import DeviceError


def import_sounddevice() -> ModuleType:
    """Import sounddevice, which fails when the PortAudio library is missing."""
    try:
        import sounddevice
    except OSError as exc:
        raise DeviceError(
            f"Audio is not available ({exc}). Install PortAudio: sudo apt-get install libportaudio2"
        ) from exc
    module: ModuleType = sounddevice
    return module


def parse_device(value: str | None) -> int | str | None:
    """A device given on the command line: an index ("3") or part of a name ("USB")."""
    if value is None or value == "":
        return None
    return int(value) if value.isdigit() else value


def list_devices() -> list[str]:
    """One line per device: index, name, inputs/outputs, default markers."""
    sd = import_sounddevice()
    try:
        devices = sd.query_devices()
        default_in, default_out = sd.default.device
    except sd.PortAudioError as exc:
        raise DeviceError(f"Audio devices could not be listed ({exc}).") from exc
    lines = [
        "  #  name  (in N, out N)   # is the number to give --input-device/--output-device;",
        "in N is how many microphone channels it has, out N how many speaker channels.",
        "Any device with in above 0 can be the microphone, out above 0 the speaker. 'default'",
        "and 'pulse' are the sound server's current choice and follow it when devices change.",
    ]
    header = len(lines)
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
    if len(lines) == header:
        lines = ["No audio devices found. Check that a microphone and speaker are connected."]
    else:
        lines.append("Use --input-device / --output-device with an index or part of a name.")
    return lines
