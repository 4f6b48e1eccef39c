"""The natural voice: hibari-tts "heart" (Apache-2.0), whose model ships inside the wheel.

Nothing is downloaded: the model path is resolved with download_missing=False and handed to
hibari, so its download code can never run. onnxruntime's telemetry is switched off before
onnxruntime is imported.
"""

from __future__ import annotations

import logging
import os
import re
import time

import numpy as np

from voice.errors import SpeechError
from voice.speaking.engine import FloatArray, Voice

logger = logging.getLogger(__name__)

HIBARI_VOICE = "heart"
SEED = 0  # hibari adds seeded noise; a fixed seed makes every rendering of a line identical
# Bumped whenever this module changes what a line sounds like (speed table, text fixes), so the
# lines already rendered on disk under the old rules are not played any more.
RENDER_REVISION = 2

# hibari's speed factor -> words per minute, measured over the FAQ's 16 answers (seed 0) as the
# kiosk plays them, that is with the leading silence trimmed (bench_voice.py). Not linear:
# durations round to whole 12.5 ms frames, so the pace jumps near 0.805 and above 1.33
# (199 -> about 225 wpm); rates past the last row are clamped to it (about 199 wpm).
SPEED_WPM: tuple[tuple[float, float], ...] = (
    (0.5, 87.2), (0.6, 105.5), (0.7, 120.9), (0.75, 123.9), (0.8, 135.6), (0.81, 147.6),
    (0.85, 151.4), (0.86, 156.6), (0.9, 161.3), (0.95, 164.6), (1.0, 167.0), (1.05, 169.1),
    (1.1, 171.3), (1.15, 174.6), (1.2, 182.0), (1.25, 189.0), (1.3, 191.7), (1.33, 199.3),
)  # fmt: skip
MIN_SPEED, MAX_SPEED = 0.5, 1.33
# Each sentence comes with ~0.32 s of silence before it and ~0.48 s after; the leading part only
# delays the first sound, the trailing part is the pause between sentences.
KEEP_LEAD_S = 0.03
KEEP_TAIL_S = 0.40
_SILENCE = 10 ** (-50 / 20)  # samples below -50 dBFS count as silence when trimming


def _engine_version(package_version: str) -> str:
    """The engine version that keys the disk cache: package, voice and render revision."""
    return f"hibari-{package_version}-{HIBARI_VOICE}-r{RENDER_REVISION}"


def natural_version() -> str:
    """The natural voice's engine version, read from the installed package (nothing loaded)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return _engine_version(version("hibari-tts"))
    except PackageNotFoundError as error:
        raise SpeechError("the hibari-tts package is not installed; reinstall the kiosk") from error


# hibari's G2P reads "no." as the abbreviation "number" ("say yes or number"); a space before
# the full stop keeps the word and the sentence's end.
_NO_ABBREVIATION = re.compile(r"\b(nos?)\.(?=\s|$)", re.IGNORECASE)


def spoken_text(text: str) -> str:
    """The text as handed to hibari, with the words its G2P misreads written apart."""
    return _NO_ABBREVIATION.sub(r"\1 .", text)


def speed_for_rate(rate_wpm: float) -> float:
    """hibari's speed factor for a pace in words per minute (clamped to the measured range)."""
    speeds = [s for s, _ in SPEED_WPM]
    wpms = [w for _, w in SPEED_WPM]
    speed = float(np.interp(rate_wpm, wpms, speeds))
    return min(MAX_SPEED, max(MIN_SPEED, speed))


def trim_silence(audio: FloatArray, sample_rate: int, lead_s: float, tail_s: float) -> FloatArray:
    """Cut the silence before the first sound to lead_s and after the last to tail_s."""
    loud = np.flatnonzero(np.abs(audio) > _SILENCE)
    if loud.size == 0:
        return audio[:0]
    start = max(0, int(loud[0]) - round(lead_s * sample_rate))
    end = min(len(audio), int(loud[-1]) + 1 + round(tail_s * sample_rate))
    return audio[start:end]


class NaturalEngine:
    """hibari "heart" at 24 kHz; loads the model and the G2P once (about 1 s)."""

    voice = Voice.NATURAL
    sentence_pause_s = 0.0  # the voice's own trailing silence is the pause

    def __init__(self, threads: int = 1) -> None:
        # Must be set before onnxruntime is imported: its PyPI build sends telemetry by default.
        os.environ["ORT_DISABLE_TELEMETRY"] = "1"
        started = time.monotonic()
        try:
            import hibari
            from hibari import SAMPLE_RATE, Hibari
            from hibari.voices import voice_path

            model = voice_path(HIBARI_VOICE, download_missing=False)
            self._tts = Hibari(voice=HIBARI_VOICE, model=model, threads=threads)
            # The G2P loads lazily (~0.45 s) and is not thread-safe until loaded: pay it now.
            self._tts("Warm up.", seed=SEED)
        except ImportError as error:
            raise SpeechError(
                f"the hibari-tts package is not installed ({error}); reinstall the kiosk"
            ) from error
        except (OSError, RuntimeError, ValueError) as error:
            # onnxruntime raises its own exception types, all RuntimeError subclasses.
            raise SpeechError(f"the hibari voice model could not be loaded ({error})") from error
        self.sample_rate = int(SAMPLE_RATE)
        self.version = _engine_version(hibari.__version__)
        logger.debug("Natural voice loaded in %.2f s", time.monotonic() - started)

    def render(self, text: str, rate_wpm: int) -> FloatArray:
        """Render one sentence with its leading silence trimmed."""
        try:
            audio = self._tts(spoken_text(text), speed=speed_for_rate(rate_wpm), seed=SEED)
        except (RuntimeError, ValueError, KeyError) as error:
            raise SpeechError(f"The natural voice could not speak a line ({error}).") from error
        samples = np.asarray(audio, dtype=np.float32)
        return trim_silence(samples, self.sample_rate, KEEP_LEAD_S, KEEP_TAIL_S)
