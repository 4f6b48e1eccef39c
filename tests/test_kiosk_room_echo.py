"""End-to-end: the kiosk in a room that echoes its own voice back into the microphone.

The room (VirtualAudio.open_room) mixes the kiosk's speaker into the virtual microphone at a
chosen level. The kiosk records through PulseAudio's WebRTC echo canceller, which it loads itself
(--echo-cancel auto, its default), and keeps its own echo gate as a second line.

KIOSK_SOAK_MINUTES=10 runs the long answer run for that long (CI: 2 minutes);
KIOSK_ECHO_CANCEL=off measures the echo gate alone (the stop tests then fail at -6 dB).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kiosk_driver import KioskProcess, level_db, record, spoken
from pulse_harness import MIC_SOURCE, Timeline, VirtualAudio

from voice.audio.echo_cancel import AEC_SOURCE

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parent / "fixtures"
LONG_ANSWER = "what are the worst side effects of immunotherapy"
QUESTIONS = (
    "how long do side effects from immunotherapy last",
    "what is the success rate of immunotherapy",
    "does immunotherapy make you feel better",
    "what are the signs that immunotherapy is working",
    "who is the ideal patient for immunotherapy",
    LONG_ANSWER,
)
STOP_WITHIN_S = 0.7
# Measured with the kiosk's own streams: 23-44 dB at -6 dB, more at -12 and -20 dB; 0-4 dB with
# the canceller's default filter on a busy machine (see voice/audio/echo_cancel.py).
MIN_ECHO_REMOVED_DB = 10.0
ECHO_CANCEL = os.environ.get("KIOSK_ECHO_CANCEL", "auto")


@pytest.fixture(scope="module")
def room(virtual_audio: VirtualAudio) -> Iterator[int]:
    """An echoing room; yields the echo path's module (its level is set per test)."""
    modules = virtual_audio.open_room()
    echo = virtual_audio.echo_speaker_into_mic(level_db=-6.0)
    yield echo
    virtual_audio.unload_module(echo)
    virtual_audio.close_room(modules)


@pytest.fixture(scope="module")
def kiosk(
    virtual_audio: VirtualAudio, room: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KioskProcess]:
    tmp = tmp_path_factory.mktemp("room")
    process = KioskProcess.start(
        virtual_audio, tmp, ["--idle-timeout", "900", "--echo-cancel", ECHO_CANCEL]
    )
    yield process
    if process.proc.poll() is None:
        assert process.stop() == 0


def test_the_kiosk_sets_up_echo_cancellation_by_itself(kiosk: KioskProcess) -> None:
    if ECHO_CANCEL == "off":
        pytest.skip("KIOSK_ECHO_CANCEL=off: the echo gate alone")
    (state,) = [e for e in kiosk.events() if e["event"] == "echo_cancel"]
    assert state["on"] and state["source"] == AEC_SOURCE, state
    assert "Echo cancellation is on" in kiosk.output.read_text()


