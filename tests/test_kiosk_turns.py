"""Tests for the kiosk's turn-taking: echo, barge-in and the end of an utterance (no audio)."""

from __future__ import annotations

import pytest

from voice.audio.speech_activity import SoundRun
from voice.hearing.transcript import Transcript, WordConfidence
from voice.kiosk.endpoint import EndpointSettings
from voice.kiosk.turns import (
    CONTINUE_GIVE_UP_S,
    CONTINUE_HOLD_S,
    CONTINUE_WINDOW_S,
    ECHO_TAIL_S,
    IDLE_AUDIO_S,
    AnswerHeld,
    BargeIn,
    ContinueQuestion,
    PlaybackEnded,
    ResetDecoder,
    SpeechStart,
    TurnAction,
    Turns,
    UtteranceEnded,
    join_open,
    join_transcripts,
)
from voice.matching.commands import Command
from voice.matching.result import Action, MatchResult
from voice.text.language import english

CLEAR_QUESTIONS = {"what is the success rate"}
COMMANDS = {"stop": Command.STOP, "repeat": Command.REPEAT, "louder": Command.LOUDER}
ENDPOINT = EndpointSettings()


def _match(text: str) -> MatchResult:
    if text in COMMANDS:
        return MatchResult(text, Action.COMMAND, command=COMMANDS[text])
    if text in CLEAR_QUESTIONS:
        return MatchResult(text, Action.ANSWER, entry_id="success")
    return MatchResult(text, Action.DECLINE)


def _classify(text: str) -> tuple[Command, float] | None:
    return (COMMANDS[text], 100.0) if text in COMMANDS else None


def _turns() -> Turns:
    return Turns(_match, _classify, ENDPOINT, stop_over_echo=english().stop_over_echo)


def _heard(
    turns: Turns,
    text: str,
    *,
    stream_time: float,
    segment_end: float | None = None,
    in_speech: bool = False,
    echo: bool = False,
    captured_at: float = 100.0,
    sound: tuple[SoundRun, ...] = (),
) -> list[TurnAction]:
    """A hypothesis; ``segment_end`` set means a segment just ended with its last word there."""
    return turns.partial(
        text,
        in_speech=in_speech,
        segment_ended=segment_end is not None,
        last_word_end=segment_end,
        stream_time=stream_time,
        captured_at=captured_at,
        sound=sound,
        echo=echo,
    )


def _speak(turns: Turns, text: str, *, now: float = 10.0, duration_s: float = 3.0) -> float:
    """The kiosk says ``text`` at ``now``; returns when its audio starts."""
    turns.saying(text.split())
    starts_at = turns.queue(now, duration_s)
    turns.played(starts_at, [-20.0] * int(duration_s / 0.05))
    turns.said()
    return starts_at


def _loud(turns: Turns, at: float = 100.0) -> None:
    """A microphone frame far louder than the kiosk's echo (the patient speaking)."""
    turns.mic_frame(at, -5.0, echo=True)


def _transcript(*words: tuple[str, float]) -> Transcript:
    items = tuple(WordConfidence(w, 1.0, end - 0.3, end) for w, end in words)
    return Transcript(" ".join(w for w, _ in words), items, 5.0, 10.0)


# -- the end of an utterance --------------------------------------------------------------


def test_first_word_starts_speech_once() -> None:
    turns = _turns()
    assert _heard(turns, "what", stream_time=1.0, in_speech=True) == [SpeechStart()]
    assert _heard(turns, "what is", stream_time=1.2, in_speech=True) == []


def test_a_clear_question_ends_after_the_clear_silence() -> None:
    turns = _turns()
    _heard(turns, "what is the success rate", stream_time=2.0, in_speech=True)
    short = ENDPOINT.complete_silence_s - 0.1
    assert _heard(turns, "what is the success rate", stream_time=2.0 + short, segment_end=2.0) == []
    silence = ENDPOINT.complete_silence_s + 0.01
    actions = _heard(
        turns,
        "what is the success rate",
        stream_time=2.0 + silence,
        segment_end=2.0,
        captured_at=50.0,
    )
    (ended,) = actions
    assert isinstance(ended, UtteranceEnded)
    assert ended.needed_s == ENDPOINT.complete_silence_s
    assert ended.speech_end == pytest.approx(50.0 - silence)


