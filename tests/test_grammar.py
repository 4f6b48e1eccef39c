"""Tests for the short-answer grammars and the rule that lets their result stand (no audio)."""

from __future__ import annotations

import pytest

from voice.hearing.grammar import (
    EVERYDAY_YES_NO,
    Expecting,
    ShortAnswerSettings,
    choose_short,
    grammar_phrases,
    prefer_short,
)
from voice.hearing.transcript import UNKNOWN_WORD, Transcript, WordConfidence
from voice.matching.commands import Command

COMMANDS = {
    Command.YES: ("yes", "yeah"),
    Command.NO: ("no", "nope"),
    Command.HELP: ("help", "help me"),
    Command.STOP: ("stop",),
}
KNOWN = {
    "yes": Command.YES,
    "yeah": Command.YES,
    "no": Command.NO,
    "nope": Command.NO,
    "help": Command.HELP,
    "stop": Command.STOP,
}


def _classify(text: str) -> Command | None:
    return KNOWN.get(text)


def _heard(text: str, conf: float = 1.0) -> Transcript:
    words = tuple(
        WordConfidence(w, conf, i * 0.4, i * 0.4 + 0.3) for i, w in enumerate(text.split())
    )
    return Transcript(text, words, 1.0, 5.0)


# -- the grammars -----------------------------------------------------------------------------


def test_a_pending_yes_or_no_gets_yes_no_and_the_commands() -> None:
    phrases = grammar_phrases(COMMANDS, Expecting.YES_NO)
    assert {"yes", "yeah", "no", "nope", "help", "help me", "stop"} <= set(phrases)
    assert set(EVERYDAY_YES_NO[Command.YES]) <= set(phrases)
    assert phrases[-1] == UNKNOWN_WORD


def test_otherwise_the_grammar_holds_the_commands_without_yes_or_no() -> None:
    phrases = grammar_phrases(COMMANDS, Expecting.COMMAND)
    assert phrases == ("help", "help me", "stop", UNKNOWN_WORD)


def test_phrases_with_words_the_model_lacks_are_left_out() -> None:
    vocabulary = frozenset({"help", "stop", "yes", "no"})
    assert grammar_phrases(COMMANDS, Expecting.COMMAND, vocabulary) == ("help", "stop", "[unk]")


def test_a_phrase_is_listed_once() -> None:
    phrases = grammar_phrases({Command.STOP: ("stop", "stop")}, Expecting.COMMAND)
    assert phrases == ("stop", UNKNOWN_WORD)


# -- when the grammar's result stands -------------------------------------------------------


def test_a_sure_short_answer_stands() -> None:
    main = _heard("know", 0.6)
    short = _heard("no", 0.95)
    assert prefer_short(main, None, short, _classify) is short
    assert choose_short(main, main, short, _classify) == (short, None)


def test_a_fairly_sure_answer_stands_when_another_decoder_heard_the_same() -> None:
    main = _heard("know")
    short = _heard("no", 0.78)
    assert prefer_short(main, _heard("no"), short, _classify) is short
    assert prefer_short(main, _heard("nope"), short, _classify) is short
    assert prefer_short(main, _heard("i know"), short, _classify) is None
    assert prefer_short(main, None, short, _classify) is None


def test_an_unsure_answer_does_not_stand_even_with_a_witness() -> None:
    settings = ShortAnswerSettings()
    short = _heard("no", settings.agreed_confidence - 0.01)
    assert prefer_short(_heard("no"), _heard("no"), short, _classify, settings) is None


def test_a_long_utterance_is_a_question_not_a_command() -> None:
    main = _heard("can you help me with the pain")
    assert prefer_short(main, None, _heard("help me", 1.0), _classify) is None


@pytest.mark.parametrize("short_text", ["does it hurry", "lower", f"help {UNKNOWN_WORD}", ""])
def test_only_a_whole_control_phrase_stands(short_text: str) -> None:
    assert prefer_short(_heard("hello"), None, _heard(short_text), _classify) is None


def test_another_command_the_phrase_list_heard_is_kept() -> None:
    main = _heard("stop")
    assert prefer_short(main, None, _heard("help"), _classify) is None
    assert choose_short(main, main, _heard("help"), _classify) == (main, main)


def test_no_grammar_result_keeps_the_other_decoders() -> None:
    main = _heard("what is it")
    assert choose_short(main, None, None, _classify) == (main, None)
