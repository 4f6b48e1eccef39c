"""A private PulseAudio daemon with a virtual microphone and speaker, for end-to-end tests.

Layout inside the daemon (all 16 kHz, s16le):

    kiosk_bus       null sink, 2 channels: front-left = microphone, front-right = speaker
    mic_feed        remap sink onto kiosk_bus's left channel: the "patient" speaks here
    kiosk_speaker   remap sink onto kiosk_bus's right channel: the default sink (kiosk talks here)
    mic_feed.monitor   the default source: the kiosk's microphone

Both virtual devices are mixed by the one null sink in the same render pass, so a recording of
``kiosk_bus.monitor`` (``start_recording_both``) holds the microphone and the speaker on one clock:
the distance between "question ended" and "answer started" is read in samples, not guessed from
process start times.

Use::

    with VirtualAudio() as audio:
        recording = audio.start_recording_both(tmp / "both.wav")
        kiosk = audio.popen([sys.executable, "-m", "voice", ...], env=audio.python_env())
        audio.speak_into_mic(question_wav)
        ...
        timeline = Timeline.read(recording.stop())
        latency = timeline.response_latency()
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import soundfile as sf

logger = logging.getLogger(__name__)

RATE = 16000
BUS_SINK = "kiosk_bus"
MIC_SINK = "mic_feed"
SPEAKER_SINK = "kiosk_speaker"
MIC_SOURCE = f"{MIC_SINK}.monitor"
SPEAKER_MONITOR = f"{SPEAKER_SINK}.monitor"
BUS_MONITOR = f"{BUS_SINK}.monitor"
# The room's loudspeaker (see VirtualAudio.open_room): a null sink of its own, so that a filter
# on it and on the microphone (module-echo-cancel) does not have both masters on the bus's
# thread, which deadlocks the daemon now and then (seen here 1 load in 2).
ROOM_SINK = "room_speaker"
MIC_CHANNEL = 0
SPEAKER_CHANNEL = 1
REQUIRED_PROGRAMS = ("pulseaudio", "pactl", "pacat", "paplay")

ASOUNDRC = "pcm.!default { type pulse }\nctl.!default { type pulse }\n"
# Variables that could point a child at the user's own sound server, bus or ALSA setup.
_SCRUBBED_PREFIXES = ("PULSE_", "ALSA_", "PIPEWIRE_", "JACK_")
_SCRUBBED_NAMES = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "DBUS_SESSION_BUS_ADDRESS",
    "AUDIODEV",
    "AUDIODRIVER",
)
# A unix socket path must fit in sockaddr_un.sun_path (108 bytes on Linux).
_MAX_SOCKET_PATH = 100
_PR_SET_PDEATHSIG = 1

Samples = npt.NDArray[np.float32]


class HarnessError(RuntimeError):
    """The virtual audio harness could not start, play, record or stop."""


def missing_programs() -> list[str]:
    """Return the PulseAudio programs the harness needs that are not on PATH."""
    return [name for name in REQUIRED_PROGRAMS if shutil.which(name) is None]


def is_available() -> bool:
    """Return True when the PulseAudio daemon and its client tools are installed."""
    return not missing_programs()


def _die_with_parent() -> None:
    """Ask the kernel to stop this child if the test process dies, so no daemon is orphaned."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop_process(proc: subprocess.Popen[Any], timeout: float = 5.0) -> None:
    """Terminate one child by its pid and reap it, killing it if it does not stop in time."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def _tail(path: Path, limit: int = 2000) -> str:
    """Return the end of a log file, or a note that it is empty."""
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return "(no output)"
    return text[-limit:] if text else "(no output)"


class Recording:
    """A running capture of one PulseAudio source; ``stop()`` writes the WAV file."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        raw_path: Path,
        err_path: Path,
        out: Path,
        source: str,
        channels: int,
        launched_at: float,
    ) -> None:
        self.source = source
        self.channels = channels
        self.rate = RATE
        self.path = out
        self.launched_at = launched_at
        # Monotonic time of the recording's first sample; set by wait_for_data().
        self.started_at = launched_at
        self._proc = proc
        self._raw = raw_path
        self._err = err_path
        self._stopped = False

    @property
    def bytes_per_second(self) -> int:
        """Return how many raw bytes one second of this recording takes."""
        return self.rate * self.channels * 2

    def wait_for_data(self, timeout: float) -> None:
        """Block until audio flows, and estimate the monotonic time of the first sample."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            size = self._raw.stat().st_size if self._raw.exists() else 0
            if size:
                # Data arrives in small fragments, so the first sample is about this much older.
                self.started_at = time.monotonic() - size / self.bytes_per_second
                return
            if self._proc.poll() is not None:
                break
            time.sleep(0.002)
        _stop_process(self._proc)
        raise HarnessError(
            f"Recording from {self.source} produced no audio within {timeout:.0f} s; "
            f"check that the PulseAudio daemon still runs. pacat said: {_tail(self._err)}"
        )

    def stop(self) -> Path:
        """Stop recording and write a 16-bit WAV file; returns its path."""
        if self._stopped:
            return self.path
        self._stopped = True
        died_early = self._proc.poll() is not None
        _stop_process(self._proc)
        if died_early and self._proc.returncode != 0:
            raise HarnessError(
                f"Recording from {self.source} stopped by itself (exit code "
                f"{self._proc.returncode}) before stop() was called; the PulseAudio daemon "
                f"probably went away. pacat said: {_tail(self._err)}"
            )
        data = self._raw.read_bytes()
        frame = 2 * self.channels
        data = data[: len(data) - len(data) % frame]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(self.path), "wb") as out:
            out.setnchannels(self.channels)
            out.setsampwidth(2)
            out.setframerate(self.rate)
            out.writeframes(data)
        self._raw.unlink(missing_ok=True)
        return self.path

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Playback:
    """A WAV file being played into one of the virtual devices."""

    def __init__(self, proc: subprocess.Popen[bytes], err_path: Path, wav: Path, sink: str) -> None:
        self.wav = wav
        self.sink = sink
        self.started_at = time.monotonic()
        self.finished_at: float | None = None
        self._proc = proc
        self._err = err_path

    @property
    def running(self) -> bool:
        """Return True while the file is still playing."""
        return self._proc.poll() is None

    def wait(self, timeout: float | None = 60.0) -> None:
        """Wait until the whole file has been played into the sink."""
        try:
            code = self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop_process(self._proc)
            raise HarnessError(
                f"Playing {self.wav} into {self.sink} did not finish within {timeout} s."
            ) from None
        if self.finished_at is None:
            self.finished_at = time.monotonic()
        if code != 0:
            raise HarnessError(
                f"Playing {self.wav} into {self.sink} failed (exit code {code}); check that the "
                f"file is a readable WAV file. paplay said: {_tail(self._err)}"
            )

    def stop(self) -> None:
        """Stop playing now."""
        _stop_process(self._proc)


@dataclass(frozen=True)
class Timeline:
    """Microphone and speaker recorded on one clock (a file from start_recording_both)."""

    rate: int
    mic: Samples
    speaker: Samples
    started_at: float | None = None

    @classmethod
    def read(cls, path: Path, started_at: float | None = None) -> Timeline:
        """Read a WAV file written by ``start_recording_both``."""
        data, rate = read_wav(path)
        if data.ndim != 2 or data.shape[1] != 2:
            raise HarnessError(
                f"{path} is not a two-channel microphone/speaker recording; record it with "
                "VirtualAudio.start_recording_both()."
            )
        return cls(rate, data[:, MIC_CHANNEL].copy(), data[:, SPEAKER_CHANNEL].copy(), started_at)

    @property
    def duration(self) -> float:
        """Return the length of the recording in seconds."""
        return len(self.mic) / self.rate

    def mic_segments(self, **options: float) -> list[tuple[float, float]]:
        """Return (start, end) seconds of sound played into the microphone."""
        return speech_segments(self.mic, self.rate, **options)

    def speaker_segments(self, **options: float) -> list[tuple[float, float]]:
        """Return (start, end) seconds of sound the kiosk played."""
        return speech_segments(self.speaker, self.rate, **options)

    def response_latency(self, after: float = 0.0, **options: float) -> float | None:
        """Return seconds from the end of the last mic sound to the first speaker sound after it.

        Only speaker sound starting at or after ``after`` seconds counts; None if there is none
        or if nothing was said into the microphone before it.
        """
        answers = [s for s in self.speaker_segments(**options) if s[0] >= after]
        if not answers:
            return None
        answer_start = answers[0][0]
        questions = [s for s in self.mic_segments(**options) if s[1] <= answer_start]
        if not questions:
            return None
        return answer_start - questions[-1][1]


def read_wav(path: Path) -> tuple[Samples, int]:
    """Read a sound file as float32 in [-1, 1]: shape (n,) for mono, (n, channels) otherwise."""
    try:
        data, rate = sf.read(str(path), dtype="float32")
    except (OSError, RuntimeError) as error:
        raise HarnessError(f"Could not read the sound file {path}: {error}") from error
    return np.asarray(data, dtype=np.float32), int(rate)


def speech_segments(
    samples: npt.ArrayLike,
    rate: int,
    threshold_dbfs: float = -45.0,
    min_gap_ms: float = 300.0,
    frame_ms: float = 10.0,
) -> list[tuple[float, float]]:
    """Return (start, end) seconds of the stretches louder than ``threshold_dbfs``.

    Frames of ``frame_ms`` whose RMS level exceeds the threshold are sound; sound separated by
    less than ``min_gap_ms`` of quiet is one segment (pauses between words).
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("speech_segments() needs one channel; pick a column of a stereo array.")
    frame = max(1, round(rate * frame_ms / 1000))
    count = len(x) // frame
    if count == 0:
        return []
    frames = x[: count * frame].reshape(count, frame)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    level = 20 * np.log10(np.maximum(rms, 1e-12))
    active = np.concatenate(([0], (level > threshold_dbfs).astype(np.int8), [0]))
    edges = np.diff(active)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    max_gap_frames = min_gap_ms / frame_ms
    merged: list[list[int]] = []
    for start, end in zip(starts, ends, strict=True):
        if merged and start - merged[-1][1] < max_gap_frames:
            merged[-1][1] = int(end)
        else:
            merged.append([int(start), int(end)])
    return [(s * frame / rate, e * frame / rate) for s, e in merged]


