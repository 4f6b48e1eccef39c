"""The real voices: hibari "heart" and espeak-ng render audible, level, well-paced speech."""

from __future__ import annotations

import numpy as np
import pytest

from voice.speaking.engine import SpeechEngine, Voice, open_engine
from voice.speaking.loudness import TARGET_DBFS, speech_level_dbfs
from voice.speaking.natural import NaturalEngine
from voice.speaking.prerender import OUTPUT_RATE, PreparedSpeech

SENTENCE = "Immunotherapy helps your immune system find and attack cancer cells."


@pytest.fixture(scope="module", params=[Voice.NATURAL, Voice.ESPEAK])
def engine(request: pytest.FixtureRequest) -> SpeechEngine:
    voice: Voice = request.param
    chosen = open_engine(voice)
    assert chosen.voice is voice, f"the {voice.value} voice did not load"
    return chosen


def test_a_sentence_is_audible_normalised_and_not_clipped(engine: SpeechEngine) -> None:
    audio = PreparedSpeech(engine, cache_dir=None).synthesize(SENTENCE, 155)
    assert audio.sample_rate == OUTPUT_RATE
    samples = audio.samples.astype(np.float64) / 32768.0
    level = speech_level_dbfs(samples, OUTPUT_RATE)
    assert level == pytest.approx(TARGET_DBFS, abs=0.5)
    assert np.max(np.abs(samples)) < 0.95
    # Mostly sound, not silence: a tenth-second block above -40 dBFS in most of the line.
    block = OUTPUT_RATE // 10
    blocks = samples[: len(samples) // block * block].reshape(-1, block)
    loud = np.mean(blocks**2, axis=1) > 1e-4
    assert loud.mean() > 0.6


def test_the_pace_is_near_the_asked_rate(engine: SpeechEngine) -> None:
    audio = PreparedSpeech(engine, cache_dir=None).synthesize(SENTENCE, 155)
    wpm = len(SENTENCE.split()) * 60 / audio.duration_s
    # One short sentence with its trailing pause: a wide band around 155.
    assert 110 < wpm < 200


def test_slower_and_faster_change_the_length(engine: SpeechEngine) -> None:
    speech = PreparedSpeech(engine, cache_dir=None)
    slow = speech.synthesize(SENTENCE, 115).duration_s
    default = speech.synthesize(SENTENCE, 155).duration_s
    fast = speech.synthesize(SENTENCE, 195).duration_s
    assert slow > default * 1.15
    assert fast < default * 0.9


def test_the_natural_voice_is_repeatable() -> None:
    engine = NaturalEngine()
    first = engine.render(SENTENCE, 155)
    assert np.array_equal(first, engine.render(SENTENCE, 155))
    # Its leading silence is trimmed, so the first sound comes within 50 ms.
    onset = int(np.flatnonzero(np.abs(first) > 10 ** (-50 / 20))[0])
    assert onset / engine.sample_rate < 0.05


def test_both_voices_have_the_same_level() -> None:
    levels = []
    for voice in (Voice.NATURAL, Voice.ESPEAK):
        audio = PreparedSpeech(open_engine(voice), cache_dir=None).text(SENTENCE, 155)
        level = speech_level_dbfs(audio.samples / 32768.0, OUTPUT_RATE)
        assert level is not None
        levels.append(level)
    assert abs(levels[0] - levels[1]) < 1.0
