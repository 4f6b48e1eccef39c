"""What the matcher decided about one question: the boundary type between matching and dialogue."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from voice.matching.commands import Command


class Action(str, Enum):
    """The matcher's decision for one input."""

    ANSWER = "answer"
    CONFIRM = "confirm"
    DECLINE = "decline"
    COMMAND = "command"


@dataclass(frozen=True)
class Candidate:
    """One scored FAQ entry."""

    entry_id: str
    score: float


@dataclass(frozen=True)
class MatchResult:
    """The outcome of matching one transcript against the FAQ and the control phrases."""

    transcript: str
    action: Action
    command: Command | None = None
    entry_id: str | None = None
    score: float = 0.0
    alternatives: tuple[Candidate, ...] = field(default_factory=tuple)
    # Why this action: "confident", "close_call", "weak_match", "unsure_hearing",
    # "unknown_words", "decoders_disagree", "other_subject", "semantic_match",
    # "semantic_doubt", "no_good_match",
    # "no_words", "no_speech",
    # "input_error" or "command" (listed for users in README.md, part of the JSON contract).
    reason: str = "command"
