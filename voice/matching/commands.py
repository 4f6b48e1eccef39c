"""Control phrases ("repeat", "slower", "stop" …), classified apart from FAQ questions."""

from __future__ import annotations

from enum import Enum

from voice.text.language import Language


class Command(str, Enum):
    """A control phrase the kiosk understands, whatever the FAQ content."""

    REPEAT = "repeat"
    SLOWER = "slower"
    FASTER = "faster"
    LOUDER = "louder"
    QUIETER = "quieter"
    STOP = "stop"
    HELP = "help"
    YES = "yes"
    NO = "no"
    GOODBYE = "goodbye"


def command_phrases(language: Language) -> dict[Command, tuple[str, ...]]:
    """Whole-utterance phrasings of each command, in normalised form, from the language data.

    A command must be (nearly) the whole utterance: "stop" is a command, "can the pain stop"
    is a question.
    """
    return {Command(name): phrases for name, phrases in language.commands}
