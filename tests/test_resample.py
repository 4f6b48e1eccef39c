"""Tests for the streaming resampler: length, block independence, fidelity and anti-aliasing."""

from __future__ import annotations

import math
import time

import numpy as np
import numpy.typing as npt
import pytest

from voice.audio.resample import Resampler, resample

RATES = [8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000]


def tone(rate: int, freq: float, seconds: float, amplitude: float = 0.5) -> npt.NDArray[np.float64]:
    """A sine tone starting at phase zero."""
    return amplitude * np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)


def level_db(samples: npt.NDArray[np.float32], reference: float) -> float:
    """RMS level relative to a sine of amplitude ``reference``."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20 * math.log10(max(rms, 1e-12) / (reference / math.sqrt(2)))


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("length", [0, 1, 2, 3, 441, 4410, 44101])
def test_output_length_is_ceil_of_scaled_input(rate: int, length: int) -> None:
    out = resample(np.zeros(length), rate, 16000)
    assert out.size == math.ceil(length * 16000 / rate)
    assert out.dtype == np.float32


@pytest.mark.parametrize("rate", RATES)
def test_blocks_of_any_size_give_identical_output(rate: int) -> None:
    rng = np.random.default_rng(rate)
    signal = rng.uniform(-1, 1, int(rate * 1.3)).astype(np.float32)
    whole = resample(signal, rate, 16000)
    resampler = Resampler(rate, 16000)
    parts, start = [], 0
    while start < signal.size:
        # Include empty and single-sample blocks: both occur with live audio.
        size = int(rng.choice([0, 1, 7, 160, 441, 1000, 5000]))
        parts.append(resampler.process(signal[start : start + size]))
        start += size
    parts.append(resampler.flush())
    assert np.array_equal(np.concatenate(parts), whole)


def test_flush_resets_for_a_new_stream() -> None:
    signal = tone(44100, 440, 0.3).astype(np.float32)
    resampler = Resampler(44100, 16000)
    first = np.concatenate((resampler.process(signal), resampler.flush()))
    second = np.concatenate((resampler.process(signal), resampler.flush()))
    assert np.array_equal(first, second)


def test_same_rate_passes_samples_through_unchanged() -> None:
    signal = np.random.default_rng(0).uniform(-1, 1, 1000).astype(np.float32)
    assert np.array_equal(resample(signal, 16000, 16000), signal)


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100, 48000, 96000])
@pytest.mark.parametrize("freq", [440.0, 3000.0])
def test_tone_keeps_its_frequency_phase_and_level(rate: int, freq: float) -> None:
    out = resample(tone(rate, freq, 1.0), rate, 16000)
    # No delay: output n lies at input time n / 16000 s, so it must match the ideal tone itself.
    ideal = tone(16000, freq, 1.0)
    middle = slice(800, -800)  # away from the zero-padded edges
    assert np.max(np.abs(out[middle] - ideal[middle])) < 1e-3
    spectrum = np.abs(np.fft.rfft(out * np.hanning(out.size)))
    peak = np.fft.rfftfreq(out.size, 1 / 16000)[np.argmax(spectrum)]
    assert peak == pytest.approx(freq, abs=1.0)
    assert level_db(out[middle], 0.5) == pytest.approx(0.0, abs=0.01)


@pytest.mark.parametrize("rate", [22050, 44100, 48000])
@pytest.mark.parametrize("freq", [8500.0, 9000.0, 10000.0, 12000.0])
def test_downsampling_removes_tones_above_the_new_nyquist(rate: int, freq: float) -> None:
    # Without the low-pass filter these would fold back to audible 4-7.5 kHz tones.
    out = resample(tone(rate, freq, 0.5), rate, 16000)
    assert level_db(out[800:-800], 0.5) < -80


def test_upsampling_8k_adds_no_images_above_4k() -> None:
    out = resample(tone(8000, 1000, 1.0), 8000, 16000)[800:-800]
    spectrum = np.abs(np.fft.rfft(out * np.hanning(out.size)))
    freqs = np.fft.rfftfreq(out.size, 1 / 16000)
    image = spectrum[freqs > 4200].max() / spectrum.max()
    assert 20 * math.log10(image) < -80
    assert freqs[np.argmax(spectrum)] == pytest.approx(1000, abs=1.0)


def test_constant_signal_stays_constant() -> None:
    out = resample(np.full(44100, 0.25), 44100, 16000)
    assert np.allclose(out[200:-200], 0.25, atol=1e-6)


def test_silence_stays_exactly_silent() -> None:
    assert not np.any(resample(np.zeros(48000), 48000, 16000))


def test_one_minute_of_44k_resamples_quickly() -> None:
    signal = tone(44100, 440, 60.0).astype(np.float32)
    start = time.perf_counter()
    resample(signal, 44100, 16000)
    # Measured about 0.15 s; the wide margin allows for a busy machine but catches a slow path.
    assert time.perf_counter() - start < 3.0


@pytest.mark.parametrize(("rate_in", "rate_out"), [(0, 16000), (16000, 0), (-8000, 16000)])
def test_rejects_non_positive_rates(rate_in: int, rate_out: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        Resampler(rate_in, rate_out)
