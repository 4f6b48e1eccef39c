"""Capturing what C libraries (libsndfile, Kaldi) print straight to file descriptor 2."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO


class NativeStderr:
    """Collects what C libraries (libsndfile's MP3 decoder, Kaldi) write straight to file
    descriptor 2, so the user sees one sentence and the details can be logged under -v.

    ``with NativeStderr() as native:`` holds the capture file; only the calls wrapped in
    ``with native.redirected():`` write to it, everything else goes to the real stderr.
    """

    def __init__(self) -> None:
        self._sink: IO[bytes] | None = None

    def __enter__(self) -> NativeStderr:
        self._sink = tempfile.TemporaryFile()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    @contextmanager
    def redirected(self) -> Iterator[None]:
        """Send file descriptor 2 to the capture file for the duration of the block."""
        assert self._sink is not None, "use NativeStderr in a with statement"
        sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no fd 2 (a daemon started with it closed): nothing to capture
            yield
            return
        os.dup2(self._sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)

    def text(self) -> str:
        """Everything captured so far."""
        if self._sink is None:
            return ""
        self._sink.seek(0)
        return self._sink.read().decode("utf-8", errors="replace").strip()
