"""FAQ content: typed entries and kiosk messages, loaded and validated from staff-editable TOML."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

CONTENT_ENV_VAR = "VOICE_CONTENT"


@dataclass(frozen=True)
class Entry:
    """One FAQ entry, written for listening."""

    id: str
    question: str
    answer: str
    phrasings: tuple[str, ...]
    source: str
    topic: str
    more: str | None = None
    path: Path | None = None
    line: int | None = None


@dataclass(frozen=True)
class Messages:
    """The kiosk's own spoken lines (greeting, safety notice, fallback, …)."""

    greeting: str
    safety_notice: str
    usage: str
    fallback: str
    help_intro: str
    confirm_template: str  # contains "{question}"
    rephrase: str
    not_heard: str
    goodbye: str
    topics_intro: str


@dataclass(frozen=True)
class Faq:
    """All loaded content."""

    title: str
    topic_name: str
    messages: Messages
    entries: tuple[Entry, ...] = field(default_factory=tuple)

    def entry(self, entry_id: str) -> Entry:
        """Return the entry with this id (KeyError if absent)."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)
