"""Deterministic spoken test questions: synthetic voices, room noise, odd formats and a cache."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, is_dataclass
from enum import Enum, StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from voice.errors import AudioError, SpeechError

logger = logging.getLogger(__name__)

Samples = npt.NDArray[np.float64]

# Bump when the output of any generator here changes, so old cache entries are not reused.
SPEECHGEN_VERSION = 1

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE_ROOT = REPO_ROOT / ".cache" / "testaudio"
LIBRIVOX_DIR = Path("/usr/share/pocketsphinx/test/data/librivox")
FESTIVAL_VOICES_DIR = Path("/usr/share/festival/voices")

ROOM_PADDING_S = 0.5
# Frames quieter than this below the loudest 20 ms frame are pauses, not speech (see
# active_speech_power); 30 dB is about where ITU-T P.56's adaptive threshold lands for speech.
ACTIVE_FRAME_S = 0.02
ACTIVE_RANGE_DB = 30.0
# In "babble+noise" the talkers sit this far above the hum, as in a busy waiting room.
BABBLE_OVER_HUM_DB = 6.0
# add_pause trims each part's own silence down to its first/last sample above this level.
AUDIBLE_DBFS = -50.0


class Engine(StrEnum):
    """A speech synthesizer installed from Debian packages."""

    ESPEAK_NG = "espeak-ng"
    FLITE = "flite"
    FESTIVAL = "festival"


class NoiseKind(StrEnum):
    """What is going on in the room behind the patient."""

    BABBLE = "babble"
    NOISE = "noise"
    BABBLE_NOISE = "babble+noise"


# Each engine's own pace expressed on espeak-ng's -s scale, measured on one 35-word sentence
# (espeak-ng -s 175: 8.98 s; flite slt/kal16: 9.7 s; festival kal_diphone: 11.2 s). With these,
# rate_wpm=150 gives about the same pace on every engine.
_NATURAL_WPM = {Engine.FLITE: 162.0, Engine.FESTIVAL: 141.0}


@dataclass(frozen=True)
class VoiceSpec:
    """One synthetic speaker; pitch is engine-native (espeak-ng -p 0-99, flite f0 mean in Hz)."""

    engine: str  # an Engine value
    voice: str
    rate_wpm: int | None = None  # on espeak-ng's -s scale; None keeps the engine's own pace
    pitch: int | None = None

    @property
    def name(self) -> str:
        """Return a short file-name-safe label such as ``espeak-ng_en-us+m3_s150``."""
        label = f"{Engine(self.engine).value}_{self.voice}"
        if self.rate_wpm is not None:
            label += f"_s{self.rate_wpm}"
        if self.pitch is not None:
            label += f"_p{self.pitch}"
        return re.sub(r"[^A-Za-z0-9+._-]", "-", label)


def train_voices() -> list[VoiceSpec]:
    """Return the voices that thresholds and vocabularies may be tuned on."""
    return [
        VoiceSpec("espeak-ng", "en-us+m3", 160, 50),
        VoiceSpec("espeak-ng", "en+f2", 140, 55),
        VoiceSpec("espeak-ng", "en-gb-x-rp+m5", 150, None),
        VoiceSpec("flite", "slt", None, None),
        VoiceSpec("flite", "rms", 150, None),
    ]


def heldout_voices() -> list[VoiceSpec]:
    """Return voices kept out of tuning, for honest accuracy figures (includes all of festival)."""
    return [
        VoiceSpec("espeak-ng", "en-gb+m1", 175, None),
        VoiceSpec("espeak-ng", "en-us+f4", 130, 60),
        VoiceSpec("espeak-ng", "en-us+grandpa", 135, None),
        VoiceSpec("flite", "awb", None, None),
        VoiceSpec("flite", "kal16", 140, None),
        VoiceSpec("festival", "kal_diphone", None, None),
    ]


def validation_voices() -> list[VoiceSpec]:
    """Return voices for checking a tuning choice before it meets the held-out voices.

    Neither training nor held-out voices, nor background talkers. Choices made on the training
    voices can be checked here, so the held-out figures stay a fair report.
    """
    return [
        VoiceSpec("espeak-ng", "en-gb-x-gbcwmd+m7", 150, None),
        VoiceSpec("espeak-ng", "en-us+klatt4", 140, 45),
        VoiceSpec("espeak-ng", "en+grandma", 130, None),
        VoiceSpec("espeak-ng", "en-gb+f1", 155, 65),
    ]


def default_voices() -> list[VoiceSpec]:
    """Return every test voice: the training voices, then the held-out ones."""
    return train_voices() + heldout_voices()


# Background talkers: none of them is a test voice, and none of their words is a clinic topic.
_BABBLE_TALKERS = (
    VoiceSpec("espeak-ng", "en-gb-scotland+f3", 165, 60),
    VoiceSpec("espeak-ng", "en-029+m2", 170, 40),
    VoiceSpec("espeak-ng", "en-us-nyc+f5", 155, 70),
    VoiceSpec("flite", "kal", 170, None),
    VoiceSpec("espeak-ng", "en-gb-x-gbclan+m4", 160, 35),
)
_BABBLE_SENTENCES = (
    "Did you see the football results last night?",
    "My daughter is moving into a new flat at the end of the month.",
    "I think it is going to rain again later this afternoon.",
    "We planted tomatoes and runner beans in the garden this year.",
    "Have you finished the crossword in the paper yet?",
    "The supermarket has moved the bread to the other end of the shop.",
    "My grandson has started learning to play the violin.",
    "They are repainting the bridge over the river next summer.",
)


@functools.cache
def installed_flite_voices() -> tuple[str, ...]:
    """Return the voice names ``flite -lv`` reports."""
    done = _run(["flite", "-lv"], what="list flite's voices")
    return tuple(done.stdout.decode().split(":", 1)[-1].split())


def is_installed(voice: VoiceSpec) -> bool:
    """Return whether this voice's engine and voice data are present on this machine."""
    engine = Engine(voice.engine)
    if engine is Engine.FLITE:
        return voice.voice in installed_flite_voices()
    if engine is Engine.FESTIVAL:
        return any(FESTIVAL_VOICES_DIR.glob(f"*/{voice.voice}"))
    done = subprocess.run(
        ["espeak-ng", "-v", voice.voice, "-q", "x"], capture_output=True, check=False
    )
    return done.returncode == 0


