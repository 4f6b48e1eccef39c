"""Progress display for long downloads, on stderr, for people at a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressPrinter:
    """Callable as ``progress(done, total_or_None)`` in bytes; redraws at most 5 times a second."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self._last_draw = 0.0
        self._started = time.monotonic()
        self._drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self._last_draw < 0.2 and (total is None or done < total):
            return
        self._last_draw = now
        mb = done / 1e6
        rate = mb / max(now - self._started, 1e-3)
        if total:
            pct = 100.0 * done / total
            text = f"{self.label}: {pct:5.1f}% ({mb:.1f} of {total / 1e6:.1f} MB, {rate:.1f} MB/s)"
        else:
            text = f"{self.label}: {mb:.1f} MB ({rate:.1f} MB/s)"
        end = "\r" if self.stream.isatty() else "\n"
        self.stream.write(text + end)
        self.stream.flush()
        self._drawn = True

    def notify(self, message: str) -> None:
        """Print a one-line status message."""
        if self._drawn and self.stream.isatty():
            self.stream.write("\n")
        self.stream.write(message + "\n")
        self.stream.flush()
        self._drawn = False

    def done(self) -> None:
        """Finish the progress line."""
        if self._drawn and self.stream.isatty():
            self.stream.write("\n")
            self.stream.flush()
