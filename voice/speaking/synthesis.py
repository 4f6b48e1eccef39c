"""Text-to-speech: espeak-ng (through pyttsx3) rendered to audio in memory."""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import soundfile

from voice.errors import SpeechError, UsageError
from voice.kiosk.dialogue import DialogueSettings
from voice.text.sentences import split_sentences

logger = logging.getLogger(__name__)

# The patient's rate and volume controls set the limits (voice/kiosk/dialogue.py); `voice say` keeps
# to the same ones. 150–160 wpm suits older listeners; pyttsx3's default of 200 is too fast.
# Volume is a playback gain, so cached audio is reused at any volume.
_LIMITS = DialogueSettings()
DEFAULT_RATE = _LIMITS.default_rate_wpm
MIN_RATE, MAX_RATE = _LIMITS.min_rate, _LIMITS.max_rate
DEFAULT_VOLUME = _LIMITS.default_volume
MIN_VOLUME, MAX_VOLUME = _LIMITS.min_volume, _LIMITS.max_volume

# Extra silence between sentences, on top of the ~0.24 s espeak-ng already ends each one with.
SENTENCE_PAUSE_S = 0.15

CACHE_SIZE = 128
_INSTALL_HINT = "Install espeak-ng: sudo apt-get install espeak-ng"
_IDLE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class SpeechSettings:
    """How the kiosk speaks: rate in words per minute, playback volume (gain) and voice."""

    rate_wpm: int = DEFAULT_RATE
    volume: float = DEFAULT_VOLUME
    voice: str | None = None

    def __post_init__(self) -> None:
        if not MIN_RATE <= self.rate_wpm <= MAX_RATE:
            raise UsageError(
                f"The speech rate {self.rate_wpm} words per minute is outside the supported "
                f"range; choose a rate from {MIN_RATE} to {MAX_RATE}."
            )
        if not MIN_VOLUME <= self.volume <= MAX_VOLUME:
            raise UsageError(
                f"The volume {self.volume:g} is outside the supported range; "
                f"choose a volume from {MIN_VOLUME:g} to {MAX_VOLUME:g}."
            )


@dataclass(frozen=True)
class SpeechAudio:
    """Mono 16-bit speech samples and their sample rate."""

    samples: npt.NDArray[np.int16]
    sample_rate: int

    @property
    def duration_s(self) -> float:
        """Length of the audio in seconds."""
        return len(self.samples) / self.sample_rate


class Synthesizer(Protocol):
    """Anything that turns text into speech audio."""

    def synthesize(self, text: str, rate_wpm: int) -> SpeechAudio:
        """Render text at the given rate (words per minute)."""
        ...


# espeak-ng is one global synthesizer per process (pyttsx3 initialises it once and keeps one
# global callback), so every Pyttsx3Synthesizer shares one engine behind one lock.
_ENGINE_LOCK = threading.Lock()
_engine: Any = None
_engine_errors: list[BaseException] = []
_default_voice: str | None = None
# Property values espeak-ng currently holds, so unchanged ones are not set again.
_applied: dict[str, object] = {}


