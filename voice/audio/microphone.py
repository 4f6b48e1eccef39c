"""The microphone: a sounddevice input stream at 16 kHz mono, feeding a queue of chunks."""

from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass
from typing import Any

from voice.audio.devices import import_sounddevice
from voice.audio.format import SAMPLE_RATE
from voice.errors import DeviceError

log = logging.getLogger(__name__)

CHUNK_MS = 50


@dataclass(frozen=True)
class MicChunk:
    """16-bit mono PCM and the monotonic time its last sample was captured (approximately)."""

    pcm: bytes
    captured_at: float


class Microphone:
    """Captures audio in a PortAudio callback and hands chunks to the main loop via a queue."""

    def __init__(self, device: int | str | None = None, max_queue_s: float = 10.0) -> None:
        self._device = device
        self._queue: queue.Queue[MicChunk] = queue.Queue(
            maxsize=int(max_queue_s * 1000 / CHUNK_MS)
        )
        self._stream: Any = None
        self.overflows = 0

    def open(self) -> None:
        """Start capturing (raises DeviceError with what to do)."""
        sd = import_sounddevice()
        try:
            self._stream = sd.RawInputStream(
                samplerate=SAMPLE_RATE,
                blocksize=SAMPLE_RATE * CHUNK_MS // 1000,
                device=self._device,
                channels=1,
                dtype="int16",
                callback=self._callback,
            )
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            self._stream = None
            raise DeviceError(
                f"No microphone could be opened ({exc}). Plug one in, or choose one with "
                "--input-device (see `voice devices`)."
            ) from exc
        log.info("microphone open: %s", self._device if self._device is not None else "default")

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        if status:
            self.overflows += 1
        try:
            self._queue.put_nowait(MicChunk(bytes(indata), time.monotonic()))
        except queue.Full:
            self.overflows += 1  # the main loop is stuck; drop audio rather than grow memory

    def read(self, timeout: float) -> MicChunk | None:
        """The next chunk, or None if none arrived within ``timeout`` seconds."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    @property
    def active(self) -> bool:
        """True while the stream runs (False after the device disappeared)."""
        return self._stream is not None and bool(self._stream.active)

    def close(self) -> None:
        """Stop capturing."""
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception as exc:  # closing a vanished device can fail in many ways
                log.debug("closing microphone: %s", exc)
            self._stream = None
