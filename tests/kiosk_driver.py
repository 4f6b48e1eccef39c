"""Drive a real `voice run` kiosk through virtual PulseAudio devices (for e2e tests and benchmarks).

The kiosk runs as a subprocess with the harness environment (PortAudio reads it at start-up),
reports its events (no transcripts) as JSON lines through --status-file, and is heard through
the virtual speaker; what it said is checked by transcribing that recording with Vosk.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pulse_harness import Recording, VirtualAudio, read_wav
from speechgen import AudioCache, VoiceSpec

from voice.content.loader import default_content_dir, load_content
from voice.text.normalize import Normalizer

REPO = Path(__file__).resolve().parents[1]
VOICE = REPO / ".venv" / "bin" / "voice"
# One speech cache for every kiosk the tests start (the harness's HOME is private to each test):
# the first kiosk of a content version renders its lines (about a minute of CPU in a child
# process), the rest read them. bench_kiosk.py uses the same folder.
SPEECH_CACHE = REPO / ".cache" / "speech"
# A clear test voice: the kiosk tests are about the loop, not about accents.
TEST_VOICE = VoiceSpec("flite", "slt", None, None)

Event = dict[str, Any]


def spoken(text: str, voice: VoiceSpec = TEST_VOICE) -> Path:
    """A cached WAV of ``text`` spoken by a test voice."""
    return AudioCache().speech(text, voice)


@dataclass
class KioskProcess:
    """A running kiosk and its status log."""

    audio: VirtualAudio
    proc: subprocess.Popen[bytes]
    status: Path
    output: Path

    @classmethod
    def start(
        cls, audio: VirtualAudio, tmp: Path, extra_args: Sequence[str] = ()
    ) -> KioskProcess:
        """Start `voice run` on the virtual devices; returns once the greeting has been spoken."""
        status = tmp / "status.jsonl"
        output = tmp / "kiosk-output.txt"
        # The kiosk loads the sound server's echo canceller by default; here only where a test
        # asks for it and opens a room for it (see VirtualAudio.open_room: on the plain bus a
        # canceller can deadlock the test daemon).
        defaults = [] if "--echo-cancel" in extra_args else ["--echo-cancel", "off"]
        cmd = [
            str(VOICE), "-v", "run", "--no-keys", "--log-transcripts", "--status-file", str(status),
            *defaults, *extra_args,
        ]
        with output.open("wb") as out:
            env = audio.python_env({"VOICE_SPEECH_CACHE": str(SPEECH_CACHE)})
            proc = audio.popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        kiosk = cls(audio, proc, status, output)
        kiosk.wait_for(lambda e: e["event"] == "speech_finished", timeout=60)
        return kiosk

    def events(self) -> list[Event]:
        """Every status event so far."""
        if not self.status.exists():
            return []
        return [json.loads(line) for line in self.status.read_text().splitlines() if line]

    def wait_for(
        self, predicate: Callable[[Event], bool], timeout: float, after: float = 0.0
    ) -> Event:
        """The first event (at or after monotonic time ``after``) matching ``predicate``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events():
                if event["t"] >= after and predicate(event):
                    return event
            if self.proc.poll() is not None:
                output = self.output.read_text(errors="replace")
                raise AssertionError(f"the kiosk exited: {output[-2000:]}")
            time.sleep(0.05)
        log = self.output.read_text(errors="replace").splitlines()[-12:]
        raise AssertionError(
            f"no matching kiosk event within {timeout} s; events: {self.events()[-8:]}; "
            "the kiosk's log ends:\n" + "\n".join(log)
        )

    def wait_quiet(self, after: float, timeout: float = 60.0) -> Event:
        """Wait until the kiosk finished speaking (after monotonic time ``after``)."""
        return self.wait_for(lambda e: e["event"] == "speech_finished", timeout, after)

    def stop(self) -> int:
        """SIGTERM, as a service manager would; returns the exit status."""
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise

    def say_into_mic(self, wav: Path) -> float:
        """Play a question into the virtual microphone; returns the monotonic time it ended."""
        self.audio.speak_into_mic(wav)
        return time.monotonic()


def speaker_audio(recording_wav: Path) -> tuple[np.ndarray, int]:
    """The speaker channel of a both-channels recording (channel 1), as float samples."""
    samples, rate = read_wav(recording_wav)
    if samples.ndim == 2:
        samples = samples[:, 1]
    return samples, rate


def transcribe_samples(samples: np.ndarray, rate: int) -> str:
    """Open-vocabulary Vosk transcript of float samples at 16 kHz."""
    from voice.audio.pcm import float_to_pcm16
    from voice.hearing.decoder import decode_chunks
    from voice.hearing.model import load_model, locate_model

    assert rate == 16000, rate
    pcm = float_to_pcm16(samples)
    chunks = [pcm[i : i + 8000] for i in range(0, len(pcm), 8000)]
    return decode_chunks(_model(load_model, locate_model), chunks).text


_MODEL: list[Any] = []


def _model(load: Callable[[Path], Any], locate: Callable[[], Path]) -> Any:
    if not _MODEL:
        _MODEL.append(load(locate()))
    return _MODEL[0]


def best_answer(heard: str, answers: dict[str, str]) -> tuple[str, float]:
    """Which FAQ answer a transcript of the kiosk's speech is, by shared words (0–1).

    Both sides are normalised the way the matcher normalises ("fifteen" heard, "15" written).
    """
    heard_words = set(_normalize()(heard).split())
    scores = {}
    for entry_id, answer in answers.items():
        words = set(_normalize()(answer).split())
        scores[entry_id] = len(words & heard_words) / len(words)
    entry_id = max(scores, key=lambda k: scores[k])
    return entry_id, scores[entry_id]


def level_db(recording: Recording, start: float, end: float) -> float:
    """Mean power (dBFS) of a mono recording between two monotonic times."""
    samples, rate = read_wav(recording.path)
    first = max(0, round((start - recording.started_at) * rate))
    last = max(first, round((end - recording.started_at) * rate))
    part = samples[first:last].astype(np.float64)
    return float(10 * np.log10(np.mean(part * part) + 1e-15)) if part.size else -150.0


def record(audio: VirtualAudio, path: Path) -> Recording:
    """Record microphone (channel 0) and speaker (channel 1) on one clock."""
    return audio.start_recording_both(path)


if __name__ == "__main__":  # pragma: no cover - manual use
    print(spoken(" ".join(sys.argv[1:])))


_NORMALIZER: list[Normalizer] = []


def _normalize() -> Normalizer:
    """The matcher's normaliser for the bundled content (built once)."""
    if not _NORMALIZER:
        faq = load_content(default_content_dir())
        _NORMALIZER.append(Normalizer(rewrites=faq.subject.rewrites()))
    return _NORMALIZER[0]
