"""Turn-taking between the kiosk and the patient (pure: times and levels come in as arguments).

The kiosk must never answer itself: while it speaks (and briefly after), words that belong to
what it is saying are treated as its own echo, and only other words can interrupt it (barge-in).
When it is quiet, the words heard so far decide when the patient has finished (see
voice/kiosk/endpoint.py). ``Turns`` takes what the loop hears and plays and returns what to do.

Older speakers pause to find a word, and a pause long enough to end the utterance starts a
reply. Replies stay fast: instead of waiting longer, a patient who goes on within
``CONTINUE_WINDOW_S`` of the reply starting stops it at once (``ContinueQuestion``), and what
they say next is joined to the question before it is matched (``Turns.join_held``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from voice.audio.speech_activity import SoundRun
from voice.hearing.transcript import UNKNOWN_WORD, Transcript, WordConfidence
from voice.kiosk.echo import DoubleTalkDetector, EchoReference, open_without_echo, without_echo
from voice.kiosk.endpoint import EndpointSettings, assess
from voice.matching.commands import Command
from voice.matching.result import Action, MatchResult

log = logging.getLogger(__name__)

# How far back the microphone can be hearing the kiosk's own output: device buffers, the sound
# server and the room together (module-loopback alone measured 0.2–0.5 s here).
ECHO_WINDOW_S = 0.8
ECHO_TAIL_S = 0.35  # room reverberation and input latency after the last sample is played
STOP_WORD = "stop"
# How many of the last words heard over the kiosk may hold a control phrase.
COMMAND_TAIL_WORDS = 3
# A control phrase heard over the kiosk counts only if the microphone was clearly louder than
# the kiosk's echo this recently (the recogniser reports a word up to about 0.6 s after it
# ends). What the echo canceller leaves of the kiosk's voice decodes as stray words, now and
# then a command ("repeat" was seen), at the level of the echo, not above it.
COMMAND_LOUD_WITHIN_S = 1.5
# A decoder that has heard nothing for this long is reset, to keep it small.
IDLE_AUDIO_S = 30.0
# The patient going on this soon after the reply to their question started was only pausing.
CONTINUE_WINDOW_S = 1.5
# How long the microphone must stay above the echo to count as the patient going on. Short:
# every frame the kiosk keeps talking is talking over the patient (issue 15 allows 0.3 s).
CONTINUE_HOLD_S = 0.1
# A stopped reply whose continuation brought no words (a cough, a chair) is answered after all.
CONTINUE_GIVE_UP_S = 2.5


@dataclass(frozen=True)
class ResetDecoder:
    """Drop what the decoder has heard so far."""

    reason: str


@dataclass(frozen=True)
class SpeechStart:
    """The first word of an utterance was heard."""


@dataclass(frozen=True)
class BargeIn:
    """The patient interrupts the kiosk: stop speaking."""

    command: Command | None  # the control phrase heard over the kiosk, if any
    words: tuple[str, ...]  # the heard words that are not the kiosk's own
    talking_over: bool
    echo_gain_db: float

    @property
    def stops(self) -> bool:
        """True for "stop", which acts at once; other words start an utterance still going on."""
        return self.command is Command.STOP


@dataclass(frozen=True)
class UtteranceEnded:
    """The patient has finished speaking."""

    speech_end: float  # monotonic time the speech ended
    needed_s: float  # the silence that ended it


@dataclass(frozen=True)
class ContinueQuestion:
    """The patient goes on with the question the kiosk has started to answer: stop the reply."""

    after_s: float  # how long after the reply started the patient went on


@dataclass(frozen=True)
class AnswerHeld:
    """A reply was stopped for a continuation that never came: answer the question after all."""

    question: Transcript
    open_heard: Transcript | None


TurnAction = ResetDecoder | SpeechStart | BargeIn | UtteranceEnded | AnswerHeld


@dataclass(frozen=True)
class PlaybackEnded:
    """The kiosk's speech finished playing."""

    keep_heard: bool  # the patient barged in and is talking: keep what the decoder has


@dataclass
class _Utterance:
    """What has been heard since the last reset of the decoder."""

    text: str = ""
    first_word_at: float | None = None  # stream seconds
    segment_end: float | None = None  # end of the last word of a finished segment
    complete: bool = False  # the text so far is a confident answer or a command
    is_command: bool = False


