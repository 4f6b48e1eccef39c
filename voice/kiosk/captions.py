"""On-screen captions: what the kiosk heard and what it says, large and high-contrast.

A visual equivalent of everything spoken (EN 301 549 §5.1.5). On a terminal that supports it,
text is drawn double-height and double-width (DEC line attributes), bright on black.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from typing import TextIO

from voice.kiosk.events import Caption, Role

_RESET = "\033[0m"
_KIOSK = "\033[1;93;40m"  # bold bright yellow on black
_PATIENT = "\033[1;97;40m"  # bold bright white on black
_LABEL = "\033[1;96;40m"


class CaptionDisplay:
    """Prints captions; ``large`` uses double-size lines where the terminal can draw them."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = enabled
        is_tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.styled = is_tty and os.environ.get("TERM", "dumb") != "dumb"

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
        width = max(20, shutil.get_terminal_size((80, 24)).columns // 2 - 2)
        out = [f"\n{_LABEL}{label}:{_RESET}\n"]
        for line in textwrap.wrap(caption.text, width) or [""]:
            # DEC double-height: the same text twice, top half then bottom half.
            out.append(f"\033#3{colour}{line}{_RESET}\n\033#4{colour}{line}{_RESET}\n")
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
