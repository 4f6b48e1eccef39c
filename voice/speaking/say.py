"""`voice say`: speak a text aloud, or write it to a WAV file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from voice.audio.devices import parse_device


def say(
    text: str, *, out: Path | None, rate_wpm: int | None, output_device: str | None
) -> None:
    """Synthesize ``text`` and play it (or write it to ``out``)."""
    from voice.speaking.synthesis import SpeechSettings, synthesize_text, synthesize_to_wav

    settings = SpeechSettings()
    if rate_wpm is not None:
        settings = replace(settings, rate_wpm=rate_wpm)
    if out is not None:
        synthesize_to_wav(text, settings, out)
        return
    from voice.audio.speaker import Speaker

    audio = synthesize_text(text, settings)
    with Speaker(parse_device(output_device)) as speaker:
        speaker.play(audio, settings.volume)
        speaker.wait(timeout=audio.duration_s + 5)
