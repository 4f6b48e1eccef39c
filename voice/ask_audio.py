"""Answering recorded questions: audio file -> recognizer -> matcher, one file at a time.

A file that cannot be read gives a result with ``error`` set; the others are still processed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voice.ask import AskResult, failed_input, result_for
from voice.content import Faq
from voice.errors import AudioError, RecognitionError
from voice.matching import Matcher
from voice.speech_policy import DEFAULT_POLICY, SpeechPolicy, judge, topic_words
from voice.transcript import Transcript

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeardQuestion:
    """The transcript chosen for matching, and both decodings it was chosen from."""

    transcript: Transcript
    open: Transcript | None
    phrases: Transcript | None


class SpeechRecognizer:
    """A loaded model plus the FAQ phrase list: decodes one utterance at a time."""

    def __init__(self, faq: Faq, model_path: Path | None, decoding: str = "auto") -> None:
        from voice.model import load_model, locate_model
        from voice.phrase_list import build_phrase_list

        self.decoding = decoding
        path = locate_model(model_path)
        started = time.perf_counter()
        self.model: Any = load_model(path)
        self.load_ms = (time.perf_counter() - started) * 1000
        self.phrases = build_phrase_list(faq, path).phrases if decoding != "open" else None
        log.info("model %s loaded in %.0f ms", path, self.load_ms)

    def decoders(self) -> tuple[Any, Any]:
        """Fresh (open, phrase-list) decoders as this decoding mode needs them."""
        from voice.recognition import Decoder

        open_decoder = Decoder(self.model) if self.decoding in ("auto", "open") else None
        phrase_decoder = (
            Decoder(self.model, self.phrases) if self.decoding in ("auto", "phrases") else None
        )
        return open_decoder, phrase_decoder

    def hear_file(self, path: Path) -> HeardQuestion:
        """Decode one file with the configured decoders (raises AudioError/RecognitionError)."""
        from voice.audio_file import iter_pcm16

        open_decoder, phrase_decoder = self.decoders()
        for chunk in iter_pcm16(path):
            if open_decoder is not None:
                open_decoder.accept(chunk)
            if phrase_decoder is not None:
                phrase_decoder.accept(chunk)
        open_t = open_decoder.finish() if open_decoder is not None else None
        phrase_t = phrase_decoder.finish() if phrase_decoder is not None else None
        chosen = phrase_t if phrase_t is not None else open_t
        assert chosen is not None
        return HeardQuestion(chosen, open_t, phrase_t)


def choose_result(
    faq: Faq,
    matcher: Matcher,
    label: str,
    heard: HeardQuestion,
    started: float,
    policy: SpeechPolicy = DEFAULT_POLICY,
) -> AskResult:
    """The ``voice ask`` result for one recorded question."""
    main = heard.transcript
    asr_ms = main.decode_ms + (heard.open.decode_ms if heard.open and heard.phrases else 0.0)
    open_t = heard.open if heard.phrases is not None else None
    match = judge(matcher, main, open_t, policy, topic_words(faq.topic_name))
    return result_for(
        faq, label, main.clean_text, match,
        started=started, asr_ms=asr_ms, confidence=main.confidence, words=main.words,
    )


def ask_files(
    faq: Faq, matcher: Matcher, files: Sequence[Path], model_path: Path | None, decoding: str
) -> list[AskResult]:
    """Answer each recorded question; unreadable files give results with ``error`` set."""
    recognizer = SpeechRecognizer(faq, model_path, decoding)
    results: list[AskResult] = []
    for path in files:
        started = time.perf_counter()
        try:
            heard = recognizer.hear_file(path)
        except (AudioError, RecognitionError) as exc:
            log.info("%s", exc)
            results.append(failed_input(str(path), str(exc), started=started))
            continue
        results.append(choose_result(faq, matcher, str(path), heard, started))
    return results


def transcribe_files(
    files: Sequence[Path], model_path: Path | None
) -> Iterator[tuple[Path, str, str | None]]:
    """Open-vocabulary transcripts of files: (path, text, error message or None)."""
    from voice.audio_file import iter_pcm16
    from voice.model import load_model, locate_model
    from voice.recognition import decode_chunks

    model = load_model(locate_model(model_path))
    for path in files:
        try:
            transcript = decode_chunks(model, iter_pcm16(path))
        except (AudioError, RecognitionError) as exc:
            yield path, "", str(exc)
            continue
        yield path, transcript.text, None
