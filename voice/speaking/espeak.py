"""The fallback voice: espeak-ng through pyttsx3 (voice/speaking/synthesis.py), as an engine."""

from __future__ import annotations

import numpy as np

from voice.speaking.engine import FloatArray, Voice
from voice.speaking.synthesis import SENTENCE_PAUSE_S, Pyttsx3Synthesizer

ESPEAK_VERSION = "espeak-ng"


class EspeakEngine:
    """espeak-ng: 22,050 Hz, rate set directly in words per minute."""

    voice = Voice.ESPEAK
    sample_rate = 22050
    version = ESPEAK_VERSION
    sentence_pause_s = SENTENCE_PAUSE_S

    def __init__(self, espeak_voice: str | None = None) -> None:
        # The prepared-speech cache sits above the engine, so this one keeps none of its own.
        self._synth = Pyttsx3Synthesizer(voice=espeak_voice, cache_size=0)

    def render(self, text: str, rate_wpm: int) -> FloatArray:
        """Render one sentence with espeak-ng."""
        audio = self._synth.synthesize(text, rate_wpm)
        self.sample_rate = audio.sample_rate
        return (audio.samples.astype(np.float32) / 32768.0).astype(np.float32)
