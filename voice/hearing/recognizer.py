"""What the kiosk hears: the model with the FAQ phrase list, and both decodings of a question.

The phrase-list decoder knows the FAQ's words; the open-vocabulary decoder hears everything.
voice/hearing/policy.py decides how far the two together are trusted.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voice.content.schema import Faq
from voice.hearing.transcript import Transcript

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeardQuestion:
    """The transcript chosen for matching, and both decodings it was chosen from."""

    transcript: Transcript
    open: Transcript | None
    phrases: Transcript | None
    # How loud the speech was above the background, in dB (voice/audio/levels.py).
    speech_to_background_db: float | None = None


class SpeechRecognizer:
    """A loaded model plus the FAQ phrase list: decodes one utterance at a time."""

    def __init__(self, faq: Faq, model_path: Path | None, decoding: str = "auto") -> None:
        from voice.hearing.model import load_model, locate_model
        from voice.hearing.phrase_list import build_phrase_list

        self.decoding = decoding
        path = locate_model(model_path)
        started = time.perf_counter()
        self.model: Any = load_model(path)
        self.load_ms = (time.perf_counter() - started) * 1000
        self.phrases = build_phrase_list(faq, path).phrases if decoding != "open" else None
        log.info("model %s loaded in %.0f ms", path, self.load_ms)

    def decoders(self) -> tuple[Any, Any]:
        """Fresh (open, phrase-list) decoders as this decoding mode needs them."""
        from voice.hearing.decoder import Decoder

        open_decoder = Decoder(self.model) if self.decoding in ("auto", "open") else None
        phrase_decoder = (
            Decoder(self.model, self.phrases) if self.decoding in ("auto", "phrases") else None
        )
        return open_decoder, phrase_decoder

    def hear_file(self, path: Path, max_seconds: float | None = None) -> HeardQuestion:
        """Decode one file with the configured decoders (raises AudioError/RecognitionError).

        ``max_seconds``: refuse a recording longer than this (None: no limit).
        """
        from voice.audio.files import iter_pcm16
        from voice.audio.levels import NoiseMeter

        open_decoder, phrase_decoder = self.decoders()
        meter = NoiseMeter()
        for chunk in iter_pcm16(path, max_seconds=max_seconds):
            meter.feed(chunk)
            if open_decoder is not None:
                open_decoder.accept(chunk)
            if phrase_decoder is not None:
                phrase_decoder.accept(chunk)
        open_t = open_decoder.finish() if open_decoder is not None else None
        phrase_t = phrase_decoder.finish() if phrase_decoder is not None else None
        chosen = phrase_t if phrase_t is not None else open_t
        assert chosen is not None
        return HeardQuestion(chosen, open_t, phrase_t, meter.speech_to_background_db())
