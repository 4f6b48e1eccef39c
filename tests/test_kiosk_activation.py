"""Tests for the activation modes: always listening, wake phrase, push-to-talk (no audio)."""

from __future__ import annotations

import pytest

from voice.hearing.transcript import Transcript, WordConfidence
from voice.kiosk.activation import (
    IGNORE,
    ActivationMode,
    AlwaysListening,
    PushToTalk,
    UtteranceDecision,
    WakePhrase,
    activation_mode,
)
from voice.kiosk.settings import Activation


def _said(text: str) -> Transcript:
    words = tuple(
        WordConfidence(w, 0.9, 0.5 * i, 0.5 * i + 0.4) for i, w in enumerate(text.split())
    )
    return Transcript(text, words, 3.0, 10.0)


@pytest.mark.parametrize(
    ("activation", "kind"),
    [
        (Activation.ALWAYS, AlwaysListening),
        (Activation.WAKE, WakePhrase),
        (Activation.PUSH_TO_TALK, PushToTalk),
    ],
)
def test_each_setting_has_its_mode(activation: Activation, kind: type) -> None:
    assert isinstance(activation_mode(activation, "hello kiosk"), kind)


def test_always_listening_hears_every_utterance() -> None:
    mode: ActivationMode = AlwaysListening()
    heard = _said("what is the success rate")
    assert mode.awake
    assert mode.utterance(heard) == UtteranceDecision(question=heard)
    mode.answered()
    mode.session_ended()
    assert mode.awake
    assert mode.decoder_phrases(("a", "b")) == ("a", "b")


def test_asleep_the_wake_mode_ignores_talk() -> None:
    mode = WakePhrase("hello kiosk")
    assert not mode.awake
    assert mode.utterance(_said("what is the success rate")) == IGNORE
    assert not mode.awake


def test_the_wake_phrase_alone_wakes_with_a_cue() -> None:
    mode = WakePhrase("Hello, Kiosk!")
    decision = mode.utterance(_said("um hello kiosk"))
    assert decision == UtteranceDecision(question=None, woke=True, cue=True)
    assert mode.awake
    # Awake: the next utterance is a question as it is.
    follow_up = _said("what is the success rate")
    assert mode.utterance(follow_up) == UtteranceDecision(question=follow_up)


def test_a_question_after_the_wake_phrase_is_answered_at_once() -> None:
    mode = WakePhrase("hello kiosk")
    decision = mode.utterance(_said("hello [unk] kiosk what is the success rate"))
    assert decision.woke and not decision.cue
    assert decision.question is not None
    assert decision.question.text == "what is the success rate"
    assert [w.word for w in decision.question.words] == "what is the success rate".split()


def test_the_wake_phrase_must_be_said_in_order() -> None:
    assert WakePhrase("hello kiosk").utterance(_said("kiosk hello")) == IGNORE


def test_the_wake_mode_sleeps_when_the_session_ends() -> None:
    mode = WakePhrase("hello kiosk")
    mode.utterance(_said("hello kiosk"))
    mode.answered()
    assert mode.awake  # follow-up questions need no wake phrase
    mode.session_ended()
    assert not mode.awake


def test_push_to_talk_wakes_the_wake_mode_too() -> None:
    mode = WakePhrase("hello kiosk")
    mode.push_to_talk()
    heard = _said("what is the success rate")
    assert mode.utterance(heard) == UtteranceDecision(question=heard)


def test_the_decoder_must_know_the_wake_phrase() -> None:
    mode = WakePhrase("Hello, Kiosk 2")
    assert mode.decoder_phrases(("repeat", "stop")) == ("hello kiosk two", "repeat", "stop")
    assert mode.decoder_phrases(None) is None


def test_push_to_talk_hears_one_question_per_key_press() -> None:
    mode = PushToTalk()
    heard = _said("what is the success rate")
    assert not mode.awake
    assert mode.utterance(heard) == IGNORE
    mode.push_to_talk()
    assert mode.utterance(heard) == UtteranceDecision(question=heard)
    mode.answered()
    assert not mode.awake
    assert mode.utterance(heard) == IGNORE


def test_push_to_talk_ignores_the_session() -> None:
    mode = PushToTalk()
    mode.push_to_talk()
    mode.session_ended()
    assert mode.awake
