"""Control phrases: recognised as whole utterances, never mistaken for questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice.content.loader import default_content_dir, load_content
from voice.matching.commands import Command, command_phrases
from voice.matching.evaluation import read_eval_file
from voice.matching.matcher import Matcher
from voice.matching.result import Action
from voice.text.language import english

COMMAND_PHRASES = command_phrases(english())

EVAL_FILE = Path(__file__).parent / "data" / "typed_eval.tsv"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_content(default_content_dir()))


# Several phrasings of each command, as typed or as a transcript would read.
PHRASINGS: list[tuple[str, Command]] = [
    ("repeat", Command.REPEAT),
    ("Repeat that.", Command.REPEAT),
    ("Say that again?", Command.REPEAT),
    ("Pardon?", Command.REPEAT),
    ("Sorry, what?", Command.REPEAT),
    ("could you repeat that", Command.REPEAT),
    ("um, repeat that", Command.REPEAT),
    ("slower", Command.SLOWER),
    ("Slow down!", Command.SLOWER),
    ("speak more slowly", Command.SLOWER),
    ("You're going too fast", Command.SLOWER),
    ("not so fast", Command.SLOWER),
    ("faster", Command.FASTER),
    ("speed up", Command.FASTER),
    ("hurry up", Command.FASTER),
    ("too slow", Command.FASTER),
    ("Louder!", Command.LOUDER),
    ("speak up", Command.LOUDER),
    ("I can't hear you", Command.LOUDER),
    ("I can\u2019t hear you", Command.LOUDER),
    ("turn it up", Command.LOUDER),
    ("quieter", Command.QUIETER),
    ("too loud", Command.QUIETER),
    ("turn it down", Command.QUIETER),
    ("lower the volume", Command.QUIETER),
    ("Stop!", Command.STOP),
    ("stop talking", Command.STOP),
    ("be quiet", Command.STOP),
    ("that's enough", Command.STOP),
    ("okay, stop", Command.STOP),
    ("well, stop", Command.STOP),
    ("help", Command.HELP),
    ("Help me", Command.HELP),
    ("what can I ask?", Command.HELP),
    ("what can you do", Command.HELP),
    ("yes", Command.YES),
    ("Yeah.", Command.YES),
    ("yes please", Command.YES),
    ("that's right", Command.YES),
    ("OK", Command.YES),
    ("no", Command.NO),
    ("Nope", Command.NO),
    ("no thank you", Command.NO),
    ("that's wrong", Command.NO),
    ("that's not it", Command.NO),
    ("goodbye", Command.GOODBYE),
    ("Good bye!", Command.GOODBYE),
    ("bye bye", Command.GOODBYE),
    ("thank you, goodbye", Command.GOODBYE),
    ("that's all", Command.GOODBYE),
    ("I'm done", Command.GOODBYE),
]

# Recognizer-style misspellings close to a known phrase still count.
MISSPELLINGS: list[tuple[str, Command]] = [
    ("repeet that", Command.REPEAT),
    ("slow dwn", Command.SLOWER),
    ("stop talkin", Command.STOP),
]


def test_every_command_has_test_phrasings() -> None:
    assert {command for _, command in PHRASINGS} == set(Command)


@pytest.mark.parametrize(("text", "command"), PHRASINGS + MISSPELLINGS)
def test_classify_command(matcher: Matcher, text: str, command: Command) -> None:
    found = matcher.classify_command(text)
    assert found is not None
    assert found[0] is command
    assert 88 <= found[1] <= 100


@pytest.mark.parametrize(("text", "command"), PHRASINGS)
def test_match_returns_command(matcher: Matcher, text: str, command: Command) -> None:
    result = matcher.match(text)
    assert result.action is Action.COMMAND
    assert result.command is command
    assert result.entry_id is None
    assert result.score == 1.0
    assert result.transcript == text


def _listed_phrases() -> list[object]:
    params: list[object] = []
    for command, phrases in COMMAND_PHRASES.items():
        for phrase in phrases:
            params.append(pytest.param(phrase, command, id=phrase))
    return params


@pytest.mark.parametrize(("phrase", "command"), _listed_phrases())
def test_every_listed_phrase_is_its_command(
    matcher: Matcher, phrase: str, command: Command
) -> None:
    assert matcher.classify_command(phrase) == (command, 100.0)


@pytest.mark.parametrize(
    "text",
    [
        "can the cancer stop growing",
        "will it help me",
        "is it louder",
        "is it too slow",
        "will it slow the cancer down",
        "does it stop the cancer",
        "stop the treatment",
        "help with covid",
        "can you repeat the success rate",
        "what is the success rate",
        "what can I ask about side effects",
        "is it right for me",
        "yes, but how long does it last",
        "no side effects?",
        "no more chemo",
        "yes or no",
    ],
)
def test_questions_with_command_words_are_not_commands(matcher: Matcher, text: str) -> None:
    assert matcher.classify_command(text) is None
    result = matcher.match(text)
    assert result.action is not Action.COMMAND
    assert result.command is None


def test_no_evaluation_question_is_a_command(matcher: Matcher) -> None:
    items = read_eval_file(EVAL_FILE)
    commands = [(i.question, matcher.classify_command(i.question)) for i in items]
    assert [c for c in commands if c[1] is not None] == []


@pytest.mark.parametrize("text", ["", "   ", "um", "?"])
def test_empty_is_not_a_command(matcher: Matcher, text: str) -> None:
    assert matcher.classify_command(text) is None


# Everyday, polite ways older patients ask the kiosk to repeat, slow down or speak up.
@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("Repeat that, please.", Command.REPEAT),
        ("please speak more slowly", Command.SLOWER),
        ("could you say that more slowly", Command.SLOWER),
        ("can you speak louder please", Command.LOUDER),
        ("could you speak up", Command.LOUDER),
        ("turn the volume up", Command.LOUDER),
    ],
)
def test_polite_command_phrasings(matcher: Matcher, text: str, command: Command) -> None:
    result = matcher.match(text)
    assert result.action is Action.COMMAND
    assert result.command is command
