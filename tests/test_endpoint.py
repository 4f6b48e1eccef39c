"""Tests for deciding when a patient has finished speaking (pure logic)."""

from __future__ import annotations

import pytest

from voice.audio.speech_activity import SoundRun
from voice.kiosk.endpoint import EndpointSettings, EndpointState, assess, looks_unfinished

DEFAULT = EndpointSettings()
# Past the clear-question wait, short of the unclear one, whatever the two defaults are.
BETWEEN_CLEAR_AND_UNCLEAR_S = (DEFAULT.complete_silence_s + DEFAULT.unclear_silence_s) / 2


def _assess(
    text: str,
    silence_s: float,
    *,
    complete: bool = True,
    is_command: bool = False,
    segment_end_s: float = 2.0,
    first_word_s: float | None = 0.5,
    settings: EndpointSettings = DEFAULT,
) -> EndpointState:
    """Assess a hypothesis whose last finished segment ended ``silence_s`` seconds before now."""
    return assess(
        text=text,
        stream_time_s=segment_end_s + silence_s,
        segment_end_s=segment_end_s,
        first_word_s=first_word_s,
        complete=complete,
        is_command=is_command,
        settings=settings,
    )


def test_default_settings_wait_longer_for_unfinished_sentences() -> None:
    assert (
        0.7 < DEFAULT.complete_silence_s < DEFAULT.unclear_silence_s < DEFAULT.incomplete_silence_s
    )
    assert DEFAULT.max_utterance_s >= 15.0


@pytest.mark.parametrize("text", ["", "   ", "\n"])
def test_no_words_never_ends(text: str) -> None:
    state = _assess(text, 10.0)
    assert not state.ended
    assert state.silence_s == 0.0


def test_no_words_never_ends_even_past_the_cap() -> None:
    state = assess(
        text="",
        stream_time_s=60.0,
        segment_end_s=None,
        first_word_s=0.5,
        complete=False,
        settings=DEFAULT,
    )
    assert not state.ended


def test_still_talking_does_not_end() -> None:
    # segment_end_s None: the recognizer has not closed a segment since the patient spoke.
    state = assess(
        text="how long",
        stream_time_s=10.0,
        segment_end_s=None,
        first_word_s=0.5,
        complete=True,
        settings=DEFAULT,
    )
    assert not state.ended
    assert state.silence_s == 0.0


def test_complete_hypothesis_ends_after_the_short_silence_not_before() -> None:
    text = "how long will i have to stay on immunotherapy"
    before = _assess(text, DEFAULT.complete_silence_s - 0.05)
    assert before.needed_s == DEFAULT.complete_silence_s
    assert not before.ended
    # A hair over the threshold: float subtraction of stream times is not exact.
    at = _assess(text, DEFAULT.complete_silence_s + 0.001)
    assert at.ended
    after = _assess(text, DEFAULT.complete_silence_s + 0.3)
    assert after.ended
    assert after.silence_s == pytest.approx(DEFAULT.complete_silence_s + 0.3)


@pytest.mark.parametrize(
    ("text", "complete", "unfinished"),
    [
        # a clear question that ends on a word that usually needs more
        ("will it hurt where they put the medicine in", True, True),
        # not a clear question yet, but it ends on a whole word
        ("my granddaughter said something about spreading", False, False),
    ],
)
def test_these_wait_the_unclear_silence(text: str, complete: bool, unfinished: bool) -> None:
    assert looks_unfinished(text) is unfinished
    short = _assess(text, BETWEEN_CLEAR_AND_UNCLEAR_S, complete=complete)
    assert short.needed_s == DEFAULT.unclear_silence_s
    assert not short.ended
    assert not _assess(text, DEFAULT.unclear_silence_s - 0.05, complete=complete).ended
    assert _assess(text, DEFAULT.unclear_silence_s + 0.001, complete=complete).ended


