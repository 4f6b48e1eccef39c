"""How loud the speech was above the room's background (pure logic on PCM, no audio I/O).

The speech policy (voice/hearing/policy.py) trusts a shaky hearing less in a noisy room. Word
confidences alone do not say whether the room was noisy: synthetic or unusual voices give weak
words in a quiet room too. This meter gives the speech-to-background level of one utterance: the
level of its loudest frames minus the level of its quietest, over 10 ms frames.

It keeps a histogram of frame levels rather than the frames, so a ten-minute file costs no more
memory than a short question.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from voice.audio.pcm import FrameLevels

# Frame levels in dBFS, in 0.5 dB bins; digital silence counts as the lowest bin.
_LOWEST_DB = -100.0
_BIN_DB = 0.5
_BINS = int(-_LOWEST_DB / _BIN_DB) + 1
# The quietest tenth of the frames is the background, the loudest twentieth the speech.
BACKGROUND_PERCENTILE = 10.0
SPEECH_PERCENTILE = 95.0


class NoiseMeter:
    """Follows the frame levels of one utterance (16 kHz mono 16-bit PCM)."""

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
