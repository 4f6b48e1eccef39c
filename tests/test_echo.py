"""Tests for telling the patient's voice from the kiosk's own echo (pure logic)."""

from __future__ import annotations

import numpy as np
import pytest

from voice.hearing.transcript import Transcript, WordConfidence
from voice.kiosk.echo import (
    FRAME_S,
    SILENT_DB,
    DoubleTalkDetector,
    EchoReference,
    frame_levels,
    open_without_echo,
    without_echo,
)


def test_frame_levels_of_a_full_scale_square_wave_are_zero_db() -> None:
    samples = np.tile(np.array([32767, -32767], dtype=np.int16), 16000)
    levels = frame_levels(samples, 16000, gain=1.0)
    assert len(levels) == round(len(samples) / (16000 * FRAME_S))
    assert levels[0] == pytest.approx(0.0, abs=0.01)


def test_frame_levels_apply_the_playback_gain_and_floor_silence() -> None:
    tone = (np.sin(np.arange(1600) * 0.3) * 16000).astype(np.int16)
    loud, quiet = frame_levels(tone, 16000, 1.0)[0], frame_levels(tone, 16000, 0.5)[0]
    assert loud - quiet == pytest.approx(6.02, abs=0.05)
    assert frame_levels(np.zeros(800, dtype=np.int16), 16000, 1.0) == [SILENT_DB]


def test_reference_level_near_looks_back_over_the_echo_window() -> None:
    ref = EchoReference()
    ref.add(10.0, [-20.0, -30.0, -40.0])  # frames at 10.00, 10.05, 10.10
    assert ref.level_near(10.1, before_s=0.2) == -20.0
    assert ref.level_near(10.12, before_s=0.05) == -40.0
    assert ref.level_near(5.0) == SILENT_DB
    ref.clear()
    assert ref.level_near(10.1) == SILENT_DB


def _learn(det: DoubleTalkDetector, gain_db: float, frames: int = 40) -> None:
    for k in range(frames):
        det.frame(k * FRAME_S, -20.0 + gain_db, -20.0)


def test_echo_alone_is_never_double_talk() -> None:
    det = DoubleTalkDetector()
    # The echo is as loud as the kiosk (a speaker right next to the microphone).
    results = [det.frame(k * FRAME_S, -20.0, -20.0) for k in range(100)]
    assert not any(results)
    assert det.echo_gain_db == pytest.approx(0.0)


def test_a_loud_voice_over_a_weak_echo_is_double_talk_after_the_hold_time() -> None:
    det = DoubleTalkDetector()
    _learn(det, gain_db=-20.0)
    assert det.echo_gain_db == pytest.approx(-20.0)
    t0 = 10.0
    flags = [det.frame(t0 + k * FRAME_S, -25.0, -20.0) for k in range(12)]
    first = flags.index(True)
    assert first * FRAME_S >= det.hold_s - 1e-9
    assert not any(flags[:first])


def test_the_echo_is_never_assumed_quieter_than_the_floor() -> None:
    det = DoubleTalkDetector()
    _learn(det, gain_db=-50.0)  # behind an echo canceller that has converged
    assert det.echo_gain_db == det.min_gain_db == -25.0
    # What the canceller leaves for a moment when the kiosk starts a sentence (-30 dB) is
    # not the patient; the patient's voice over the kiosk (+5 dB) is.
    assert not any(det.frame(10 + k * FRAME_S, -50.0, -20.0) for k in range(12))
    assert not det.louder_than_echo_within(10.6, 1.0)
    assert any(det.frame(11 + k * FRAME_S, -15.0, -20.0) for k in range(12))
    assert det.louder_than_echo_within(11.6, 1.0)
    assert not det.louder_than_echo_within(13.0, 1.0)


def test_a_short_noise_burst_is_not_double_talk() -> None:
    det = DoubleTalkDetector()
    _learn(det, gain_db=-30.0)
    flags = [det.frame(5 + k * FRAME_S, -10.0, -20.0) for k in range(3)]  # 150 ms
    flags += [det.frame(5.2 + k * FRAME_S, -50.0, -20.0) for k in range(10)]
    assert not any(flags)


def test_until_learned_the_echo_is_assumed_as_loud_as_the_kiosk() -> None:
    det = DoubleTalkDetector()
    assert det.echo_gain_db == det.initial_gain_db == 0.0
    # A voice 5 dB over the kiosk's own level is not yet taken for a patient.
    assert not any(det.frame(k * FRAME_S, -15.0, -20.0) for k in range(5))


def test_the_room_noise_floor_keeps_quiet_frames_from_counting() -> None:
    det = DoubleTalkDetector()
    for _ in range(50):
        det.listen_frame(-50.0)
    assert det.noise_floor_db == pytest.approx(-50.0)
    _learn(det, gain_db=-60.0)  # no echo path at all
    # While the kiosk is silent between sentences, room noise is not a patient.
    assert not any(det.frame(20 + k * FRAME_S, -45.0, SILENT_DB) for k in range(20))
    assert any(det.frame(30 + k * FRAME_S, -30.0, SILENT_DB) for k in range(20))


# -- dropping the kiosk's own words after a barge-in ------------------------------------------


def _transcript(*timed: tuple[str, float]) -> Transcript:
    words = tuple(WordConfidence(w, 1.0, end - 0.2, end) for w, end in timed)
    return Transcript(" ".join(w for w, _ in timed), words, 5.0, 0.0)


def test_echo_words_before_the_barge_in_are_dropped_the_patients_kept() -> None:
    heard = _transcript(("flu", 0.5), ("like", 0.8), ("what", 2.2), ("flu", 2.6))
    kept = without_echo(heard, until_s=1.0, echo_words={"flu", "like", "symptoms"})
    assert kept.text == "what flu"  # the second "flu" came after the barge-in
    assert [w.word for w in kept.words] == ["what", "flu"]
    assert without_echo(heard, until_s=1.0, echo_words={"nothing"}) is heard


def test_the_open_hypothesis_loses_every_echo_word() -> None:
    # No word times: the kiosk's words go wherever they are, so its own answer ("flu",
    # "chemotherapy") cannot count as the patient naming another subject.
    open_text = Transcript("flu like what is the success rate", (), 3.0, 0.0)
    kept = open_without_echo(open_text, {"flu", "like"})
    assert kept is not None and kept.text == "what is the success rate"
    assert open_without_echo(None, {"flu"}) is None
