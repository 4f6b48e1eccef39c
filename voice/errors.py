"""The one error hierarchy: library code raises these; only the CLI turns them into messages."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO


class VoiceError(Exception):
    """Root of every error the kiosk raises on purpose.

    ``str(error)`` is a complete, user-facing sentence that says what went wrong and what to do.
    """


@dataclass(frozen=True)
class ContentProblem:
    """One problem found in a content file, with where it is and what to do."""

    path: Path
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        field = f" [{self.field}]" if self.field else ""
        return f"{where}{field}: {self.message}"


class ContentError(VoiceError):
    """The FAQ content is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[ContentProblem]) -> None:
        self.problems = list(problems)
        lines = [str(p) for p in self.problems]
        super().__init__(
            f"{len(lines)} problem(s) in the content:\n  " + "\n  ".join(lines)
            if lines
            else "The content is invalid."
        )


class AudioError(VoiceError):
    """An audio file or stream could not be read or converted."""


class ModelError(VoiceError):
    """The speech-recognition model is missing, incomplete or could not be loaded or fetched."""


class RecognitionError(VoiceError):
    """The speech recognizer failed while decoding."""


class SpeechError(VoiceError):
    """Text-to-speech failed."""


class DeviceError(VoiceError):
    """An audio device (microphone or speaker) is missing, busy or disappeared."""


class UsageError(VoiceError):
    """The command line was used wrongly (bad option values, unreadable input lists)."""


class InstallError(VoiceError):
    """A data file the kiosk ships with is missing or unreadable: the installation is damaged."""


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