def test_an_unfinished_question_waits_the_longest() -> None:
    turns = _turns()
    _heard(turns, "how long do the", stream_time=2.0, segment_end=2.0)
    silence = ENDPOINT.unclear_silence_s + 0.1
    assert _heard(turns, "how long do the", stream_time=2.0 + silence, segment_end=2.0) == []
    ended = _heard(
        turns,
        "how long do the",
        stream_time=2.0 + ENDPOINT.incomplete_silence_s,
        segment_end=2.0,
    )
    assert [type(a) for a in ended] == [UtteranceEnded]


def test_talking_again_cancels_the_silence() -> None:
    turns = _turns()
    _heard(turns, "how long do the", stream_time=2.0, segment_end=2.0)
    assert _heard(turns, "how long do the side", stream_time=5.0, in_speech=True) == []


def test_unknown_words_alone_are_not_speech() -> None:
    turns = _turns()
    assert _heard(turns, "[unk]", stream_time=1.0, in_speech=True) == []
    assert turns.utterance.first_word_at is None


def test_a_long_silence_resets_the_decoder() -> None:
    turns = _turns()
    assert _heard(turns, "", stream_time=IDLE_AUDIO_S - 1) == []
    assert _heard(turns, "", stream_time=IDLE_AUDIO_S + 1) == [ResetDecoder("idle_audio")]


def test_a_question_is_cut_off_at_the_longest_question() -> None:
    turns = _turns()
    _heard(turns, "and", stream_time=1.0, in_speech=True)
    actions = _heard(
        turns, "and and", stream_time=1.0 + ENDPOINT.max_utterance_s + 0.1, segment_end=1.0
    )
    assert [type(a) for a in actions] == [UtteranceEnded]


# -- the kiosk's own voice ----------------------------------------------------------------


def test_the_echo_window_lasts_past_the_queued_speech() -> None:
    turns = _turns()
    starts_at = _speak(turns, "our success rate is high", now=10.0, duration_s=3.0)
    assert starts_at == 10.0
    assert turns.in_echo_window(playing=True, now=20.0)
    assert turns.in_echo_window(playing=False, now=13.0 + ECHO_TAIL_S - 0.01)
    assert not turns.in_echo_window(playing=False, now=13.0 + ECHO_TAIL_S + 0.01)


def test_queued_sentences_play_one_after_another() -> None:
    turns = _turns()
    assert turns.queue(10.0, 2.0) == 10.0
    assert turns.queue(10.5, 1.0) == 12.0
    turns.stopped_speaking()
    assert turns.queue(11.0, 1.0) == 11.0


def test_the_kiosk_does_not_interrupt_itself() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high")
    assert _heard(turns, "success rate", stream_time=1.0, echo=True) == []


def test_a_command_over_the_kiosk_barges_in() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high")
    _loud(turns)
    (barge,) = _heard(turns, "rate stop", stream_time=1.5, echo=True)
    assert isinstance(barge, BargeIn)
    assert barge.command is Command.STOP and barge.stops
    assert barge.words == ("stop",)
    # The kiosk stopped talking: its words are no longer its echo.
    assert not turns.speaking.words


@pytest.mark.parametrize("heard", ["top", "up"])
def test_stop_as_heard_over_the_kiosk_is_stop(heard: str) -> None:
    # Behind the echo canceller "stop" loses its "s" ("top"), or its "st" ("up").
    turns = _turns()
    _speak(turns, "our success rate is high")
    _loud(turns)
    (barge,) = _heard(turns, heard, stream_time=1.5, echo=True)
    assert isinstance(barge, BargeIn) and barge.command is Command.STOP and barge.stops


@pytest.mark.parametrize(
    ("heard", "command"),
    [
        ("could speak up", Command.LOUDER),  # "could" and "you" heard, "you" the kiosk's own
        ("hurry up", Command.FASTER),
        ("turn up", None),  # "turn it up" with "it" the kiosk's own word
        ("will i throw up", None),
    ],
)
def test_up_at_the_end_of_more_words_is_not_stop(heard: str, command: Command | None) -> None:
    # With the real command phrases: "up" counts as "stop" only as the one word heard.
    from voice.content.loader import default_content_dir, load_content
    from voice.matching.matcher import Matcher

    matcher = Matcher(load_content(default_content_dir()), semantic=None)
    turns = Turns(
        _match, matcher.classify_command, ENDPOINT, stop_over_echo=english().stop_over_echo
    )
    _speak(turns, "our success rate is high")
    _loud(turns)
    actions = _heard(turns, heard, stream_time=1.5, echo=True)
    commands = [a.command for a in actions if isinstance(a, BargeIn)]
    assert commands == ([command] if command else []), (heard, actions)


