"""Streaming sample-rate conversion with an anti-aliasing windowed-sinc filter (numpy only)."""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

# Cut-off as a fraction of the lower Nyquist frequency: 0.9 puts it at 7.2 kHz for 16 kHz output.
DEFAULT_ROLLOFF = 0.9
# Sinc zero crossings kept on each side; with the Kaiser beta below the filter reaches about
# -80 dB by the lower Nyquist frequency (about 6.4-8 kHz transition band for 16 kHz output).
DEFAULT_ZERO_CROSSINGS = 24
DEFAULT_KAISER_BETA = 8.0
# Outputs computed per step (rounded up to whole filter periods). Computing fixed-size groups
# with identical array shapes is what makes block-wise and one-shot results bit-identical.
_GROUP_TARGET = 1600


class Resampler:
    """Stateful rational resampler for one mono stream: ``process`` blocks, then ``flush`` once.

    Output sample ``n`` sits at input time ``n * rate_in / rate_out`` (no delay), so a stream of
    ``k`` input samples gives ``ceil(k * rate_out / rate_in)`` output samples in total. The result
    does not depend on how the input is split into blocks.
    """

    def __init__(
        self,
        rate_in: int,
        rate_out: int,
        *,
        rolloff: float = DEFAULT_ROLLOFF,
        zero_crossings: int = DEFAULT_ZERO_CROSSINGS,
        kaiser_beta: float = DEFAULT_KAISER_BETA,
    ) -> None:
        if rate_in <= 0 or rate_out <= 0:
            raise ValueError(f"sample rates must be positive, got {rate_in} and {rate_out}")
        if not 0.0 < rolloff <= 1.0:
            raise ValueError(f"rolloff must be in (0, 1], got {rolloff}")
        if zero_crossings < 1:
            raise ValueError(f"zero_crossings must be at least 1, got {zero_crossings}")
        self.rate_in = rate_in
        self.rate_out = rate_out
        common = math.gcd(rate_in, rate_out)
        self._up = rate_out // common  # L: output samples per filter period
        self._down = rate_in // common  # M: input samples per filter period
        self._passthrough = self._up == self._down
        table, self._half = _phase_table(self._up, self._down, rolloff, zero_crossings, kaiser_beta)
        # Output m of a period has phase (m * M) mod L; order the rows by m so one group's
        # outputs line up with the table by plain broadcasting.
        self._table = table[(np.arange(self._up) * self._down) % self._up]
        taps = self._table.shape[1]
        periods = max(1, -(-_GROUP_TARGET // self._up))
        self._group = periods * self._up  # G outputs per step
        self._group_in = periods * self._down  # input samples the window advances per step
        # Offset of each output's first tap from the group's input base (constant per group).
        first = (np.arange(self._group, dtype=np.int64) * self._down) // self._up
        self._first_tap = first
        self._group_span = int(first[-1]) + taps  # input samples one group reads
        self._work: FloatArray = np.empty((self._group, taps), dtype=np.float32)
        self.reset()

    def reset(self) -> None:
        """Forget all input and start a new stream."""
        # Zeros stand in for the samples before the stream starts.
        self._buf: FloatArray = np.zeros(self._half, dtype=np.float32)
        self._received = 0  # input samples seen so far
        self._groups_done = 0

    def process(self, samples: npt.ArrayLike) -> FloatArray:
        """Feed one block of mono samples; returns every output sample that is now final."""
        block = np.asarray(samples, dtype=np.float32).reshape(-1)
        if self._passthrough:
            return block.copy()
        self._received += block.size
        self._buf = np.concatenate((self._buf, block))
        return self._drain()

    def flush(self) -> FloatArray:
        """End the stream: returns the remaining output samples and resets for a new stream."""
        if self._passthrough:
            self.reset()
            return np.zeros(0, dtype=np.float32)
        total = -(-self._received * self._up // self._down)
        remaining = total - self._groups_done * self._group
        groups = -(-remaining // self._group)
        # Zeros stand in for the samples after the stream ends.
        needed = (groups - 1) * self._group_in + self._group_span if groups > 0 else 0
        if needed > self._buf.size:
            pad = np.zeros(needed - self._buf.size, dtype=np.float32)
            self._buf = np.concatenate((self._buf, pad))
        parts = [self._compute_group(g * self._group_in) for g in range(groups)]
        out = np.concatenate(parts)[:remaining] if parts else np.zeros(0, dtype=np.float32)
        self.reset()
        return out

    def _drain(self) -> FloatArray:
        """Compute every whole group the buffered input allows and drop input no longer needed."""
        # Only samples actually received count: the tail of the buffer must not be guessed.
        available = self._buf.size
        groups = 0
        if available >= self._group_span:
            groups = (available - self._group_span) // self._group_in + 1
        if groups == 0:
            return np.zeros(0, dtype=np.float32)
        parts = [self._compute_group(g * self._group_in) for g in range(groups)]
        self._buf = self._buf[groups * self._group_in :].copy()
        self._groups_done += groups
        return np.concatenate(parts)

    def _compute_group(self, start: int) -> FloatArray:
        """Compute one group of outputs whose input window starts at buffer index ``start``."""
        taps = self._table.shape[1]
        span = self._buf[start : start + self._group_span]
        windows = np.lib.stride_tricks.sliding_window_view(span, taps)
        # Reusing one work array halves the large allocations (and their page faults) per group.
        self._work[...] = windows[self._first_tap]
        shaped = self._work.reshape(-1, self._up, taps)
        np.multiply(shaped, self._table, out=shaped)
        out: FloatArray = shaped.sum(axis=2, dtype=np.float32)
        return out.reshape(-1)


def resample(samples: npt.ArrayLike, rate_in: int, rate_out: int) -> FloatArray:
    """Resample a whole mono signal in one call."""
    resampler = Resampler(rate_in, rate_out)
    head = resampler.process(samples)
    return np.concatenate((head, resampler.flush()))


@functools.lru_cache(maxsize=8)
def _phase_table(
    up: int, down: int, rolloff: float, zero_crossings: int, beta: float
) -> tuple[FloatArray, int]:
    """Build the polyphase filter: row ``p`` weighs the taps for outputs at phase ``p / up``."""
    if up == down:
        unit = np.ones((1, 1), dtype=np.float32)
        unit.flags.writeable = False
        return unit, 0
    # Cut-off relative to the input rate, below the lower of the two Nyquist frequencies.
    scale = rolloff * min(1.0, up / down)
    radius = zero_crossings / scale  # filter half-length in input samples
    half = math.ceil(radius) + 1
    taps = 2 * half + 1
    # Row p, column j weighs input sample (q - half + j) for an output at input time q + p/up.
    phases = np.arange(up, dtype=np.float64)[:, None] / up
    offsets = np.arange(taps, dtype=np.float64)[None, :] - half
    distance = offsets - phases
    inside = np.abs(distance) <= radius
    ratio = np.where(inside, distance / radius, 0.0)
    window = np.where(inside, np.i0(beta * np.sqrt(1.0 - ratio**2)) / np.i0(beta), 0.0)
    table = scale * np.sinc(scale * distance) * window
    # Unit gain at DC for every phase, so silence and offsets pass through exactly.
    table /= table.sum(axis=1, keepdims=True)
    shared = table.astype(np.float32)
    # Cached, so every Resampler of the same rates shares it: nothing may write to it.
    shared.flags.writeable = False
    return shared, half
