"""Small per-state Vosk grammars for short answers: yes or no, and the control phrases (pure).

A word said on its own gives the phrase-list and open decoders little to go on: "no" comes out
as "know", "yes" as "us", "help" as "hell". While the kiosk waits for a yes or no, and for the
short commands at any time, a third decoder limited to those phrases and "[unk]" (as
rhasspy/wyoming-vosk limits Vosk) runs beside the others. ``prefer_short`` decides when its
result stands for the utterance: only for a short one, and only when it is sure or another
decoder heard the same command.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from voice.hearing.transcript import UNKNOWN_WORD, Transcript
from voice.matching.commands import Command


class Expecting(str, Enum):
    """What the kiosk expects to hear next, which picks the grammar."""

    COMMAND = "command"  # a question or a control phrase
    YES_NO = "yes_no"  # "Did you mean …? Please say yes or no" is pending


# Everyday ways to say yes and no that the language data leaves to its normaliser ("oh" is a
# filler, "thank you" a polite ending): without them the grammar forces "oh yes" into another
# phrase.
EVERYDAY_YES_NO: Mapping[Command, tuple[str, ...]] = {
    Command.YES: ("oh yes", "oh yes please", "yes thank you", "mm hmm"),
    Command.NO: ("oh no", "oh no thank you"),
}


@dataclass(frozen=True)
class ShortAnswerSettings:
    """When the grammar decoder's result stands for an utterance (tuned on the training voices
    with benchmarks/bench_short_answers.py)."""

    # Short: the phrase-list decoder heard at most this many words (more is a question, which
    # a grammar of commands would force into one).
    max_words: int = 3
    # Sure on its own: every word at least this confident. No wrong command reached it on the
    # training voices, clean or in 10 dB babble (a "slower" heard as "silence" had 0.88).
    sure_confidence: float = 0.9
    # Or at least this confident, with the phrase-list or open decoder hearing the same
    # command: a lone "no" decodes at about 0.78 in every voice (beside "nope" and "no no").
    agreed_confidence: float = 0.5


def grammar_phrases(
    commands: Mapping[Command, Sequence[str]],
    expecting: Expecting,
    vocabulary: frozenset[str] | None = None,
) -> tuple[str, ...]:
    """The grammar for this state: its phrases, then "[unk]" for everything else.

    Yes and no (with their everyday variants) only while a yes or no is expected; a phrase
    with a word the model does not know is left out (Vosk would drop the word and keep the
    rest, which is another phrase).
    """
    wanted = [
        phrase
        for command, phrases in commands.items()
        if expecting is Expecting.YES_NO or command not in (Command.YES, Command.NO)
        for phrase in (*phrases, *EVERYDAY_YES_NO.get(command, ()))
    ]
    known = [
        phrase
        for phrase in wanted
        if phrase.split() and (vocabulary is None or all(w in vocabulary for w in phrase.split()))
    ]
    return (*dict.fromkeys(known), UNKNOWN_WORD)


def prefer_short(
    main: Transcript,
    open_heard: Transcript | None,
    short: Transcript | None,
    classify: Callable[[str], Command | None],
    settings: ShortAnswerSettings | None = None,
) -> Transcript | None:
    """The grammar decoder's transcript when it should stand for this utterance, else None.

    It stands for a short utterance that it heard as one whole control phrase, with no
    "[unk]", when it is sure, or fairly sure with another decoder hearing the same command.
    A grammar decoder fits any sound to its phrases ("hello" comes out as "lower"), so its
    confidence and a second hearing are what say it did not have to stretch. When the
    phrase-list decoder clearly heard another command, that one is kept.
    """
    settings = settings or ShortAnswerSettings()
    if short is None or not short.words or short.unknown_words:
        return None
    if len(main.clean_text.split()) > settings.max_words:
        return None
    command = classify(short.clean_text)
    if command is None:
        return None
    heard_by_main = classify(main.clean_text)
    if heard_by_main is not None and heard_by_main is not command:
        return None
    confidence = short.confidence or 0.0
    if confidence >= settings.sure_confidence:
        return short
    witnesses = [t for t in (main, open_heard) if t is not None]
    if confidence >= settings.agreed_confidence and any(
        classify(t.clean_text) is command for t in witnesses
    ):
        return short
    return None


def choose_short(
    main: Transcript,
    open_heard: Transcript | None,
    short: Transcript | None,
    classify: Callable[[str], Command | None],
    settings: ShortAnswerSettings | None = None,
) -> tuple[Transcript, Transcript | None]:
    """The transcripts to judge an utterance by: the grammar's alone where it stands.

    Alone, because the open decoder's "know" or "us" is the mishearing the grammar corrects
    (voice.hearing.policy would otherwise refuse a "yes" the decoders disagree on).
    """
    preferred = prefer_short(main, open_heard, short, classify, settings)
    return (main, open_heard) if preferred is None else (preferred, None)