@dataclass(frozen=True)
class _Question:
    """A question the kiosk is replying to (or stopped replying to, waiting for the rest)."""

    transcript: Transcript
    open_heard: Transcript | None
    since: float  # monotonic: when the reply started, or when it was stopped


@dataclass
class _Speaking:
    """What the kiosk is saying now, for echo filtering."""

    words: set[str] = field(default_factory=set)
    until: float = 0.0  # monotonic time after which echo can no longer arrive


class Turns:
    """Who has the turn: barge-in, the echo window and the end of the patient's utterance."""

    def __init__(
        self,
        match: Callable[[str], MatchResult],
        classify_command: Callable[[str], tuple[Command, float] | None],
        endpoint: EndpointSettings,
        *,
        stop_over_echo: frozenset[str],
    ) -> None:
        """``stop_over_echo``: what "stop" is heard as over the kiosk's own voice ("top": the
        recogniser loses its "s"); such a word, when it is the only word heard that the kiosk is
        not saying, is taken as "stop" (the language data's ``stop_over_echo``)."""
        self._match = match
        self._classify_command = classify_command
        self.endpoint = endpoint
        self._stop_over_echo = stop_over_echo
        self.utterance = _Utterance()
        self.speaking = _Speaking()
        self.echo_ref = EchoReference()
        self.double_talk = DoubleTalkDetector()
        # The same test with a short hold: the patient going on after a pause (see the module).
        self.going_on = DoubleTalkDetector(hold_s=CONTINUE_HOLD_S)
        self.talking_over = False
        self._reply: _Question | None = None  # the question whose reply may still be stopped
        self._held: _Question | None = None  # a stopped reply's question, awaiting the rest
        self._queued_until = 0.0  # monotonic time the queued speech will have been played
        self._barged_in = False
        self._barge_echo: tuple[float, set[str]] | None = None
        self._was_playing = False

    # -- the kiosk speaking -----------------------------------------------------------------

    def saying(self, words: Iterable[str]) -> None:
        """The kiosk starts saying these words (its own echo from now on)."""
        self.speaking.words.update(words)

    def queue(self, now: float, duration_s: float) -> float:
        """Audio queued at ``now``: when it will reach the speaker (after what is queued)."""
        starts_at = max(now, self._queued_until)
        self._queued_until = starts_at + duration_s
        return starts_at

    def played(self, starts_at: float, levels: list[float]) -> None:
        """The levels of audio that reaches the speaker at ``starts_at`` (the echo reference)."""
        self.echo_ref.add(starts_at, levels)

    def said(self) -> None:
        """Everything to say is queued: echo can arrive until shortly after it has played."""
        self.speaking.until = self._queued_until + ECHO_TAIL_S
        self._was_playing = True

    def stopped_speaking(self) -> None:
        """The speaker was stopped: nothing is queued."""
        self._queued_until = 0.0

    def playback(self, playing: bool, now: float) -> PlaybackEnded | None:
        """The speaker's state at ``now``; says when the kiosk's speech has just finished."""
        ended = None
        if self._was_playing and not playing:
            if self._barged_in:
                # The patient is talking: keep what they have said so far.
                self._barged_in = False
                ended = PlaybackEnded(keep_heard=True)
            else:
                # What was decoded while the kiosk spoke is its own voice: drop it now, so that
                # a patient who starts right after the kiosk stops keeps their first words.
                self.speaking.until = now + ECHO_TAIL_S
                ended = PlaybackEnded(keep_heard=False)
        self._was_playing = playing
        return ended

    def in_echo_window(self, playing: bool, now: float) -> bool:
        """True while the microphone may be hearing the kiosk's own voice."""
        return playing or now < self.speaking.until

    # -- hearing ----------------------------------------------------------------------------

    def replied(
        self, question: Transcript, open_heard: Transcript | None, command: bool, starts_at: float
    ) -> None:
        """The reply to ``question`` starts playing at ``starts_at``; a command's is never held."""
        self._reply = None if command else _Question(question, open_heard, starts_at)

    def mic_frame(
        self, captured_at: float, level_db: float, echo: bool, stream_time: float = 0.0
    ) -> ContinueQuestion | None:
        """A microphone frame's level: learns the room, and whether someone talks over us.

        Returns ``ContinueQuestion`` when the patient goes on with the question being answered.
        """
        if not echo:
            self.double_talk.listen_frame(level_db)
            self.going_on.listen_frame(level_db)
            self.talking_over = False
            return None
        ref = self.echo_ref.level_near(captured_at, before_s=ECHO_WINDOW_S)
        self.talking_over = self.double_talk.frame(captured_at, level_db, ref)
        going_on = self.going_on.frame(captured_at, level_db, ref)
        log.debug("echo t=%.3f mic=%.1f ref=%.1f", captured_at, level_db, ref)
        reply = self._reply
        if reply is None:
            return None
        after_s = captured_at - CONTINUE_HOLD_S - reply.since
        if after_s > CONTINUE_WINDOW_S:
            self._reply = None  # the patient listened: a new question is a barge-in
            return None
        if not going_on:
            return None
        self._reply = None
        self._held = _Question(reply.transcript, reply.open_heard, captured_at)
        self._hand_over(stream_time)
        return ContinueQuestion(after_s=max(0.0, after_s))

    def join_held(
        self, transcript: Transcript, open_heard: Transcript | None
    ) -> tuple[Transcript, Transcript | None] | None:
        """The stopped question joined with this utterance, its continuation (None: no such).

        A control phrase on its own ("stop", "yes") is not a continuation: it is handled as
        itself, and the held question is dropped.
        """
        held, self._held = self._held, None
        if held is None or self._classify_command(transcript.clean_text) is not None:
            return None
        return (
            join_transcripts(held.transcript, transcript),
            join_open(held.open_heard, open_heard),
        )

    def own_words(self, words: Sequence[str]) -> list[str]:
        """Heard words that are not part of what the kiosk is (or was just) saying."""
        return [w for w in words if w not in self.speaking.words]

    def partial(
        self,
        text: str,
        *,
        in_speech: bool,
        segment_ended: bool,
        last_word_end: float | None,
        stream_time: float,
        captured_at: float,
        sound: Sequence[SoundRun] = (),
        echo: bool,
        grammar_heard: str = "",
    ) -> list[TurnAction]:
        """The decoder's hypothesis so far, heard at ``captured_at``; what to do about it.

        ``grammar_heard`` is the command grammar's hypothesis of the same audio (a second
        witness for "stop" over the kiosk's voice).
        """
        words = [w for w in text.split() if w != UNKNOWN_WORD]
        if echo:
            barge = self._barge_in(words, stream_time, captured_at, grammar_heard)
            return [barge] if barge is not None else []
        actions: list[TurnAction] = []
        held = self._held
        if (
            held is not None
            and not words
            and self.utterance.first_word_at is None
            and captured_at - held.since > CONTINUE_GIVE_UP_S
        ):
            self._held = None
            actions.append(AnswerHeld(held.transcript, held.open_heard))
        if self.speaking.words:
            # The echo tail just ended: keep what was heard in it only if it is not our echo.
            if words and not self.own_words(words):
                # Only our echo was decoded; an empty hypothesis may be a patient's first
                # word still being decoded, so that audio is kept.
                self.speaking = _Speaking()
                return [self._reset("echo_tail")]
            self.speaking = _Speaking()
        utterance = self.utterance
        if words and utterance.first_word_at is None:
            utterance.first_word_at = stream_time
            actions.append(SpeechStart())
        if in_speech:
            utterance.segment_end = None  # still talking
        elif segment_ended and words:
            utterance.segment_end = last_word_end
        if not words:
            if stream_time > IDLE_AUDIO_S:
                actions.append(self._reset("idle_audio"))  # long silence or noise
            return actions
        heard = " ".join(words)
        if heard != utterance.text:
            utterance.text = heard
            result = self._match(heard)
            utterance.complete = result.action in (Action.ANSWER, Action.COMMAND)
            utterance.is_command = result.action is Action.COMMAND
        state = assess(
            text=heard,
            stream_time_s=stream_time,
            segment_end_s=utterance.segment_end,
            first_word_s=utterance.first_word_at,
            complete=utterance.complete,
            is_command=utterance.is_command,
            sound=sound,
            settings=self.endpoint,
        )
        if state.ended:
            actions.append(UtteranceEnded(captured_at - state.silence_s, state.needed_s))
        return actions

    def _barge_in(
        self, words: list[str], stream_time: float, captured_at: float, grammar_heard: str = ""
    ) -> BargeIn | None:
        """Interrupt the kiosk for a spoken command, or when the patient talks over it.

        Words that belong to what the kiosk is saying are its own echo. A control phrase made of
        other words interrupts at once if the microphone was just clearly louder than the echo;
        other words interrupt only while it stays so (double talk).
        """
        own = self.own_words(words)
        if not own:
            return None
        command = self._command_at_end(own)
        if command is None and grammar_heard.split()[-1:] == [STOP_WORD]:
            # Behind the echo canceller "stop" reached the phrase list as "started", "start" or
            # "sought" (6 of 13 tries at -6 dB echo); the command grammar, which has no such
            # words, heard "stop".
            command = (Command.STOP, 100.0)
        if command is not None and not self.double_talk.louder_than_echo_within(
            captured_at, COMMAND_LOUD_WITHIN_S
        ):
            command = None  # the canceller's residue of the kiosk's own voice
        if command is None and not self.talking_over:
            return None
        barge = BargeIn(
            command=command[0] if command else None,
            words=tuple(own),
            talking_over=self.talking_over,
            echo_gain_db=self.double_talk.echo_gain_db,
        )
        self._reply = None
        self._hand_over(stream_time)
        return barge

    def _hand_over(self, stream_time: float) -> None:
        """The patient takes the turn from the kiosk at ``stream_time`` (decoder seconds)."""
        # The hypothesis so far also holds our own echo: remember what and until when, so the
        # finished utterance can drop it (see voice.kiosk.echo.without_echo).
        self._barge_echo = (stream_time, set(self.speaking.words))
        self.speaking = _Speaking()
        self.echo_ref.clear()
        self._barged_in = True

    def _command_at_end(self, own: list[str]) -> tuple[Command, float] | None:
        """A control phrase in what was heard over the kiosk: all of it, or its last words.

        Behind an echo canceller the residue of the kiosk's voice decodes as stray words that
        are not in its answer; "stop" said after them must still stop it.
        """
        command = self._classify_command(" ".join(own))
        for n in range(1, min(len(own), COMMAND_TAIL_WORDS) + 1):
            if command is not None:
                return command
            command = self._classify_command(" ".join(own[-n:]))
        if command is None and len(own) == 1 and own[0] in self._stop_over_echo:
            # Only as the one word heard: "up" ends "speak up", "turn it up" and questions.
            command = (Command.STOP, 100.0)
        return command

    def finished(
        self, transcript: Transcript, open_heard: Transcript | None
    ) -> tuple[Transcript, Transcript | None]:
        """The final transcripts of an utterance, without the kiosk's echo of a barge-in."""
        self.utterance = _Utterance()
        if self._barge_echo is None:
            return transcript, open_heard
        until_s, echo_words = self._barge_echo
        self._barge_echo = None
        # The open hypothesis has no word times: every word the kiosk was saying goes, so its
        # echo neither supports an answer nor names "another subject" with a word taken from
        # the kiosk's own answer.
        return without_echo(transcript, until_s, echo_words), open_without_echo(
            open_heard, echo_words
        )

    def forget_utterance(self) -> None:
        """The decoder was reset: nothing has been heard."""
        self.utterance = _Utterance()
        # Its echo words and their times belong to the audio just dropped. Kept, they cut the
        # kiosk's words out of the start of the next question on the restarted stream clock
        # (after a spoken "stop", the next "what are the worst side effects of …" was heard as
        # "what …" and offered back as "Did you mean …?").
        self._barge_echo = None

    def _reset(self, reason: str) -> ResetDecoder:
        self.forget_utterance()
        return ResetDecoder(reason)


def join_transcripts(first: Transcript, second: Transcript) -> Transcript:
    """One question from two utterances; the second's word times follow the first's audio."""
    shifted = tuple(
        WordConfidence(w.word, w.conf, w.start + first.audio_s, w.end + first.audio_s)
        for w in second.words
    )
    return Transcript(
        " ".join(t for t in (first.text, second.text) if t),
        first.words + shifted,
        first.audio_s + second.audio_s,
        first.decode_ms + second.decode_ms,
    )


def join_open(first: Transcript | None, second: Transcript | None) -> Transcript | None:
    """The open decoder's hypotheses joined (its words only when both parts have them)."""
    if first is None or second is None:
        return second if first is None else first
    joined = join_transcripts(first, second)
    if not (first.words and second.words):
        # Word confidences for only part of the text would speak for all of it.
        joined = Transcript(joined.text, (), joined.audio_s, joined.decode_ms)
    return joined