def test_not_complete_on_a_word_that_needs_more_needs_the_long_silence() -> None:
    text = "will this treatment make me um"
    assert looks_unfinished(text)
    state = _assess(text, DEFAULT.unclear_silence_s + 0.1, complete=False)
    assert state.needed_s == DEFAULT.incomplete_silence_s
    assert not state.ended


def test_is_command_without_complete_is_no_clear_command() -> None:
    # The caller sets both for a command; is_command alone is no confident decision.
    state = _assess(
        "say it again", BETWEEN_CLEAR_AND_UNCLEAR_S, complete=False, is_command=True
    )
    assert state.needed_s == DEFAULT.unclear_silence_s
    assert not state.ended


def test_a_complete_question_ending_in_a_continuation_word_still_waits() -> None:
    # Only commands get the short silence whatever their last word; a question does not.
    state = _assess("what is it that", BETWEEN_CLEAR_AND_UNCLEAR_S, complete=True)
    assert state.needed_s == DEFAULT.unclear_silence_s
    assert not state.ended


def test_only_an_unclear_hypothesis_on_a_word_that_needs_more_gets_the_longest_silence() -> None:
    needed = {
        (text, complete): _assess(text, 0.0, complete=complete).needed_s
        for text in ("how long do the", "how long do i stay on it")
        for complete in (True, False)
    }
    assert needed == {
        ("how long do the", True): DEFAULT.unclear_silence_s,
        ("how long do the", False): DEFAULT.incomplete_silence_s,
        ("how long do i stay on it", True): DEFAULT.complete_silence_s,
        ("how long do i stay on it", False): DEFAULT.unclear_silence_s,
    }


@pytest.mark.parametrize(
    ("text", "complete", "is_command"),
    [
        ("can cancer spread", True, False),  # a whole question by itself: the worst case
        ("can cancer spread", False, False),
        ("will this treatment", False, False),
        ("how long do the", True, False),
        ("stop", True, True),
        ("repeat that", True, True),
    ],
)
def test_a_700_ms_pause_never_ends_an_utterance_with_default_settings(
    text: str, complete: bool, is_command: bool
) -> None:
    # Older speakers pause ~700 ms inside a question; splitting there loses the question.
    state = _assess(text, 0.7, complete=complete, is_command=is_command)
    assert state.silence_s == pytest.approx(0.7)
    assert not state.ended


def test_max_utterance_caps_a_long_ramble() -> None:
    settings = EndpointSettings(max_utterance_s=5.0)
    # Still talking (no finished segment) but beyond the cap since the first word.
    state = assess(
        text="and then the doctor said and",
        stream_time_s=6.0,
        segment_end_s=None,
        first_word_s=0.5,
        complete=False,
        settings=settings,
    )
    assert state.silence_s == 0.0
    assert state.ended
    under = assess(
        text="and then the doctor said and",
        stream_time_s=5.4,
        segment_end_s=None,
        first_word_s=0.5,
        complete=False,
        settings=settings,
    )
    assert not under.ended
    # A finished segment with little silence after it is capped too.
    paused = assess(
        text="and then the doctor said and",
        stream_time_s=6.0,
        segment_end_s=5.9,
        first_word_s=0.5,
        complete=False,
        settings=settings,
    )
    assert paused.ended


def test_max_utterance_needs_a_first_word_time() -> None:
    settings = EndpointSettings(max_utterance_s=5.0)
    state = assess(
        text="and then",
        stream_time_s=60.0,
        segment_end_s=None,
        first_word_s=None,
        complete=False,
        settings=settings,
    )
    assert not state.ended


def test_silence_never_negative_when_segment_end_is_ahead_of_stream_time() -> None:
    state = assess(
        text="hello",
        stream_time_s=1.0,
        segment_end_s=1.2,
        first_word_s=0.8,
        complete=True,
        settings=DEFAULT,
    )
    assert state.silence_s == 0.0
    assert not state.ended