def test_stop_as_heard_over_the_kiosk_needs_the_patient_louder_and_not_the_kiosks_word() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high")
    assert _heard(turns, "up", stream_time=1.5, echo=True) == []  # no louder than the echo
    turns = _turns()
    _speak(turns, "it may flare up at first")
    _loud(turns)
    assert _heard(turns, "up", stream_time=1.5, echo=True) == []  # the kiosk's own word


def test_a_non_stop_command_barges_in_but_lets_the_utterance_go_on() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high")
    _loud(turns)
    (barge,) = _heard(turns, "repeat", stream_time=1.5, echo=True)
    assert isinstance(barge, BargeIn) and barge.command is Command.REPEAT and not barge.stops


def test_the_command_grammar_hearing_stop_over_the_kiosk_stops_it() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high")
    # The phrase list heard "started" (no command); the grammar of commands heard "stop".
    assert _heard(turns, "started", stream_time=1.5, echo=True) == []
    _loud(turns)
    (barge,) = turns.partial(
        "started",
        in_speech=True,
        segment_ended=False,
        last_word_end=None,
        stream_time=1.5,
        captured_at=100.0,
        echo=True,
        grammar_heard="stop",
    )
    assert isinstance(barge, BargeIn) and barge.stops
    # Only "stop", and only over words that are not the kiosk's own.
    turns = _turns()
    _speak(turns, "our success rate is high")
    _loud(turns)
    for text, grammar in (("started", "repeat"), ("rate", "stop")):
        actions = turns.partial(
            text,
            in_speech=True,
            segment_ended=False,
            last_word_end=None,
            stream_time=1.5,
            captured_at=100.0,
            echo=True,
            grammar_heard=grammar,
        )
        assert actions == [], (text, grammar)


def test_a_command_no_louder_than_the_echo_is_the_cancellers_residue() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high", now=10.0)
    t = 10.0
    for _ in range(20):  # the echo canceller leaves the kiosk's voice 40 dB down
        turns.mic_frame(t, -60.0, echo=True)
        t += 0.05
    assert _heard(turns, "repeat", stream_time=1.0, echo=True, captured_at=t) == []
    # The same word with the patient's voice just above the echo stops the kiosk.
    turns.mic_frame(t, -15.0, echo=True)
    later = t + 0.6
    (barge,) = _heard(turns, "repeat", stream_time=1.6, echo=True, captured_at=later)
    assert isinstance(barge, BargeIn) and barge.command is Command.REPEAT
    # Heard long after the loud frame, it is residue again.
    turns = _turns()
    _speak(turns, "our success rate is high", now=10.0)
    turns.mic_frame(10.5, -15.0, echo=True)
    assert _heard(turns, "stop", stream_time=1.0, echo=True, captured_at=12.5) == []


def test_other_words_barge_in_only_while_someone_talks_over_the_kiosk() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high", now=10.0)
    assert _heard(turns, "what about side effects", stream_time=1.5, echo=True) == []
    # Learn the echo gain from frames where the microphone hears only the kiosk (about -30 dB).
    t = 10.0
    for _ in range(20):
        turns.mic_frame(t, -50.0, echo=True)
        t += 0.05
    assert not turns.talking_over
    # Then the microphone is far louder than the echo, for longer than the hold time.
    for _ in range(12):
        turns.mic_frame(t, -10.0, echo=True)
        t += 0.05
    assert turns.talking_over
    (barge,) = _heard(turns, "what about side effects", stream_time=2.0, echo=True)
    assert isinstance(barge, BargeIn)
    assert barge.command is None and barge.talking_over and not barge.stops


def test_quiet_frames_learn_the_room_and_end_talking_over() -> None:
    turns = _turns()
    turns.talking_over = True
    turns.mic_frame(1.0, -60.0, echo=False)
    assert not turns.talking_over


def test_echo_in_the_tail_is_dropped() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high")
    assert _heard(turns, "rate is high", stream_time=4.0, echo=False) == [ResetDecoder("echo_tail")]
    assert not turns.speaking.words


