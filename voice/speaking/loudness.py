"""One loudness for every line, whatever the engine: gated speech level, gain, peak limiter.

The level is measured like a simplified LUFS meter (no frequency weighting): the mean power of
50 ms blocks, leaving out silence (an absolute gate) and pauses (a gate 10 dB under the first
mean). Normalising that to one target keeps the kiosk's volume steps meaning the same thing in
both voices; the limiter keeps the peaks that gain pushes up below full scale.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

TARGET_DBFS = -20.0  # speech level every line is brought to
CEILING_DBFS = -1.0  # no sample goes above this after limiting
BLOCK_S = 0.05
ABSOLUTE_GATE_DBFS = -60.0
RELATIVE_GATE_DB = -10.0
MAX_GAIN_DB = 30.0  # a nearly silent line is not blown up into noise
_LIMIT_BLOCK_S = 0.002  # the limiter's gain changes over a few milliseconds, not per sample


def speech_level_dbfs(samples: npt.ArrayLike, sample_rate: int) -> float | None:
    """The gated speech level of float samples in dBFS, or None when there is no speech."""
    audio = np.asarray(samples, dtype=np.float64)
    block = max(1, round(BLOCK_S * sample_rate))
    whole = len(audio) // block
    if whole == 0:
        powers = np.array([np.mean(audio**2)]) if len(audio) else np.zeros(0)
    else:
        powers = np.mean(audio[: whole * block].reshape(whole, block) ** 2, axis=1)
    gated = powers[powers > 10 ** (ABSOLUTE_GATE_DBFS / 10)]
    if gated.size == 0:
        return None
    relative = np.mean(gated) * 10 ** (RELATIVE_GATE_DB / 10)
    kept = gated[gated >= relative]
    return float(10 * np.log10(np.mean(kept)))


def limit_peaks(
    samples: FloatArray, sample_rate: int, ceiling_dbfs: float = CEILING_DBFS
) -> FloatArray:
    """Lower the gain around peaks above the ceiling, smoothly, so nothing clips."""
    ceiling = 10 ** (ceiling_dbfs / 20)
    audio = np.asarray(samples, dtype=np.float32)
    if audio.size == 0 or float(np.max(np.abs(audio))) <= ceiling:
        return audio
    block = max(1, round(_LIMIT_BLOCK_S * sample_rate))
    count = -(-len(audio) // block)
    padded = np.zeros(count * block, dtype=np.float32)
    padded[: len(audio)] = np.abs(audio)
    peaks = padded.reshape(count, block).max(axis=1)
    gains = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    # Each block also takes its neighbours' gain (look-ahead and release of one block), then
    # the gain is interpolated between block centres so it never steps.
    spread = np.minimum(gains, np.minimum(np.roll(gains, 1), np.roll(gains, -1)))
    spread[0] = min(gains[0], gains[1] if count > 1 else gains[0])
    spread[-1] = min(gains[-1], gains[-2] if count > 1 else gains[-1])
    centres = (np.arange(count) + 0.5) * block
    envelope = np.interp(np.arange(len(audio)), centres, spread).astype(np.float32)
    limited = audio * envelope
    # Interpolation can leave a sample a hair above the ceiling next to a sharp peak.
    clipped: FloatArray = np.clip(limited, -ceiling, ceiling).astype(np.float32)
    return clipped


def normalise(
    samples: npt.ArrayLike, sample_rate: int, target_dbfs: float = TARGET_DBFS
) -> FloatArray:
    """Bring the speech level to target_dbfs and limit the peaks (silence stays silence)."""
    audio = np.asarray(samples, dtype=np.float32)
    level = speech_level_dbfs(audio, sample_rate)
    if level is None:
        return audio
    gain_db = min(MAX_GAIN_DB, target_dbfs - level)
    scaled = (audio * np.float32(10 ** (gain_db / 20))).astype(np.float32)
    return limit_peaks(scaled, sample_rate)
