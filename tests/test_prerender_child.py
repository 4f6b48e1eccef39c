"""Prepared speech with a disk cache: the lines are rendered by a child process and the kiosk
never loads its voice (fake engines from tests/speech_fakes.py, loaded by the child by name)."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest
import speech_fakes

from voice.speaking.engine import EngineSpec, LazyEngine, Voice
from voice.speaking.prerender import PreparedSpeech
from voice.speaking.worker import RenderWorker

LINES = ["Hello there.", "Ask me a question."]
RATES = [155, 135, 175, 115, 195]
TONE = EngineSpec(Voice.NATURAL, speech_fakes.VERSION, "speech_fakes:tone_engine", 0.0)


@pytest.fixture(autouse=True)
def children_find_the_fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))


def npy_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.npy"))


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie is gone too: it only waits to be reaped.
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"


def test_the_lines_are_rendered_by_a_child_and_the_voice_never_loads_here(tmp_path: Path) -> None:
    engine = LazyEngine(TONE)
    speech = PreparedSpeech(engine, cache_dir=tmp_path)
    speech.prepare(LINES, 155)
    assert speech.renderer_pid is not None
    # Asked for at once: the kiosk waits for the child to make it rather than load the voice.
    assert speech.synthesize("Hello there.", 155).duration_s > 0
    assert speech.wait_prepared(30)
    assert len(npy_files(tmp_path)) == len(LINES) * len(RATES)  # every rate a patient can reach
    assert speech.synthesize("Ask me a question.", 115).duration_s > 0
    assert not engine.loaded
    # The next start finds everything on disk and starts no child.
    again = PreparedSpeech(LazyEngine(TONE), cache_dir=tmp_path)
    again.prepare(LINES, 155)
    assert again.wait_prepared(5)
    assert again.renderer_pid is None


def test_a_line_that_is_not_content_is_rendered_here_and_kept_off_disk(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = LazyEngine(TONE)
    speech = PreparedSpeech(engine, cache_dir=tmp_path)
    speech.prepare(LINES, 155)
    assert speech.wait_prepared(30)
    before = npy_files(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert speech.synthesize("Words a patient said.", 155).duration_s > 0
    assert engine.loaded
    assert npy_files(tmp_path) == before
    assert "was not prepared" in caplog.text


def test_memory_holds_only_the_recent_lines_when_they_are_on_disk(tmp_path: Path) -> None:
    lines = [f"Line number {n} of many." for n in range(40)]
    speech = PreparedSpeech(LazyEngine(TONE), cache_dir=tmp_path, memory_bytes=200_000)
    speech.prepare(lines, 155, rates=[155])
    assert speech.wait_prepared(60)
    for line in lines:
        speech.synthesize(line, 155)
    assert 0 < speech.memory_bytes() <= 200_000


def test_espeak_takes_over_when_the_natural_voice_fails_in_the_child(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = EngineSpec(Voice.NATURAL, speech_fakes.VERSION, "speech_fakes:broken_engine", 0.0)
    speech = PreparedSpeech(LazyEngine(broken), cache_dir=tmp_path)
    with caplog.at_level(logging.WARNING):
        speech.prepare(LINES, 155, rates=[155])
        assert speech.wait_prepared(60)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "espeak-ng" in warnings[0]
    assert speech.engine.voice is Voice.ESPEAK
    assert len(list((tmp_path / "espeak-ng").rglob("*.npy"))) == len(LINES)
    assert speech.synthesize("Hello there.", 155).duration_s > 0


def test_stopping_the_kiosk_stops_the_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SECONDS_PER_LINE", "0.2")
    stop = threading.Event()
    speech = PreparedSpeech(LazyEngine(TONE), cache_dir=tmp_path)
    speech.prepare([f"Line {n}." for n in range(100)], 155, stop, rates=[155])
    pid = speech.renderer_pid
    assert pid is not None
    deadline = time.monotonic() + 30
    while not npy_files(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    assert speech.wait_prepared(5)
    deadline = time.monotonic() + 5
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(pid)
    assert 0 < len(npy_files(tmp_path)) < 100  # what it finished stays


def test_the_child_ends_when_the_kiosk_goes_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voice.speaking.pronunciation import Pronunciations

    monkeypatch.setenv("FAKE_SECONDS_PER_LINE", "0.2")
    lines = [(f"Line {n}.", 155) for n in range(100)]
    worker = RenderWorker(TONE, Pronunciations(), tmp_path, lines)
    assert worker.wait_for(lines[50], timeout=30)  # asked for first: made before the others
    assert len(npy_files(tmp_path)) < 10
    worker._proc.stdin.close()  # type: ignore[union-attr]  # what a kiosk that dies does
    outcome = worker.wait(timeout=10)
    assert outcome is not None and not outcome.ok
    assert len(npy_files(tmp_path)) < 100
