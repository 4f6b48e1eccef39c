"""The kiosk's speaker: queued speech playback through sounddevice that can stop at once."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from enum import Enum
from types import ModuleType, TracebackType
from typing import Any

import numpy as np
import numpy.typing as npt

from voice.audio.devices import import_sounddevice
from voice.audio.resample import resample
from voice.errors import DeviceError
from voice.speaking.synthesis import SpeechAudio

logger = logging.getLogger(__name__)

# After the queue runs dry the stream idles this long before stopping itself, so speech queued
# soon after other speech needs no new stream.
LINGER_S = 1.0
# Device buffer size asked for. stop() closes the stream, which discards what is buffered, so a
# roomier buffer costs no stop latency and avoids underruns on a busy machine.
DEFAULT_LATENCY_S = 0.1
# Outputs a device's reported latency is trusted up to; beyond this it is bogus.
_MAX_SANE_LATENCY_S = 2.0
_DEVICE_HINT = (
    "Connect a speaker or headset, or choose another output device "
    "(python3 -m sounddevice lists them)."
)

# espeak-ng's output rate, the rate a stream is first opened at when nothing says otherwise.
SPEECH_RATE = 22050

FloatArray = npt.NDArray[np.float32]


class Cue(str, Enum):
    """Short tones the kiosk plays to show what it is doing."""

    LISTENING = "listening"
    DONE_LISTENING = "done_listening"


def cue_audio(kind: Cue, sample_rate: int = SPEECH_RATE) -> SpeechAudio:
    """Generate a soft two-note cue: rising for LISTENING, falling for DONE_LISTENING."""
    notes = (660.0, 880.0) if kind is Cue.LISTENING else (880.0, 660.0)
    note_s, gap_s, fade_s, level = 0.09, 0.04, 0.012, 0.22
    t = np.arange(round(note_s * sample_rate)) / sample_rate
    # Raised-cosine edges: a hard start or end on a sine is heard as a click.
    fade_n = round(fade_s * sample_rate)
    envelope = np.ones_like(t)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade_n))
    envelope[:fade_n] = ramp
    envelope[-fade_n:] = ramp[::-1]
    gap = np.zeros(round(gap_s * sample_rate))
    tone = np.concatenate(
        [
            np.sin(2 * np.pi * notes[0] * t) * envelope,
            gap,
            np.sin(2 * np.pi * notes[1] * t) * envelope,
        ]
    )
    samples = np.round(tone * level * 32767).astype(np.int16)
    samples.flags.writeable = False
    return SpeechAudio(samples=samples, sample_rate=sample_rate)


def is_available(device: int | str | None = None) -> bool:
    """Tell whether PortAudio is installed and the output device (default: system's) exists."""
    try:
        sd = import_sounddevice()
    except DeviceError:
        return False
    try:
        sd.query_devices(device, "output")
    except (sd.PortAudioError, ValueError):
        return False
    return True


class Speaker:
    """Plays speech on one output device; play() queues, stop() cuts off everything at once."""

    def __init__(
        self, device: int | str | None = None, latency_s: float = DEFAULT_LATENCY_S
    ) -> None:
        self._device = device
        self._requested_latency = latency_s
        self._sd: ModuleType | None = None
        self._sample_rate = 0
        self._channels = 1
        self._latency_s = 0.0
        # _control serializes opening, starting, stopping and closing streams; _lock guards the
        # queue, flags and timestamps, which the audio callback thread shares.
        self._control = threading.Lock()
        self._lock = threading.Lock()
        self._stream: Any = None
        self._started = False
        self._generation = 0
        self._stream_ending = False
        self._stream_failed = False
        self._queue: deque[FloatArray] = deque()
        self._offset = 0
        self._idle_frames = 0
        self._playing = False
        self._drained = threading.Event()
        self._drained.set()
        self._error: DeviceError | None = None
        self._first_audio_time: float | None = None
        self._last_played_until = 0.0

    @property
    def first_audio_time(self) -> float | None:
        """time.monotonic() when the first sample of the current utterance reached the device."""
        with self._lock:
            return self._first_audio_time

    @property
    def last_played_until(self) -> float:
        """time.monotonic() when output last finished (or will finish, while playing)."""
        with self._lock:
            return self._last_played_until

    def open(self, sample_rate: int = SPEECH_RATE) -> None:
        """Check the device and get a stream ready now, so the first play() starts at once."""
        with self._control:
            if self._stream is None:
                self._open_stream(sample_rate)

    def play(self, audio: SpeechAudio, volume: float = 1.0) -> None:
        """Queue audio behind whatever is playing, at the given gain; returns at once."""
        if len(audio.samples) == 0:
            return
        with self._control:
            if self._sample_rate == 0:
                self._open_stream(audio.sample_rate)
            samples = _to_float(audio, volume, self._sample_rate)
            with self._lock:
                if not self._playing:
                    self._first_audio_time = None
                self._queue.append(samples)
                self._playing = True
                self._drained.clear()
                self._idle_frames = 0
                # A stream that stopped itself (idle) or failed is never restarted: PortAudio's
                # ALSA backend can hang in start() once the server behind it has gone.
                needs_new = self._stream is None or self._stream_ending or self._stream_failed
                needs_start = needs_new or not self._started
            try:
                if needs_new:
                    self._close_stream()
                    self._open_stream(self._sample_rate)
                if needs_start:
                    self._call(self._stream.start)
                    self._started = True
            except DeviceError:
                self._drop_queue()
                raise

    def play_cue(self, kind: Cue, volume: float = 1.0) -> None:
        """Queue a short cue tone (e.g. 'listening now')."""
        self.play(cue_audio(kind), volume)

    def stop(self) -> None:
        """Stop playing now and drop everything queued."""
        with self._control:
            was_playing = self._drop_queue()
            if self._started:
                # Closing an active stream discards what the device has buffered (an abort);
                # a graceful stop would play it out.
                self._close_stream()
            with self._lock:
                now = time.monotonic()
                if was_playing or self._last_played_until > now:
                    self._last_played_until = now

    def is_playing(self) -> bool:
        """Tell whether audio is queued or still coming out of the speaker."""
        with self._lock:
            return self._playing or time.monotonic() < self._last_played_until

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until everything queued has been heard; False if timeout passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._drained.wait(timeout):
            return False
        with self._lock:
            error, self._error = self._error, None
        if error is not None:
            raise error
        # The last samples were handed to the device; wait until they have left the speaker.
        remaining = self.last_played_until - time.monotonic()
        if deadline is not None:
            remaining = min(remaining, deadline - time.monotonic())
        if remaining > 0:
            time.sleep(remaining)
        return time.monotonic() >= self.last_played_until

    def close(self) -> None:
        """Stop playing and release the device (a later play() opens it again)."""
        self.stop()
        with self._control:
            self._close_stream()

    def __enter__(self) -> Speaker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _open_stream(self, sample_rate: int) -> None:
        """Open a new (not yet started) output stream; call with _control held."""
        sd = import_sounddevice()
        self._sd = sd
        if self._sample_rate == 0:
            self._sample_rate, self._channels = self._choose_settings(sd, sample_rate)
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._stream_ending = False
            self._stream_failed = False
            self._error = None  # a failure of the old stream no longer matters to a new one
            self._idle_frames = 0
        try:
            stream = sd.OutputStream(
                samplerate=self._sample_rate,
                channels=self._channels,
                dtype="float32",
                device=self._device,
                latency=self._requested_latency,
                callback=self._callback,
                finished_callback=lambda: self._finished(generation),
            )
        except (sd.PortAudioError, ValueError) as error:
            raise DeviceError(
                f"The speaker could not be opened ({error}). {_DEVICE_HINT}"
            ) from error
        self._stream, self._started = stream, False
        latency = float(stream.latency)
        self._latency_s = latency if 0 <= latency <= _MAX_SANE_LATENCY_S else 0.0
        logger.debug(
            "Speaker stream open: %d Hz, %d channel(s), latency %.3f s",
            self._sample_rate,
            self._channels,
            latency,
        )

    def _close_stream(self) -> None:
        """Close the current stream, discarding anything it has buffered; call with _control."""
        stream, self._stream, self._started = self._stream, None, False
        if stream is None:
            return
        with self._lock:
            self._generation += 1  # whatever this stream reports from now on is expected
        try:
            self._call(stream.close)
        except DeviceError as error:
            # The stream is unusable either way; closing must not fail a stop or shutdown.
            logger.warning("%s", error)

    def _choose_settings(self, sd: ModuleType, wanted_rate: int) -> tuple[int, int]:
        """Pick a sample rate and channel count the device accepts, preferring the audio's."""
        try:
            info = sd.query_devices(self._device, "output")
        except (sd.PortAudioError, ValueError) as error:
            which = "default speaker" if self._device is None else f"speaker {self._device!r}"
            raise DeviceError(f"No {which} was found ({error}). {_DEVICE_HINT}") from error
        rates = [wanted_rate, round(float(info["default_samplerate"]))]
        for rate in rates:
            for channels in (1, 2):
                try:
                    sd.check_output_settings(
                        device=self._device, samplerate=rate, channels=channels, dtype="float32"
                    )
                except (sd.PortAudioError, ValueError):
                    continue
                return rate, channels
        raise DeviceError(
            f"The speaker {info['name']!r} accepts none of the sample rates {rates} in mono or "
            f"stereo. {_DEVICE_HINT}"
        )

    def _call(self, method: Any) -> None:
        """Call a stream method, turning PortAudio errors into DeviceError."""
        assert self._sd is not None
        try:
            method()
        except self._sd.PortAudioError as error:
            raise DeviceError(f"The speaker stopped working ({error}). {_DEVICE_HINT}") from error

    def _drop_queue(self) -> bool:
        """Empty the queue and release waiters; return whether anything was playing."""
        with self._lock:
            was_playing = self._playing
            self._queue.clear()
            self._offset = 0
            self._playing = False
            self._drained.set()
        return was_playing

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        """Fill one device buffer from the queue (runs on PortAudio's thread)."""
        if status.output_underflow:
            logger.debug("Speaker underflow")
        with self._lock:
            filled = 0
            while filled < frames and self._queue:
                chunk = self._queue[0]
                count = min(frames - filled, len(chunk) - self._offset)
                outdata[filled : filled + count, :] = chunk[
                    self._offset : self._offset + count, None
                ]
                filled += count
                self._offset += count
                if self._offset >= len(chunk):
                    self._queue.popleft()
                    self._offset = 0
            outdata[filled:, :] = 0
            now = time.monotonic()
            if filled and self._first_audio_time is None:
                self._first_audio_time = now
            if filled and not self._queue:
                delay = time_info.outputBufferDacTime - time_info.currentTime
                if not 0 < delay <= _MAX_SANE_LATENCY_S:
                    delay = self._latency_s
                self._last_played_until = now + delay + filled / self._sample_rate
                self._playing = False
                self._drained.set()
            if self._queue:
                return
            self._idle_frames += frames - filled
            if self._idle_frames < LINGER_S * self._sample_rate:
                return
            self._stream_ending = True
        assert self._sd is not None
        raise self._sd.CallbackStop

    def _finished(self, generation: int) -> None:
        """Note a stream that ended without being asked to: the device has gone."""
        with self._lock:
            if generation != self._generation or self._stream_ending:
                return
            self._stream_failed = True
            self._error = DeviceError(f"The speaker stopped unexpectedly. {_DEVICE_HINT}")
            logger.warning("%s", self._error)
            self._queue.clear()
            self._offset = 0
            self._playing = False
            self._drained.set()


# The highest sample a sentence may reach after the volume gain (about -0.5 dBFS).
_PEAK_LIMIT = 0.944


def _to_float(audio: SpeechAudio, volume: float, target_rate: int) -> FloatArray:
    """Convert int16 speech to float32 at target_rate with the volume gain applied."""
    samples: FloatArray = audio.samples.astype(np.float32) * np.float32(volume / 32768.0)
    if audio.sample_rate != target_rate:
        # Only for a device that refuses the voice's rate (through PulseAudio 22050 Hz is taken
        # as it is). The anti-aliased resampler costs about 8 ms per second of speech at 48 kHz,
        # against 2 ms for linear interpolation, once per sentence before it starts.
        samples = resample(samples, audio.sample_rate, target_rate)
    # At the loudest volume steps a sentence's peaks would pass full scale: turn that sentence
    # down just enough instead of clipping it (clipping distorts speech for hearing aids).
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak > _PEAK_LIMIT:
        samples = samples * np.float32(_PEAK_LIMIT / peak)
    limited: FloatArray = np.clip(samples, -1.0, 1.0).astype(np.float32)
    return limited