@pytest.mark.parametrize("level_db_", [-6.0, -12.0, -20.0])
def test_stop_interrupts_at_each_echo_level(
    kiosk: KioskProcess,
    virtual_audio: VirtualAudio,
    room: int,
    tmp_path: Path,
    level_db_: float,
) -> None:
    virtual_audio.set_module_volume(room, level_db_)
    wav = tmp_path / "both.wav"
    rec = record(virtual_audio, wav)
    raw = virtual_audio.start_recording(tmp_path / "mic.wav", MIC_SOURCE)
    heard = (
        virtual_audio.start_recording(tmp_path / "aec.wav", AEC_SOURCE)
        if ECHO_CANCEL != "off"
        else None
    )
    asked_at = time.monotonic()
    kiosk.say_into_mic(spoken(LONG_ANSWER))
    first = kiosk.wait_for(lambda e: e["event"] == "first_audio", timeout=30, after=asked_at)
    time.sleep(max(0.0, first["at"] + 3.0 - time.monotonic()))
    stop_started = time.monotonic()
    stop_said_at = kiosk.say_into_mic(FIXTURES / "command_stop.wav")
    kiosk.wait_for(lambda e: e["event"] == "stop_speaking", timeout=10, after=first["t"])
    kiosk.wait_quiet(after=first["t"])
    time.sleep(1.0)
    rec.stop()
    raw.stop()
    removed = None
    if heard is not None:
        heard.stop()
        # The kiosk talking alone: from its echo's arrival to just before "stop".
        start, end = first["at"] + 0.3, stop_started - 0.1
        removed = level_db(raw, start, end) - level_db(heard, start, end)
    spoke = Timeline.read(wav, rec.started_at).speaker_segments()
    assert spoke, "the kiosk said nothing"
    talked_on = spoke[-1][1] - (stop_said_at - rec.started_at)
    print(
        f"echo {level_db_:+.0f} dB: the kiosk stopped {talked_on:.2f} s after 'stop' ended; "
        f"echo removed: {'-' if removed is None else f'{removed:.1f} dB'}"
    )
    assert talked_on < STOP_WITHIN_S, (spoke, talked_on)
    if removed is not None:
        assert removed >= MIN_ECHO_REMOVED_DB, removed


def test_a_long_run_of_answers_never_answers_itself(
    kiosk: KioskProcess, virtual_audio: VirtualAudio, room: int
) -> None:
    virtual_audio.set_module_volume(room, -6.0)  # the loudest echo
    minutes = float(os.environ.get("KIOSK_SOAK_MINUTES", "2"))
    started = time.monotonic()
    asked = 0
    while time.monotonic() - started < minutes * 60:
        question = QUESTIONS[asked % len(QUESTIONS)]
        at = time.monotonic()
        kiosk.say_into_mic(spoken(question))
        asked += 1
        say = kiosk.wait_for(lambda e: e["event"] == "say", timeout=30, after=at)
        kiosk.wait_quiet(after=say["t"], timeout=90)
        time.sleep(1.5)  # anything heard of its own voice would be acted on by now
    events = [e for e in kiosk.events() if e["t"] >= started]
    said = [e for e in events if e["event"] == "say"]
    reactions = [e for e in events if e["event"] in ("barge_in", "continue_question")]
    print(
        f"{asked} questions in {minutes:g} min with echo at -6 dB: {len(said)} replies, "
        f"{len(reactions)} reactions to its own voice"
    )
    assert not reactions, events
    assert len([e for e in events if e["event"] == "utterance"]) == asked, events
    assert len(said) == asked, said


def test_listening_to_its_own_output_is_logged_and_stops_listening(
    virtual_audio: VirtualAudio, tmp_path: Path
) -> None:
    # What PulseAudio does when a USB microphone is unplugged: the capture moves, here to the
    # monitor of the kiosk's own speaker.
    kiosk = KioskProcess.start(virtual_audio, tmp_path, ["--idle-timeout", "900"])
    try:
        streams = json.loads(virtual_audio.pactl("-f", "json", "list", "source-outputs"))
        pid = str(kiosk.proc.pid)
        mine = [s for s in streams if s["properties"].get("application.process.id") == pid]
        assert len(mine) == 1, (pid, [s["properties"] for s in streams])
        moved_at = time.monotonic()
        speaker = virtual_audio.pactl("get-default-sink").strip()  # where the kiosk plays
        virtual_audio.pactl("move-source-output", str(mine[0]["index"]), f"{speaker}.monitor")
        kiosk.wait_for(
            lambda e: e["event"] == "own_output_capture" and e["source"], 10, after=moved_at
        )
        assert "the kiosk's own speaker output" in kiosk.output.read_text()
        virtual_audio.play_on_speaker(spoken("what is the success rate of immunotherapy"))
        time.sleep(2.0)
        assert not [e for e in kiosk.events() if e["t"] >= moved_at and e["event"] == "say"]
    finally:
        assert kiosk.stop() == 0
