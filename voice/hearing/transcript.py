"""What the recognizer heard: words with confidences, as plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass

UNKNOWN_WORD = "[unk]"


@dataclass(frozen=True)
class WordConfidence:
    """One recognised word with the recognizer's confidence (0–1) and its time in the audio."""

    word: str
    conf: float
    start: float
    end: float


@dataclass(frozen=True)
class Transcript:
    """What the recognizer heard in one utterance."""

    text: str
    words: tuple[WordConfidence, ...]
    audio_s: float
    decode_ms: float

    @property
    def confidence(self) -> float | None:
        """The weakest word's confidence (a shaky word anywhere makes the whole thing shaky)."""
        confs = [w.conf for w in self.words if w.word != UNKNOWN_WORD]
        return min(confs) if confs else None

    @property
    def unknown_words(self) -> int:
        """How many words the phrase-list decoder could only call "[unk]"."""
        return sum(1 for w in self.words if w.word == UNKNOWN_WORD)

    @property
    def clean_text(self) -> str:
        """The transcript without "[unk]" markers."""
        return " ".join(w for w in self.text.split() if w != UNKNOWN_WORD)
