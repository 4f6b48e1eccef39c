"""The kiosk's dialogue: a pure state machine turning events into actions (no audio, no clock)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from voice.content.schema import Entry, Faq
from voice.errors import UsageError
from voice.kiosk.events import (
    Caption,
    ClearScreen,
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
# Key prompts name the keys on the keyboard (voice/kiosk/keys.py), not abstract buttons.
TOPIC_LINE = "Topic {number} of {count}: {topic}. Press Enter to hear the answer."
SELECT_WITHOUT_TOPIC = "Press the right arrow key to hear the topics, then Enter to hear an answer."
KEYS_HELP = (
    "Arrow keys: topics. Enter: the answer. R repeats, S stops. Plus and minus: volume. "
    "Less-than and greater-than: speed."
)
KEYS_HINT = "Press H to hear which keys to use."
# Matcher reasons that mean nothing was said worth looking up ("hello", "um", a cough).
NOT_UNDERSTOOD_REASONS = frozenset({"no_words", "no_speech"})
_SOURCE_END = re.compile(r";|\(|(?<=\w{4})\.(?:\s|$)")
# Besides the words, each sentence ends in a pause (the voice's own and the kiosk's).
SENTENCE_PAUSE_S = 0.4


@dataclass(frozen=True)
class DialogueSettings:
    """Timeouts and the limits of the patient's speech-rate and volume controls."""

    idle_timeout_s: float = 90.0  # WCAG 2.2.1: older patients need time
    # "No one there": this long without a word after the kiosk's last reply ends the session.
    absent_timeout_s: float = 30.0
    default_rate_wpm: int = 155  # comfortable synthetic speech is about 150-200 wpm
    rate_step: int = 20
    min_rate: int = 115  # much slower hurts understanding of isolated words
    max_rate: int = 195
    # A gain, low enough that the patient's +12 dB stays (nearly) clear of clipping.
    default_volume: float = 0.4
    min_volume: float = 0.3  # the staff's choice of default volume lies in this range
    max_volume: float = 1.0
    # The patient's volume steps, in dB from the default: a step must be clearly heard.
    volume_step_db: float = 4.0
    max_volume_db: float = 12.0
    min_volume_db: float = -8.0
    topics_in_help: int = 3
    max_help_s: float = 12.0  # help longer than this is not listened to the end
    max_misses_before_topics: int = 2
    # "Did you mean …?" expires: a "yes" after this long no longer answers it.
    confirm_timeout_s: float = 30.0
    push_to_talk: bool = False  # the greeting says to hold the space bar

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
        if self.rate_step <= 0 or self.volume_step_db <= 0:
            raise UsageError("The rate and volume steps must be greater than zero.")
        if not self.min_volume_db <= 0 <= self.max_volume_db:
            raise UsageError("The patient's volume range must include the default (0 dB).")
        if self.idle_timeout_s <= 0 or self.absent_timeout_s <= 0:
            raise UsageError("The idle and absent timeouts must be greater than zero seconds.")
        if self.max_misses_before_topics < 1 or self.topics_in_help < 0:
            raise UsageError(
                "The misses before topics must be at least 1 and topics in help at least 0."
            )


def speech_seconds(text: str, rate_wpm: int) -> float:
    """Roughly how long text takes to say at this rate: its words plus a pause per sentence."""
    words = len(text.split())
    sentences = max(1, sum(text.count(mark) for mark in ".?!:"))
    return words * 60.0 / rate_wpm + sentences * SENTENCE_PAUSE_S


def spoken_source(source: str) -> str:
    """The part of an entry's source that is said aloud: up to its first ";", "(" or full stop.

    A full stop after a short word ("Dr.") is an abbreviation, not the end of the source.
    """
    return _SOURCE_END.split(source, maxsplit=1)[0].strip().rstrip(".,:")


def spoken_list(items: list[str]) -> str:
    """Join items the way they are said aloud: "a", "a or b", "a, b, or c"."""
    if len(items) <= 2:
        return " or ".join(items)
    return ", ".join(items[:-1]) + ", or " + items[-1]


