"""`voice say`: speak a text aloud, or write it to a WAV file."""

from __future__ import annotations

import logging
from pathlib import Path

from voice.audio.devices import parse_device
from voice.errors import ContentError
from voice.speaking.engine import DEFAULT_VOICE, Voice

logger = logging.getLogger(__name__)


def say(
    text: str,
    *,
    out: Path | None,
    rate_wpm: int | None,
    output_device: str | None,
    voice: Voice = DEFAULT_VOICE,
    content_dir: Path | None = None,
) -> None:
    """Synthesize ``text`` in ``voice`` and play it (or write it to ``out``)."""
    from voice.speaking.prerender import open_speech
    from voice.speaking.synthesis import SpeechSettings, apply_gain, write_wav

    settings = SpeechSettings() if rate_wpm is None else SpeechSettings(rate_wpm=rate_wpm)
    # Nothing said here is content, so nothing goes to the disk cache.
    speech = open_speech(voice, _pronunciations(content_dir), cache_dir=None)
    audio = speech.text(text, settings.rate_wpm)
    if out is not None:
        write_wav(apply_gain(audio, settings.volume), out)
        return
    from voice.audio.speaker import Speaker

    with Speaker(parse_device(output_device)) as speaker:
        speaker.play(audio, settings.volume)
        speaker.wait(timeout=audio.duration_s + 5)


def _pronunciations(content_dir: Path | None) -> tuple[tuple[str, str], ...]:
    """The content's pronunciation table, so `voice say` sounds like the kiosk."""
    from voice.content.loader import default_content_dir, load_content

    try:
        return load_content(content_dir or default_content_dir()).pronunciations
    except ContentError as error:
        logger.warning("Speaking without the content's pronunciations: %s", error)
        return ()
