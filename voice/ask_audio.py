"""Answering recorded questions: audio file -> recognizer -> matcher, one file at a time.

A file that cannot be read gives a result with ``error`` set; the others are still processed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from voice.ask import AskResult, failed_input, result_for
from voice.commands import Command
from voice.content import Faq
from voice.errors import AudioError, RecognitionError
from voice.match_result import Action, MatchResult
from voice.matching import Matcher
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


@dataclass(frozen=True)
class SpeechPolicy:
    """How much a heard question must be trusted before it is answered.

    Calibrated by benchmarks/calibrate_speech.py on the training voices (clean, 20 dB and
    10 dB babble+noise); the held-out voices are only used to report the figures.
    """

    # The weakest recognised word's confidence below this turns an answer into a confirm.
    min_word_confidence: float = 0.3
    # More than this share of "[unk]" words: the speech was mostly not FAQ words.
    confirm_unknown_share: float = 0.2
    decline_unknown_share: float = 0.34
    # With both decodings, answer only if the open transcript points the same way: its own
    # score for the same entry must reach this (0–1) ...
    require_agreement: bool = True
    agreement_min_score: float = 0.5
    # ... and offer "Did you mean …?" only if it reaches this; below it, decline.
    confirm_min_open_score: float = 0.3


DEFAULT_POLICY = SpeechPolicy()


def judge(
    matcher: Matcher,
    main: Transcript,
    open_transcript: Transcript | None = None,
    policy: SpeechPolicy = DEFAULT_POLICY,
) -> MatchResult:
    """Match a heard question, answering only what was heard clearly enough.

    The phrase-list decoder hears FAQ words well but forces other speech into FAQ words (or
    "[unk]"); the open decoder hears everything but misspells medical words. So a shaky word, a
    transcript made mostly of "[unk]", or an open transcript that points elsewhere turns an
    answer into "Did you mean …?" (or a decline).
    """
    text = main.clean_text
    if not text.strip():
        return MatchResult(text, Action.DECLINE, reason="no_speech")
    result = matcher.match(text)
    words = main.text.split()
    if result.action is Action.COMMAND:
        if result.command is Command.YES and not _heard_clearly(main, open_transcript, policy):
            # A "yes" answers a pending "Did you mean …?": it must be heard as clearly as an
            # answer would need to be, or it is not taken as a yes.
            return replace(result, action=Action.DECLINE, command=None, reason="unsure_hearing")
        return result
    unknown_share = main.unknown_words / len(words) if words else 0.0
    if unknown_share > policy.decline_unknown_share:
        return replace(result, action=Action.DECLINE, entry_id=None, reason="unknown_words")
    open_score = _open_score(matcher, open_transcript, result.entry_id)
    open_disagrees = open_score is not None and open_score < policy.confirm_min_open_score
    if result.action is Action.CONFIRM and open_disagrees:
        return replace(result, action=Action.DECLINE, entry_id=None, reason="decoders_disagree")
    if result.action is not Action.ANSWER:
        return result
    confidence = main.confidence
    if confidence is not None and confidence < policy.min_word_confidence:
        return replace(result, action=Action.CONFIRM, reason="unsure_hearing")
    if unknown_share > policy.confirm_unknown_share:
        return replace(result, action=Action.CONFIRM, reason="unknown_words")
    weak_open = open_score is not None and open_score < policy.agreement_min_score
    if policy.require_agreement and weak_open:
        return replace(result, action=Action.CONFIRM, reason="decoders_disagree")
    return result


def _heard_clearly(
    main: Transcript, open_transcript: Transcript | None, policy: SpeechPolicy
) -> bool:
    """No "[unk]", no shaky word, and the open decoder heard the same words."""
    if main.unknown_words:
        return False
    confidence = main.confidence
    if confidence is not None and confidence < max(policy.min_word_confidence, 0.5):
        return False
    if open_transcript is None:
        return True
    return open_transcript.clean_text.split() == main.clean_text.split()


def _open_score(matcher: Matcher, open_transcript: Transcript | None, entry_id: str | None) -> (
    float | None
):
    """How well the open-vocabulary transcript matches the same entry (None: no open decoding)."""
    if open_transcript is None or entry_id is None:
        return None
    for candidate in matcher.score_entries(open_transcript.clean_text):
        if candidate.entry_id == entry_id:
            return candidate.score
    return 0.0


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
    match = judge(matcher, main, open_t, policy)
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
