"""Control phrases ("repeat", "slower", "stop" …), classified apart from FAQ questions."""

from __future__ import annotations

from enum import Enum


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


# Whole-utterance phrasings of each command, in normalised form (see voice.text.normalize).
# A command must be (nearly) the whole utterance: "stop" is a command, "can the cancer stop
# growing" is a question.
COMMAND_PHRASES: dict[Command, tuple[str, ...]] = {
    Command.REPEAT: (
        "repeat", "repeat that", "repeat it", "repeat please", "please repeat",
        "please repeat that", "say that again", "say it again", "say again", "again",
        "pardon", "pardon me", "sorry", "sorry what", "what", "come again", "what did you say",
        "i did not catch that", "i did not hear that", "once more", "one more time",
        "could you repeat that", "can you repeat that", "can you say that again",
    ),
    Command.SLOWER: (
        "slower", "slow down", "more slowly", "speak slower", "speak more slowly",
        "talk slower", "talk more slowly", "too fast", "you are going too fast",
        "slowly please", "slower please", "not so fast", "say that more slowly",
        "say it more slowly", "say that slower", "speak slowly", "slowly",
    ),
    Command.FASTER: (
        "faster", "speed up", "more quickly", "speak faster", "talk faster", "too slow",
        "quicker", "faster please", "hurry up",
    ),
    Command.LOUDER: (
        "louder", "speak up", "louder please", "volume up", "turn it up", "turn up the volume",
        "i cannot hear you", "i can not hear you", "speak louder", "talk louder", "too quiet",
        "turn the volume up", "speak a bit louder", "say it louder", "louder please",
    ),
    Command.QUIETER: (
        "quieter", "softer", "too loud", "volume down", "turn it down", "turn down the volume",
        "speak more quietly", "speak quieter", "speak softer", "not so loud", "quieter please",
        "lower the volume", "turn the volume down",
    ),
    Command.STOP: (
        "stop", "stop it", "stop please", "please stop", "stop talking", "stop speaking",
        "quiet", "be quiet", "quiet please", "shh", "shush", "hush", "enough",
        "that is enough", "okay stop", "cancel", "silence",
    ),
    Command.HELP: (
        "help", "help me", "help please", "what can i ask", "what can i ask you",
        "what can you do", "what do you know", "what questions can i ask", "what can i say",
        "how does this work", "how do i use this", "options", "menu", "list the topics",
        "what are the topics", "topics",
    ),
    Command.YES: (
        "yes", "yeah", "yep", "yes please", "correct", "that is right", "right", "that is it",
        "yes that is right", "yes that is it", "sure", "okay", "ok", "please do", "uh huh",
        "exactly", "yes it is", "affirmative", "yes yes", "yes i did", "i did",
    ),
    Command.NO: (
        "no", "nope", "no thanks", "no thank you", "wrong", "that is wrong", "not that",
        "no that is wrong", "no it is not", "that is not it", "that is not right", "nah",
        "incorrect", "no no",
    ),
    Command.GOODBYE: (
        "goodbye", "good bye", "bye", "bye bye", "thank you goodbye", "thanks bye",
        "that is all", "that is all thank you", "i am done", "i am finished", "see you",
        "thank you that is all", "no more questions", "finished", "all done",
    ),
}
