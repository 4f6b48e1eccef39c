"""What the two hearings of one question say, worked out once for the speech policy's rules.

The facts read off the transcripts are plain fields. The ones that need the matcher (about 1 ms
each) are cached properties, worked out the first time a rule asks and never again, so an
utterance costs only the matcher calls its deciding rules needed. ``like_entry`` embeds the open
transcript (about 6 ms) only when the phrase-list one is not enough.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

from voice.hearing.transcript import UNKNOWN_WORD, Transcript
from voice.matching.matcher import Matcher
from voice.matching.result import Action, MatchResult


@dataclass(frozen=True)
class Evidence:
    """One heard question: the phrase-list ("main") transcript, and the open one if any."""

    matcher: Matcher = field(repr=False, compare=False)
    # The main transcript without "[unk]" markers: the text that is matched.
    text: str
    # How many words the phrase-list decoder could only call "[unk]", and their share.
    unknown_words: int
    unknown_share: float
    # The weakest recognised main word's confidence (None: no recognised words).
    weakest_confidence: float | None
    # The open transcript without "[unk]" (None: the open decoder did not hear this question).
    open_text: str | None
    # The weakest and the mean open word confidence (None: no open transcript, or no words
    # for the weakest; the mean is 0 with no words).
    open_weakest_confidence: float | None
    mean_open_confidence: float | None
    # How much of the open decoder's speech the main words span (1 when either has no word
    # times; None: no open transcript).
    span_share: float | None
    # The open decoder heard exactly the main words (None: no open transcript).
    same_words: bool | None
    # How far the speech stood above the background (None: not known).
    speech_to_background_db: float | None

    @classmethod
    def gather(
        cls,
        matcher: Matcher,
        main: Transcript,
        open_transcript: Transcript | None = None,
        *,
        speech_to_background_db: float | None = None,
    ) -> Evidence:
        """The cheap facts now; the matcher's only when a rule asks."""
        text = main.clean_text
        words = main.text.split()
        unknown = main.unknown_words
        facts = cls(
            matcher=matcher,
            text=text,
            unknown_words=unknown,
            unknown_share=unknown / len(words) if words else 0.0,
            weakest_confidence=main.confidence,
            open_text=None,
            open_weakest_confidence=None,
            mean_open_confidence=None,
            span_share=None,
            same_words=None,
            speech_to_background_db=speech_to_background_db,
        )
        if open_transcript is None:
            return facts
        open_text = open_transcript.clean_text
        return replace(
            facts,
            open_text=open_text,
            open_weakest_confidence=open_transcript.confidence,
            mean_open_confidence=mean_confidence(open_transcript),
            span_share=span_share(main, open_transcript),
            same_words=open_text.split() == text.split(),
        )

    @property
    def heard_twice(self) -> bool:
        """The open decoder heard this question too."""
        return self.open_text is not None

    @cached_property
    def match(self) -> MatchResult:
        """The matcher's decision for the main transcript."""
        return self.matcher.match(self.text, heard=True)

    @cached_property
    def names_other_subject(self) -> bool:
        """The open transcript names a subject the matched entry does not cover."""
        entry_id = self.match.entry_id
        if self.open_text is None or entry_id is None:
            return False
        return self.matcher.names_other_subject(self.open_text, self.text, entry_id)

    @cached_property
    def open_score(self) -> float | None:
        """How well the open transcript matches the matched entry (0–1; None: no open
        transcript or no entry)."""
        entry_id = self.match.entry_id
        if self.open_text is None or entry_id is None:
            return None
        for candidate in self.matcher.score_entries(self.open_text, heard=True):
            if candidate.entry_id == entry_id:
                return candidate.score
        return 0.0

    def like_entry(self, floor: float) -> bool | None:
        """Whether either hearing is at least ``floor`` like the matched entry in meaning
        (cosine), the phrase-list one tried first: the open one costs an embedding. None: no
        entry, or no embedding model."""
        entry_id = self.match.entry_id
        if entry_id is None:
            return None
        known = False
        for text in (self.text, self.open_text):
            if not text:
                continue
            score = self.matcher.likeness(text, entry_id)
            if score is None:
                return None
            if score >= floor:
                return True
            known = True
        return False if known else None

    @cached_property
    def open_answers_alone(self) -> bool:
        """The open transcript on its own is a confident answer with the matched entry."""
        if self.open_text is None:
            return False
        heard = self.matcher.match(self.open_text, heard=True)
        return (
            heard.action is Action.ANSWER
            and heard.reason == "confident"
            and heard.entry_id == self.match.entry_id
        )

    @cached_property
    def topical_word_count(self) -> int:
        """How many FAQ topic words the main transcript maps to."""
        return len(self.matcher.topical_words(self.text))


def span(transcript: Transcript) -> float | None:
    """Seconds from the first recognised word's start to the last one's end (None: no times)."""
    words = [w for w in transcript.words if w.word != UNKNOWN_WORD]
    return words[-1].end - words[0].start if words else None


def span_share(main: Transcript, open_transcript: Transcript) -> float:
    """How much of the open decoder's speech the phrase-list words cover (1 when unknown)."""
    heard, witness = span(main), span(open_transcript)
    if heard is None or witness is None or witness <= 0:
        return 1.0
    return heard / witness


def mean_confidence(transcript: Transcript) -> float:
    """The average word confidence (0 with no words)."""
    words = transcript.words
    return sum(w.conf for w in words) / len(words) if words else 0.0
