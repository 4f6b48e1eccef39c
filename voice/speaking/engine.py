"""The speech-engine interface, the two voices, and choosing one (with the fallback)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum
from typing import Protocol

import numpy as np
import numpy.typing as npt

from voice.errors import SpeechError

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]


class Voice(str, Enum):
    """The kiosk's voices: a natural neural voice (default) and espeak-ng (the fallback)."""

    NATURAL = "natural"
    ESPEAK = "espeak"


DEFAULT_VOICE = Voice.NATURAL


class SpeechEngine(Protocol):
    """Turns one sentence into raw float audio in [-1, 1]; not thread-safe (callers lock)."""

    voice: Voice
    sample_rate: int
    # Identifies the engine's build, so cached audio is not reused across engine upgrades.
    version: str
    # Extra silence between sentences when lines are joined (the voice's own pauses count).
    sentence_pause_s: float

    def render(self, text: str, rate_wpm: int) -> FloatArray:
        """Render one sentence at about rate_wpm words per minute."""
        ...


def open_engine(
    voice: Voice = DEFAULT_VOICE,
    loaders: dict[Voice, Callable[[], SpeechEngine]] | None = None,
) -> SpeechEngine:
    """Load the engine for voice; if the natural voice cannot load, fall back to espeak-ng."""
    loaders = loaders if loaders is not None else _LOADERS
    if voice is Voice.NATURAL:
        try:
            return loaders[Voice.NATURAL]()
        except SpeechError as error:
            logger.warning(
                "The natural voice is not available (%s); speaking with espeak-ng.", error
            )
    return loaders[Voice.ESPEAK]()


def _load_natural() -> SpeechEngine:
    from voice.speaking.natural import NaturalEngine

    return NaturalEngine()


def _load_espeak() -> SpeechEngine:
    from voice.speaking.espeak import EspeakEngine

    return EspeakEngine()


_LOADERS: dict[Voice, Callable[[], SpeechEngine]] = {
    Voice.NATURAL: _load_natural,
    Voice.ESPEAK: _load_espeak,
}
