"""Tests for the speaker: pure signal helpers, and real playback into a PulseAudio null sink."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voice.audio.speaker import Cue, _to_float, cue_audio
from voice.speaking.synthesis import SpeechAudio

REPO = Path(__file__).resolve().parent.parent


def _dominant_hz(samples: np.ndarray[Any, Any], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


@pytest.mark.parametrize(("kind", "rising"), [(Cue.LISTENING, True), (Cue.DONE_LISTENING, False)])
def test_cue_is_two_soft_short_notes(kind: Cue, rising: bool) -> None:
    cue = cue_audio(kind)
    assert cue.sample_rate == 22050
    assert 0.15 < cue.duration_s < 0.4
    peak = int(np.abs(cue.samples.astype(np.int32)).max())
    assert 3000 < peak < 12000  # audible but well below full scale
    # Faded in and out, so it does not click.
    assert abs(int(cue.samples[0])) < 50
    assert abs(int(cue.samples[-1])) < 50
    half = len(cue.samples) // 2
    first = _dominant_hz(cue.samples[:half], cue.sample_rate)
    second = _dominant_hz(cue.samples[half:], cue.sample_rate)
    assert (second > first) is rising


def test_to_float_applies_gain_and_limits() -> None:
    audio = SpeechAudio(samples=np.array([16384, -16384, 32767], dtype=np.int16), sample_rate=8000)
    out = _to_float(audio, 0.5, 8000)
    assert out.dtype == np.float32
    assert out.tolist() == pytest.approx([0.25, -0.25, 0.5], abs=1e-4)
    # Too loud: the whole sentence is scaled to the limit, keeping the ratios.
    assert _to_float(audio, 3.0, 8000).tolist() == pytest.approx([0.472, -0.472, 0.944], abs=1e-3)


@pytest.mark.parametrize(("source", "target"), [(22050, 48000), (22050, 44100), (22050, 16000)])
def test_resample_keeps_duration_pitch_and_level(source: int, target: int) -> None:
    t = np.arange(source) / source
    tone = (np.sin(2 * np.pi * 440 * t) * 16384).astype(np.int16)
    out = _to_float(SpeechAudio(samples=tone, sample_rate=source), 1.0, target)
    assert len(out) == target
    assert _dominant_hz(out, target) == pytest.approx(440, abs=2)
    middle = out[target // 10 : -target // 10]
    assert float(np.sqrt(np.mean(middle.astype(np.float64) ** 2))) == pytest.approx(
        0.5 / np.sqrt(2), rel=0.01
    )


def test_resample_through_to_float_when_the_device_rate_differs() -> None:
    audio = SpeechAudio(samples=np.full(22050, 8192, dtype=np.int16), sample_rate=22050)
    out = _to_float(audio, 1.0, 48000)
    assert len(out) == 48000
    # The filter rises into the first samples and falls out of the last (about 1.3 ms each).
    assert out[100:-100].tolist() == pytest.approx([0.25] * 47800, abs=1e-4)


def test_resampling_does_not_alias_a_tone_above_the_lower_nyquist() -> None:
    # 10 kHz from 22050 Hz audio to a 16 kHz device: linear interpolation folds it to 6 kHz.
    t = np.arange(22050) / 22050
    tone = (np.sin(2 * np.pi * 10000 * t) * 16384).astype(np.int16)
    out = _to_float(SpeechAudio(samples=tone, sample_rate=22050), 1.0, 16000)
    assert float(np.max(np.abs(out[1600:-1600]))) < 0.01


# ---------------------------------------------------------------------------------------------
# End to end: sounddevice → PortAudio → ALSA → PulseAudio null sink "kiosk_speaker", captured
# from its monitor. PortAudio reads the environment when it is loaded, so every check runs in a
# child process with the test daemon's environment.

_PULSE_SCRIPT = """\
load-module module-native-protocol-unix
load-module module-null-sink sink_name=kiosk_speaker
set-default-sink kiosk_speaker
"""

# The child: plays through voice.audio.speaker while parec captures kiosk_speaker.monitor, and
# prints what it measured as JSON. Chunk arrival times map captured samples to monotonic time.
_CHILD = r"""
import json, subprocess, sys, threading, time
import numpy as np
from voice.audio.speaker import Speaker, is_available
from voice.speaking.synthesis import Pyttsx3Synthesizer, join_audio

