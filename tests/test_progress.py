"""Tests for the download progress display (fake clock, in-memory streams)."""

from __future__ import annotations

import io
import re
import types

import pytest

import voice.install.progress as progress_mod
from voice.install.progress import ProgressPrinter


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def monotonic(self) -> float:
        return self.now


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    # Replace the module's view of `time` only, not the real time module.
    monkeypatch.setattr(progress_mod, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    return fake


def test_known_total_prints_percent_lines(clock: FakeClock) -> None:
    out = io.StringIO()
    progress = ProgressPrinter("Model", out)
    clock.now += 1.0
    progress(10_000_000, 40_000_000)
    clock.now += 1.0
    progress(20_000_000, 40_000_000)
    lines = out.getvalue().splitlines()
    assert out.getvalue().endswith("\n")
    assert "\r" not in out.getvalue()
    assert len(lines) == 2
    assert lines[0].startswith("Model:")
    assert "25.0%" in lines[0]
    assert "10.0 of 40.0 MB" in lines[0]
    assert "10.0 MB/s" in lines[0]
    assert "50.0%" in lines[1]


def test_unknown_total_prints_megabytes(clock: FakeClock) -> None:
    out = io.StringIO()
    progress = ProgressPrinter("Download", out)
    clock.now += 2.0
    progress(3_500_000, None)
    line = out.getvalue()
    assert line == "Download: 3.5 MB (1.8 MB/s)\n"
    assert "%" not in line


def test_zero_total_is_treated_as_unknown(clock: FakeClock) -> None:
    out = io.StringIO()
    ProgressPrinter("x", out)(1_000_000, 0)
    assert "%" not in out.getvalue()
    assert "1.0 MB" in out.getvalue()


def test_redraws_are_throttled(clock: FakeClock) -> None:
    out = io.StringIO()
    progress = ProgressPrinter("Model", out)
    for i in range(1, 101):  # 100 callbacks within 0.1 s
        progress(i * 1000, 1_000_000)
        clock.now += 0.001
    assert len(out.getvalue().splitlines()) == 1
    clock.now += 0.25
    progress(200_000, 1_000_000)
    assert len(out.getvalue().splitlines()) == 2


def test_throttled_unknown_total(clock: FakeClock) -> None:
    out = io.StringIO()
    progress = ProgressPrinter("Model", out)
    progress(1, None)
    clock.now += 0.1
    progress(2, None)
    assert len(out.getvalue().splitlines()) == 1


def test_the_final_update_is_always_drawn(clock: FakeClock) -> None:
    out = io.StringIO()
    progress = ProgressPrinter("Model", out)
    progress(500_000, 1_000_000)
    clock.now += 0.01
    progress(1_000_000, 1_000_000)  # complete: drawn despite the throttle
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert "100.0%" in lines[-1]


def test_notify_prints_a_line(clock: FakeClock) -> None:
    out = io.StringIO()
    progress = ProgressPrinter("Model", out)
    progress.notify("Trying Maven…")
    progress(1_000_000, 2_000_000)
    progress.notify("Verifying checksums…")
    progress.done()
    lines = out.getvalue().splitlines()
    assert lines[0] == "Trying Maven…"
    assert "50.0%" in lines[1]
    assert lines[2] == "Verifying checksums…"
    assert len(lines) == 3  # done() adds nothing when not at a terminal


def test_terminal_redraws_in_place_and_notify_starts_a_new_line(clock: FakeClock) -> None:
    out = FakeTerminal()
    progress = ProgressPrinter("Model", out)
    progress(1_000_000, 4_000_000)
    clock.now += 1.0
    progress(2_000_000, 4_000_000)
    text = out.getvalue()
    assert text.count("\r") == 2
    assert "\n" not in text
    progress.notify("Unpacking…")
    assert out.getvalue().endswith("\r\nUnpacking…\n")
    progress.done()  # nothing drawn since the notice: no extra blank line
    assert out.getvalue().endswith("Unpacking…\n")


def test_terminal_done_ends_the_progress_line(clock: FakeClock) -> None:
    out = FakeTerminal()
    progress = ProgressPrinter("Model", out)
    progress(4_000_000, 4_000_000)
    progress.done()
    assert re.fullmatch(r"Model: 100\.0% \(4\.0 of 4\.0 MB, [\d.]+ MB/s\)\r\n", out.getvalue())


def test_default_stream_is_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    ProgressPrinter("Model").notify("hello")
    captured = capsys.readouterr()
    assert captured.err == "hello\n"
    assert captured.out == ""
