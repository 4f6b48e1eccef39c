"""Tests for on-screen captions (plain lines when piped, large DEC lines on a terminal)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from voice.kiosk.captions import (
    CaptionDisplay,
    CaptionStyle,
    default_log_file,
    logs_off_screen,
    supports_double_height,
)
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
    for name in ("TMUX", "STY", "VTE_VERSION"):
        monkeypatch.delenv(name, raising=False)
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


@pytest.mark.parametrize(
    ("env", "double"),
    [
        ({"TERM": "xterm-256color"}, True),
        ({"TERM": "xterm"}, True),
        ({"TERM": "konsole"}, True),
        ({"TERM": "linux"}, False),  # the Linux console
        ({"TERM": "dumb"}, False),
        ({"TERM": ""}, False),
        ({"TERM": "tmux-256color"}, False),
        ({"TERM": "screen"}, False),
        ({"TERM": "xterm-256color", "TMUX": "/tmp/tmux-0/default,1,0"}, False),
        ({"TERM": "xterm-256color", "STY": "1.pts-0.host"}, False),
        ({"TERM": "xterm-256color", "VTE_VERSION": "7006"}, False),
    ],
)
def test_double_height_only_where_the_terminal_draws_it(env: dict[str, str], double: bool) -> None:
    assert supports_double_height(env) is double


def _lines(style: CaptionStyle, env: dict[str, str]) -> str:
    out = FakeTerminal()
    display = CaptionDisplay(out, style=style, env=env)
    display.show(Caption(Role.KIOSK, LONG))
    return out.getvalue()


def test_a_terminal_without_double_height_gets_each_line_once(xterm: None) -> None:
    text = _lines(CaptionStyle.DOUBLE, {"TERM": "linux"})
    assert "\x1b#3" not in text and "\x1b#4" not in text
    plain = ANSI.sub("", text)
    assert plain.count("Your cancer might") == 1
    assert "\x1b[1;93;40m" in text  # still bright on black


def test_plain_style_is_large_bright_text_without_dec_lines(xterm: None) -> None:
    text = _lines(CaptionStyle.PLAIN, {"TERM": "xterm-256color"})
    assert "\x1b#3" not in text
    assert ANSI.sub("", text).count("Your cancer might") == 1
    # Plain lines use the whole width, double-width ones half of it.
    widest = max(len(line) for line in ANSI.sub("", text).splitlines())
    assert 40 < widest <= 78


def test_double_style_on_xterm_draws_double_height(xterm: None) -> None:
    text = _lines(CaptionStyle.DOUBLE, {"TERM": "xterm-256color"})
    assert "\x1b#3" in text and "\x1b#4" in text


def test_the_default_log_file_is_in_the_users_state_folder() -> None:
    assert default_log_file({"XDG_STATE_HOME": "/var/state"}).as_posix() == (
        "/var/state/voice/kiosk.log"
    )


def test_stderr_goes_to_the_log_file_while_captions_are_on(tmp_path: Path) -> None:
    import os

    log = tmp_path / "logs" / "kiosk.log"
    with logs_off_screen(True, log) as used:
        assert used == log
        # What a C library writes to file descriptor 2 (Python's sys.stderr writes there too
        # outside pytest, which captures it).
        os.write(2, b"ALSA lib pcm.c: a library message\n")
    assert "a library message" in log.read_text()


def test_nothing_is_redirected_without_captions(tmp_path: Path) -> None:
    with logs_off_screen(False, tmp_path / "kiosk.log") as used:
        assert used is None
    assert not (tmp_path / "kiosk.log").exists()