def test_a_patient_speaking_in_the_tail_is_kept() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high")
    assert _heard(turns, "high what", stream_time=4.0, in_speech=True) == [SpeechStart()]


def test_an_empty_hypothesis_in_the_tail_keeps_the_audio() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high")
    assert _heard(turns, "", stream_time=4.0) == []
    assert not turns.speaking.words


# -- the end of the kiosk's speech --------------------------------------------------------


def test_speech_that_ends_drops_what_was_heard_and_opens_the_tail() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high", now=10.0)
    assert turns.playback(playing=True, now=11.0) is None
    assert turns.playback(playing=False, now=14.0) == PlaybackEnded(keep_heard=False)
    assert turns.in_echo_window(playing=False, now=14.0 + ECHO_TAIL_S - 0.01)
    assert turns.playback(playing=False, now=15.0) is None  # reported once


def test_speech_stopped_by_a_barge_in_keeps_what_the_patient_said() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high")
    _loud(turns)
    _heard(turns, "repeat", stream_time=1.5, echo=True)
    assert turns.playback(playing=False, now=12.0) == PlaybackEnded(keep_heard=True)
    _speak(turns, "our success rate is high")
    assert turns.playback(playing=False, now=20.0) == PlaybackEnded(keep_heard=False)


def test_nothing_ends_when_nothing_was_said() -> None:
    assert _turns().playback(playing=False, now=1.0) is None


def test_a_finished_utterance_after_a_barge_in_drops_the_echo() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high")
    _loud(turns)
    (barge,) = _heard(turns, "rate louder", stream_time=2.5, echo=True)
    assert isinstance(barge, BargeIn)
    heard = _transcript(("rate", 1.0), ("what", 2.0), ("rate", 3.0))
    open_heard = _transcript(("rate", 1.0), ("what", 2.0), ("rate", 3.0))
    transcript, open_kept = turns.finished(heard, open_heard)
    # Before the barge-in "rate" was the kiosk's; after it, the patient's.
    assert transcript.text == "what rate"
    assert open_kept is not None and open_kept.text == "what"
    # Only once.
    assert turns.finished(heard, open_heard) == (heard, open_heard)


def test_a_stop_that_resets_the_decoder_leaves_the_next_question_whole() -> None:
    turns = _turns()
    _speak(turns, "the worst side effects are rare")
    _loud(turns)
    (barge,) = _heard(turns, "stop", stream_time=6.0, echo=True)
    assert isinstance(barge, BargeIn) and barge.stops
    turns.forget_utterance()  # the loop resets the decoder for a stop: a new stream clock
    question = _transcript(("what", 1.0), ("are", 1.2), ("the", 1.4), ("worst", 1.8))
    transcript, _ = turns.finished(question, None)
    assert transcript.text == "what are the worst"


def test_finishing_forgets_the_utterance() -> None:
    turns = _turns()
    _heard(turns, "what is", stream_time=1.0, in_speech=True)
    turns.finished(_transcript(("what", 1.0)), None)
    assert _heard(turns, "what", stream_time=2.0, in_speech=True) == [SpeechStart()]
    turns.forget_utterance()
    assert _heard(turns, "what", stream_time=2.0, in_speech=True) == [SpeechStart()]


# -- a slow speaker going on after the reply started ---------------------------------------

QUESTION = Transcript(
    "what are the side effects",
    tuple(
        WordConfidence(w, 0.9, i * 0.3, i * 0.3 + 0.25)
        for i, w in enumerate("what are the side effects".split())
    ),
    2.0,
    30.0,
)


def _replying(turns: Turns, *, command: bool = False, starts_at: float = 10.0) -> None:
    """The kiosk heard ``QUESTION`` (a quiet room) and starts its reply at ``starts_at``."""
    for k in range(20):
        turns.mic_frame(starts_at - 1.0 + k * 0.05, -70.0, echo=False)
    # Its greeting taught it the room: the microphone hardly hears the kiosk.
    _speak(turns, "hello", now=starts_at - 5.0, duration_s=1.0)
    _mic(turns, starts_at - 5.0, starts_at - 4.0, -75.0)
    turns.stopped_speaking()
    _speak(turns, "some drugs can make you feel like you have the flu", now=starts_at)
    turns.replied(QUESTION, None, command, starts_at)


