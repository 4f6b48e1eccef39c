"""Model file checksums remembered by (path, size, mtime), so each load need not hash 70 MB."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

CACHE_NAME = ".model-checksums.json"
_APP = "clinic-voice-kiosk"


def user_cache_dir() -> Path:
    """The per-user cache folder ($XDG_CACHE_HOME/clinic-voice-kiosk)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / _APP


class ChecksumCache:
    """sha256 digests keyed by resolved path, valid while the file's size and mtime_ns hold."""

    def __init__(self, model_path: Path) -> None:
        # Next to the models folder first; a read-only installation falls back to the user's.
        self.locations = (model_path.parent / CACHE_NAME, user_cache_dir() / CACHE_NAME)
        self._entries: dict[str, list[object]] = {}
        self._dirty = False
        for location in self.locations:
            loaded = _read(location)
            if loaded is not None:
                self._entries = loaded
                break

    def sha256(self, file: Path) -> str:
        """The file's sha256, from the cache when its size and mtime are unchanged."""
        from voice.install.manifest import sha256_file

        stat = file.stat()
        key = str(file.resolve())
        entry = self._entries.get(key)
        if (
            isinstance(entry, list)
            and len(entry) == 3
            and entry[:2] == [stat.st_size, stat.st_mtime_ns]
            and isinstance(entry[2], str)
        ):
            return entry[2]
        digest = sha256_file(file)
        self._entries[key] = [stat.st_size, stat.st_mtime_ns, digest]
        self._dirty = True
        return digest

    def save(self) -> None:
        """Write the cache to the first location that can be written; a failure only costs time."""
        if not self._dirty:
            return
        for location in self.locations:
            try:
                location.parent.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile(
                    "w", dir=location.parent, prefix=f"{CACHE_NAME}.", delete=False
                ) as handle:
                    json.dump(self._entries, handle)
                os.replace(handle.name, location)
            except OSError as exc:
                logger.debug("Cannot write the checksum cache %s: %s", location, exc)
                continue
            self._dirty = False
            return


def _read(location: Path) -> dict[str, list[object]] | None:
    """The entries stored at ``location``, or None when it is missing or unreadable."""
    try:
        data = json.loads(location.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.debug("No usable checksum cache at %s: %s", location, exc)
        return None
    if not isinstance(data, dict):
        return None
    return {str(key): value for key, value in data.items() if isinstance(value, list)}
