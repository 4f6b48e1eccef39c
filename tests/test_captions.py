"""Tests for on-screen captions (plain lines when piped, large DEC lines on a terminal)."""

from __future__ import annotations

import io
import re

import pytest

from voice.kiosk.captions import CaptionDisplay
from voice.kiosk.events import Caption, Role

ANSI = re.compile(r"\x1b(\[[0-9;]*m|#[34])")
LONG = (
    "Your cancer might look worse on the first CT scan after you start immunotherapy. "
    "But it may really be getting better."
)


class FakeTerminal(io.StringIO):
    """A text stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def xterm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")


def test_plain_lines_when_not_a_terminal(xterm: None) -> None:
    out = io.StringIO()
    display = CaptionDisplay(out)
    assert not display.styled
    display.show(Caption(Role.PATIENT, "how long will i have to stay on immunotherapy"))
    display.show(Caption(Role.KIOSK, "Most people have it for up to two years."))
    assert out.getvalue() == (
        "[You said] how long will i have to stay on immunotherapy\n"
        "[Kiosk] Most people have it for up to two years.\n"
    )
    assert "\x1b" not in out.getvalue()


def test_disabled_shows_nothing(xterm: None) -> None:
    for stream in (io.StringIO(), FakeTerminal()):
        display = CaptionDisplay(stream, enabled=False)
        display.show(Caption(Role.PATIENT, "hello"))
        display.show(Caption(Role.KIOSK, "Hello."))
        display.status("Listening")
        assert stream.getvalue() == ""


def test_terminal_gets_double_height_lines(xterm: None) -> None:
    out = FakeTerminal()
    display = CaptionDisplay(out)
    assert display.styled
    display.show(Caption(Role.KIOSK, "Hello."))
    text = out.getvalue()
    assert "\x1b#3" in text  # top half of a double-height line
    assert "\x1b#4" in text  # bottom half
    assert "Kiosk:" in text
    # The same text is drawn twice: top half, then bottom half.
    assert text.count("Hello.") == 2
    assert text.index("\x1b#3") < text.index("\x1b#4")


def test_terminal_labels_patient_and_kiosk_differently(xterm: None) -> None:
    patient, kiosk = FakeTerminal(), FakeTerminal()
    CaptionDisplay(patient).show(Caption(Role.PATIENT, "same words"))
    CaptionDisplay(kiosk).show(Caption(Role.KIOSK, "same words"))
    assert "You said:" in patient.getvalue()
    assert "Kiosk:" in kiosk.getvalue()
    assert patient.getvalue() != kiosk.getvalue().replace("Kiosk:", "You said:")


def test_terminal_wraps_long_text_to_half_the_width(xterm: None) -> None:
    out = FakeTerminal()
    CaptionDisplay(out).show(Caption(Role.KIOSK, LONG))
    lines = out.getvalue().split("\n")
    top = [ANSI.sub("", line) for line in lines if line.startswith("\x1b#3")]
    bottom = [ANSI.sub("", line) for line in lines if line.startswith("\x1b#4")]
    assert len(top) > 1, "a long caption must wrap"
    assert top == bottom
    # Double-width characters take two columns: each line must fit in 80 columns.
    assert all(0 < len(line) <= 80 // 2 for line in top), top
    assert " ".join(top) == LONG


def test_terminal_narrow_screen_keeps_a_usable_width(
    xterm: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "10")
    out = FakeTerminal()
    CaptionDisplay(out).show(Caption(Role.KIOSK, LONG))
    top = [ANSI.sub("", ln) for ln in out.getvalue().split("\n") if ln.startswith("\x1b#3")]
    assert " ".join(top) == LONG
    assert max(len(line) for line in top) <= 20


def test_dumb_terminal_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    out = FakeTerminal()
    display = CaptionDisplay(out)
    assert not display.styled
    display.show(Caption(Role.KIOSK, "Hello."))
    assert out.getvalue() == "[Kiosk] Hello.\n"


def test_no_term_variable_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TERM", raising=False)
    assert not CaptionDisplay(FakeTerminal()).styled


def test_empty_caption_on_terminal_still_draws_a_line(xterm: None) -> None:
    out = FakeTerminal()
    CaptionDisplay(out).show(Caption(Role.PATIENT, ""))
    assert out.getvalue().count("\x1b#3") == 1


@pytest.mark.parametrize("stream_factory", [io.StringIO, FakeTerminal])
def test_status_lines(xterm: None, stream_factory: type[io.StringIO]) -> None:
    out = stream_factory()
    display = CaptionDisplay(out)
    display.status("Listening…")
    display.status("The microphone stopped. Reconnecting.")
    assert out.getvalue() == "(Listening…)\n(The microphone stopped. Reconnecting.)\n"