class Pyttsx3Synthesizer:
    """Synthesizer using pyttsx3's espeak-ng driver, with an LRU cache of rendered audio."""

    def __init__(self, voice: str | None = None, cache_size: int = CACHE_SIZE) -> None:
        self._voice = voice
        self._voice_id: str | None = None
        self._cache_size = cache_size
        self._cache: OrderedDict[tuple[str, int, str | None], SpeechAudio] = OrderedDict()
        self._cache_lock = threading.Lock()

    def synthesize(self, text: str, rate_wpm: int) -> SpeechAudio:
        """Render text at rate_wpm; repeated requests come from the cache."""
        text = " ".join(text.split())
        key = (text, rate_wpm, self._voice)
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        audio = self._render(text, rate_wpm) if text else _empty_audio()
        with self._cache_lock:
            self._cache[key] = audio
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return audio

    def _render(self, text: str, rate_wpm: int) -> SpeechAudio:
        """Run espeak-ng for one text and read back the WAV it writes."""
        started = time.monotonic()
        with _ENGINE_LOCK, tempfile.TemporaryDirectory(prefix="kiosk-tts-") as tmp:
            engine = _shared_engine()
            _engine_errors.clear()
            path = Path(tmp) / "speech.wav"
            try:
                if self._voice_id is None:
                    self._voice_id = _resolve_voice(engine, self._voice)
                _set_property(engine, "voice", self._voice_id)
                _set_property(engine, "rate", rate_wpm)
                # The espeak driver prints "Audio saved to ..." for every file; keep stdout clean.
                with contextlib.redirect_stdout(io.StringIO()):
                    engine.save_to_file(text, str(path))
                    engine.runAndWait()
                _wait_until_idle()
            except (RuntimeError, ValueError, OSError) as error:
                raise SpeechError(f"Text-to-speech failed ({error}). {_INSTALL_HINT}.") from error
            if _engine_errors:
                reported = _engine_errors[0]
                raise SpeechError(
                    f"Text-to-speech failed ({reported}). {_INSTALL_HINT}."
                ) from reported
            if not path.exists():
                raise SpeechError(
                    "Text-to-speech produced no audio; check that espeak-ng works: "
                    "espeak-ng 'hello'."
                )
            audio = _read_wav(path)
        # Only sizes are logged: spoken text can echo what a patient said.
        logger.debug(
            "Synthesized %.2f s of speech (%d characters) in %.3f s",
            audio.duration_s,
            len(text),
            time.monotonic() - started,
        )
        return audio


def synthesize_text(
    text: str, settings: SpeechSettings, synthesizer: Synthesizer | None = None
) -> SpeechAudio:
    """Render a whole text sentence by sentence, joined with a short natural pause."""
    synth = synthesizer if synthesizer is not None else Pyttsx3Synthesizer(voice=settings.voice)
    parts = [synth.synthesize(sentence, settings.rate_wpm) for sentence in split_sentences(text)]
    return join_audio(parts, SENTENCE_PAUSE_S)


def synthesize_to_wav(
    text: str, settings: SpeechSettings, path: Path, synthesizer: Synthesizer | None = None
) -> SpeechAudio:
    """Render text as speech and write it to a WAV file (volume applied as gain)."""
    audio = synthesize_text(text, settings, synthesizer)
    write_wav(apply_gain(audio, settings.volume), path)
    return audio


def join_audio(parts: list[SpeechAudio], pause_s: float) -> SpeechAudio:
    """Concatenate speech with pause_s of silence between the parts."""
    if not parts:
        return _empty_audio()
    rate = parts[0].sample_rate
    if any(part.sample_rate != rate for part in parts):
        raise SpeechError("Speech parts have different sample rates and cannot be joined.")
    gap = np.zeros(round(pause_s * rate), dtype=np.int16)
    pieces: list[npt.NDArray[np.int16]] = []
    for index, part in enumerate(parts):
        if index:
            pieces.append(gap)
        pieces.append(part.samples)
    return _frozen(np.concatenate(pieces), rate)


def apply_gain(audio: SpeechAudio, gain: float) -> SpeechAudio:
    """Scale the samples by gain, clipping at full scale."""
    if gain == 1.0:
        return audio
    scaled = np.clip(audio.samples.astype(np.float32) * gain, -32768, 32767)
    return _frozen(scaled.astype(np.int16), audio.sample_rate)


def write_wav(audio: SpeechAudio, path: Path) -> None:
    """Write the audio as a 16-bit mono WAV file."""
    try:
        soundfile.write(str(path), audio.samples, audio.sample_rate, subtype="PCM_16")
    except (OSError, RuntimeError, soundfile.LibsndfileError) as error:
        raise SpeechError(
            f"Could not write the speech to {path} ({error}); check that the folder exists "
            "and is writable."
        ) from error