@dataclass(frozen=True)
class _Utterance:
    """Something of substance the kiosk said, kept so it can be repeated."""

    lines: tuple[str, ...]
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
        self._labels: list[str] = []  # each topic label once, in content order
        for entry in faq.entries:
            if entry.topic not in self._labels:
                self._labels.append(entry.topic)
        self._speaking = False
        # The idle clock runs from the patient's last activity or the end of the kiosk's reply
        # to it, whichever is later; None until the first event that starts it.
        self._idle_from: float | None = None
        self._reply_extends_idle = False
        # Open from a greeting until goodbye or "no one there"; the next person who speaks or
        # presses a key after that is greeted first.
        self._session_open = False
        self._rate = self._settings.default_rate_wpm
        self._volume_db = 0.0  # the patient's volume, from the default
        self._last: _Utterance | None = None  # the latest answer or topic line, for repeat
        self._pending: Entry | None = None  # the entry awaiting the patient's yes or no
        self._pending_at = 0.0
        self._now = 0.0
        self._misses = 0
        self._cursor: int | None = None  # keypad position in faq.entries
        self._next_label = 0  # where the next topic list starts, so lists take turns

    @property
    def rate_wpm(self) -> int:
        """The speech rate the patient has chosen."""
        return self._rate

    @property
    def volume(self) -> float:
        """The gain for the volume the patient has chosen (the default moved in dB steps)."""
        return round(self._settings.default_volume * 10 ** (self._volume_db / 20), 3)

    @property
    def is_speaking_expected(self) -> bool:
        """True from a Say until SpeechFinished or StopSpeaking."""
        return self._speaking

    @property
    def session_open(self) -> bool:
        """Whether someone is being served (False after goodbye or "no one there")."""
        return self._session_open

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
            self._session_open = True
            return [ClearScreen(), *self._greet()]
        if isinstance(event, Heard):
            return self._on_heard(event)
        if isinstance(event, NothingHeard):
            # A sound in an empty room is no one to greet.
            return self._miss(self._messages.not_heard) if self._session_open else []
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
        """Note patient activity: restart the idle clock."""
        self._idle_from = at

    def _on_tick(self, at: float) -> list[DialogueAction]:
        """End the session when no one has been there for a while."""
        if self._idle_from is None or not self._session_open:
            return []
        limit = min(self._settings.absent_timeout_s, self._settings.idle_timeout_s)
        if at - self._idle_from < limit or self._speaking:
            return []
        # Section 508 402.3.2, EN 301 549 5.1.3.13: volume (and rate) reset after each use, so
        # the next patient is not blasted; the previous patient's words leave the screen for
        # privacy. Nothing is said to a room that may be empty: the next person is greeted.
        return self._end_session([])

    def _on_heard(self, event: Heard) -> list[DialogueAction]:
        """Caption what was heard, then act on what the matcher made of it."""
        text = event.text.strip()
        if not text:
            return self._miss(self._messages.not_heard) if self._session_open else []
        self._activity(event.at)
        result = self._match(text, event.confidence)
        is_stop = result.action is Action.COMMAND and result.command is Command.STOP
        # Section 508 402.2.4, EN 301 549 5.1.3.5: speech stops when the patient makes a choice.
        out: list[DialogueAction] = [StopSpeaking()] if self._speaking or is_stop else []
        new_patient = not self._session_open
        if new_patient:
            self._session_open = True
            out.append(ClearScreen())
        # EN 301 549 5.1.5: a visual equivalent of the conversation, both sides.
        out.append(Show(Caption(Role.PATIENT, text)))
        if is_stop:
            # ADA 707.5.1: stop means silence, not an "OK" that talks over the patient again.
            return out
        if new_patient:
            return out + self._first_reply(result)
        return out + self._on_result(result)

    def _first_reply(self, result: MatchResult) -> list[DialogueAction]:
        """A new patient hears the greeting first, then the answer to what they asked, if any."""
        command = result.command if result.action is Action.COMMAND else None
        if command is Command.GOODBYE:
            return self._goodbye()
        if command in (Command.LOUDER, Command.QUIETER, Command.SLOWER, Command.FASTER):
            # Someone who walks up saying "louder" gets the greeting louder.
            self._adjust(command)
            return self._greet()
        if command is Command.HELP:
            return self._welcome() + self._help()
        if command is not None or self._not_understood(result):
            # "Hello", "what?", "yes": the greeting says what to do.
            return self._greet()
        return self._welcome() + self._on_result(result)

    @staticmethod
    def _not_understood(result: MatchResult) -> bool:
        """Whether nothing worth looking up was said ("hello", "um", a cough)."""
        return result.action is Action.DECLINE and result.reason in NOT_UNDERSTOOD_REASONS

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
        if self._not_understood(result):
            # EN 301 549 5.1.3.15: say what went wrong; "no answer" would be the wrong error.
            return self._miss(self._messages.not_understood)
        return self._miss(self._messages.fallback)

    def _on_command(self, command: Command) -> list[DialogueAction]:
        """Act on a control phrase (STOP is handled before this, with the caption)."""
        if command is Command.REPEAT:
            if self._pending is None and self._last is None:
                # "What?" with nothing to repeat: the patient's question was not caught.
                return self._miss(self._messages.not_understood)
            return self._repeat()
        if command in (Command.SLOWER, Command.FASTER, Command.LOUDER, Command.QUIETER):
            return self._adjust_and_repeat(command)
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
        command = _KEY_COMMANDS.get(key)
        if not self._session_open:
            self._session_open = True
            out.append(ClearScreen())
            if command is not None:
                self._adjust(command)
            if key not in (Key.NEXT, Key.PREVIOUS, Key.SELECT, Key.HELP):
                return out + self._welcome() + self._say(KEYS_HINT, SayKind.PROMPT) + [Listen()]
            out += self._welcome()
        if command is not None:
            return out + self._adjust_and_repeat(command)
        if key is Key.REPEAT:
            return out + self._repeat()
        if key is Key.HELP:
            self._pending = None
            return out + self._help(keys=True)
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
        self._last = _Utterance((line,), SayKind.TOPIC)
        return out + self._say(line, SayKind.TOPIC)

    # --- replies ------------------------------------------------------------------------------

    def _say(self, text: str, kind: SayKind) -> list[DialogueAction]:
        """Caption and speak one line at the patient's rate and volume (EN 301 549 5.1.5)."""
        return self._say_lines((text,), kind)

    def _say_lines(self, lines: tuple[str, ...], kind: SayKind) -> list[DialogueAction]:
        """Caption each line, then speak them as one utterance."""
        shown: list[DialogueAction] = [Show(Caption(Role.KIOSK, line)) for line in lines]
        return [*shown, Say(" ".join(lines), self._rate, self.volume, kind)]

    def _welcome(self) -> list[DialogueAction]:
        """ADA 707.5: the greeting and the safety notice (and how to talk, for push-to-talk)."""
        out = [
            *self._say(self._messages.greeting, SayKind.GREETING),
            *self._say(self._messages.safety_notice, SayKind.GREETING),
        ]
        if self._settings.push_to_talk:
            out += self._say(self._messages.push_to_talk, SayKind.GREETING)
        return out

    def _greet(self) -> list[DialogueAction]:
        """The greeting, the safety notice and how to use the kiosk, then listen."""
        return [*self._welcome(), *self._say(self._messages.usage, SayKind.PROMPT), Listen()]

    def _attract(self) -> list[DialogueAction]:
        """What an idle screen shows for whoever walks up (shown, not said)."""
        lines = [self._messages.greeting, self._messages.usage]
        if self._settings.push_to_talk:
            lines.insert(1, self._messages.push_to_talk)
        return [Show(Caption(Role.KIOSK, line)) for line in lines]

    def _prompt(self) -> list[DialogueAction]:
        """Say what the patient can say, then listen."""
        return [*self._say(self._messages.usage, SayKind.PROMPT), Listen()]

    def _answer(self, entry: Entry) -> list[DialogueAction]:
        """Speak an entry's answer, then its source and the care-team line; keep it for repeat."""
        self._pending = None
        self._misses = 0
        lines: tuple[str, ...] = (entry.answer,)
        source = spoken_source(entry.source)
        if source:
            lines += (self._messages.source_line.format(source=source),)
        self._last = _Utterance(lines, SayKind.ANSWER)
        return self._say_lines(lines, SayKind.ANSWER)

    def _confirm_question(self, entry: Entry) -> list[DialogueAction]:
        """Ask whether this is the question the patient meant, then listen for yes or no."""
        line = self._messages.confirm_template.format(question=entry.question)
        return [*self._say(line, SayKind.CONFIRM), Listen()]

    def _miss(self, text: str) -> list[DialogueAction]:
        """EN 301 549 5.1.3.15: say the error; after repeated misses suggest topics (WCAG 3.3.3)."""
        self._misses += 1
        out = self._say(text, SayKind.DECLINE)
        if self._misses >= self._settings.max_misses_before_topics and self._labels:
            # Break the "sorry, I didn't understand" loop by saying what can be asked; count
            # afresh so the list is not read out after every later miss.
            labels = self._take_labels(self._settings.topics_in_help)
            if labels:
                line = f"{self._messages.topics_intro} {spoken_list(labels)}."
                out += self._say(line, SayKind.HELP)
            self._misses = 0
        return [*out, Listen()]

    def _help(self, *, keys: bool = False) -> list[DialogueAction]:
        """What the kiosk can do and some topics, in about max_help_s of speech, then listen.

        Each help names the next few topics, so repeated help goes through all of them.
        """
        intro = KEYS_HELP if keys else self._messages.help_intro
        budget = self._settings.max_help_s - speech_seconds(intro, self._rate)
        # Spoken help names at least one topic; key help can browse them with the arrows.
        count = 0 if keys else min(1, self._settings.topics_in_help)
        while count < min(self._settings.topics_in_help, len(self._labels)):
            if speech_seconds(self._topic_line(intro, self._peek(count + 1)), self._rate) > budget:
                break
            count += 1
        lines = [intro]
        labels = self._take_labels(count)
        if labels:
            topics = self._topic_line(intro, labels)
            lines = [f"{intro} {topics}"] if intro.rstrip().endswith(":") else [intro, topics]
        out = self._say_lines(tuple(lines), SayKind.HELP)
        spent = sum(speech_seconds(line, self._rate) for line in lines)
        usage = self._messages.usage
        if not keys and spent + speech_seconds(usage, self._rate) <= self._settings.max_help_s:
            out += self._say(usage, SayKind.PROMPT)
        return [*out, Listen()]

    def _topic_line(self, intro: str, labels: list[str]) -> str:
        """The list of topics, after an intro that ends in ":" or after topics_intro."""
        listed = f"{spoken_list(labels)}."
        if intro.rstrip().endswith(":"):
            return listed
        return f"{self._messages.topics_intro} {listed}"

    def _peek(self, count: int) -> list[str]:
        """The next count topic labels, in turn, without moving on."""
        total = len(self._labels)
        return [self._labels[(self._next_label + i) % total] for i in range(min(count, total))]

    def _take_labels(self, count: int) -> list[str]:
        """The next count topic labels; the next list starts after them."""
        labels = self._peek(count)
        if self._labels:
            self._next_label = (self._next_label + len(labels)) % len(self._labels)
        return labels

    def _repeat(self) -> list[DialogueAction]:
        """ADA 707.5.1, EN 301 549 5.1.3.4: repeat the latest thing of substance."""
        if self._pending is not None:
            return self._confirm_question(self._pending)
        if self._last is not None:
            return self._say_lines(self._last.lines, self._last.kind)
        return self._prompt()

    def _adjust(self, command: Command) -> bool:
        """Step the rate or the volume within its limits; False when already at the limit."""
        s = self._settings
        if command in (Command.SLOWER, Command.FASTER):
            step = -s.rate_step if command is Command.SLOWER else s.rate_step
            rate = min(s.max_rate, max(s.min_rate, self._rate + step))
            changed = rate != self._rate
            self._rate = rate
            return changed
        step_db = s.volume_step_db if command is Command.LOUDER else -s.volume_step_db
        level = min(s.max_volume_db, max(s.min_volume_db, self._volume_db + step_db))
        changed = abs(level - self._volume_db) > 1e-9
        self._volume_db = level
        return changed

    def _adjust_and_repeat(self, command: Command) -> list[DialogueAction]:
        """ADA 707.5.1, Section 508 402.3.2: step rate or volume, then repeat at the new one.

        Hearing the latest answer again at the new setting is what the patient asked for; with
        nothing to repeat, a short acknowledgement is said at the new setting instead.
        """
        if not self._adjust(command):
            return self._say(_AT_LIMIT[command], SayKind.ACK)
        if self._pending is not None or self._last is not None:
            return self._repeat()
        return self._say(_ACKS[command], SayKind.ACK)

    def _goodbye(self) -> list[DialogueAction]:
        """Clear the screen, say goodbye at the patient's settings, end the session."""
        return self._end_session(self._say(self._messages.goodbye, SayKind.GOODBYE))

    def _end_session(self, said: list[DialogueAction]) -> list[DialogueAction]:
        """Wipe the screen, say what is to be said, and forget the patient."""
        out = [ClearScreen(), *said]
        # Section 508 402.3.2: the next patient starts at the default volume and rate.
        self._reset()
        self._session_open = False
        return [*out, *self._attract(), EndSession()]

    def _reset(self) -> None:
        """Forget the patient: default rate and volume, no last answer, no pending question."""
        self._rate = self._settings.default_rate_wpm
        self._volume_db = 0.0
        self._last = None
        self._pending = None
        self._misses = 0
        self._cursor = None
        self._next_label = 0


_KEY_COMMANDS = {
    Key.LOUDER: Command.LOUDER,
    Key.QUIETER: Command.QUIETER,
    Key.SLOWER: Command.SLOWER,
    Key.FASTER: Command.FASTER,
}
_ACKS = {
    Command.LOUDER: LOUDER_ACK,
    Command.QUIETER: QUIETER_ACK,
    Command.SLOWER: SLOWER_ACK,
    Command.FASTER: FASTER_ACK,
}
_AT_LIMIT = {
    Command.LOUDER: LOUDEST,
    Command.QUIETER: QUIETEST,
    Command.SLOWER: SLOWEST,
    Command.FASTER: FASTEST,
}
