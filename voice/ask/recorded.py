"""Answering recorded questions: audio file -> recognizer -> matcher, one file at a time.

A file that cannot be read gives a result with ``error`` set; the others are still processed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from voice.ask.limits import DEFAULT_MAX_SECONDS
from voice.ask.record import AskResult, failed_input, result_for
from voice.content.schema import Faq
from voice.errors import AudioError, RecognitionError
from voice.hearing.policy import DEFAULT_POLICY, SpeechPolicy, judge
from voice.hearing.recognizer import HeardQuestion, SpeechRecognizer
from voice.matching.matcher import Matcher

log = logging.getLogger(__name__)


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
    match = judge(
        matcher, main, open_t, policy, speech_to_background_db=heard.speech_to_background_db
    )
    return result_for(
        faq, label, main.clean_text, match,
        started=started, asr_ms=asr_ms, confidence=main.confidence, words=main.words,
    )


def ask_files(
    faq: Faq,
    matcher: Matcher,
    files: Sequence[Path],
    model_path: Path | None,
    decoding: str,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
) -> Iterator[AskResult]:
    """Answer each recorded question as soon as it is decoded, in order; unreadable files give
    results with ``error`` set. The model is loaded at the first ``next()``."""
    recognizer = SpeechRecognizer(faq, model_path, decoding)
    for path in files:
        started = time.perf_counter()
        try:
            heard = recognizer.hear_file(path, max_seconds)
        except (AudioError, RecognitionError) as exc:
            log.info("%s", exc)
            yield failed_input(str(path), str(exc), started=started)
            continue
        yield choose_result(faq, matcher, str(path), heard, started)


def transcribe_files(
    files: Sequence[Path], model_path: Path | None, max_seconds: float | None = None
) -> Iterator[tuple[Path, str, str | None]]:
    """Open-vocabulary transcripts of files: (path, text, error message or None).

    No length limit by default: developers transcribe long recordings on purpose.
    """
    from voice.audio.files import iter_pcm16
    from voice.hearing.decoder import decode_chunks
    from voice.hearing.model import load_model, locate_model

    model = load_model(locate_model(model_path))
    for path in files:
        try:
            transcript = decode_chunks(model, iter_pcm16(path, max_seconds=max_seconds))
        except (AudioError, RecognitionError) as exc:
            yield path, "", str(exc)
            continue
        yield path, transcript.text, None
