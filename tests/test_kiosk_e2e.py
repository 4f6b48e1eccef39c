"""End-to-end: the real kiosk loop on virtual PulseAudio devices, real Vosk, real espeak-ng.

A spoken question goes into the virtual microphone; what the kiosk says is recorded from the
virtual speaker and transcribed with the recognizer to check that the right answer was spoken.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kiosk_driver import (
    KioskProcess,
    best_answer,
    record,
    speaker_audio,
    spoken,
    transcribe_samples,
)
from pulse_harness import Timeline, VirtualAudio

from voice.content.loader import default_content_dir, load_content

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).parent / "fixtures"
ANSWERS = {e.id: e.answer for e in load_content(default_content_dir()).entries}


@pytest.fixture(scope="module")
def kiosk(virtual_audio: VirtualAudio, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
    KioskProcess
]:
    tmp = tmp_path_factory.mktemp("kiosk")
    process = KioskProcess.start(virtual_audio, tmp, ["--idle-timeout", "900"])
    yield process
    if process.proc.poll() is None:
        assert process.stop() == 0, "the kiosk must exit cleanly on SIGTERM"


def _ask_and_hear(kiosk: KioskProcess, question: Path, tmp_path: Path) -> tuple[str, Timeline]:
    """Ask, wait for the whole reply, and return its transcript and the recording."""
    wav = tmp_path / "both.wav"
    rec = record(kiosk.audio, wav)
    asked_at = time.monotonic()
    kiosk.say_into_mic(question)
    kiosk.wait_for(lambda e: e["event"] == "say", timeout=30, after=asked_at)
    kiosk.wait_quiet(after=asked_at)
    time.sleep(0.3)
    rec.stop()
    timeline = Timeline.read(wav, rec.started_at)
    samples, rate = speaker_audio(wav)
    return transcribe_samples(samples, rate), timeline


def _answered(kiosk: KioskProcess, after: float) -> list[dict[str, object]]:
    return [
        e
        for e in kiosk.events()
        if e["t"] >= after and e["event"] == "say" and e["kind"] == "answer"
    ]


def test_answers_a_spoken_question_aloud(kiosk: KioskProcess, tmp_path: Path) -> None:
    started = time.monotonic()
    question = spoken("how long do side effects from immunotherapy last")
    heard, timeline = _ask_and_hear(kiosk, question, tmp_path)
    entry_id, overlap = best_answer(heard, ANSWERS)
    assert entry_id == "side-effects-duration", heard
    assert overlap >= 0.5, heard
    assert len(_answered(kiosk, started)) == 1
    latency = timeline.response_latency()
    assert latency is not None and latency < 3.0


def test_repeat_says_the_last_answer_again(kiosk: KioskProcess, tmp_path: Path) -> None:
    _ask_and_hear(kiosk, spoken("does immunotherapy make you feel better"), tmp_path)
    started = time.monotonic()
    heard, _ = _ask_and_hear(kiosk, spoken("say that again"), tmp_path)
    assert best_answer(heard, ANSWERS)[0] == "feel-better", heard
    assert len(_answered(kiosk, started)) == 1


def test_a_second_question_gets_its_own_answer(kiosk: KioskProcess, tmp_path: Path) -> None:
    first, _ = _ask_and_hear(kiosk, spoken("what is the success rate of immunotherapy"), tmp_path)
    second, _ = _ask_and_hear(
        kiosk, spoken("what are the signs that immunotherapy is working"), tmp_path
    )
    assert best_answer(first, ANSWERS)[0] == "success-rate", first
    assert best_answer(second, ANSWERS)[0] == "signs-working", second


def test_a_700_ms_pause_does_not_split_the_question(kiosk: KioskProcess, tmp_path: Path) -> None:
    started = time.monotonic()
    heard, _ = _ask_and_hear(kiosk, FIXTURES / "question_pause_700ms.wav", tmp_path)
    utterances = [e for e in kiosk.events() if e["t"] >= started and e["event"] == "utterance"]
    assert len(utterances) == 1, utterances
    # Either the answer, or "Did you mean: Can cancer spread during immunotherapy?" (the open
    # decoder hears this espeak voice poorly): both show the whole question was heard as one.
    answered = best_answer(heard, ANSWERS)[0] == "spread-during-treatment"
    assert answered or ("did you mean" in heard and "cancer" in heard), heard


def test_stop_interrupts_a_long_answer(kiosk: KioskProcess, tmp_path: Path) -> None:
    wav = tmp_path / "both.wav"
    rec = record(kiosk.audio, wav)
    asked_at = time.monotonic()
    kiosk.say_into_mic(spoken("what are the worst side effects of immunotherapy"))
    first = kiosk.wait_for(lambda e: e["event"] == "first_audio", timeout=30, after=asked_at)
    time.sleep(2.0)
    stop_said_at = kiosk.say_into_mic(FIXTURES / "command_stop.wav")
    kiosk.wait_for(lambda e: e["event"] == "stop_speaking", timeout=10, after=first["t"])
    kiosk.wait_quiet(after=first["t"])
    time.sleep(1.0)
    rec.stop()
    timeline = Timeline.read(wav, rec.started_at)
    spoke = timeline.speaker_segments()
    assert spoke, "the kiosk said nothing"
    answer_end = spoke[-1][1]
    stop_end = stop_said_at - rec.started_at
    # The full answer lasts about 20 s; it must end within 1.5 s of the patient saying "stop".
    assert answer_end < stop_end + 1.5, (spoke, stop_end)
    assert answer_end - spoke[0][0] < 12.0


def test_a_confirmed_question_is_answered_after_yes(kiosk: KioskProcess, tmp_path: Path) -> None:
    # The open-vocabulary decoder mishears "covid", so the kiosk checks: "Did you mean …?"
    asked = time.monotonic()
    kiosk.say_into_mic(spoken("does immunotherapy help with covid"))
    say = kiosk.wait_for(lambda e: e["event"] == "say", timeout=30, after=asked)
    kiosk.wait_quiet(after=say["t"])
    if say["kind"] == "confirm":
        heard, _ = _ask_and_hear(kiosk, spoken("yes"), tmp_path)
    else:
        assert say["kind"] == "answer", say
        heard, _ = _ask_and_hear(kiosk, spoken("say that again"), tmp_path)
    assert best_answer(heard, ANSWERS)[0] == "covid", heard


def test_a_bare_no_answers_did_you_mean(kiosk: KioskProcess) -> None:
    # Issue 15: a lone "no" used to be heard as "know"; the yes/no grammar hears it.
    asked = time.monotonic()
    kiosk.say_into_mic(spoken("does it hurt"))
    confirm = kiosk.wait_for(lambda e: e["event"] == "say", timeout=30, after=asked)
    assert confirm["kind"] == "confirm", confirm
    kiosk.wait_quiet(after=confirm["t"])
    answered = time.monotonic()
    kiosk.say_into_mic(spoken("No."))
    reply = kiosk.wait_for(lambda e: e["event"] == "say", timeout=30, after=answered)
    (heard,) = [e for e in kiosk.events() if e["t"] >= answered and e["event"] == "utterance"]
    assert heard["short_answer"] is True, heard
    # "No" to "Did you mean …?": the kiosk asks the patient to put it another way.
    assert reply["kind"] == "prompt", reply
    kiosk.wait_quiet(after=reply["t"])


def test_a_new_question_talks_over_the_kiosk(kiosk: KioskProcess, tmp_path: Path) -> None:
    asked_at = time.monotonic()
    kiosk.say_into_mic(spoken("what are the worst side effects of immunotherapy"))
    first = kiosk.wait_for(lambda e: e["event"] == "first_audio", timeout=30, after=asked_at)
    time.sleep(2.0)
    wav = tmp_path / "both.wav"
    rec = record(kiosk.audio, wav)
    kiosk.say_into_mic(spoken("what is the success rate of immunotherapy"))
    barge = kiosk.wait_for(lambda e: e["event"] == "barge_in", timeout=10, after=first["t"])
    assert barge["talking_over"] is True or barge["command"] is not None, barge
    kiosk.wait_for(lambda e: e["event"] == "say", timeout=15, after=barge["t"])
    kiosk.wait_quiet(after=barge["t"] + 0.1)
    time.sleep(0.3)
    rec.stop()
    samples, rate = speaker_audio(wav)
    heard = transcribe_samples(samples, rate)
    # The reply is about the new question (an answer, or "Did you mean" it).
    assert best_answer(heard, ANSWERS)[0] == "success-rate" or "success rate" in heard, heard


def test_the_kiosk_does_not_react_to_its_own_voice(
    kiosk: KioskProcess, virtual_audio: VirtualAudio, tmp_path: Path
) -> None:
    # A real room: the microphone hears the kiosk's own voice, from the moment it starts.
    kiosk.stop()
    loopback = virtual_audio.echo_speaker_into_mic()
    try:
        echoing = KioskProcess.start(virtual_audio, tmp_path, ["--idle-timeout", "900"])
        started = time.monotonic()
        heard, _ = _ask_and_hear(
            echoing, spoken("who is the ideal patient for immunotherapy"), tmp_path
        )
        time.sleep(3.0)  # anything it might "hear" of itself would be answered by now
        events = [e for e in echoing.events() if e["t"] >= started]
        assert echoing.stop() == 0
    finally:
        virtual_audio.unload_module(loopback)
    assert not [e for e in events if e["event"] == "barge_in"], events
    assert len([e for e in events if e["event"] == "utterance"]) == 1, events
    assert len([e for e in events if e["event"] == "say"]) == 1, events
    assert best_answer(heard, ANSWERS)[0] == "ideal-candidate", heard


def test_wake_phrase_mode_ignores_talk_until_it_is_called(
    kiosk: KioskProcess, virtual_audio: VirtualAudio, tmp_path: Path
) -> None:
    # For busy waiting rooms: nothing is answered until someone says the wake phrase.
    if kiosk.proc.poll() is None:
        kiosk.stop()
    waking = KioskProcess.start(
        virtual_audio, tmp_path, ["--idle-timeout", "900", "--activation", "wake"]
    )
    try:
        started = time.monotonic()
        waking.say_into_mic(spoken("what is the success rate of immunotherapy"))
        time.sleep(3.0)
        assert not [e for e in waking.events() if e["t"] >= started and e["event"] == "say"]
        heard, _ = _ask_and_hear(
            waking, spoken("hello kiosk, what is the success rate of immunotherapy"), tmp_path
        )
        assert [e for e in waking.events() if e["t"] >= started and e["event"] == "wake"]
        assert best_answer(heard, ANSWERS)[0] == "success-rate", heard
    finally:
        assert waking.stop() == 0
