"""The speech-engine interface, the two voices, and choosing one (with the fallback)."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
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
    # Identifies the engine's build, so cached audio is not reused across engine upgrades.
    version: str
    # Extra silence between sentences when lines are joined (the voice's own pauses count).
    sentence_pause_s: float

    @property
    def sample_rate(self) -> int:
        """The sample rate of what render returns."""
        ...

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


def load_natural() -> SpeechEngine:
    """The natural voice, loaded (about 1 s and 150 MB)."""
    from voice.speaking.natural import NaturalEngine

    return NaturalEngine()


def load_espeak() -> SpeechEngine:
    """espeak-ng, loaded."""
    from voice.speaking.espeak import EspeakEngine

    return EspeakEngine()


_LOADERS: dict[Voice, Callable[[], SpeechEngine]] = {
    Voice.NATURAL: load_natural,
    Voice.ESPEAK: load_espeak,
}


@dataclass(frozen=True)
class EngineSpec:
    """An engine described without loading it, so another process can load the same one.

    ``factory`` is "module:function", a function that returns the loaded engine; ``version``
    and ``sentence_pause_s`` are what that engine will report once loaded.
    """

    voice: Voice
    version: str
    factory: str
    sentence_pause_s: float

    def load(self) -> SpeechEngine:
        """Load the engine (raises SpeechError when it cannot)."""
        module, _, name = self.factory.partition(":")
        engine: SpeechEngine = getattr(importlib.import_module(module), name)()
        if engine.version != self.version:
            # Audio cached under one version must never be served as another's.
            raise SpeechError(
                f"the {self.voice.value} voice loaded as {engine.version}, not {self.version}; "
                "reinstall the kiosk"
            )
        return engine


def engine_spec(voice: Voice) -> EngineSpec:
    """The spec of a voice's engine, found without loading it (SpeechError if not installed)."""
    if voice is Voice.NATURAL:
        from voice.speaking.natural import natural_version

        return EngineSpec(voice, natural_version(), f"{__name__}:load_natural", 0.0)
    from voice.speaking.espeak import ESPEAK_VERSION
    from voice.speaking.synthesis import SENTENCE_PAUSE_S

    return EngineSpec(voice, ESPEAK_VERSION, f"{__name__}:load_espeak", SENTENCE_PAUSE_S)


class LazyEngine:
    """An engine loaded on its first render, so a kiosk whose lines are all prepared on disk
    never holds the voice's model in memory."""

    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec
        self.voice = spec.voice
        self.version = spec.version
        self.sentence_pause_s = spec.sentence_pause_s
        self._engine: SpeechEngine | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the engine has been loaded into this process."""
        return self._engine is not None

    @property
    def sample_rate(self) -> int:
        """The loaded engine's sample rate (loads it)."""
        return self._load().sample_rate

    def render(self, text: str, rate_wpm: int) -> FloatArray:
        """Render with the engine, loading it first if need be."""
        return self._load().render(text, rate_wpm)

    def _load(self) -> SpeechEngine:
        with self._lock:
            if self._engine is None:
                logger.info("Loading the %s voice in this process.", self.voice.value)
                self._engine = self.spec.load()
            return self._engine