def _mic(turns: Turns, start: float, end: float, level_db: float) -> list[ContinueQuestion]:
    """Microphone frames from ``start`` to ``end`` while the kiosk speaks; what they decided."""
    decisions = []
    t = start
    while t < end - 1e-9:
        decision = turns.mic_frame(t, level_db, echo=True, stream_time=t - 10.0)
        if decision is not None:
            decisions.append(decision)
        t += 0.05
    return decisions


@pytest.mark.parametrize("resumes_after_s", [0.0, 0.5, 1.4])
def test_going_on_soon_after_the_reply_started_stops_it_at_once(resumes_after_s: float) -> None:
    turns = _turns()
    _replying(turns)
    resumes = 10.0 + resumes_after_s
    assert _mic(turns, 10.0, resumes, -90.0) == []  # the patient pauses; the room is quiet
    decisions: list[ContinueQuestion] = []
    t = resumes
    while not decisions and t < resumes + 1.0:
        decisions = _mic(turns, t, t + 0.05, -20.0)
        t += 0.05
    (going_on,) = decisions
    # Stopped within the hold (plus one frame) of the patient going on.
    assert t - resumes <= CONTINUE_HOLD_S + 0.1
    assert going_on.after_s == pytest.approx(resumes_after_s, abs=0.1)
    # What the patient says from now on is kept when the reply stops.
    assert turns.playback(playing=False, now=t) == PlaybackEnded(keep_heard=True)


def test_going_on_after_the_window_is_not_a_continuation() -> None:
    turns = _turns()
    _replying(turns)
    assert _mic(turns, 10.0, 10.0 + CONTINUE_WINDOW_S + 0.2, -90.0) == []
    assert _mic(turns, 11.7, 13.0, -20.0) == []
    # A new question over the reply is a barge-in (talking over), as before.
    assert turns.talking_over


def test_a_short_noise_does_not_stop_the_reply() -> None:
    turns = _turns()
    _replying(turns)
    assert _mic(turns, 10.3, 10.3 + CONTINUE_HOLD_S - 0.01, -20.0) == []
    assert _mic(turns, 10.4, 11.0, -90.0) == []


def test_a_reply_to_a_command_is_never_held() -> None:
    turns = _turns()
    _replying(turns, command=True)
    assert _mic(turns, 10.2, 10.8, -20.0) == []


def test_the_rest_of_the_question_is_joined_to_it() -> None:
    turns = _turns()
    _replying(turns)
    assert _mic(turns, 10.5, 10.8, -20.0)
    rest = _transcript(("of", 0.4), ("the", 0.6), ("treatment", 1.0))
    joined = turns.join_held(rest, rest)
    assert joined is not None
    question, open_heard = joined
    assert question.text == "what are the side effects of the treatment"
    assert [w.word for w in question.words][-1] == "treatment"
    assert question.words[-1].end == pytest.approx(QUESTION.audio_s + 1.0)
    # The held question's open decoding is unknown (None): the rest's stands alone.
    assert open_heard is rest
    assert turns.join_held(rest, rest) is None  # once only


def test_a_command_after_the_pause_is_not_joined() -> None:
    turns = _turns()
    _replying(turns)
    assert _mic(turns, 10.5, 10.8, -20.0)
    assert turns.join_held(_transcript(("stop", 0.4)), None) is None


def test_a_continuation_that_brings_no_words_gets_the_question_answered() -> None:
    turns = _turns()
    _replying(turns)
    assert len(_mic(turns, 10.5, 10.8, -20.0)) == 1
    stopped_at = 10.5 + CONTINUE_HOLD_S
    turns.playback(playing=False, now=stopped_at)
    assert _heard(turns, "", stream_time=1.0, captured_at=stopped_at + 1.0) == []
    actions = _heard(turns, "", stream_time=3.0, captured_at=stopped_at + CONTINUE_GIVE_UP_S + 0.1)
    assert actions == [AnswerHeld(QUESTION, None)]
    assert turns.join_held(_transcript(("what", 1.0)), None) is None


def test_joined_open_decodings_keep_words_only_when_both_have_them() -> None:
    first = _transcript(("what", 1.0))
    second = _transcript(("effects", 1.0))
    without_words = Transcript("effects", (), 1.0, 0.0)
    assert join_open(first, second) == join_transcripts(first, second)
    partly = join_open(first, without_words)
    assert partly is not None and partly.text == "what effects" and partly.words == ()
    assert join_open(None, second) is second
    assert join_open(first, None) is first
