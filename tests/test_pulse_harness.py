"""End-to-end tests of the PulseAudio virtual microphone and speaker harness."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pulse_harness import (
    MIC_SOURCE,
    SPEAKER_SINK,
    HarnessError,
    Timeline,
    VirtualAudio,
    find_speech_segments,
    missing_programs,
    read_wav,
    write_tone_bursts,
)

RECORD_WITH_SOUNDDEVICE = """
import sys
import sounddevice as sd
import soundfile as sf
seconds, out = float(sys.argv[1]), sys.argv[2]
data = sd.rec(int(seconds * 16000), samplerate=16000, channels=1, dtype="float32")
print(sd.query_devices(kind="input")["name"], flush=True)
sd.wait()
sf.write(out, data, 16000, subtype="PCM_16")
"""

PLAY_WITH_SOUNDDEVICE = """
import numpy as np
import sounddevice as sd
rate = 22050
t = np.arange(int(0.6 * rate)) / rate
print(sd.query_devices(kind="output")["name"], flush=True)
sd.play((0.5 * np.sin(2 * np.pi * 880 * t)).astype("float32"), rate)
sd.wait()
"""


def require_pulseaudio() -> None:
    """Skip where PulseAudio is not installed, but fail on CI, where it must be."""
    missing = missing_programs()
    if not missing:
        return
    reason = f"PulseAudio programs not installed: {', '.join(missing)}"
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(reason + " (CI must install pulseaudio and pulseaudio-utils)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def audio() -> Iterator[VirtualAudio]:
    require_pulseaudio()
    with VirtualAudio() as harness:
        yield harness


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def segment_samples(samples: np.ndarray, rate: int, segment: tuple[float, float]) -> np.ndarray:
    return samples[int(segment[0] * rate) : int(segment[1] * rate)]


@pytest.mark.e2e
def test_daemon_starts_isolated_and_stops_by_pid() -> None:
    require_pulseaudio()
    with VirtualAudio() as harness:
        pid, root = harness.pid, harness.dir
        assert root is not None
        os.kill(pid, 0)  # alive
        assert harness.socket.is_socket()
        assert harness.env["PULSE_SERVER"] == f"unix:{harness.socket}"
        assert harness.env["HOME"] != os.environ.get("HOME")
        assert Path(harness.env["HOME"], ".asoundrc").read_text().count("type pulse") == 2
        assert "DBUS_SESSION_BUS_ADDRESS" not in harness.env
        info = harness.pactl("info")
        assert f"Default Sink: {SPEAKER_SINK}" in info
        assert f"Default Source: {MIC_SOURCE}" in info
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not root.exists()


@pytest.mark.e2e
def test_failed_start_reports_the_daemon_log_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_pulseaudio()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    harness = VirtualAudio(extra_script_lines=["load-module module-kiosk-does-not-exist"])
    with pytest.raises(HarnessError, match="module-kiosk-does-not-exist"):
        harness.start()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.e2e
def test_tone_into_mic_is_heard_by_sounddevice_rec(audio: VirtualAudio, tmp_path: Path) -> None:
    tone = write_tone_bursts(tmp_path / "tone.wav", [(0.2, 0.4), (1.0, 0.4)], 1.6)
    heard = tmp_path / "heard.wav"
    recorder = subprocess.Popen(
        [sys.executable, "-c", RECORD_WITH_SOUNDDEVICE, "3.0", str(heard)],
        env=audio.python_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert recorder.stdout is not None
    device = recorder.stdout.readline().strip()  # printed once sd.rec() has started
    audio.speak_into_mic(tone)
    _, err = recorder.communicate(timeout=20)
    assert recorder.returncode == 0, err
    assert device == "default"
    samples, rate = read_wav(heard)
    segments = find_speech_segments(heard)
    assert len(segments) == 2, segments
    assert [round(end - start, 1) for start, end in segments] == [0.4, 0.4]
    assert segments[1][0] - segments[0][0] == pytest.approx(0.8, abs=0.03)
    burst = segment_samples(samples, rate, segments[0])
    assert dominant_frequency(burst, rate) == pytest.approx(440, abs=10)
    assert np.abs(burst).max() == pytest.approx(0.5, abs=0.05)  # full level, no attenuation


@pytest.mark.e2e
def test_sounddevice_play_is_captured_from_speaker_monitor(
    audio: VirtualAudio, tmp_path: Path
) -> None:
    recording = audio.start_recording_speaker(tmp_path / "said.wav")
    player = audio.run(
        [sys.executable, "-c", PLAY_WITH_SOUNDDEVICE],
        env=audio.python_env(),
        capture_output=True,
        text=True,
        timeout=20,
    )
    time.sleep(0.2)
    said = recording.stop()
    assert player.returncode == 0, player.stderr
    assert player.stdout.strip() == "default"
    samples, rate = read_wav(said)
    segments = find_speech_segments(said)
    assert len(segments) == 1, segments
    # PortAudio through ALSA's pulse plugin drops 10-50 ms at the start and ~25 ms at the end
    # of an sd.play() (measured); paplay into the same sink loses nothing.
    assert 0.5 <= segments[0][1] - segments[0][0] <= 0.61
    burst = segment_samples(samples, rate, segments[0])
    assert dominant_frequency(burst, rate) == pytest.approx(880, abs=10)
    assert np.abs(burst).max() == pytest.approx(0.5, abs=0.05)


@pytest.mark.e2e
def test_mic_and_speaker_share_one_timeline(audio: VirtualAudio, tmp_path: Path) -> None:
    question = write_tone_bursts(tmp_path / "q.wav", [(0.3, 0.2)], 0.6, frequency=440)
    answer = write_tone_bursts(tmp_path / "a.wav", [(0.8, 0.3)], 1.2, frequency=880)
    began = time.monotonic()
    recording = audio.start_recording_both(tmp_path / "both.wav")
    assert time.monotonic() - began < 1.0  # an idle null sink would hold it back 2 s
    asked = audio.speak_into_mic(question, block=False)
    said = audio.play_on_speaker(answer, block=False)
    asked.wait()
    said.wait()
    timeline = Timeline.read(recording.stop())
    (mic,) = timeline.mic_segments()
    (speaker,) = timeline.speaker_segments()
    # The two players start a few ms apart; everything else is sample-exact.
    assert speaker[0] - mic[0] == pytest.approx(0.5, abs=0.03)
    assert timeline.response_latency() == pytest.approx(0.3, abs=0.03)
    assert dominant_frequency(segment_samples(timeline.mic, 16000, mic), 16000) == pytest.approx(
        440, abs=10
    )
    # No leak between the channels.
    assert np.abs(segment_samples(timeline.mic, 16000, speaker)).max() < 0.01
    assert np.abs(segment_samples(timeline.speaker, 16000, mic)).max() < 0.01


@pytest.mark.e2e
def test_timeline_shows_a_known_loopback_delay(audio: VirtualAudio, tmp_path: Path) -> None:
    click = write_tone_bursts(tmp_path / "click.wav", [(0.1, 0.05)], 0.3, frequency=1000)
    module = audio.echo_speaker_into_mic(latency_msec=100)
    try:
        time.sleep(0.2)
        recording = audio.start_recording_both(tmp_path / "echo.wav")
        audio.play_on_speaker(click)
        time.sleep(0.3)
        timeline = Timeline.read(recording.stop())
    finally:
        audio.unload_module(module)
    mic = timeline.mic_segments(min_gap_ms=20)
    speaker = timeline.speaker_segments(min_gap_ms=20)
    assert len(mic) == len(speaker) == 1, (mic, speaker)
    assert mic[0][0] - speaker[0][0] == pytest.approx(0.100, abs=0.011)


@pytest.mark.e2e
def test_two_harnesses_one_after_the_other(tmp_path: Path) -> None:
    require_pulseaudio()
    tone = write_tone_bursts(tmp_path / "tone.wav", [(0.05, 0.2)], 0.3)
    seen: list[tuple[int, Path]] = []
    for turn in range(2):
        with VirtualAudio() as harness:
            assert harness.dir is not None
            seen.append((harness.pid, harness.dir))
            recording = harness.start_recording_mic(tmp_path / f"mic{turn}.wav")
            harness.speak_into_mic(tone)
            segments = find_speech_segments(recording.stop())
            assert len(segments) == 1, segments
        assert not seen[-1][1].exists()
    assert seen[0][0] != seen[1][0]
    assert seen[0][1] != seen[1][1]


def test_find_speech_segments_finds_tone_bursts(tmp_path: Path) -> None:
    wav = write_tone_bursts(tmp_path / "b.wav", [(0.2, 0.3), (0.6, 0.3), (1.5, 0.2)], 2.0)
    assert find_speech_segments(wav, min_gap_ms=50) == [
        pytest.approx((0.2, 0.5)),
        pytest.approx((0.6, 0.9)),
        pytest.approx((1.5, 1.7)),
    ]
    # A 100 ms pause is part of one utterance with the default 300 ms gap.
    assert find_speech_segments(wav) == [pytest.approx((0.2, 0.9)), pytest.approx((1.5, 1.7))]
    quiet = write_tone_bursts(tmp_path / "q.wav", [(0.2, 0.3)], 1.0, amplitude=0.001)  # -63 dBFS
    assert find_speech_segments(quiet) == []
    assert find_speech_segments(quiet, threshold_dbfs=-70) == [pytest.approx((0.2, 0.5))]
