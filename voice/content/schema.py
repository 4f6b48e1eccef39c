"""The content's types: FAQ entries, the kiosk's messages and the subject, for the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Subject:
    """What the FAQ is about, as data for the engine (the optional [subject] table).

    Nothing about a subject is written in the engine's code: a clinic's FAQ brings its own.
    """

    name: str = ""  # the FAQ's own subject ("blood pressure"); empty: none named
    aliases: tuple[str, ...] = ()  # other ways to say the name; rewritten to it
    generic_words: tuple[str, ...] = ()  # words for the subject that do not tell entries apart
    other_subjects: tuple[str, ...] = ()  # single words for subjects it must not answer for
    background_phrases: tuple[str, ...] = ()  # more phrases for the recogniser to know
    synonyms: tuple[tuple[str, str], ...] = ()  # (what people say, the word the FAQ uses)
    sound_alikes: tuple[tuple[str, str], ...] = ()  # (word, how it sounds in words the model knows)

    def rewrites(self) -> tuple[tuple[str, str], ...]:
        """The text rewrites for matching: aliases to the name, then the synonyms, in order."""
        return (*((alias, self.name) for alias in self.aliases), *self.synonyms)


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
    # Optional in content: a clinic that leaves them out gets these.
    # Ends every answer; "{source}" becomes the entry's source up to its first ";", "(" or ".".
    source_line: str = "This is from {source}. For advice about your own care, ask your care team."
    not_understood: str = "Sorry, I didn't catch that. Please ask your question again."
    push_to_talk: str = "To ask a question, hold down the space bar while you speak."


@dataclass(frozen=True)
class Faq:
    """All loaded content."""

    title: str
    topic_name: str
    messages: Messages
    entries: tuple[Entry, ...] = field(default_factory=tuple)
    subject: Subject = field(default_factory=Subject)
    # How to say hard words aloud (the optional [pronunciations] table): (written, spoken).
    pronunciations: tuple[tuple[str, str], ...] = ()

    def entry(self, entry_id: str) -> Entry:
        """Return the entry with this id (KeyError if absent)."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)
