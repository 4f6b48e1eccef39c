"""How the kiosk decides that someone is talking to it: one class per activation mode (pure).

The loop asks its mode what to do with a finished utterance, tells it about the push-to-talk
key, answered questions and ended sessions, and does the I/O itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from voice.hearing.transcript import UNKNOWN_WORD, Transcript
from voice.kiosk.settings import Activation
from voice.text.normalize import spoken_words


@dataclass(frozen=True)
class UtteranceDecision:
    """What to do with one finished utterance."""

    question: Transcript | None  # what to pass on to the dialogue; None: nothing
    woke: bool = False  # the wake phrase was just said
    cue: bool = False  # play the "listening now" sound (called, but no question yet)


IGNORE = UtteranceDecision(question=None)


class ActivationMode(Protocol):
    """One activation mode: whether the kiosk listens, and what wakes it and puts it to sleep."""

    @property
    def awake(self) -> bool:
        """True while utterances are questions for the kiosk."""
        ...

    def decoder_phrases(self, phrases: Sequence[str] | None) -> Sequence[str] | None:
        """The phrase list the decoder needs in this mode (None: open vocabulary)."""
        ...

    def utterance(self, transcript: Transcript) -> UtteranceDecision:
        """What to do with a finished utterance."""
        ...

    def push_to_talk(self) -> None:
        """The push-to-talk key was pressed (it opens the microphone in every mode)."""
        ...

    def answered(self) -> None:
        """A question went to the dialogue."""
        ...

    def session_ended(self) -> None:
        """The conversation ended (goodbye, idle timeout, or a new greeting)."""
        ...


class AlwaysListening:
    """Every utterance is a question."""

    awake = True

    def decoder_phrases(self, phrases: Sequence[str] | None) -> Sequence[str] | None:
        """The phrase list as it is."""
        return phrases

    def utterance(self, transcript: Transcript) -> UtteranceDecision:
        """Always a question."""
        return UtteranceDecision(question=transcript)

    def push_to_talk(self) -> None:
        """Already listening."""

    def answered(self) -> None:
        """Keeps listening."""

    def session_ended(self) -> None:
        """Keeps listening."""


class WakePhrase:
    """Utterances count only after the wake phrase, until the session ends."""

    def __init__(self, phrase: str) -> None:
        self.words = spoken_words(phrase)
        self._awake = False

    @property
    def awake(self) -> bool:
        """True once called, until the session ends."""
        return self._awake

    def decoder_phrases(self, phrases: Sequence[str] | None) -> Sequence[str] | None:
        """The wake phrase must be in the phrase list, or the decoder can never hear it."""
        if phrases is None:
            return None
        return (" ".join(self.words), *phrases)

    def utterance(self, transcript: Transcript) -> UtteranceDecision:
        """A question once awake; asleep, only the wake phrase (and what follows it) counts."""
        if self._awake:
            return UtteranceDecision(question=transcript)
        rest = self.after_wake_phrase(transcript)
        if rest is None:
            return IGNORE
        self._awake = True
        if not rest.clean_text:
            return UtteranceDecision(question=None, woke=True, cue=True)
        # "Hello kiosk, what is the success rate?": the question comes with the wake phrase.
        return UtteranceDecision(question=rest, woke=True)

    def after_wake_phrase(self, transcript: Transcript) -> Transcript | None:
        """What was said after the wake phrase, or None if it was not said."""
        wake = self.words
        words = [w for w in transcript.words if w.word != UNKNOWN_WORD]
        for i in range(len(words) - len(wake) + 1):
            if wake and [w.word for w in words[i : i + len(wake)]] == wake:
                rest = tuple(words[i + len(wake) :])
                return Transcript(
                    " ".join(w.word for w in rest), rest, transcript.audio_s, transcript.decode_ms
                )
        return None

    def push_to_talk(self) -> None:
        """The key calls the kiosk like the wake phrase does."""
        self._awake = True

    def answered(self) -> None:
        """Stays awake for follow-up questions."""

    def session_ended(self) -> None:
        """The next patient has to call the kiosk again."""
        self._awake = False


class PushToTalk:
    """Only the key opens the microphone, for one question at a time."""

    def __init__(self) -> None:
        self._awake = False

    @property
    def awake(self) -> bool:
        """True from the key press until a question has been heard."""
        return self._awake

    def decoder_phrases(self, phrases: Sequence[str] | None) -> Sequence[str] | None:
        """The phrase list as it is."""
        return phrases

    def utterance(self, transcript: Transcript) -> UtteranceDecision:
        """A question only after the key."""
        return UtteranceDecision(question=transcript) if self._awake else IGNORE

    def push_to_talk(self) -> None:
        """Open the microphone."""
        self._awake = True

    def answered(self) -> None:
        """One question per key press."""
        self._awake = False

    def session_ended(self) -> None:
        """Nothing to do: the key decides."""


def activation_mode(activation: Activation, wake_phrase: str) -> ActivationMode:
    """The mode object for a setting."""
    if activation is Activation.WAKE:
        return WakePhrase(wake_phrase)
    if activation is Activation.PUSH_TO_TALK:
        return PushToTalk()
    return AlwaysListening()
