"""Tests for the kiosk's turn-taking: echo, barge-in and the end of an utterance (no audio)."""

from __future__ import annotations

import pytest

from voice.audio.speech_activity import SoundRun
from voice.hearing.transcript import Transcript, WordConfidence
from voice.kiosk.endpoint import EndpointSettings
from voice.kiosk.turns import (
    ECHO_TAIL_S,
    IDLE_AUDIO_S,
    BargeIn,
    PlaybackEnded,
    ResetDecoder,
    SpeechStart,
    TurnAction,
    Turns,
    UtteranceEnded,
)
from voice.matching.commands import Command
from voice.matching.result import Action, MatchResult

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
    return Turns(_match, _classify, ENDPOINT)


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
    (barge,) = _heard(turns, "rate stop", stream_time=1.5, echo=True)
    assert isinstance(barge, BargeIn)
    assert barge.command is Command.STOP and barge.stops
    assert barge.words == ("stop",)
    # The kiosk stopped talking: its words are no longer its echo.
    assert not turns.speaking.words


def test_top_over_the_kiosk_is_stop() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high")
    (barge,) = _heard(turns, "top", stream_time=1.5, echo=True)
    assert isinstance(barge, BargeIn) and barge.command is Command.STOP


def test_a_non_stop_command_barges_in_but_lets_the_utterance_go_on() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high")
    (barge,) = _heard(turns, "repeat", stream_time=1.5, echo=True)
    assert isinstance(barge, BargeIn) and barge.command is Command.REPEAT and not barge.stops


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
    _heard(turns, "repeat", stream_time=1.5, echo=True)
    assert turns.playback(playing=False, now=12.0) == PlaybackEnded(keep_heard=True)
    _speak(turns, "our success rate is high")
    assert turns.playback(playing=False, now=20.0) == PlaybackEnded(keep_heard=False)


def test_nothing_ends_when_nothing_was_said() -> None:
    assert _turns().playback(playing=False, now=1.0) is None


def test_a_finished_utterance_after_a_barge_in_drops_the_echo() -> None:
    turns = _turns()
    _speak(turns, "our success rate is high")
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


def test_finishing_forgets_the_utterance() -> None:
    turns = _turns()
    _heard(turns, "what is", stream_time=1.0, in_speech=True)
    turns.finished(_transcript(("what", 1.0)), None)
    assert _heard(turns, "what", stream_time=2.0, in_speech=True) == [SpeechStart()]
    turns.forget_utterance()
    assert _heard(turns, "what", stream_time=2.0, in_speech=True) == [SpeechStart()]
