"""The voice benchmark's pure parts: scoring words, aligning errors, the stress condition."""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_voice as bv


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Ask Dr. Sangal.", ["ask", "doctor", "sangal"]),
        ("A CT scan", ["a", "c", "t", "scan"]),
        ("researchers at UCLA", ["researchers", "at", "u", "c", "l", "a"]),
        ("COVID-19 and flu-like signs", ["covid", "nineteen", "and", "flu", "like", "signs"]),
        ("About 20% of people", ["about", "twenty", "percent", "of", "people"]),
        ("I'm sorry, I don't.", ["i'm", "sorry", "i", "don't"]),
    ],
)
def test_score_words_are_what_a_listener_hears(text: str, words: list[str]) -> None:
    assert bv.score_words(text) == words


def test_a_transcript_scores_in_the_same_form() -> None:
    assert bv.hyp_words("ask dr sangal about covid nineteen") == [
        "ask", "doctor", "sangal", "about", "covid", "nineteen",
    ]  # fmt: skip


def test_word_errors_name_substitutions_deletions_and_insertions() -> None:
    reference = "please ask your care team".split()
    hypothesis = "please ask you care team now".split()
    assert bv.word_errors(reference, hypothesis) == [("your", "you"), ("", "now")]
    assert bv.word_errors(reference, ["please", "team"]) == [
        ("ask", ""), ("your", ""), ("care", ""),
    ]  # fmt: skip
    assert bv.word_errors(reference, reference) == []


def test_word_errors_count_is_the_edit_distance() -> None:
    rng = random.Random(0)
    vocabulary = ["a", "b", "c", "d"]
    for _ in range(300):
        reference = [rng.choice(vocabulary) for _ in range(rng.randrange(8))]
        hypothesis = [rng.choice(vocabulary) for _ in range(rng.randrange(8))]
        errors = bv.word_errors(reference, hypothesis)
        assert len(errors) == bv.edit_distance(reference, hypothesis)
        # Every error names words that are really there (no word invented by the alignment).
        assert not Counter(ref for ref, _ in errors if ref) - Counter(reference)
        assert not Counter(hyp for _, hyp in errors if hyp) - Counter(hypothesis)


def test_counts_add_up_errors_words_and_confusions() -> None:
    counts = bv.Counts()
    counts.add(["a", "b"], ["a", "c"])
    counts.add(["d"], [])
    assert (counts.errors, counts.words) == (2, 3)
    assert counts.wer == pytest.approx(2 / 3)
    assert counts.confusions == {("b", "c"): 1, ("d", ""): 1}
    assert bv.Counts().wer == 0.0


def test_words_per_minute() -> None:
    assert bv.words_per_minute(155, 60.0) == pytest.approx(155)
    assert bv.words_per_minute(10, 0.0) is None


def test_pink_noise_has_unit_rms_and_is_the_same_every_run() -> None:
    noise = bv.pink_noise(22050)
    assert float(np.sqrt(np.mean(noise**2))) == pytest.approx(1.0)
    assert np.array_equal(noise, bv.pink_noise(22050))


def test_low_pass_is_3_db_down_at_cutoff_and_12_db_per_octave_above() -> None:
    rate, n = 22050, 22050
    t = np.arange(n) / rate

    def gain_db(freq: float) -> float:
        tone = np.sin(2 * np.pi * freq * t)
        out = bv.low_pass(tone, rate, 2000.0)
        return float(20 * np.log10(np.std(out) / np.std(tone)))

    assert gain_db(200.0) == pytest.approx(0.0, abs=0.1)
    assert gain_db(2000.0) == pytest.approx(-3.0, abs=0.1)
    assert gain_db(8000.0) - gain_db(4000.0) == pytest.approx(-12.0, abs=0.5)


def test_stress_leaves_silence_alone() -> None:
    silence = np.zeros(1000)
    assert bv.stress(silence, 22050) is silence
