"""Pure helpers for 16-bit little-endian PCM: conversion to and from float (loudness: levels.py)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

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
