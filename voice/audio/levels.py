"""Loudness of audio (pure logic, no audio I/O): frame RMS in dBFS, and speech above background.

Every level in the kiosk is measured here: the microphone chunk level the echo check compares
(``rms_dbfs``), the 10 ms frame levels of the microphone stream (``FrameLevels``, shared by the
speech-activity detector and the noise meter), and the 50 ms levels of the kiosk's own speech
(``frame_power``, used by voice/kiosk/echo.py). Levels are relative to full scale: int16 samples
are divided by 32768, float samples are taken as they are (full scale = 1.0).

The speech policy (voice/hearing/policy.py) trusts a shaky hearing less in a noisy room. Word
confidences alone do not say whether the room was noisy: synthetic or unusual voices give weak
words in a quiet room too. ``NoiseMeter`` gives the speech-to-background level of one utterance:
the level of its loudest 10 ms frames minus the level of its quietest. It keeps a histogram of
frame levels rather than the frames, so a ten-minute file costs no more memory than a short
question.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from voice.audio.format import SAMPLE_RATE
from voice.audio.pcm import pcm16_to_float

Samples = npt.NDArray[np.integer[Any]] | npt.NDArray[np.floating[Any]]

# int16 full scale, as in voice/audio/pcm.py: a full-scale square wave measures 0 dBFS.
_INT16_FULL_SCALE = 32768.0
# Added to each frame's mean square so digital silence reads about -120 dBFS instead of -inf.
_SILENCE_POWER = 1e-12

# Noise meter: frame levels in dBFS, in 0.5 dB bins; digital silence counts as the lowest bin.
_LOWEST_DB = -100.0
_BIN_DB = 0.5
_BINS = int(-_LOWEST_DB / _BIN_DB) + 1
# The quietest tenth of the frames is the background, the loudest twentieth the speech.
BACKGROUND_PERCENTILE = 10.0
SPEECH_PERCENTILE = 95.0


def frame_power(samples: Samples, frame_len: int, gain: float = 1.0) -> npt.NDArray[np.float64]:
    """Mean square (full scale = 1.0) of each ``frame_len`` samples; a short last frame counts."""
    full_scale = _INT16_FULL_SCALE if np.issubdtype(samples.dtype, np.integer) else 1.0
    x = samples.astype(np.float64) * (gain / full_scale)
    whole = len(x) - len(x) % frame_len
    frames = x[:whole].reshape(-1, frame_len)
    power = np.mean(frames * frames, axis=1)
    if whole < len(x):
        tail = x[whole:]
        power = np.append(power, np.mean(tail * tail))
    return np.asarray(power, dtype=np.float64)


def frame_dbfs(samples: Samples, frame_len: int, gain: float = 1.0) -> npt.NDArray[np.float64]:
    """RMS level in dBFS of each frame (as ``frame_power``); digital silence is about -120."""
    return np.asarray(10 * np.log10(frame_power(samples, frame_len, gain) + _SILENCE_POWER))


def rms_dbfs(data: bytes) -> float:
    """Loudness of 16-bit PCM as RMS in dBFS (full-scale square wave = 0, silence = -inf)."""
    samples = pcm16_to_float(data)
    if samples.size == 0:
        return -math.inf
    mean_square = float(frame_power(samples, samples.size)[0])
    if mean_square == 0.0:
        return -math.inf
    return 10.0 * math.log10(mean_square)


class FrameLevels:
    """Cuts a stream of 16-bit PCM into 10 ms frames and gives each frame's level in dBFS.

    Samples short of a whole frame wait for the next chunk, so the frames do not depend on how
    the stream was chunked. Digital silence is about -120 dBFS (not -inf).
    """

    FRAME_S = 0.01

    def __init__(self, sample_rate: int = SAMPLE_RATE) -> None:
        self._frame = round(sample_rate * self.FRAME_S)
        self._carry = np.zeros(0, dtype=np.float32)

    def reset(self) -> None:
        """Forget the samples waiting for a whole frame."""
        self._carry = np.zeros(0, dtype=np.float32)

    def feed(self, data: bytes) -> npt.NDArray[np.float64]:
        """Take the next chunk; return the levels of the whole frames it completes."""
        fresh = pcm16_to_float(data[: len(data) - len(data) % 2])
        samples = np.concatenate([self._carry, fresh])
        whole = len(samples) - len(samples) % self._frame
        self._carry = samples[whole:]
        return frame_dbfs(samples[:whole], self._frame)


class NoiseMeter:
    """Follows the 10 ms frame levels of one utterance (16 kHz mono 16-bit PCM)."""

    def __init__(self) -> None:
        self._counts = np.zeros(_BINS, dtype=np.int64)
        self._frames = FrameLevels()

    def reset(self) -> None:
        """Start a new utterance."""
        self._counts[:] = 0
        self._frames.reset()

    def feed(self, pcm: bytes) -> None:
        """Take the next chunk; samples short of a whole frame wait for the next one."""
        self.add(self._frames.feed(pcm))

    def add(self, levels: npt.NDArray[np.float64]) -> None:
        """Take 10 ms frame levels (dBFS) already measured, e.g. by SpeechActivity.feed."""
        bins = np.clip(((levels - _LOWEST_DB) / _BIN_DB).astype(np.int64), 0, _BINS - 1)
        self._counts += np.bincount(bins, minlength=_BINS)

    @property
    def frames(self) -> int:
        """How many whole frames have been measured."""
        return int(self._counts.sum())

    def speech_to_background_db(self) -> float | None:
        """Level of the loudest frames above the quietest, in dB (None before 0.5 s of audio)."""
        if self.frames < 50:
            return None
        speech = self._percentile_db(SPEECH_PERCENTILE)
        background = self._percentile_db(BACKGROUND_PERCENTILE)
        return speech - background

    def _percentile_db(self, percentile: float) -> float:
        cumulative = np.cumsum(self._counts)
        rank = percentile / 100 * (cumulative[-1] - 1)
        index = int(np.searchsorted(cumulative, rank, side="right"))
        return _LOWEST_DB + index * _BIN_DB
