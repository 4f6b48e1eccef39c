"""One line from an engine to the kiosk's audio: pronounced, resampled, loudness-normalised, int16.

The same steps run in the kiosk and in the renderer child (voice/speaking/worker.py), so a line
sounds the same whichever process rendered it.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import numpy.typing as npt

from voice.audio.resample import resample
from voice.speaking.engine import SpeechEngine
from voice.speaking.loudness import normalise
from voice.speaking.pronunciation import Pronunciations
from voice.speaking.synthesis import SpeechAudio

logger = logging.getLogger(__name__)

# Every line leaves here at espeak-ng's rate, so the speaker's stream never reopens (or
# resamples while playing) when the voice changes.
OUTPUT_RATE = 22050


def render_line(
    engine: SpeechEngine, pronunciations: Pronunciations, text: str, rate_wpm: int
) -> npt.NDArray[np.int16]:
    """A sentence's samples at OUTPUT_RATE and the kiosk's one level (raises SpeechError)."""
    if not text:
        return np.zeros(0, dtype=np.int16)
    started = time.monotonic()
    raw = engine.render(pronunciations.apply(text), rate_wpm)
    rate = engine.sample_rate
    if rate != OUTPUT_RATE and raw.size:
        raw = resample(raw, rate, OUTPUT_RATE)
    level = normalise(raw, OUTPUT_RATE)
    samples = np.round(np.clip(level, -1.0, 1.0) * 32767.0).astype(np.int16)
    # Only sizes are logged: a spoken line can echo what a patient said.
    logger.debug(
        "Rendered %.2f s of speech (%d characters) in %.3f s",
        len(samples) / OUTPUT_RATE,
        len(text),
        time.monotonic() - started,
    )
    return samples


def frozen(samples: npt.NDArray[np.int16]) -> SpeechAudio:
    """Samples at OUTPUT_RATE wrapped read-only, since cached audio is shared between callers."""
    samples.flags.writeable = False
    return SpeechAudio(samples=samples, sample_rate=OUTPUT_RATE)
