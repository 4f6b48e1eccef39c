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
