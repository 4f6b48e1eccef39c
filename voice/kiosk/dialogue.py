"""The kiosk's dialogue: a pure state machine turning events into actions (no audio, no clock)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from voice.content.schema import Entry, Faq
from voice.errors import UsageError
from voice.kiosk.events import (
    Caption,
    DialogueAction,
    EndSession,
    Event,
    Heard,
    Key,
    KeyPressed,
    Listen,
    NothingHeard,
    Role,
    Say,
    SayKind,
    Show,
    SpeechFinished,
    SpeechStarted,
    Started,
    StopSpeaking,
    Tick,
)
from voice.matching.commands import Command
from voice.matching.result import Action, MatchResult

log = logging.getLogger(__name__)

Matcher = Callable[[str, float], MatchResult]

# The kiosk's own short acknowledgements. They carry no medical content, so they live here
# rather than in the staff-editable content file.
SLOWER_ACK = "I will speak more slowly."
FASTER_ACK = "I will speak faster."
SLOWEST = "This is my slowest speed."
FASTEST = "This is my fastest speed."
LOUDER_ACK = "I will speak louder."
QUIETER_ACK = "I will speak more quietly."
LOUDEST = "This is my loudest volume."
QUIETEST = "This is my quietest volume."
TOPIC_LINE = "Topic {number} of {count}: {topic}. Press select to hear the answer."
SELECT_WITHOUT_TOPIC = "Press next to hear the topics, then select to hear an answer."


@dataclass(frozen=True)
class DialogueSettings:
    """Timeouts and the limits of the patient's speech-rate and volume controls."""

    idle_timeout_s: float = 90.0  # WCAG 2.2.1: older patients need time
    default_rate_wpm: int = 155  # comfortable synthetic speech is about 150-200 wpm
    rate_step: int = 20
    min_rate: int = 115  # much slower hurts understanding of isolated words
    max_rate: int = 195
    default_volume: float = 0.8
    volume_step: float = 0.1
    min_volume: float = 0.3
    max_volume: float = 1.0
    topics_in_help: int = 3
    max_misses_before_topics: int = 2
    # "Did you mean …?" expires: a "yes" after this long no longer answers it.
    confirm_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        """Reject defaults outside their limits and steps that are not positive."""
        if not self.min_rate <= self.default_rate_wpm <= self.max_rate:
            raise UsageError(
                f"The default speech rate {self.default_rate_wpm} wpm must lie between "
                f"{self.min_rate} and {self.max_rate} wpm; choose a rate in that range."
            )
        if not self.min_volume <= self.default_volume <= self.max_volume:
            raise UsageError(
                f"The default volume {self.default_volume} must lie between "
                f"{self.min_volume} and {self.max_volume}; choose a volume in that range."
            )
        if self.rate_step <= 0 or self.volume_step <= 0:
            raise UsageError("The rate and volume steps must be greater than zero.")
        if self.idle_timeout_s <= 0:
            raise UsageError("The idle timeout must be greater than zero seconds.")
        if self.max_misses_before_topics < 1 or self.topics_in_help < 0:
            raise UsageError(
                "The misses before topics must be at least 1 and topics in help at least 0."
            )


def spoken_list(items: list[str]) -> str:
    """Join items the way they are said aloud: "a", "a or b", "a, b, or c"."""
    if len(items) <= 2:
        return " or ".join(items)
    return ", ".join(items[:-1]) + ", or " + items[-1]


@dataclass(frozen=True)
class _Utterance:
    """Something of substance the kiosk said, kept so it can be repeated."""

    text: str
    kind: SayKind


