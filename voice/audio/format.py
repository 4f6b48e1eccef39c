"""The one audio format the recogniser and the microphone use: 16 kHz, mono, 16-bit PCM."""

from __future__ import annotations

SAMPLE_RATE = 16000  # Hz; the Vosk small model's rate
SAMPLE_WIDTH = 2  # bytes per sample (signed 16-bit little-endian)
