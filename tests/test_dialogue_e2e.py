"""End-to-end, what patients hear (issue 15): the real kiosk on virtual PulseAudio devices.

An answer ends with its source and the care-team line; after goodbye the next question is
answered after the greeting; "hello" is not answered with "I don't have an answer".
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kiosk_driver import KioskProcess, best_answer, record, speaker_audio, spoken
from kiosk_driver import transcribe_samples as transcribe
from pulse_harness import VirtualAudio

from voice.content.loader import default_content_dir, load_content

pytestmark = pytest.mark.e2e

ANSWERS = {e.id: e.answer for e in load_content(default_content_dir()).entries}


def _turn(kiosk: KioskProcess, question: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """Ask; return the transcript of the whole reply and the kinds of what was said."""
    wav = tmp_path / f"turn-{time.monotonic_ns()}.wav"
    rec = record(kiosk.audio, wav)
    asked_at = time.monotonic()
    kiosk.say_into_mic(question)
    kiosk.wait_for(lambda e: e["event"] == "say", timeout=30, after=asked_at)
    kiosk.wait_quiet(after=asked_at)
    time.sleep(0.3)
    rec.stop()
    kinds = [str(e["kind"]) for e in kiosk.events() if e["t"] >= asked_at and e["event"] == "say"]
    return transcribe(*speaker_audio(wav)), kinds


def test_what_patients_hear_across_two_patients(
    virtual_audio: VirtualAudio, tmp_path: Path
) -> None:
    kiosk = KioskProcess.start(virtual_audio, tmp_path, ["--idle-timeout", "900"])
    try:
        # Safety and source: the answer, then where it comes from and "ask your care team".
        heard, kinds = _turn(kiosk, spoken("what is the success rate of immunotherapy"), tmp_path)
        assert kinds == ["answer"], kinds
        assert best_answer(heard, ANSWERS)[0] == "success-rate", heard
        assert "care team" in heard, heard

        # Not understood: "hello" is not told "I don't have an answer".
        heard, kinds = _turn(kiosk, spoken("hello"), tmp_path)
        assert "answer to that" not in heard, heard
        assert kinds in (["decline"], []), kinds

        # A new patient: goodbye ends the session, and the next question gets the greeting first.
        _, kinds = _turn(kiosk, spoken("goodbye"), tmp_path)
        assert kinds == ["goodbye"], kinds
        assert [e for e in kiosk.events() if e["event"] == "end_session"]
        heard, kinds = _turn(
            kiosk, spoken("what are the signs that immunotherapy is working"), tmp_path
        )
        assert kinds == ["greeting", "greeting", "answer"], kinds
        assert best_answer(heard, ANSWERS)[0] == "signs-working", heard
        assert "hello" in heard, heard
    finally:
        assert kiosk.stop() == 0
