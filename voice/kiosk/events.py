"""Dialogue events in (stamped with monotonic seconds) and the actions that come out."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# ---------------------------------------------------------------------------------------------
# Events: the kiosk loop turns microphone, speaker, keypad and clock into these.
# ---------------------------------------------------------------------------------------------


class Key(StrEnum):
    """A button on the kiosk's keypad (the mode that needs no speech)."""

    NEXT = "next"
    PREVIOUS = "previous"
    SELECT = "select"
    REPEAT = "repeat"
    STOP = "stop"
    HELP = "help"
    # EN 301 549 5.1.3.12: what a speaking patient can ask for, a patient who does not speak
    # gets from a key.
    LOUDER = "louder"
    QUIETER = "quieter"
    SLOWER = "slower"
    FASTER = "faster"


@dataclass(frozen=True)
class Started:
    """The kiosk came up (or a new session began)."""

    at: float


@dataclass(frozen=True)
class Heard:
    """A final transcript of what the patient said, with the recogniser's confidence (0..1)."""

    at: float
    text: str
    confidence: float = 1.0


@dataclass(frozen=True)
class NothingHeard:
    """Speech-like sound that produced no recognised words."""

    at: float


@dataclass(frozen=True)
class SpeechStarted:
    """The patient started talking (barge-in if the kiosk is speaking)."""

    at: float


@dataclass(frozen=True)
class SpeechFinished:
    """The kiosk finished saying everything queued."""

    at: float


@dataclass(frozen=True)
class Tick:
    """A periodic clock event, so timeouts need no timer inside the dialogue."""

    at: float


@dataclass(frozen=True)
class KeyPressed:
    """A keypad button was pressed."""

    at: float
    key: Key


Event = Started | Heard | NothingHeard | SpeechStarted | SpeechFinished | Tick | KeyPressed

# ---------------------------------------------------------------------------------------------
# Actions: the kiosk loop carries these out in order.
# ---------------------------------------------------------------------------------------------


class SayKind(StrEnum):
    """Why the kiosk says something (for logs, tests and the loop's choices, not for wording)."""

    GREETING = "greeting"
    ANSWER = "answer"
    CONFIRM = "confirm"
    DECLINE = "decline"
    HELP = "help"
    TOPIC = "topic"
    ACK = "ack"
    GOODBYE = "goodbye"
    PROMPT = "prompt"


class Role(StrEnum):
    """Who a caption is from."""

    PATIENT = "patient"
    KIOSK = "kiosk"


@dataclass(frozen=True)
class Caption:
    """One line of on-screen text: what was heard or what is said."""

    role: Role
    text: str


@dataclass(frozen=True)
class Say:
    """Speak this text at this rate (words per minute) and volume (a gain; 1 is as rendered)."""

    text: str
    rate_wpm: int
    volume: float
    kind: SayKind


@dataclass(frozen=True)
class Show:
    """Put this caption on the screen."""

    caption: Caption


@dataclass(frozen=True)
class ClearScreen:
    """Wipe the captions: a new patient must not see the previous one's words."""


@dataclass(frozen=True)
class StopSpeaking:
    """Stop speaking now and drop anything still queued."""


@dataclass(frozen=True)
class Listen:
    """The kiosk now waits for the patient: give the listening cue."""


@dataclass(frozen=True)
class EndSession:
    """The session is over (goodbye or no one there): the next person starts afresh."""


DialogueAction = Say | Show | ClearScreen | StopSpeaking | Listen | EndSession