def _shared_engine() -> Any:
    """Create (once) and return the process-wide pyttsx3 engine; call with _ENGINE_LOCK held."""
    global _engine, _default_voice
    if _engine is not None:
        return _engine
    try:
        import pyttsx3

        engine = pyttsx3.init("espeak")
        # Before its first run loop the driver queues property changes; flush them now so later
        # changes take effect at once (see _set_property).
        with contextlib.redirect_stdout(io.StringIO()):
            engine.runAndWait()
        engine.connect("error", _on_engine_error)
        _default_voice = str(engine.getProperty("voice"))
    except (ImportError, RuntimeError, OSError, AttributeError) as error:
        raise SpeechError(f"Text-to-speech is not available ({error}). {_INSTALL_HINT}.") from error
    _engine = engine
    return engine


def _on_engine_error(name: str | None = None, exception: BaseException | None = None) -> None:
    """Collect errors pyttsx3 reports through its callback instead of raising them."""
    _engine_errors.append(exception or RuntimeError("unknown text-to-speech error"))


def _set_property(engine: Any, name: str, value: object) -> None:
    """Set an engine property (if it changed) and wait until espeak-ng has applied it."""
    if _applied.get(name) == value:
        return
    engine.setProperty(name, value)
    # espeak-ng queues parameter changes on its own thread; pyttsx3's next runAndWait cancels
    # whatever is still queued, so a rate change made just before it can be silently lost.
    _wait_until_idle()
    _applied[name] = value


def _wait_until_idle() -> None:
    """Wait until espeak-ng's command queue is empty."""
    from pyttsx3.drivers import _espeak

    deadline = time.monotonic() + _IDLE_TIMEOUT_S
    while _espeak.IsPlaying():
        if time.monotonic() > deadline:
            raise SpeechError(
                "Text-to-speech did not finish in time; restart the kiosk. If it keeps "
                f"happening, check espeak-ng. {_INSTALL_HINT}."
            )
        time.sleep(0.001)


def _resolve_voice(engine: Any, wanted: str | None) -> str | None:
    """Return the espeak-ng voice id for a voice id, short id or name; None is the default."""
    if wanted is None:
        return _default_voice
    voices = engine.getProperty("voices")
    key = wanted.strip().lower()
    for voice in voices:
        voice_id = str(voice.id).lower()
        if key in (voice_id, voice_id.rsplit("/", 1)[-1], str(voice.name).lower()):
            return str(voice.id)
    english = sorted(str(v.id).rsplit("/", 1)[-1] for v in voices if "/en" in str(v.id))
    # espeak-ng silently keeps its old voice for an unknown name, so reject it here.
    raise SpeechError(
        f"The voice {wanted!r} is not installed in espeak-ng; choose one of: "
        f"{', '.join(english) or 'none found'} (list all with: espeak-ng --voices)."
    )


def _read_wav(path: Path) -> SpeechAudio:
    """Read a mono 16-bit WAV written by the engine."""
    try:
        samples, rate = soundfile.read(str(path), dtype="int16", always_2d=True)
    except (OSError, RuntimeError, soundfile.LibsndfileError) as error:
        raise SpeechError(f"Text-to-speech wrote an unreadable file ({error}).") from error
    return _frozen(np.ascontiguousarray(samples[:, 0]), int(rate))


def _frozen(samples: npt.NDArray[np.int16], sample_rate: int) -> SpeechAudio:
    """Wrap samples read-only, since cached audio is shared between callers."""
    samples.flags.writeable = False
    return SpeechAudio(samples=samples, sample_rate=sample_rate)


def _empty_audio() -> SpeechAudio:
    """Audio of no length at espeak-ng's rate."""
    return _frozen(np.zeros(0, dtype=np.int16), 22050)