def test_custom_settings_are_used() -> None:
    settings = EndpointSettings(
        complete_silence_s=0.3, unclear_silence_s=0.4, incomplete_silence_s=0.5
    )
    assert _assess("is it safe", 0.301, settings=settings).ended
    assert not _assess("is it safe to", 0.35, settings=settings).ended
    assert _assess("is it safe to", 0.401, settings=settings).ended
    assert not _assess("is it safe to", 0.45, complete=False, settings=settings).ended
    assert _assess("is it safe to", 0.501, complete=False, settings=settings).ended


@pytest.mark.parametrize(
    ("text", "unfinished"),
    [
        ("", True),
        ("[unk]", True),
        ("how long do the", True),
        ("can i take it with my", True),
        ("what about", True),
        ("is it safe and", True),
        ("um", True),
        ("how long do the [unk]", True),  # "[unk]" is no word: "the" is still last
        ("can immunotherapy make cancer worse", False),
        ("stop", False),
        ("how long will i have to stay on immunotherapy", False),
        ("what is pseudo progression [unk]", False),
    ],
)
def test_looks_unfinished(text: str, unfinished: bool) -> None:
    assert looks_unfinished(text) is unfinished


def test_every_command_phrase_ends_after_the_short_silence() -> None:
    from voice.matching.commands import command_phrases
    from voice.text.language import english

    COMMAND_PHRASES = command_phrases(english())

    phrases = [phrase for group in COMMAND_PHRASES.values() for phrase in group]
    # The point of the rule: some commands end in a continuation word.
    assert any(looks_unfinished(phrase) for phrase in phrases)
    slow = [
        phrase
        for phrase in phrases
        if not _assess(phrase, DEFAULT.complete_silence_s + 0.05, is_command=True).ended
    ]
    assert slow == []
    early = [
        phrase
        for phrase in phrases
        if _assess(phrase, DEFAULT.complete_silence_s - 0.05, is_command=True).ended
    ]
    assert early == []


# -- sound that comes back after the last word ---------------------------------------------


def _assess_with_sound(silence_s: float, runs: list[tuple[float, float]]) -> EndpointState:
    segment_end = 2.0
    return assess(
        text="can cancer spread",
        stream_time_s=segment_end + silence_s,
        segment_end_s=segment_end,
        first_word_s=0.5,
        complete=True,
        sound=[SoundRun(segment_end + a, segment_end + b) for a, b in runs],
        settings=DEFAULT,
    )


def test_sound_after_a_pause_postpones_the_end_until_the_words_catch_up() -> None:
    # "can cancer spread" … 700 ms … "during immunotherapy": the recogniser has not shown
    # "during" yet, but the microphone hears it.
    assert _assess_with_sound(0.85, []).ended
    state = _assess_with_sound(0.85, [(0.7, 0.85)])
    assert not state.ended
    assert state.silence_s == pytest.approx(0.0)


def test_the_tail_of_the_last_word_is_not_a_resumed_question() -> None:
    # Loud frames right after the recogniser's word end are that word's last sound.
    assert _assess_with_sound(0.85, [(0.05, 0.12)]).ended


def test_sound_the_recogniser_never_turns_into_words_stops_counting() -> None:
    # A cough 0.2 s after the question: it holds the end back for resume_hold_s at most.
    assert not _assess_with_sound(0.9, [(0.2, 0.35)]).ended
    assert _assess_with_sound(0.2 + DEFAULT.resume_hold_s + 0.01, [(0.2, 0.35)]).ended


def test_ongoing_noise_cannot_hold_the_end_back_for_long() -> None:
    # Babble bursts every 300 ms: only the first burst's confirm window counts.
    bursts = [(0.2 + 0.3 * i, 0.3 + 0.3 * i) for i in range(10)]
    stream = 0.2 + DEFAULT.resume_hold_s + 0.01
    assert _assess_with_sound(stream, [b for b in bursts if b[0] < stream]).ended


def test_silence_after_resumed_sound_counts_from_its_end() -> None:
    state = _assess_with_sound(0.9, [(0.3, 0.5)])
    assert state.silence_s == pytest.approx(0.4)
    assert not state.ended