RATE = 22050


class Capture:
    def __init__(self):
        self.proc = subprocess.Popen(
            ["parec", "--device=kiosk_speaker.monitor", "--format=s16le", f"--rate={RATE}",
             "--channels=1", "--latency-msec=5"],
            stdout=subprocess.PIPE,
        )
        self.chunks, self.times = [], []
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        if not self.started.wait(10):
            raise RuntimeError("parec produced no data")
        time.sleep(0.2)

    def _read(self):
        while True:
            data = self.proc.stdout.read1(1024)
            if not data:
                return
            self.chunks.append(data)
            self.times.append(time.monotonic())
            self.started.set()

    def finish(self):
        self.proc.terminate()
        self.proc.wait()
        self.thread.join()
        data = b"".join(self.chunks)
        samples = np.frombuffer(data[: len(data) // 2 * 2], dtype=np.int16) / 32768.0
        ends = np.cumsum([len(c) for c in self.chunks]) // 2
        return samples, ends, np.array(self.times)


def audible(samples, ends, times):
    loud = np.nonzero(np.abs(samples) > 0.01)[0]
    if len(loud) == 0:
        return {"heard_s": 0.0, "peak": 0.0, "rms": 0.0}

    def when(index):
        chunk = min(int(np.searchsorted(ends, index, side="right")), len(times) - 1)
        return float(times[chunk] - (ends[chunk] - index) / RATE)

    part = samples[loud[0] : loud[-1] + 1]
    return {
        "heard_s": (loud[-1] - loud[0]) / RATE,
        "peak": float(np.abs(part).max()),
        "rms": float(np.sqrt(np.mean(part**2))),
        "first_heard": when(loud[0]),
        "last_heard": when(loud[-1]),
    }


def speech(text, rate=155):
    return Pyttsx3Synthesizer().synthesize(text, rate)


def leading_silence_s(audio):
    return int(np.nonzero(np.abs(audio.samples) > 328)[0][0]) / audio.sample_rate


def audible_span_s(audio):
    loud = np.nonzero(np.abs(audio.samples) > 328)[0]
    return (loud[-1] - loud[0]) / audio.sample_rate


def check_play():
    audio = speech("Please take a seat and a member of staff will call your name shortly.")
    capture = Capture()
    with Speaker() as speaker:
        speaker.open()
        called = time.monotonic()
        speaker.play(audio, 1.0)
        returned = time.monotonic()
        speaker.play(audio, 1.0)  # queued behind the first
        playing_at_start = speaker.is_playing()
        finished = speaker.wait(timeout=30)
        waited = time.monotonic()
        result = {
            "duration_s": audio.duration_s,
            "audible_span_s": audible_span_s(audio),
            "play_call_s": returned - called,
            "playing_at_start": playing_at_start,
            "finished": finished,
            "wait_s": waited - called,
            "playing_after": speaker.is_playing(),
            "first_audio_after_play_s": speaker.first_audio_time - called,
            "last_played_until": speaker.last_played_until,
        }
    result.update(audible(*capture.finish()))
    return result


def check_stop():
    sentences = [speech(s, 120) for s in (
        "This answer is long enough to be interrupted by the patient.",
        "It keeps going for well over five seconds at this slow rate.",
    )]
    audio = join_audio(sentences, 0.2)
    capture = Capture()
    with Speaker() as speaker:
        speaker.play(audio, 1.0)
        speaker.play(audio, 1.0)  # queued behind: must be dropped too
        time.sleep(1.0)
        stop_called = time.monotonic()
        speaker.stop()
        stop_returned = time.monotonic()
        result = {
            "duration_s": 2 * audio.duration_s,
            "stop_call_s": stop_returned - stop_called,
            "playing_after_stop": speaker.is_playing(),
            "wait_after_stop": speaker.wait(timeout=0.5),
            "played_before_stop_s": stop_called - speaker.first_audio_time,
            "leading_silence_s": leading_silence_s(audio),
            "stop_called": stop_called,
            "last_played_until": speaker.last_played_until,
        }
        time.sleep(1.0)
    result.update(audible(*capture.finish()))
    # The speaker must still work after a stop.
    capture = Capture()
    with Speaker() as speaker:
        speaker.play(sentences[0], 1.0)
        speaker.stop()
        speaker.play(sentences[0], 1.0)
        result["replay_finished"] = speaker.wait(timeout=30)
    result["replay"] = audible(*capture.finish())
    result["replay_span_s"] = audible_span_s(sentences[0])
    return result


def check_volume():
    audio = speech("The pharmacy is on the ground floor next to the cafe.")
    levels = {}
    for volume in (1.0, 0.5):
        capture = Capture()
        with Speaker() as speaker:
            speaker.play(audio, volume)
            speaker.wait(timeout=30)
        levels[str(volume)] = audible(*capture.finish())
    return levels


def check_available():
    return {"available": is_available()}


def check_gone():
    # The daemon behind the speaker dies mid-sentence: a DeviceError, never a hang.
    import os, signal
    from voice.errors import DeviceError
    audio = speech("This answer is long enough for the speaker to vanish while it plays.", 120)
    speaker = Speaker()
    speaker.play(audio, 1.0)
    time.sleep(1.0)
    os.kill(int(os.environ["KIOSK_PULSE_PID"]), signal.SIGKILL)
    result = {}
    for step in ("wait", "play"):
        started = time.monotonic()
        try:
            speaker.wait(timeout=10) if step == "wait" else speaker.play(audio, 1.0)
            result[step] = "no error"
        except DeviceError as error:
            result[step] = str(error)
        result[step + "_s"] = time.monotonic() - started
    speaker.close()
    return result


def check_none():
    from voice.errors import DeviceError
    result = {"available": is_available()}
    try:
        Speaker().play(speech("Hello."), 1.0)
        result["play"] = "no error"
    except DeviceError as error:
        result["play"] = str(error)
    return result


print(json.dumps(globals()["check_" + sys.argv[1]]()))
"""


def _start_pulse(root: Path) -> tuple[dict[str, str], int]:
    """Start a private PulseAudio daemon with a null sink; return its environment and pid."""
    for tool in ("pulseaudio", "pactl", "parec"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install pulseaudio pulseaudio-utils)")
    home, runtime = root / "home", root / "run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    # A temporary HOME's ~/.asoundrc routes ALSA's default device to PulseAudio without
    # replacing the system ALSA configuration (ALSA_CONFIG_PATH would).
    (home / ".asoundrc").write_text("pcm.!default { type pulse }\nctl.!default { type pulse }\n")
    script = root / "kiosk.pa"
    script.write_text(_PULSE_SCRIPT)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "PULSE_RUNTIME_PATH": str(runtime / "pulse"),
        "PYTHONPATH": str(REPO),
    }
    env.pop("PULSE_SERVER", None)
    # -n with our own script: no suspend-on-idle, so the monitor streams continuously.
    subprocess.run(
        [
            "pulseaudio",
            "--daemonize=yes",
            "-n",
            f"--file={script}",
            "--exit-idle-time=-1",
            f"--log-target=file:{root / 'pulse.log'}",
        ],
        env=env,
        check=True,
        timeout=30,
    )
    deadline = time.monotonic() + 15
    while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            pytest.fail(f"The test PulseAudio daemon did not start; see {root / 'pulse.log'}")
        time.sleep(0.1)
    pid = int((runtime / "pulse" / "pid").read_text().split()[0])
    return env, pid


def _stop_pulse(pid: int) -> None:
    """Stop the test daemon by its pid and wait until it has gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


@pytest.fixture(scope="module")
def pulse_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A private PulseAudio daemon with a null sink "kiosk_speaker", shared by the module."""
    env, pid = _start_pulse(tmp_path_factory.mktemp("pulse"))
    try:
        yield env
    finally:
        _stop_pulse(pid)


def _run_child(env: dict[str, str], check: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, check],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.e2e
def test_speech_is_played_to_the_speaker(pulse_env: dict[str, str]) -> None:
    result = _run_child(pulse_env, "play")
    assert result["play_call_s"] < 0.1  # play() on an open speaker does not block
    assert result["playing_at_start"]
    assert result["finished"]
    assert not result["playing_after"]
    duration = result["duration_s"]
    # Both utterances came out whole, one straight after the other: from the first's first
    # sound to the second's last is one whole utterance plus the second's sounding part.
    assert result["heard_s"] == pytest.approx(duration + result["audible_span_s"], abs=0.03)
    assert result["peak"] > 0.3
    assert 0 <= result["first_audio_after_play_s"] < 0.1
    assert 2 * duration - 0.5 < result["wait_s"] < 2 * duration + 1.0
    # last_played_until is when the sound really ended (within the trailing silence).
    assert result["last_played_until"] - result["last_heard"] == pytest.approx(0.2, abs=0.2)


@pytest.mark.e2e
def test_stop_cuts_speech_off_at_once_and_drops_the_queue(pulse_env: dict[str, str]) -> None:
    result = _run_child(pulse_env, "stop")
    assert result["duration_s"] > 10
    assert result["stop_call_s"] < 0.1
    assert not result["playing_after_stop"]
    assert result["wait_after_stop"]
    expected = result["played_before_stop_s"] - result["leading_silence_s"]
    assert result["heard_s"] == pytest.approx(expected, abs=0.15)
    # Sound stops within ~50 ms of stop() (capture timestamps add a little slack).
    assert result["last_heard"] - result["stop_called"] < 0.1
    assert abs(result["last_played_until"] - result["stop_called"]) < 0.1
    assert result["replay_finished"]
    assert result["replay"]["heard_s"] == pytest.approx(result["replay_span_s"], abs=0.02)


@pytest.mark.e2e
def test_volume_gain_changes_the_level_heard(pulse_env: dict[str, str]) -> None:
    levels = _run_child(pulse_env, "volume")
    full, half = levels["1.0"], levels["0.5"]
    assert full["heard_s"] > 1.0
    assert half["heard_s"] > 1.0
    assert half["rms"] / full["rms"] == pytest.approx(0.5, abs=0.08)
    assert half["peak"] / full["peak"] == pytest.approx(0.5, abs=0.08)


@pytest.mark.e2e
def test_speaker_is_available_with_the_daemon(pulse_env: dict[str, str]) -> None:
    assert _run_child(pulse_env, "available") == {"available": True}


@pytest.mark.e2e
def test_speaker_that_disappears_raises_device_error(tmp_path: Path) -> None:
    env, pid = _start_pulse(tmp_path)
    try:
        result = _run_child({**env, "KIOSK_PULSE_PID": str(pid)}, "gone")
    finally:
        _stop_pulse(pid)
    assert "speaker stopped unexpectedly" in result["wait"]
    assert result["wait_s"] < 5
    assert "speaker could not be opened" in result["play"]
    assert result["play_s"] < 5


@pytest.mark.e2e
def test_no_output_device_gives_device_error(tmp_path: Path) -> None:
    # No PulseAudio and no ~/.asoundrc: on a machine without a sound card there is no speaker.
    env = {**os.environ, "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path)}
    env["PYTHONPATH"] = str(REPO)
    env["PULSE_SERVER"] = f"unix:{tmp_path / 'no-such-socket'}"
    result = _run_child(env, "none")
    if result["available"]:
        pytest.skip("this machine has a real output device")
    assert "No default speaker was found" in result["play"]
    assert "Connect a speaker or headset" in result["play"]


def test_a_loud_sentence_is_turned_down_not_clipped() -> None:
    """At the top volume steps a sentence is scaled below full scale instead of clipped."""
    from voice.audio.speaker import _to_float

    tone = (np.sin(np.arange(22050) * 0.05) * 30000).astype(np.int16)
    loud = _to_float(SpeechAudio(tone, 22050), volume=2.0, target_rate=22050)
    assert float(np.max(np.abs(loud))) <= 0.945
    # The shape is kept (scaled, no flat tops).
    expected = tone.astype(np.float32) / float(np.max(np.abs(tone))) * float(np.max(np.abs(loud)))
    assert np.allclose(loud, expected, atol=1e-4)
