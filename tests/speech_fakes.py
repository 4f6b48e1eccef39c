"""Fake speech engines that a renderer child can load by name ("speech_fakes:tone_engine"),
for tests of voice/speaking/worker.py and prepared speech (tests/ must be on PYTHONPATH)."""

from __future__ import annotations

import os
import time

import numpy as np

from voice.errors import SpeechError
from voice.speaking.engine import FloatArray, Voice

VERSION = "fake-tone-1"


class ToneEngine:
    """A tone as long as the words take at the rate; prints to stdout, as some libraries do."""

    voice = Voice.NATURAL
    version = VERSION
    sentence_pause_s = 0.0
    sample_rate = 24000

    def __init__(self, seconds_per_line: float = 0.0) -> None:
        self._delay = seconds_per_line
        print("a library's chatter on standard output")  # must not upset the protocol

    def render(self, text: str, rate_wpm: int) -> FloatArray:
        time.sleep(self._delay)
        seconds = max(1, len(text.split())) * 60 / rate_wpm
        t = np.arange(round(seconds * self.sample_rate)) / self.sample_rate
        return (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def tone_engine() -> ToneEngine:
    """The tone engine; FAKE_SECONDS_PER_LINE slows it down."""
    return ToneEngine(float(os.environ.get("FAKE_SECONDS_PER_LINE", "0")))


def broken_engine() -> ToneEngine:
    """A voice that cannot load."""
    raise SpeechError("the fake voice could not be loaded (test)")
