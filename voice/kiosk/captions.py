"""On-screen captions: what the kiosk heard and what it says, large and high-contrast.

A visual equivalent of everything spoken (EN 301 549 §5.1.5). Where the terminal can draw them,
lines are double-height and double-width (DEC line attributes), bright on black; elsewhere, or
with the plain style, they are normal-height bright text (make the terminal's font large).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import textwrap
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import TextIO

from voice.kiosk.events import Caption, Role

_RESET = "\033[0m"
_KIOSK = "\033[1;93;40m"  # bold bright yellow on black
_PATIENT = "\033[1;97;40m"  # bold bright white on black
_LABEL = "\033[1;96;40m"
# Terminals that draw no colours or ignore DEC line attributes (the Linux console and
# multiplexers print each double-height line twice, at normal size).
_NO_STYLE_TERMS = ("", "dumb")
_NO_DOUBLE_TERMS = ("linux", "dumb", "screen", "tmux", "vt52", "vt100", "cons25", "ansi")
_NO_DOUBLE_ENV = ("TMUX", "STY", "VTE_VERSION")


class CaptionStyle(StrEnum):
    """How captions are drawn: double-size where the terminal can, or plain large text."""

    DOUBLE = "double"
    PLAIN = "plain"


def supports_double_height(env: Mapping[str, str]) -> bool:
    """Whether the terminal in env draws DEC double-height lines (a conservative check)."""
    term = env.get("TERM", "")
    if any(term == bad or term.startswith(bad + "-") for bad in _NO_DOUBLE_TERMS):
        return False
    if any(env.get(name) for name in _NO_DOUBLE_ENV):
        return False  # tmux, GNU screen and VTE terminals ignore the line attributes
    return term.startswith(("xterm", "konsole", "rxvt"))


class CaptionDisplay:
    """Prints captions; double-size lines only where the terminal draws them."""

    def __init__(
        self,
        stream: TextIO | None = None,
        enabled: bool = True,
        style: CaptionStyle = CaptionStyle.DOUBLE,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = enabled
        env = os.environ if env is None else env
        is_tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.styled = is_tty and env.get("TERM", "") not in _NO_STYLE_TERMS
        self.double = self.styled and style is CaptionStyle.DOUBLE and supports_double_height(env)

    def show(self, caption: Caption) -> None:
        """Show one caption."""
        if not self.enabled:
            return
        label = "You said" if caption.role is Role.PATIENT else "Kiosk"
        if not self.styled:
            self.stream.write(f"[{label}] {caption.text}\n")
            self.stream.flush()
            return
        colour = _PATIENT if caption.role is Role.PATIENT else _KIOSK
        columns = shutil.get_terminal_size((80, 24)).columns
        width = max(20, columns // 2 - 2) if self.double else max(20, columns - 2)
        out = [f"\n{_LABEL}{label}:{_RESET}\n"]
        for line in textwrap.wrap(caption.text, width) or [""]:
            if self.double:
                # DEC double-height: the same text twice, top half then bottom half.
                out.append(f"\033#3{colour}{line}{_RESET}\n\033#4{colour}{line}{_RESET}\n")
            else:
                out.append(f"{colour}{line}{_RESET}\n")
        self.stream.write("".join(out))
        self.stream.flush()

    def clear(self) -> None:
        """Clear the screen and its scrollback, so the next patient doesn't see the last one's."""
        if self.enabled and self.styled:
            self.stream.write("\033[3J\033[2J\033[H")
            self.stream.flush()

    def status(self, text: str) -> None:
        """A short status line for staff (not spoken), e.g. "Listening…"."""
        if self.enabled:
            self.stream.write(f"({text})\n")
            self.stream.flush()


def default_log_file(env: Mapping[str, str] | None = None) -> Path:
    """Where the kiosk logs while captions hold the terminal: the user's state folder."""
    env = os.environ if env is None else env
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "voice" / "kiosk.log"


@contextlib.contextmanager
def logs_off_screen(captions_on: bool, log_file: Path | None) -> Iterator[Path | None]:
    """While captions share the terminal, send everything written to stderr to a log file.

    Python's warnings and the messages C libraries (ALSA, PortAudio, Kaldi) write straight to
    file descriptor 2 would otherwise land between the captions. Under a service manager stderr
    is the journal, not the screen, and is left alone. Yields the file used, or None.
    """
    if not captions_on or not (sys.stderr.isatty() or log_file is not None):
        yield None
        return
    path = log_file or default_log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with path.open("ab", buffering=0) as log:
            os.dup2(log.fileno(), 2)
            try:
                yield path
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)
