"""Telling the patient's voice from the kiosk's own echo while it speaks (pure logic).

There is no acoustic echo canceller here, but the kiosk knows exactly what it is playing and
when. Its microphone hears that played audio back through the room at some level relative to
the reference (the echo gain), learned while the kiosk talks. When the microphone is clearly
louder than the echo of what is being played, someone else is talking ("double talk").
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voice.audio.levels import frame_power
from voice.hearing.transcript import Transcript

FRAME_S = 0.05
SILENT_DB = -90.0


def frame_levels(samples: npt.NDArray[np.int16], rate: int, gain: float) -> list[float]:
    """RMS level (dBFS) of each 50 ms frame of int16 audio played at ``gain``."""
    rms = np.sqrt(frame_power(samples, max(1, int(rate * FRAME_S)), gain))
    return [20 * math.log10(r) if r > 1e-9 else SILENT_DB for r in rms.tolist()]


class EchoReference:
    """The level of what the kiosk is playing, frame by frame, on the monotonic clock."""

    def __init__(self, keep_s: float = 120.0) -> None:
        self._frames: deque[tuple[float, float]] = deque(maxlen=int(keep_s / FRAME_S))

    def add(self, start: float, levels: list[float]) -> None:
        """Audio whose first frame reaches the speaker at monotonic time ``start``."""
        for k, level in enumerate(levels):
            self._frames.append((start + k * FRAME_S, level))

    def level_near(self, t: float, before_s: float = 0.25) -> float:
        """The loudest reference frame that can be echoing at the microphone at time ``t``."""
        best = SILENT_DB
        for frame_t, level in reversed(self._frames):
            if frame_t > t + FRAME_S:
                continue
            if frame_t < t - before_s:
                break
            best = max(best, level)
        return best

    def clear(self) -> None:
        """Forget everything (the kiosk stopped speaking)."""
        self._frames.clear()


@dataclass
class DoubleTalkDetector:
    """Flags sustained microphone energy well above the expected echo of the reference."""

    margin_db: float = 9.0
    hold_s: float = 0.4
    # Until the room has been heard, assume the echo is as loud as the kiosk (no false barge-in).
    initial_gain_db: float = 0.0
    noise_margin_db: float = 12.0
    # The quietest echo ever assumed. Behind the sound server's echo canceller the gain learned
    # while it has converged is -40 to -65 dB, but when the kiosk starts a sentence the
    # canceller re-aligns and leaves up to 30 dB more for a moment (measured behind WebRTC at
    # -6 dB: mic minus reference -28 dB at the 99th percentile, single frames up to -9 dB).
    # Judged against the converged gain, that residue looked like the patient going on.
    min_gain_db: float = -25.0

    def __post_init__(self) -> None:
        self._gains: deque[float] = deque(maxlen=60)
        self._noise: deque[float] = deque(maxlen=200)
        self._over_since: float | None = None
        self._last_over: float | None = None

    @property
    def echo_gain_db(self) -> float:
        """Learned microphone level relative to the reference (never below ``min_gain_db``).

        The upper envelope (90th percentile) of recent frames: the reference level is the
        loudest frame in a window, so pauses between words pull single frames far down.
        """
        if len(self._gains) < 10:
            return self.initial_gain_db
        return max(float(np.percentile(self._gains, 90)), self.min_gain_db)

    def louder_than_echo_within(self, t: float, within_s: float) -> bool:
        """True if a frame in the ``within_s`` before ``t`` was clearly louder than the echo."""
        return self._last_over is not None and t - self._last_over <= within_s

    @property
    def noise_floor_db(self) -> float:
        """Quiet-room microphone level (a low percentile of recent frames without playback)."""
        return float(np.percentile(self._noise, 20)) if self._noise else -60.0

    def listen_frame(self, mic_db: float) -> None:
        """A microphone frame while the kiosk is silent (learns the room's noise floor)."""
        self._noise.append(max(mic_db, SILENT_DB))
        self._over_since = None

    def frame(self, t: float, mic_db: float, ref_db: float) -> bool:
        """A microphone frame while the kiosk speaks; True when someone talks over it."""
        mic_db = max(mic_db, SILENT_DB)
        ref_db = max(ref_db, SILENT_DB)
        expected = max(ref_db + self.echo_gain_db, self.noise_floor_db)
        threshold = max(expected + self.margin_db, self.noise_floor_db + self.noise_margin_db)
        if mic_db > threshold:
            self._last_over = t
            if self._over_since is None:
                self._over_since = t
            return t - self._over_since >= self.hold_s
        self._over_since = None
        if ref_db > -45.0:
            # Only frames where the kiosk is clearly audible teach the echo gain.
            self._gains.append(mic_db - ref_db)
        return False


def without_echo(transcript: Transcript, until_s: float, echo_words: set[str]) -> Transcript:
    """Drop words heard before a barge-in that belong to what the kiosk was saying."""
    kept = tuple(w for w in transcript.words if not (w.end <= until_s and w.word in echo_words))
    if len(kept) == len(transcript.words):
        return transcript
    text = " ".join(w.word for w in kept)
    return Transcript(text, kept, transcript.audio_s, transcript.decode_ms)


def open_without_echo(heard: Transcript | None, echo_words: set[str]) -> Transcript | None:
    """The open hypothesis without any word of what the kiosk was saying."""
    if heard is None:
        return None
    text = " ".join(w for w in heard.text.split() if w not in echo_words)
    words = tuple(w for w in heard.words if w.word not in echo_words)
    return Transcript(text, words, heard.audio_s, heard.decode_ms)
