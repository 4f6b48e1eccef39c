"""The sentence-embedding model: an ONNX session and its tokenizer behind one small interface.

bge-small-en-v1.5 (quantized) from models/manifest.toml's [embedding] section: CLS pooling,
L2-normalised, one thread (the kiosk's budget is one core). Questions get bge's query prefix.
The model's files are checked against the manifest when loaded (sha256 remembered by size and
mtime, as for the speech model). onnxruntime sends telemetry unless told not to, so the
environment variable is set before it is first imported.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from voice.errors import InstallError, ModelError
from voice.install.manifest import EmbeddingManifest, embedding_problems, load_embedding_manifest
from voice.paths import models_dir

log = logging.getLogger(__name__)

EMBEDDING_MODEL_ENV = "VOICE_EMBEDDING_MODEL"
_MAX_TOKENS = 128  # patient questions are short; long phrasings are cut here
_QUERY_CACHE = 256  # the speech policy matches the same text more than once


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors (one row per text)."""

    @property
    def fingerprint(self) -> str:
        """Identifies the exact model, for caches of its vectors."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for passages (entry questions and phrasings)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """The vector for one patient question."""
        ...


def default_embedding_dir(manifest: EmbeddingManifest | None = None) -> Path:
    """Where the embedding model is installed (``VOICE_EMBEDDING_MODEL`` overrides it)."""
    override = os.environ.get(EMBEDDING_MODEL_ENV)
    if override:
        return Path(override).expanduser()
    manifest = manifest if manifest is not None else load_embedding_manifest()
    return models_dir() / manifest.name


def _import_runtime() -> tuple[Any, Any]:
    """onnxruntime (telemetry off) and tokenizers' Tokenizer, or InstallError."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    try:
        import onnxruntime
    except ImportError as exc:
        raise InstallError(
            "The Python package onnxruntime is missing: run `scripts/setup.sh` "
            "(or `pip install onnxruntime`)."
        ) from exc
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise InstallError(
            "The Python package tokenizers is missing: run `scripts/setup.sh` "
            "(or `pip install --no-deps tokenizers`)."
        ) from exc
    return onnxruntime, Tokenizer


def one_thread_session(ort: Any, onnx_file: Path) -> Any:
    """An onnxruntime session on one thread, quiet, without its memory arena."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # Without its memory arena the session lets go of the memory of a large batch (the FAQ,
    # embedded when its cache is cold); with it, the kiosk kept 25 MB for good. Questions take
    # no longer (5.0 ms either way, median here), results are the same.
    options.enable_cpu_mem_arena = False
    return ort.InferenceSession(
        str(onnx_file), sess_options=options, providers=["CPUExecutionProvider"]
    )


def hidden_states(session: Any, tokenizer: Any, texts: Sequence[str]) -> tuple[Any, np.ndarray]:
    """A BERT-style encoder's last hidden states for a batch, and the attention mask (texts
    padded with zeros to the longest; no token types)."""
    encodings = tokenizer.encode_batch(list(texts))
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, e in enumerate(encodings):
        ids[row, : len(e.ids)] = e.ids
        mask[row, : len(e.ids)] = 1
    hidden = session.run(
        ["last_hidden_state"],
        {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
    )[0]
    return hidden, mask


class OnnxEmbedder:
    """bge-small-en-v1.5 run with onnxruntime on one thread."""

    def __init__(self, folder: Path, manifest: EmbeddingManifest) -> None:
        ort, tokenizer_class = _import_runtime()
        onnx_file, tokenizer_file = (folder / pinned.path for pinned in manifest.files)
        try:
            self._tokenizer = tokenizer_class.from_file(str(tokenizer_file))
            self._session = one_thread_session(ort, onnx_file)
        except Exception as exc:  # onnxruntime and tokenizers raise their own bare types
            raise ModelError(
                f"The embedding model at {folder} could not be loaded ({exc}). "
                "Run `voice model fetch` to install a fresh copy."
            ) from exc
        self._tokenizer.enable_truncation(_MAX_TOKENS)
        self._prefix = manifest.query_prefix
        self._fingerprint = manifest.fingerprint
        self._query = lru_cache(maxsize=_QUERY_CACHE)(self._embed_one)

    @property
    def fingerprint(self) -> str:
        """The manifest's hash of the model files."""
        return self._fingerprint

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        hidden, _ = hidden_states(self._session, self._tokenizer, texts)
        cls = np.asarray(hidden[:, 0, :], dtype=np.float32)
        norms = np.linalg.norm(cls, axis=1, keepdims=True)
        return np.asarray(cls / np.maximum(norms, 1e-12), dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for passages, 32 at a time (similar lengths batched together)."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 0), dtype=np.float32)
        chunks = []
        for start in range(0, len(order), 32):
            chunk = order[start : start + 32]
            chunks.append((chunk, self._run([texts[i] for i in chunk])))
        out = np.zeros((len(texts), chunks[0][1].shape[1]), dtype=np.float32)
        for chunk, vectors in chunks:
            out[chunk] = vectors
        _return_free_memory()
        return out

    def _embed_one(self, text: str) -> np.ndarray:
        vector: np.ndarray = self._run([self._prefix + text])[0]
        vector.setflags(write=False)
        return vector

    def embed_query(self, text: str) -> np.ndarray:
        """The vector for one question, with bge's query prefix (recent ones remembered)."""
        vector: np.ndarray = self._query(text)
        return vector


def _return_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc only; elsewhere nothing).

    A batch's buffers are freed into the heap, which keeps them (about 40 MB after the FAQ);
    the kiosk runs for weeks, so they are given back once the batch is done.
    """
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


@lru_cache(maxsize=1)
def _libc() -> Any:
    import ctypes

    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def load_embedder(folder: Path | None = None) -> OnnxEmbedder:
    """Load the embedding model after checking its files against the manifest.

    Raises ModelError when it is missing or damaged, InstallError when onnxruntime or
    tokenizers is not installed.
    """
    from voice.install.checksums import ChecksumCache

    manifest = load_embedding_manifest()
    folder = folder if folder is not None else default_embedding_dir(manifest)
    if not folder.is_dir():
        raise ModelError(
            f"No embedding model at {folder}. Run `voice model fetch` to install it."
        )
    started = time.perf_counter()
    cache = ChecksumCache(folder.resolve())
    problems = embedding_problems(folder, manifest, cache.sha256)
    cache.save()
    if problems:
        raise ModelError(
            f"The embedding model at {folder} is not an intact copy of {manifest.name}: "
            f"{'; '.join(problems)}. Run `voice model fetch` to install a fresh copy."
        )
    embedder = OnnxEmbedder(folder, manifest)
    log.debug("Loaded %s in %.3f s", folder, time.perf_counter() - started)
    return embedder


@lru_cache(maxsize=2)
def shared_embedder(folder: Path | None = None) -> OnnxEmbedder:
    """One loaded model per folder and process: every matcher built for it shares the session."""
    return load_embedder(folder)
