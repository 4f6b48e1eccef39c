"""The FAQ entries' embeddings, and how close a question is to each entry.

Each entry is embedded as its question and each of its phrasings; an entry's score for a
question is the highest cosine over those texts. Embedding a whole FAQ takes seconds, so the
vectors are kept on disk, keyed by a hash of the texts and the model's fingerprint: any edit
to the content, or another model, makes a new key and the stale file is simply not read.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice.content.schema import Faq
from voice.install.checksums import user_cache_dir
from voice.semantic.model import Embedder

log = logging.getLogger(__name__)

_FORMAT = "1"  # bump when what is embedded, or how, changes


def entry_texts(faq: Faq) -> tuple[list[str], np.ndarray]:
    """The texts embedded for each entry (question and phrasings, no repeats) and their owners."""
    texts: list[str] = []
    owners: list[int] = []
    for index, entry in enumerate(faq.entries):
        for text in dict.fromkeys((entry.question, *entry.phrasings)):
            texts.append(text)
            owners.append(index)
    return texts, np.asarray(owners, dtype=np.int64)


def cache_key(texts: list[str], fingerprint: str) -> str:
    """A name for these texts' vectors under this model."""
    digest = hashlib.sha256(f"{_FORMAT}\0{fingerprint}\0".encode())
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return digest.hexdigest()[:32]


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/clinic-voice-kiosk/embeddings."""
    return user_cache_dir() / "embeddings"


@dataclass(frozen=True)
class SemanticIndex:
    """Entry vectors for one FAQ, and the embedder questions go through."""

    embedder: Embedder
    vectors: np.ndarray  # one row per entry text, L2-normalised
    owners: np.ndarray  # the entry index of each row
    entries: int

    @classmethod
    def build(
        cls, faq: Faq, embedder: Embedder, cache_dir: Path | None = None
    ) -> SemanticIndex:
        """Embed the FAQ, or read its vectors from the cache (``cache_dir``, or the user's)."""
        texts, owners = entry_texts(faq)
        folder = cache_dir if cache_dir is not None else default_cache_dir()
        file = folder / f"{cache_key(texts, embedder.fingerprint)}.npy"
        vectors = _read(file, len(texts))
        if vectors is None:
            started = time.perf_counter()
            vectors = embedder.embed(texts)
            log.info("Embedded %d FAQ texts in %.1f s", len(texts), time.perf_counter() - started)
            _write(file, vectors)
        return cls(embedder, vectors, owners, len(faq.entries))

    def scores(self, question: str) -> np.ndarray:
        """Each entry's best cosine with the question (entry order; -1 for an entry with no
        text)."""
        similarities = self.vectors @ self.embedder.embed_query(question)
        best = np.full(self.entries, -1.0, dtype=np.float64)
        np.maximum.at(best, self.owners, similarities.astype(np.float64))
        return best


def _read(file: Path, rows: int) -> np.ndarray | None:
    """Cached vectors, or None when missing, unreadable or of the wrong shape."""
    try:
        vectors: np.ndarray = np.load(file, allow_pickle=False)
    except (OSError, ValueError) as exc:
        log.debug("No usable embedding cache %s: %s", file, exc)
        return None
    if vectors.ndim != 2 or vectors.shape[0] != rows or vectors.dtype != np.float32:
        return None
    return vectors


def _write(file: Path, vectors: np.ndarray) -> None:
    """Write atomically; a cache that cannot be written only costs time at the next start."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=file.parent, suffix=".npy", delete=False) as out:
            np.save(out, vectors, allow_pickle=False)
        os.replace(out.name, file)
    except OSError as exc:
        log.warning("Cannot write the embedding cache %s: %s", file, exc)


_warned: set[str] = set()


def load_index(
    faq: Faq, folder: Path | None = None, cache_dir: Path | None = None
) -> SemanticIndex | None:
    """The FAQ's semantic index, or None (with one warning) when the model is missing or
    damaged: matching then works on words alone. A missing onnxruntime or tokenizers package
    with the model present is an InstallError."""
    from voice.errors import ModelError
    from voice.semantic.model import shared_embedder

    try:
        embedder = shared_embedder(folder)
    except ModelError as exc:
        key = str(folder)
        if key not in _warned:
            _warned.add(key)
            log.warning("Matching on words alone: %s", exc)
        return None
    return SemanticIndex.build(faq, embedder, cache_dir)