def find_speech_segments(
    wav: Path,
    threshold_dbfs: float = -45.0,
    min_gap_ms: float = 300.0,
    channel: int | None = None,
) -> list[tuple[float, float]]:
    """Return (start, end) seconds of sound in a WAV file (one channel; mono files need none)."""
    data, rate = read_wav(wav)
    if data.ndim == 2:
        if channel is None:
            raise HarnessError(
                f"{wav} has {data.shape[1]} channels; pass channel= to say which one to search."
            )
        data = data[:, channel]
    return speech_segments(data, rate, threshold_dbfs=threshold_dbfs, min_gap_ms=min_gap_ms)


def write_tone_bursts(
    path: Path,
    bursts: Iterable[tuple[float, float]],
    total_s: float,
    frequency: float = 440.0,
    amplitude: float = 0.5,
    rate: int = RATE,
) -> Path:
    """Write a mono 16-bit WAV: silence with sine bursts at the given (start, duration) seconds."""
    out = np.zeros(round(total_s * rate), dtype=np.float32)
    for start, duration in bursts:
        first = round(start * rate)
        n = min(round(duration * rate), len(out) - first)
        t = np.arange(n) / rate
        out[first : first + n] = amplitude * np.sin(2 * np.pi * frequency * t)
    sf.write(str(path), out, rate, subtype="PCM_16")
    return path