def synthesize(text: str, voice: VoiceSpec, out: Path) -> Path:
    """Speak ``text`` with ``voice`` into the WAV ``out`` at the engine's native rate."""
    if not text.strip():
        raise ValueError("synthesize needs some text to speak.")
    engine = Engine(voice.engine)
    out.parent.mkdir(parents=True, exist_ok=True)
    if engine is Engine.ESPEAK_NG:
        cmd = ["espeak-ng", "-v", voice.voice, "-w", str(out)]
        if voice.rate_wpm is not None:
            cmd += ["-s", str(voice.rate_wpm)]
        if voice.pitch is not None:
            cmd += ["-p", str(voice.pitch)]
    elif engine is Engine.FLITE:
        # flite falls back to its default voice, silently and with status 0, on an unknown name.
        if voice.voice not in installed_flite_voices():
            raise SpeechError(
                f"flite has no voice called {voice.voice!r}; installed voices are "
                f"{', '.join(installed_flite_voices())}. Choose one of those."
            )
        cmd = ["flite", "-voice", voice.voice, "-f", "/dev/stdin", "-o", str(out)]
        if voice.rate_wpm is not None:
            stretch = _NATURAL_WPM[Engine.FLITE] / voice.rate_wpm
            cmd += ["--setf", f"duration_stretch={stretch:.4f}"]
        if voice.pitch is not None:
            cmd += ["--setf", f"int_f0_target_mean={voice.pitch}"]
    else:
        if voice.pitch is not None:
            raise ValueError("The festival voices used here take no pitch setting; use None.")
        cmd = ["text2wave", "-eval", f"(voice_{voice.voice})", "-o", str(out)]
        if voice.rate_wpm is not None:
            stretch = _NATURAL_WPM[Engine.FESTIVAL] / voice.rate_wpm
            # After the voice: selecting a festival voice resets Duration_Stretch.
            cmd[3:3] = ["-eval", f"(Parameter.set 'Duration_Stretch {stretch:.4f})"]
    # Text goes in on stdin so that a question starting with "-" is never taken for an option.
    done = _run(cmd, what=f"speak with {voice.name}", stdin=text.encode())
    # festival reports Scheme errors (such as an unknown voice) on stderr with status 0.
    if b"SIOD ERROR" in done.stderr:
        raise SpeechError(
            f"festival could not speak with voice {voice.voice!r}: "
            f"{done.stderr.decode(errors='replace').strip()} Check that the voice is installed."
        )
    if not out.exists() or sf.info(str(out)).frames == 0:
        raise SpeechError(f"{engine.value} wrote no audio to {out}; check the voice {voice.name}.")
    return out


