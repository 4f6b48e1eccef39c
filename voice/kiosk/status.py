"""The kiosk's optional JSON-lines status log, for tests and benchmarks (never transcripts)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from voice.errors import UsageError


class StatusLog:
    """Optional JSON-lines log of kiosk events for tests and benchmarks (no transcripts)."""

    def __init__(self, path: Path | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        try:
            self._file: TextIO | None = path.open("w", encoding="utf-8") if path else None
        except OSError as exc:
            raise UsageError(f"The status file {path} cannot be written ({exc}).") from exc

    @property
    def enabled(self) -> bool:
        """True when events are being written."""
        return self._file is not None

    def write(self, event: str, **fields: Any) -> None:
        """Write one event with a monotonic timestamp (safe from any thread, and after close)."""
        with self._lock:
            if self._file is not None:
                record = {"t": round(self._clock(), 4), "event": event, **fields}
                self._file.write(json.dumps(record) + "\n")
                self._file.flush()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