class Dialogue:
    """Events in, actions out; holds one patient's session state."""

    def __init__(self, faq: Faq, match: Matcher, settings: DialogueSettings | None = None) -> None:
        """Build a dialogue over this content, with the matcher injected."""
        self._faq = faq
        self._messages = faq.messages
        self._match = match
        self._settings = settings or DialogueSettings()
        self._entries = {entry.id: entry for entry in faq.entries}
        self._speaking = False
        # The idle clock runs from the patient's last activity or the end of the kiosk's reply
        # to it, whichever is later; None until the first event that starts it.
        self._idle_from: float | None = None
        self._reply_extends_idle = False
        # After a greeting, wait for activity before greeting again (no greeting loops).
        self._awaiting_activity = False
        self._rate = self._settings.default_rate_wpm
        self._volume = self._settings.default_volume
        self._last: _Utterance | None = None  # the latest answer or topic line, for repeat
        self._pending: Entry | None = None  # the entry awaiting the patient's yes or no
        self._pending_at = 0.0
        self._now = 0.0
        self._misses = 0
        self._cursor: int | None = None  # keypad position in faq.entries

    @property
    def rate_wpm(self) -> int:
        """The speech rate the patient has chosen."""
        return self._rate

    @property
    def volume(self) -> float:
        """The volume the patient has chosen (0..1)."""
        return self._volume

    @property
    def is_speaking_expected(self) -> bool:
        """True from a Say until SpeechFinished or StopSpeaking."""
        return self._speaking

    def handle(self, event: Event) -> list[DialogueAction]:
        """Return the actions this event calls for, in the order to carry them out."""
        self._now = event.at
        actions = self._dispatch(event)
        for action in actions:
            if isinstance(action, Say):
                self._speaking = True
                # Replies to noise or to the idle clock must not keep the idle clock from running.
                self._reply_extends_idle = self._is_activity(event)
            elif isinstance(action, StopSpeaking):
                self._speaking = False
        log.debug(
            "%s -> %s",
            type(event).__name__,
            [a.kind.value if isinstance(a, Say) else type(a).__name__ for a in actions],
        )
        return actions

    # --- events -------------------------------------------------------------------------------

    def _dispatch(self, event: Event) -> list[DialogueAction]:
        """Route one event to its handler."""
        if isinstance(event, Started):
            self._reset()
            self._activity(event.at)
            self._awaiting_activity = True
            return self._greet()
        if isinstance(event, Heard):
            return self._on_heard(event)
        if isinstance(event, NothingHeard):
            return self._miss(self._messages.not_heard)
        if isinstance(event, SpeechStarted):
            # Section 508 402.2.4, EN 301 549 5.1.3.5: barge-in stops the speech.
            return [StopSpeaking()] if self._speaking else []
        if isinstance(event, SpeechFinished):
            self._speaking = False
            if self._reply_extends_idle and self._idle_from is not None:
                self._idle_from = max(self._idle_from, event.at)
            return []
        if isinstance(event, Tick):
            return self._on_tick(event.at)
        return self._on_key(event)

    @staticmethod
    def _is_activity(event: Event) -> bool:
        """Whether the event shows a patient is using the kiosk (noise and ticks do not)."""
        if isinstance(event, Heard):
            return bool(event.text.strip())
        return isinstance(event, Started | KeyPressed)

    def _activity(self, at: float) -> None:
        """Note patient activity: restart the idle clock and allow a later idle greeting."""
        self._idle_from = at
        self._awaiting_activity = False

    def _on_tick(self, at: float) -> list[DialogueAction]:
        """Reset to defaults and greet once after idle_timeout_s without activity."""
        if self._idle_from is None or self._awaiting_activity:
            return []
        if at - self._idle_from < self._settings.idle_timeout_s:
            return []
        # Section 508 402.3.2, EN 301 549 5.1.3.13: volume (and rate) reset after each use, so
        # the next patient is not blasted; WCAG 2.2.1: the timeout is long because patients
        # need time. The previous patient's answer is forgotten for privacy.
        self._reset()
        self._awaiting_activity = True
        return self._greet()

    def _on_heard(self, event: Heard) -> list[DialogueAction]:
        """Caption what was heard, then act on what the matcher made of it."""
        text = event.text.strip()
        if not text:
            return self._miss(self._messages.not_heard)
        self._activity(event.at)
        result = self._match(text, event.confidence)
        is_stop = result.action is Action.COMMAND and result.command is Command.STOP
        # Section 508 402.2.4, EN 301 549 5.1.3.5: speech stops when the patient makes a choice.
        out: list[DialogueAction] = [StopSpeaking()] if self._speaking or is_stop else []
        # EN 301 549 5.1.5: a visual equivalent of the conversation, both sides.
        out.append(Show(Caption(Role.PATIENT, text)))
        if is_stop:
            # ADA 707.5.1: stop means silence, not an "OK" that talks over the patient again.
            return out
        return out + self._on_result(result)

    def _on_result(self, result: MatchResult) -> list[DialogueAction]:
        """Act on the matcher's decision."""
        if result.action is Action.COMMAND and result.command is not None:
            return self._on_command(result.command)
        entry = self._entries.get(result.entry_id or "")
        if result.action is Action.ANSWER and entry is not None:
            return self._answer(entry)
        if result.action is Action.CONFIRM and entry is not None:
            # WCAG 3.3.3, ADA 707.5: verify an uncertain question before answering it.
            self._pending = entry
            self._pending_at = self._now
            return self._confirm_question(entry)
        if result.action is not Action.DECLINE:
            # Medical safety: never guess an answer for an entry the content does not hold.
            log.warning("Matcher returned %s without a known entry; declining.", result.action)
        self._pending = None
        return self._miss(self._messages.fallback)

    def _on_command(self, command: Command) -> list[DialogueAction]:
        """Act on a control phrase (STOP is handled before this, with the caption)."""
        if command is Command.REPEAT:
            return self._repeat()
        if command in (Command.SLOWER, Command.FASTER):
            return self._change_rate(slower=command is Command.SLOWER)
        if command in (Command.LOUDER, Command.QUIETER):
            return self._change_volume(louder=command is Command.LOUDER)
        if command is Command.HELP:
            self._pending = None
            return self._help()
        if command is Command.GOODBYE:
            return self._goodbye()
        expired = self._now - self._pending_at > self._settings.confirm_timeout_s
        if self._pending is not None and expired:
            # A "yes" long after the question is not an answer to it (it may not even be the
            # same patient): medical safety first.
            self._pending = None
        if command is Command.YES and self._pending is not None:
            return self._answer(self._pending)
        if command is Command.NO and self._pending is not None:
            self._pending = None
            return [*self._say(self._messages.rephrase, SayKind.PROMPT), Listen()]
        # A yes or no with nothing to confirm: say what the patient can do.
        return self._prompt()

    def _on_key(self, event: KeyPressed) -> list[DialogueAction]:
        """Section 508 302.6, EN 301 549 4.2.6: the whole FAQ is usable without speaking."""
        self._activity(event.at)
        key = event.key
        # EN 301 549 5.1.3.5: any key press stops the current speech.
        out: list[DialogueAction] = [StopSpeaking()] if self._speaking or key is Key.STOP else []
        if key is Key.STOP:
            return out
        if key is Key.REPEAT:
            return out + self._repeat()
        if key is Key.HELP:
            self._pending = None
            return out + self._help()
        self._pending = None
        count = len(self._faq.entries)
        if count == 0:
            return out + self._prompt()
        if key is Key.SELECT:
            if self._cursor is None:
                return out + self._say(SELECT_WITHOUT_TOPIC, SayKind.PROMPT)
            return out + self._answer(self._faq.entries[self._cursor])
        if self._cursor is None:
            self._cursor = 0 if key is Key.NEXT else count - 1
        else:
            self._cursor = (self._cursor + (1 if key is Key.NEXT else -1)) % count
        entry = self._faq.entries[self._cursor]
        line = TOPIC_LINE.format(number=self._cursor + 1, count=count, topic=entry.topic)
        self._last = _Utterance(line, SayKind.TOPIC)
        return out + self._say(line, SayKind.TOPIC)

    # --- replies ------------------------------------------------------------------------------

    def _say(self, text: str, kind: SayKind) -> list[DialogueAction]:
        """Caption and speak one line at the patient's rate and volume (EN 301 549 5.1.5)."""
        return [
            Show(Caption(Role.KIOSK, text)),
            Say(text, self._rate, self._volume, kind),
        ]

    def _greet(self) -> list[DialogueAction]:
        """ADA 707.5: speak the greeting, the safety notice and how to use the kiosk."""
        return [
            *self._say(self._messages.greeting, SayKind.GREETING),
            *self._say(self._messages.safety_notice, SayKind.GREETING),
            *self._say(self._messages.usage, SayKind.PROMPT),
            Listen(),
        ]

    def _prompt(self) -> list[DialogueAction]:
        """Say what the patient can say, then listen."""
        return [*self._say(self._messages.usage, SayKind.PROMPT), Listen()]

    def _answer(self, entry: Entry) -> list[DialogueAction]:
        """Speak an entry's answer and remember it for repeat and speed changes."""
        self._pending = None
        self._misses = 0
        self._last = _Utterance(entry.answer, SayKind.ANSWER)
        return self._say(entry.answer, SayKind.ANSWER)

    def _confirm_question(self, entry: Entry) -> list[DialogueAction]:
        """Ask whether this is the question the patient meant, then listen for yes or no."""
        line = self._messages.confirm_template.format(question=entry.question)
        return [*self._say(line, SayKind.CONFIRM), Listen()]

    def _miss(self, text: str) -> list[DialogueAction]:
        """EN 301 549 5.1.3.15: say the error; after repeated misses suggest topics (WCAG 3.3.3)."""
        self._misses += 1
        out = self._say(text, SayKind.DECLINE)
        if self._misses >= self._settings.max_misses_before_topics:
            # Break the "sorry, I didn't understand" loop by saying what can be asked; count
            # afresh so the list is not read out after every later miss.
            out += self._topics()
            self._misses = 0
        return [*out, Listen()]

    def _help(self) -> list[DialogueAction]:
        """Say what the kiosk can do, a few topics, and how to ask."""
        return [
            *self._say(self._messages.help_intro, SayKind.HELP),
            *self._topics(),
            *self._say(self._messages.usage, SayKind.PROMPT),
            Listen(),
        ]

    def _topics(self) -> list[DialogueAction]:
        """Say a few topic labels after the topics introduction (nothing if there are none)."""
        labels: list[str] = []
        for entry in self._faq.entries:
            if entry.topic not in labels:
                labels.append(entry.topic)
        labels = labels[: self._settings.topics_in_help]
        if not labels:
            return []
        return self._say(f"{self._messages.topics_intro} {spoken_list(labels)}.", SayKind.HELP)

    def _repeat(self) -> list[DialogueAction]:
        """ADA 707.5.1, EN 301 549 5.1.3.4: repeat the latest thing of substance."""
        if self._pending is not None:
            return self._confirm_question(self._pending)
        if self._last is not None:
            return self._say(self._last.text, self._last.kind)
        return self._prompt()

    def _change_rate(self, *, slower: bool) -> list[DialogueAction]:
        """Step the speech rate within limits and repeat what was said at the new rate."""
        s = self._settings
        step = -s.rate_step if slower else s.rate_step
        rate = min(s.max_rate, max(s.min_rate, self._rate + step))
        if rate == self._rate:
            return self._say(SLOWEST if slower else FASTEST, SayKind.ACK)
        self._rate = rate
        if self._pending is not None or self._last is not None:
            return self._repeat()
        return self._say(SLOWER_ACK if slower else FASTER_ACK, SayKind.ACK)

    def _change_volume(self, *, louder: bool) -> list[DialogueAction]:
        """ADA 707.5.1, Section 508 402.3.2: step the volume within limits and acknowledge."""
        s = self._settings
        step = s.volume_step if louder else -s.volume_step
        # Round so repeated tenths land exactly on the limits rather than a hair past them.
        volume = round(min(s.max_volume, max(s.min_volume, self._volume + step)), 3)
        if abs(volume - self._volume) < 1e-9:
            return self._say(LOUDEST if louder else QUIETEST, SayKind.ACK)
        self._volume = volume
        return self._say(LOUDER_ACK if louder else QUIETER_ACK, SayKind.ACK)

    def _goodbye(self) -> list[DialogueAction]:
        """Say goodbye at the patient's settings, end the session, then start afresh."""
        out = [*self._say(self._messages.goodbye, SayKind.GOODBYE), EndSession()]
        # Section 508 402.3.2: the next patient starts at the default volume and rate.
        self._reset()
        return out

    def _reset(self) -> None:
        """Forget the patient: default rate and volume, no last answer, no pending question."""
        self._rate = self._settings.default_rate_wpm
        self._volume = self._settings.default_volume
        self._last = None
        self._pending = None
        self._misses = 0
        self._cursor = None
