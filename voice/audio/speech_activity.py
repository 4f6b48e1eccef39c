"""Where the microphone had sound loud enough to be the patient (pure logic on PCM, no audio I/O).

Vosk's hypothesis shows the words of a resumed question only about half a second after they
start. After a pause ("what are the side effects … of the tablets") the silence measured from
the last recognised word can therefore look long enough to end a question that is in fact going
on. This detector gives the runs of loud frames, so the end-of-speech rule
(voice/kiosk/endpoint.py) can see that sound came back before the words do.

Loud enough means above the room's background by a margin (the floor is a low percentile of
recent frame levels) and not far below the loudest speech heard since the last reset, so steady
babble in a waiting room does not count as the patient talking.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voice.audio.format import SAMPLE_RATE
from voice.audio.levels import FrameLevels

FRAME_S = FrameLevels.FRAME_S


@dataclass(frozen=True)
class ActivitySettings:
    """Thresholds of the loudness detector, in dB and seconds."""

    above_floor_db: float = 9.0  # louder than the background by this much
    below_peak_db: float = 20.0  # and no quieter than the loudest speech by more than this
    silence_dbfs: float = -60.0  # never loud below this (digital silence, a muted microphone)
    min_run_s: float = 0.05  # a click or a knock is shorter than this
    floor_window_s: float = 3.0
    floor_percentile: float = 10.0
    peak_decay_db_per_s: float = 1.0
    keep_runs_s: float = 5.0


@dataclass(frozen=True)
class SoundRun:
    """A stretch of loud frames, in stream seconds."""

    start_s: float
    end_s: float


class SpeechActivity:
    """Follows frame loudness over a stream and keeps the recent runs of loud frames."""

    def __init__(self, settings: ActivitySettings | None = None) -> None:
        self.settings = settings or ActivitySettings()
        frames = int(self.settings.floor_window_s / FRAME_S)
        self._levels: deque[float] = deque(maxlen=frames)
        self._runs: deque[SoundRun] = deque()
        self._frames = FrameLevels(SAMPLE_RATE)
        self.reset()

    def reset(self) -> None:
        """Start a new utterance: forget the runs and the speech peak (keep the room's floor)."""
        self._runs.clear()
        self._peak_db: float | None = None
        self._run_start: float | None = None
        self._time_s = 0.0
        self._frames.reset()

    @property
    def runs(self) -> tuple[SoundRun, ...]:
        """Finished and ongoing runs of loud frames from the last few seconds, oldest first."""
        if self._run_start is not None and self._time_s - self._run_start >= self._min_run():
            return (*self._runs, SoundRun(self._run_start, self._time_s))
        return tuple(self._runs)

    def feed(self, pcm: bytes) -> npt.NDArray[np.float64]:
        """Take the next chunk of 16 kHz mono 16-bit audio (the stream the recognizer gets).

        Times count whole 10 ms frames: samples short of a frame wait for the next chunk.
        Returns the levels of the frames the chunk completed (in dBFS), for other meters of
        the same stream (voice/audio/levels.py).
        """
        levels = self._frames.feed(pcm)
        if len(levels) == 0:
            return levels
        s = self.settings
        floor = (
            float(np.percentile(np.fromiter(self._levels, float), s.floor_percentile))
            if len(self._levels) >= 10
            else float(np.min(levels))
        )
        for level in levels:
            level = float(level)
            self._levels.append(level)
            if self._peak_db is not None:
                self._peak_db -= s.peak_decay_db_per_s * FRAME_S
            loud = level > max(floor + s.above_floor_db, s.silence_dbfs)
            if loud and (self._peak_db is None or level > self._peak_db):
                self._peak_db = level
            if loud and self._peak_db is not None and level < self._peak_db - s.below_peak_db:
                loud = False
            self._step(loud)
        while self._runs and self._runs[0].end_s < self._time_s - s.keep_runs_s:
            self._runs.popleft()
        return levels

    def _min_run(self) -> float:
        return self.settings.min_run_s - 1e-9

    def _step(self, loud: bool) -> None:
        if loud and self._run_start is None:
            self._run_start = self._time_s
        elif not loud and self._run_start is not None:
            if self._time_s - self._run_start >= self._min_run():
                self._runs.append(SoundRun(self._run_start, self._time_s))
            self._run_start = None
        self._time_s += FRAME_S