def read_mono(path: Path) -> tuple[Samples, int]:
    """Read a sound file as float64 samples in [-1, 1], averaging channels, with its rate."""
    try:
        data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"Could not read the audio file {path}: {exc}. Regenerate it.") from exc
    return np.asarray(data.mean(axis=1), dtype=np.float64), int(rate)


def write_wav(path: Path, samples: Samples, rate: int) -> Path:
    """Write mono float samples as 16-bit PCM WAV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, rate, subtype="PCM_16", format="WAV")
    return path


def active_speech_power(samples: Samples, rate: int) -> float:
    """Return the mean power of the 20 ms frames within 30 dB of the loudest frame."""
    frame = max(1, round(ACTIVE_FRAME_S * rate))
    count = len(samples) // frame
    if count == 0:
        return float(np.mean(samples**2)) if len(samples) else 0.0
    powers = np.mean(samples[: count * frame].reshape(count, frame) ** 2, axis=1)
    loudest = float(powers.max())
    if loudest == 0.0:
        return 0.0
    active = powers[powers >= loudest * 10 ** (-ACTIVE_RANGE_DB / 10)]
    return float(active.mean())


def mix_noise(
    speech_wav: Path,
    out: Path,
    snr_db: float,
    kind: NoiseKind | str,
    seed: int,
    padding_s: float = ROOM_PADDING_S,
) -> Path:
    """Put the speech in a noisy room at ``snr_db``, with ``padding_s`` of room noise each side.

    SNR is 10·log10(P_speech / P_noise), where P_speech is the *active* speech power (mean power
    of the 20 ms frames within 30 dB of the loudest one, so the engine's own leading and trailing
    silence and the pauses between words do not lower it) and P_noise is the mean power of the
    noise over the whole output, padding included. Measuring speech over all samples instead
    would make the real SNR depend on how much silence an engine adds. If the mix would clip,
    speech and noise are scaled down together, which keeps the SNR.
    """
    kind = NoiseKind(kind)
    speech, rate = read_mono(speech_wav)
    pad = np.zeros(round(padding_s * rate))
    padded = np.concatenate([pad, speech, pad])
    rng = np.random.default_rng(seed)
    noise = _room_noise(kind, len(padded), rate, rng)
    speech_power = active_speech_power(speech, rate)
    if speech_power == 0.0:
        raise AudioError(f"The speech file {speech_wav} is silent; it cannot be mixed at an SNR.")
    gain = np.sqrt(speech_power / (np.mean(noise**2) * 10 ** (snr_db / 10)))
    mixed = padded + gain * noise
    peak = float(np.max(np.abs(mixed)))
    if peak > 0.99:
        mixed *= 0.99 / peak
    return write_wav(out, mixed, rate)


def noise_only(
    out: Path,
    seconds: float,
    seed: int,
    kind: NoiseKind | str = NoiseKind.NOISE,
    rate: int = 16000,
    level_dbfs: float = -35.0,
) -> Path:
    """Write room noise with nobody speaking to the kiosk, at an RMS of ``level_dbfs``."""
    noise = _room_noise(NoiseKind(kind), round(seconds * rate), rate, np.random.default_rng(seed))
    noise *= 10 ** (level_dbfs / 20) / np.sqrt(np.mean(noise**2))
    return write_wav(out, noise, rate)


def silence(out: Path, seconds: float, rate: int = 16000) -> Path:
    """Write digital silence."""
    return write_wav(out, np.zeros(round(seconds * rate)), rate)


def add_pause(text_parts: Sequence[str], pause_ms: int, voice: VoiceSpec, out: Path) -> Path:
    """Speak the parts one after another with exactly ``pause_ms`` of silence between them.

    Each part's own trailing and leading silence at the joins is trimmed to its last/first
    sample above -50 dBFS, so the gap a recognizer sees is the requested pause, not more.
    """
    if len(text_parts) < 2:
        raise ValueError("add_pause needs at least two parts to put a pause between.")
    pieces: list[Samples] = []
    rates: set[int] = set()
    with tempfile.TemporaryDirectory(prefix="speechgen-") as tmp:
        for index, part in enumerate(text_parts):
            samples, rate = read_mono(synthesize(part, voice, Path(tmp) / f"part{index}.wav"))
            audible = np.flatnonzero(np.abs(samples) > 10 ** (AUDIBLE_DBFS / 20))
            if len(audible) == 0:
                raise SpeechError(f"{voice.name} produced no audible speech for {part!r}.")
            start = 0 if index == 0 else int(audible[0])
            end = len(samples) if index == len(text_parts) - 1 else int(audible[-1]) + 1
            pieces.append(samples[start:end])
            rates.add(rate)
    (rate,) = rates
    gap = np.zeros(round(pause_ms * rate / 1000))
    joined: list[Samples] = []
    for piece in pieces:
        joined += [piece, gap]
    return write_wav(out, np.concatenate(joined[:-1]), rate)


_SUBTYPE_SOX_ARGS = {
    "PCM_U8": ["-b", "8", "-e", "unsigned-integer"],
    "PCM_16": ["-b", "16", "-e", "signed-integer"],
    "PCM_24": ["-b", "24", "-e", "signed-integer"],
    "PCM_32": ["-b", "32", "-e", "signed-integer"],
    "FLOAT": ["-b", "32", "-e", "floating-point"],
    "ULAW": ["-b", "8", "-e", "u-law"],
    "ALAW": ["-b", "8", "-e", "a-law"],
}


def convert(
    in_wav: Path, out: Path, sample_rate: int, channels: int, subtype: str = "PCM_16"
) -> Path:
    """Resample/remix a WAV with sox; ``subtype`` uses soundfile's names (PCM_16, ULAW …)."""
    if subtype not in _SUBTYPE_SOX_ARGS:
        raise ValueError(f"Unknown subtype {subtype!r}; use one of {sorted(_SUBTYPE_SOX_ARGS)}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    # -D: no dither. sox's dither is seeded (repeatable) but differs between channels, and a
    # mono-to-stereo copy should have two identical channels, as a real duplicated feed does.
    cmd = ["sox", "-D", str(in_wav), "-t", "wav", *_SUBTYPE_SOX_ARGS[subtype]]
    cmd += ["-r", str(sample_rate), "-c", str(channels), str(out)]
    _run(cmd, what=f"convert {in_wav}", error=AudioError)
    return out


def apply_effects(in_wav: Path, out: Path, effects: Sequence[str]) -> Path:
    """Run sox effects (``tempo``, ``reverb``, ``gain`` …) over a WAV, keeping its format."""
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(["sox", "-D", str(in_wav), str(out), *effects], what=f"apply {effects} to {in_wav}",
         error=AudioError)
    return out


@dataclass(frozen=True)
class Condition:
    """How a question reaches the microphone: room noise and/or a different file format."""

    name: str
    noise: NoiseKind | None = None
    snr_db: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    subtype: str = "PCM_16"
    # sox effects applied to the speech first: how it is said and where the speaker stands.
    room: tuple[str, ...] = ()


# A slow speaker about two metres from the kiosk in a hard-walled room: 20% slower (pitch kept),
# reverberant, and 10 dB quieter than a close talker.
FAR_SLOW = ("tempo", "-s", "0.8", "reverb", "60", "50", "80", "gain", "-10")


def standard_conditions() -> list[Condition]:
    """Return the conditions every benchmark reports on."""
    return [
        Condition("clean"),
        Condition("babble+noise_20dB", NoiseKind.BABBLE_NOISE, 20.0),
        Condition("babble+noise_10dB", NoiseKind.BABBLE_NOISE, 10.0),
        Condition("44k1_stereo", sample_rate=44100, channels=2),
        Condition("8k_mono", sample_rate=8000, channels=1),
        Condition("far_slow", room=FAR_SLOW),
    ]


def stable_seed(*parts: object) -> int:
    """Return a seed derived from ``parts`` that is the same in every process (unlike hash())."""
    return int.from_bytes(hashlib.sha256(_key_json(parts).encode()).digest()[:8], "big")


class AudioCache:
    """Generated audio on disk, keyed by a hash of what made it, so reruns cost nothing."""

    def __init__(self, root: Path = DEFAULT_CACHE_ROOT) -> None:
        self.root = root

    def path_for(self, *key_parts: object) -> Path:
        """Return where the audio for these key parts lives (whether or not it exists yet)."""
        key = _key_json((SPEECHGEN_VERSION, tool_versions(), *key_parts))
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.root / digest[:2] / f"{digest}.wav"

    def get(self, key_parts: Sequence[object], build: Callable[[Path], object]) -> Path:
        """Return the cached file for ``key_parts``, calling ``build(path)`` first if missing."""
        path = self.path_for(*key_parts)
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        # Build beside the final name and rename, so a crash or a parallel run never leaves a
        # half-written file where a finished one is expected.
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.wav")
        try:
            build(tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def speech(self, text: str, voice: VoiceSpec) -> Path:
        """Return clean synthesized speech for ``text``."""
        return self.get(("speech", text, voice), lambda p: synthesize(text, voice, p))

    def render(self, text: str, voice: VoiceSpec, condition: Condition) -> Path:
        """Return ``text`` spoken by ``voice`` under ``condition``."""
        path = self.speech(text, voice)
        if condition.room:
            source = path
            path = self.get(
                ("room", text, voice, condition.room),
                lambda p: apply_effects(source, p, condition.room),
            )
        if condition.noise is not None:
            snr = 30.0 if condition.snr_db is None else condition.snr_db
            seed = stable_seed(text, voice, condition)
            noise = condition.noise
            source = path
            path = self.get(
                ("mix", text, voice, noise, snr, seed),
                lambda p: mix_noise(source, p, snr, noise, seed),
            )
        if condition.sample_rate is not None or condition.channels is not None:
            info = sf.info(str(path))
            rate = condition.sample_rate or info.samplerate
            channels = condition.channels or info.channels
            source = path
            path = self.get(
                ("convert", text, voice, condition, rate, channels),
                lambda p: convert(source, p, rate, channels, condition.subtype),
            )
        return path


def librivox_samples(directory: Path = LIBRIVOX_DIR) -> list[tuple[Path, str]]:
    """Return pocketsphinx-testdata's LibriVox recordings with their reference transcripts.

    The ``transcription`` file holds lines ``<s> words </s> (file-id)``; the audio is
    ``<file-id>.wav`` beside it (16 kHz mono 16-bit).
    """
    listing = directory / "transcription"
    try:
        lines = listing.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AudioError(
            f"Could not read {listing}: {exc.strerror}. Install Debian's pocketsphinx-testdata."
        ) from exc
    samples: list[tuple[Path, str]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = re.fullmatch(r"\s*(?:<s>)?\s*(.*?)\s*(?:</s>)?\s*\(([^()\s]+)\)\s*", line)
        if match is None:
            raise AudioError(f"{listing}:{number}: expected '<s> words </s> (file-id)'.")
        wav = directory / f"{match.group(2)}.wav"
        if not wav.exists():
            raise AudioError(f"{listing}:{number}: the recording {wav} is missing.")
        samples.append((wav, match.group(1)))
    return samples


@functools.cache
def tool_versions() -> tuple[str, ...]:
    """Return the engines' and sox's version lines, so an upgrade invalidates the cache."""
    versions = []
    commands = (["espeak-ng", "--version"], ["flite", "--version"], ["festival", "--version"],
                ["sox", "--version"])
    for cmd in commands:
        try:
            done = subprocess.run(cmd, capture_output=True, check=False)
        except FileNotFoundError:
            versions.append(f"{cmd[0]} missing")
            continue
        text = (done.stdout + done.stderr).decode(errors="replace")
        versions.append(next((ln.strip() for ln in text.splitlines() if "ersion" in ln), text))
    return (*versions, f"numpy {np.__version__}")


def _room_noise(kind: NoiseKind, n: int, rate: int, rng: np.random.Generator) -> Samples:
    """Return ``n`` samples of unit-RMS room noise of the given kind."""
    if kind is NoiseKind.NOISE:
        return _hum(n, rate, rng)
    babble = _babble(n, rate, rng)
    if kind is NoiseKind.BABBLE:
        return babble
    mixed = babble + 10 ** (-BABBLE_OVER_HUM_DB / 20) * _hum(n, rate, rng)
    return _unit_rms(mixed)


def _hum(n: int, rate: int, rng: np.random.Generator) -> Samples:
    """Return waiting-room hum: noise falling at 1/f^0.75 (between pink and brown) + mains hum."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / rate)
    # Below 30 Hz is rumble that microphones and loudspeakers do not pass.
    shape = np.where(freqs >= 30.0, np.maximum(freqs, 30.0) ** -0.75, 0.0)
    rumble = _unit_rms(np.fft.irfft(spectrum * shape, n))
    t = np.arange(n) / rate
    phase = rng.uniform(0, 2 * np.pi, 2)
    mains = 0.2 * np.sin(2 * np.pi * 100 * t + phase[0])
    mains += 0.1 * np.sin(2 * np.pi * 150 * t + phase[1])
    return _unit_rms(rumble + mains)


def _babble(n: int, rate: int, rng: np.random.Generator) -> Samples:
    """Return several background talkers, each looped from a seeded offset and level."""
    total = np.zeros(n)
    for track in _babble_tracks(rate):
        offset = int(rng.integers(len(track)))
        level = 10 ** (rng.uniform(-4.0, 0.0) / 20)
        total += level * np.take(track, np.arange(offset, offset + n), mode="wrap")
    return _unit_rms(total)


@functools.cache
def _babble_tracks(rate: int) -> tuple[Samples, ...]:
    """Return each background talker saying all the babble sentences, unit RMS, at ``rate``."""
    tracks = []
    with tempfile.TemporaryDirectory(prefix="speechgen-babble-") as tmp:
        for index, talker in enumerate(_BABBLE_TALKERS):
            # Each talker starts at a different sentence, so no two say the same thing at once.
            order = _BABBLE_SENTENCES[index:] + _BABBLE_SENTENCES[:index]
            native = synthesize(" ".join(order), talker, Path(tmp) / f"talker{index}.wav")
            if sf.info(str(native)).samplerate != rate:
                native = convert(native, Path(tmp) / f"talker{index}_{rate}.wav", rate, 1)
            samples, _ = read_mono(native)
            track = _unit_rms(samples)
            track.flags.writeable = False
            tracks.append(track)
    return tuple(tracks)


def _unit_rms(samples: Samples) -> Samples:
    """Return ``samples`` scaled to an RMS of 1."""
    rms = float(np.sqrt(np.mean(samples**2)))
    return samples / rms if rms > 0 else samples


def _key_json(parts: Sequence[object]) -> str:
    """Serialise cache-key parts (dataclasses, enums, numbers, strings) canonically."""

    def plain(value: object) -> object:
        if is_dataclass(value) and not isinstance(value, type):
            return {"__type__": type(value).__name__, **asdict(value)}
        if isinstance(value, Enum):
            return value.value
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, Path):
            return str(value)
        return value

    return json.dumps([plain(p) for p in parts], sort_keys=True, default=str)


def _run(
    cmd: list[str],
    what: str,
    stdin: bytes | None = None,
    error: type[SpeechError] | type[AudioError] = SpeechError,
) -> subprocess.CompletedProcess[bytes]:
    """Run a command, raising ``error`` with its stderr if it cannot start or fails."""
    logger.debug("running %s", cmd)
    try:
        done = subprocess.run(cmd, input=stdin, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise error(f"Could not {what}: {cmd[0]} is not installed. Install it.") from exc
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip()
        raise error(f"Could not {what}: {cmd[0]} failed ({detail}). Check the voice and files.")
    return done
