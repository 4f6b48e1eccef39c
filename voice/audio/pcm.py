"""Pure helpers for 16-bit little-endian PCM: conversion to and from float, and loudness."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from voice.audio.format import SAMPLE_RATE
from voice.errors import AudioError

# int16 full scale; dividing by 32768 (not 32767) makes int16 -> float -> int16 exact.
_FULL_SCALE = 32768.0
_PCM16 = np.dtype("<i2")


def pcm16_to_float(data: bytes) -> npt.NDArray[np.float32]:
    """Decode 16-bit little-endian PCM bytes into float32 samples in [-1.0, 1.0)."""
    if len(data) % 2:
        raise AudioError(
            f"The audio data has an odd number of bytes ({len(data)}), so it is not 16-bit PCM. "
            "Pass whole 2-byte samples."
        )
    ints = np.frombuffer(data, dtype=_PCM16)
    return (ints.astype(np.float32) / np.float32(_FULL_SCALE)).astype(np.float32)


def float_to_int16(samples: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """Convert float samples (full scale = 1.0) to int16, rounding and clipping."""
    scaled = np.asarray(samples, dtype=np.float64) * _FULL_SCALE
    # Clipping (rather than wrapping) keeps an over-loud recording recognisable.
    return np.clip(np.rint(scaled), -32768, 32767).astype(np.int16)


def float_to_pcm16(samples: npt.ArrayLike) -> bytes:
    """Convert float samples (full scale = 1.0) to 16-bit little-endian PCM bytes."""
    return float_to_int16(samples).astype(_PCM16, copy=False).tobytes()


def rms_dbfs(data: bytes) -> float:
    """Loudness of 16-bit PCM as RMS in dBFS (full-scale square wave = 0, silence = -inf)."""
    samples = pcm16_to_float(data)
    if samples.size == 0:
        return -math.inf
    mean_square = float(np.mean(np.square(samples, dtype=np.float64)))
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
        self._carry = np.zeros(0, dtype=np.float64)

    def reset(self) -> None:
        """Forget the samples waiting for a whole frame."""
        self._carry = np.zeros(0, dtype=np.float64)

    def feed(self, data: bytes) -> npt.NDArray[np.float64]:
        """Take the next chunk; return the levels of the whole frames it completes."""
        fresh = np.frombuffer(data[: len(data) - len(data) % 2], dtype=_PCM16).astype(np.float64)
        samples = np.concatenate([self._carry, fresh])
        n = len(samples) // self._frame
        self._carry = samples[n * self._frame :]
        frames = samples[: n * self._frame].reshape(n, self._frame) / _FULL_SCALE
        return np.asarray(10 * np.log10(np.mean(frames * frames, axis=1) + 1e-12))
