"""One question in, one result out: the record behind ``voice ask`` and its JSON contract."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from voice.content.schema import Faq
from voice.hearing.transcript import WordConfidence
from voice.matching.matcher import Matcher
from voice.matching.result import Action, MatchResult

# The JSON contract of `voice ask --json`: these keys, always all present, in this order.
# External evaluation depends on it: add keys only at the end, never rename or drop one.
JSON_FIELDS = (
    "input",
    "transcript",
    "action",
    "command",
    "entry_id",
    "question",
    "answer",
    "score",
    "alternatives",
    "elapsed_ms",
    "asr_ms",
    "confidence",
    "words",
    "reason",
    "error",
)


@dataclass(frozen=True)
class AskResult:
    """Everything the kiosk decided about one typed question or recorded file."""

    input: str
    transcript: str
    match: MatchResult
    question: str | None
    answer: str | None
    elapsed_ms: float
    asr_ms: float | None = None
    confidence: float | None = None
    words: tuple[WordConfidence, ...] | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        """True when the input itself could not be read (not when it was merely declined)."""
        return self.error is not None

    def to_json(self) -> dict[str, Any]:
        """The stable JSON object of ``voice ask --json`` (see JSON_FIELDS)."""
        m = self.match
        data: dict[str, Any] = {
            "input": self.input,
            "transcript": self.transcript,
            "action": m.action.value,
            "command": m.command.value if m.command else None,
            "entry_id": m.entry_id,
            "question": self.question,
            "answer": self.answer,
            "score": round(m.score * 100, 1),
            "alternatives": [
                {"entry_id": c.entry_id, "score": round(c.score * 100, 1)}
                for c in m.alternatives[:3]
            ],
            "elapsed_ms": round(self.elapsed_ms, 2),
            "asr_ms": None if self.asr_ms is None else round(self.asr_ms, 1),
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "words": None
            if self.words is None
            else [
                {"word": w.word, "conf": round(w.conf, 3), "start": w.start, "end": w.end}
                for w in self.words
            ],
            "reason": m.reason,
            "error": self.error,
        }
        assert tuple(data) == JSON_FIELDS
        return data


def decide(
    faq: Faq,
    matcher: Matcher,
    input_label: str,
    transcript: str,
    *,
    started: float,
) -> AskResult:
    """Match a typed question and package the result; ``started`` is a perf_counter() time."""
    return result_for(faq, input_label, transcript, matcher.match(transcript), started=started)


def result_for(
    faq: Faq,
    input_label: str,
    transcript: str,
    match: MatchResult,
    *,
    started: float,
    asr_ms: float | None = None,
    confidence: float | None = None,
    words: tuple[WordConfidence, ...] | None = None,
) -> AskResult:
    """Package a match: the entry's question and answer for answer and confirm."""
    question = answer = None
    if match.entry_id is not None and match.action in (Action.ANSWER, Action.CONFIRM):
        entry = faq.entry(match.entry_id)
        question, answer = entry.question, entry.answer
    return AskResult(
        input=input_label,
        transcript=transcript,
        match=match,
        question=question,
        answer=answer,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        asr_ms=asr_ms,
        confidence=confidence,
        words=words,
    )


def failed_input(input_label: str, message: str, *, started: float) -> AskResult:
    """The result for an input that could not be read at all."""
    return AskResult(
        input=input_label,
        transcript="",
        match=MatchResult("", Action.DECLINE, reason="input_error"),
        question=None,
        answer=None,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        error=message,
    )