class VirtualAudio:
    """A private PulseAudio daemon with a virtual microphone and speaker (a context manager).

    Nothing touches the user's HOME, sound server or session bus: every child gets ``env``,
    which points HOME, XDG and PulseAudio paths into a private temporary directory.
    """

    def __init__(
        self,
        startup_timeout: float = 10.0,
        extra_script_lines: Sequence[str] = (),
    ) -> None:
        self.startup_timeout = startup_timeout
        self.extra_script_lines = tuple(extra_script_lines)
        self.env: dict[str, str] = {}
        self.dir: Path | None = None
        self.startup_seconds: float | None = None
        self._daemon: subprocess.Popen[bytes] | None = None
        self._children: list[subprocess.Popen[Any]] = []
        self._counter = 0
        self._script: list[str] = []

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        """Return the daemon's process id."""
        if self._daemon is None:
            raise HarnessError("The virtual audio daemon is not running; call start() first.")
        return self._daemon.pid

    @property
    def socket(self) -> Path:
        """Return the path of the daemon's native-protocol socket."""
        return self._path("run", "native")

    def start(self) -> VirtualAudio:
        """Create the private directory, start the daemon and wait until it answers."""
        if self._daemon is not None:
            return self
        missing = missing_programs()
        if missing:
            raise HarnessError(
                f"The virtual audio harness needs {', '.join(missing)}; install the Debian "
                "packages pulseaudio and pulseaudio-utils."
            )
        began = time.monotonic()
        self.dir = self._make_dir()
        try:
            self.env = self._build_env(self.dir)
            self._write_config(self.dir)
            self._start_daemon()
            self._check_layout()
            self._start_latency_keeper()
        except BaseException:
            self.close()
            raise
        self.startup_seconds = time.monotonic() - began
        logger.info("virtual audio ready in %.3f s (pid %d)", self.startup_seconds, self.pid)
        return self

    def close(self) -> None:
        """Stop every child started here and the daemon (by pid), then remove the directory."""
        for child in reversed(self._children):
            _stop_process(child)
        self._children.clear()
        if self._daemon is not None:
            _stop_process(self._daemon)
            self._daemon = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> VirtualAudio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- running programs -----------------------------------------------------------------

    def popen(self, cmd: Sequence[str | os.PathLike[str]], **kw: Any) -> subprocess.Popen[Any]:
        """Start a program with the harness environment (``env=`` entries are added to it)."""
        self._require_running()
        kw["env"] = {**self.env, **(kw.get("env") or {})}
        proc: subprocess.Popen[Any] = subprocess.Popen(cmd, **kw)
        self._children.append(proc)
        self._children = [c for c in self._children if c.poll() is None]
        return proc

    def run(
        self, cmd: Sequence[str | os.PathLike[str]], **kw: Any
    ) -> subprocess.CompletedProcess[Any]:
        """Run a program to completion with the harness environment."""
        self._require_running()
        kw["env"] = {**self.env, **(kw.get("env") or {})}
        return subprocess.run(cmd, **kw)

    def python_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Return the environment for a Python child that uses sounddevice (PortAudio).

        PortAudio reads the ALSA and PulseAudio setup once, at initialisation, so the program
        under test must be started as a new process with this environment.
        """
        self._require_running()
        env = {**self.env, "PYTHONUNBUFFERED": "1"}
        env.update(extra or {})
        return env

    def pactl(self, *args: str) -> str:
        """Run pactl against the private daemon and return its output."""
        result = self.run(
            ["pactl", *args],
            env={"LC_ALL": "C"},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if result.returncode != 0:
            raise HarnessError(
                f"pactl {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}"
            )
        return str(result.stdout)

    def load_module(self, name: str, *args: str) -> int:
        """Load a PulseAudio module into the private daemon; returns its index."""
        return int(self.pactl("load-module", name, *args).strip())

    def unload_module(self, index: int) -> None:
        """Unload a module loaded with load_module()."""
        self.pactl("unload-module", str(index))

    def echo_speaker_into_mic(self, latency_msec: int = 50, level_db: float = 0.0) -> int:
        """Let the microphone hear the speaker (like a real room); returns the module index.

        ``level_db`` is the echo's level relative to what the kiosk plays (-6 is a loud room).
        """
        module = self.load_module(
            "module-loopback",
            f"source={SPEAKER_MONITOR}",
            f"sink={MIC_SINK}",
            f"latency_msec={latency_msec}",
            "source_dont_move=true",
            "sink_dont_move=true",
        )
        if level_db:
            self.set_module_volume(module, level_db)
        return module

    def set_module_volume(self, module: int, level_db: float) -> None:
        """Set the volume of the stream a module plays (a loopback's echo level), in dB."""
        for row in json.loads(self.pactl("-f", "json", "list", "sink-inputs")):
            if str(row.get("owner_module")) == str(module):
                self.pactl("set-sink-input-volume", str(row["index"]), f"{level_db}dB")
                return
        raise HarnessError(f"Module {module} plays no stream whose volume could be set.")

    def open_room(self) -> list[int]:
        """Make the default sink a loudspeaker of its own that also reaches ``kiosk_speaker``.

        What the kiosk plays still lands on the speaker channel of the bus recording (about
        20 ms later). Returns the modules to pass to close_room().
        """
        modules = [
            self.load_module(
                "module-null-sink", f"sink_name={ROOM_SINK}", f"rate={RATE}", "channels=1"
            ),
        ]
        modules.append(
            self.load_module(
                "module-loopback",
                f"source={ROOM_SINK}.monitor",
                f"sink={SPEAKER_SINK}",
                "latency_msec=20",
                "source_dont_move=true",
                "sink_dont_move=true",
            )
        )
        self.pactl("set-default-sink", ROOM_SINK)
        return modules

    def close_room(self, modules: Sequence[int]) -> None:
        """Undo open_room(), and unload any echo canceller a kiosk loaded on the room."""
        for row in self.pactl("list", "short", "modules").splitlines():
            index, name = row.split("\t")[:2]
            if name == "module-echo-cancel":
                self.unload_module(int(index))
        self.pactl("set-default-sink", SPEAKER_SINK)
        for module in reversed(modules):
            self.unload_module(module)

    # -- playing and recording -----------------------------------------------------------

    def play(self, wav: Path, sink: str, block: bool = True, timeout: float = 60.0) -> Playback:
        """Play a sound file into a sink; with ``block`` wait until it has all been played."""
        self._require_running()
        if not Path(wav).is_file():
            raise HarnessError(f"The sound file {wav} does not exist.")
        err = self._new_file("play", ".log")
        with err.open("wb") as err_file:
            proc = self.popen(
                ["paplay", f"--device={sink}", "--client-name=virtual-audio-test", str(wav)],
                stdout=subprocess.DEVNULL,
                stderr=err_file,
            )
        playback = Playback(proc, err, Path(wav), sink)
        if block:
            playback.wait(timeout)
        return playback

    def speak_into_mic(self, wav: Path, block: bool = True, timeout: float = 60.0) -> Playback:
        """Play a sound file into the virtual microphone, as a patient speaking."""
        return self.play(wav, MIC_SINK, block=block, timeout=timeout)

    def play_on_speaker(self, wav: Path, block: bool = True, timeout: float = 60.0) -> Playback:
        """Play a sound file on the kiosk's speaker, as if the kiosk had said it."""
        return self.play(wav, SPEAKER_SINK, block=block, timeout=timeout)

    def start_recording(
        self, out: Path, source: str, channels: int = 1, timeout: float = 5.0
    ) -> Recording:
        """Start recording a source at 16 kHz s16le; returns once audio flows."""
        self._require_running()
        raw = self._new_file("rec", ".raw")
        err = self._new_file("rec", ".log")
        launched_at = time.monotonic()
        # Raw PCM on stdout rather than parecord's WAV: a WAV header is only finalised on a
        # clean exit, raw data survives any way the recorder ends.
        with raw.open("wb") as raw_file, err.open("wb") as err_file:
            proc = self.popen(
                [
                    "pacat",
                    "--record",
                    "--raw",
                    f"--device={source}",
                    f"--rate={RATE}",
                    f"--channels={channels}",
                    "--format=s16le",
                    "--latency-msec=10",
                    "--client-name=virtual-audio-test",
                ],
                stdout=raw_file,
                stderr=err_file,
            )
        recording = Recording(proc, raw, err, Path(out), source, channels, launched_at)
        recording.wait_for_data(timeout)
        return recording

    def start_recording_speaker(self, out: Path) -> Recording:
        """Record what the kiosk plays (kiosk_speaker.monitor), mono."""
        return self.start_recording(out, SPEAKER_MONITOR)

    def start_recording_mic(self, out: Path) -> Recording:
        """Record what is played into the microphone (mic_feed.monitor), mono."""
        return self.start_recording(out, MIC_SOURCE)

    def start_recording_both(self, out: Path) -> Recording:
        """Record microphone (channel 0) and speaker (channel 1) on one clock; see Timeline."""
        return self.start_recording(out, BUS_MONITOR, channels=2)

    # -- internals ------------------------------------------------------------------------

    def _require_running(self) -> None:
        if self._daemon is None or self._daemon.poll() is not None:
            raise HarnessError(
                "The virtual audio daemon is not running; use VirtualAudio as a context manager "
                "or call start() first."
            )

    def _path(self, *parts: str) -> Path:
        if self.dir is None:
            raise HarnessError("The virtual audio harness has no directory; call start() first.")
        return self.dir.joinpath(*parts)

    def _new_file(self, stem: str, suffix: str) -> Path:
        self._counter += 1
        return self._path(f"{stem}-{self._counter}{suffix}")

    @staticmethod
    def _make_dir() -> Path:
        """Create the private directory somewhere short enough for a unix socket path."""
        path = Path(tempfile.mkdtemp(prefix="kiosk-pa-"))
        if len(str(path / "run" / "native")) > _MAX_SOCKET_PATH:
            # A long TMPDIR (pytest's basetemp, macOS) would make the socket path invalid.
            shutil.rmtree(path, ignore_errors=True)
            path = Path(tempfile.mkdtemp(prefix="kiosk-pa-", dir="/tmp"))
        return path

    @staticmethod
    def _build_env(root: Path) -> dict[str, str]:
        """Return os.environ minus anything naming another sound server, plus private paths."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in _SCRUBBED_NAMES and not k.startswith(_SCRUBBED_PREFIXES)
        }
        home = root / "home"
        env.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_RUNTIME_DIR=str(root / "run"),
            PULSE_RUNTIME_PATH=str(root / "run"),
            PULSE_STATE_PATH=str(root / "state"),
            PULSE_SERVER=f"unix:{root / 'run' / 'native'}",
            PULSE_CLIENTCONFIG=str(root / "client.conf"),
        )
        return env

    def _write_config(self, root: Path) -> None:
        for sub in ("home/.config/pulse", "run", "state"):
            (root / sub).mkdir(parents=True, mode=0o700, exist_ok=True)
        (root / "home" / ".asoundrc").write_text(ASOUNDRC)
        # No client may ever spawn a daemon of its own if ours is gone.
        (root / "client.conf").write_text("autospawn = no\n")
        lines = [
            f"load-module module-null-sink sink_name={BUS_SINK} rate={RATE} channels=2 "
            "channel_map=front-left,front-right format=s16le",
            # Held until a low-latency reader is attached; see _start_latency_keeper().
            f"suspend-sink {BUS_SINK} 1",
            f"load-module module-remap-sink sink_name={MIC_SINK} master={BUS_SINK} channels=1 "
            "channel_map=mono master_channel_map=front-left remix=no",
            f"load-module module-remap-sink sink_name={SPEAKER_SINK} master={BUS_SINK} channels=1 "
            "channel_map=mono master_channel_map=front-right remix=no",
            f"set-default-sink {SPEAKER_SINK}",
            f"set-default-source {MIC_SOURCE}",
            *self.extra_script_lines,
            # Last, so that a client that can connect finds every device in place.
            f"load-module module-native-protocol-unix socket={root / 'run' / 'native'} "
            "auth-anonymous=1",
        ]
        self._script = lines
        (root / "kiosk.pa").write_text("\n".join(lines) + "\n")

    def _start_daemon(self) -> None:
        root = self._path()
        log = root / "daemon.log"
        cmd = [
            "pulseaudio",
            "--daemonize=no",
            # User mode even as root: system mode forbids loading modules and wants a pulse user.
            "--system=no",
            "-n",
            f"--file={root / 'kiosk.pa'}",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--realtime=no",
            "--high-priority=no",
            "--no-cpu-limit=yes",
            "--disable-shm=yes",
            "--log-target=stderr",
        ]
        with log.open("wb") as log_file:
            self._daemon = subprocess.Popen(
                cmd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._daemon.poll() is not None:
                raise HarnessError(
                    f"PulseAudio exited with code {self._daemon.returncode} while starting; "
                    f"its log says: {_tail(log)}"
                )
            if self.socket.exists() and self._pactl_answers():
                return
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"PulseAudio did not answer within {self.startup_timeout:.0f} s; "
                    f"its log says: {_tail(log)}"
                )
            time.sleep(0.02)

    def _pactl_answers(self) -> bool:
        result = subprocess.run(
            ["pactl", "info"],
            env={**self.env, "LC_ALL": "C"},
            capture_output=True,
            timeout=10,
            check=False,
        )
        return result.returncode == 0

    def _check_layout(self) -> None:
        info = dict(line.split(": ", 1) for line in self.pactl("info").splitlines() if ": " in line)
        expected = {"Default Sink": SPEAKER_SINK, "Default Source": MIC_SOURCE}
        wrong = {k: info.get(k) for k, v in expected.items() if info.get(k) != v}
        if wrong:
            raise HarnessError(f"The virtual audio daemon started with wrong defaults: {wrong}.")
        # A failing line in a -F script is logged and skipped, not fatal, so count modules.
        wanted = Counter(line.split()[1] for line in self._script if line.startswith("load-module"))
        rows = self.pactl("list", "short", "modules").splitlines()
        loaded = Counter(row.split("\t")[1] for row in rows if "\t" in row)
        missing = sorted((wanted - loaded).elements())
        if missing:
            raise HarnessError(
                f"PulseAudio could not load {', '.join(missing)} from "
                f"{self._path('kiosk.pa')}; its log says: {_tail(self._path('daemon.log'))}"
            )

    def _start_latency_keeper(self) -> None:
        """Attach one low-latency reader to the bus for good, then let the bus run.

        A null sink nobody asks for low latency renders two seconds ahead of real time, and a
        recorder that joins then gets no audio until real time catches up (measured: 2 s).
        Resuming the bus only after this reader is attached starts its clock at low latency.
        """
        keeper = self.popen(
            [
                "pacat",
                "--record",
                "--raw",
                f"--device={BUS_MONITOR}",
                f"--rate={RATE}",
                "--channels=1",
                "--format=s16le",
                "--latency-msec=20",
                "--client-name=virtual-audio-latency-keeper",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + self.startup_timeout
        while not self.pactl("list", "short", "source-outputs").strip():
            if keeper.poll() is not None or time.monotonic() > deadline:
                raise HarnessError(
                    "The virtual audio harness could not attach its reader to the bus; "
                    f"the daemon log says: {_tail(self._path('daemon.log'))}"
                )
            time.sleep(0.01)
        self.pactl("suspend-sink", BUS_SINK, "0")
