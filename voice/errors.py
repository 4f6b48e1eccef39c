"""The one error hierarchy: library code raises these; only the CLI turns them into messages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
