"""Content audio on disk: one .npy file per line and rate, in a folder per voice and content.

Only the content's own lines are ever stored here (the kiosk never says a patient's words, and
lines that are not content are kept in memory only): <root>/<engine version>/<content hash>/.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voice.speaking.pronunciation import Pronunciations

logger = logging.getLogger(__name__)

CACHE_ENV_VAR = "VOICE_SPEECH_CACHE"  # a folder, or "off" to keep nothing on disk
_OFF = frozenset({"off", "0", "no", "false", "none"})
KEEP_CONTENT_VERSIONS = 3  # older renderings of edited content are removed


def default_cache_dir() -> Path | None:
    """Where content audio is kept: $VOICE_SPEECH_CACHE, else the user cache; None if off."""
    setting = os.environ.get(CACHE_ENV_VAR, "").strip()
    if setting.lower() in _OFF:
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "clinic-voice-kiosk" / "speech"


def line_key(text: str) -> str:
    """A line's text with its spacing made uniform (the same line, however it was wrapped)."""
    return " ".join(text.split())


def disk_name(text: str, rate_wpm: int) -> str:
    """The cache file name of a line at a rate (the folder holds voice and content)."""
    digest = hashlib.sha256(f"{rate_wpm}\n{line_key(text)}".encode()).hexdigest()
    return f"{digest[:32]}.npy"


def content_hash(lines: Iterable[str], pronunciations: Pronunciations) -> str:
    """A short hash of the content's spoken lines and its pronunciation table."""
    digest = hashlib.sha256(pronunciations.digest_text().encode())
    for line in lines:
        digest.update(b"\0" + line_key(line).encode())
    return digest.hexdigest()[:16]


class DiskCache:
    """The .npy files of one engine version and one content version, in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.enabled = True

    @classmethod
    def open(cls, root: Path, engine_version: str, content: str) -> DiskCache:
        """The folder for this voice and content, made if need be; older contents pruned."""
        cache = cls(root / _safe(engine_version) / content)
        try:
            cache.folder.mkdir(parents=True, exist_ok=True)
            os.utime(cache.folder)  # most recently used content version
            _prune(cache.folder.parent, KEEP_CONTENT_VERSIONS)
        except OSError as error:
            cache._off(error)
        return cache

    def has(self, text: str, rate_wpm: int) -> bool:
        """Whether a line is stored (not whether it is intact: load says that)."""
        return self.enabled and (self.folder / disk_name(text, rate_wpm)).is_file()

    def missing(self, keys: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
        """The (line, rate) pairs not stored yet, in order (all of them when the cache is off)."""
        try:
            stored = set(os.listdir(self.folder)) if self.enabled else set()
        except OSError:
            stored = set()
        return [key for key in keys if disk_name(*key) not in stored]

    def load(self, text: str, rate_wpm: int) -> npt.NDArray[np.int16] | None:
        """The stored samples of a line, or None."""
        if not self.enabled:
            return None
        path = self.folder / disk_name(text, rate_wpm)
        try:
            samples = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            logger.debug("Ignoring a damaged speech cache file %s (%s)", path.name, error)
            return None
        if samples.dtype != np.int16 or samples.ndim != 1:
            return None
        found: npt.NDArray[np.int16] = samples
        return found

    def store(self, text: str, rate_wpm: int, samples: npt.NDArray[np.int16]) -> bool:
        """Keep a line's samples (written whole, then renamed, so readers never see half).

        False when the folder cannot be written: the cache is then off for this run.
        """
        if not self.enabled:
            return False
        path = self.folder / disk_name(text, rate_wpm)
        temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with temporary.open("wb") as file:
                np.save(file, samples, allow_pickle=False)
            os.replace(temporary, path)
        except OSError as error:
            temporary.unlink(missing_ok=True)
            self._off(error)
            return False
        return True

    def _off(self, error: OSError) -> None:
        self.enabled = False
        logger.warning(
            "Speech is not cached on disk (%s); it is rendered again at each start. "
            "Set %s to a writable folder, or to off.",
            error,
            CACHE_ENV_VAR,
        )


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in name)


def _prune(folder: Path, keep: int) -> None:
    """Remove all but the `keep` most recently used content versions in folder."""
    versions = sorted(
        (p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in versions[keep:]:
        shutil.rmtree(old, ignore_errors=True)
