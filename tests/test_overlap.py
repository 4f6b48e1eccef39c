"""Entries that ask nearly the same question (voice/matching/overlap.py, `voice content check`)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from voice.content.loader import default_content_dir, load_content
from voice.content.schema import Entry, Faq
from voice.matching.overlap import SAME_QUESTION, overlapping_entries

VOICE = str(Path(sys.executable).with_name("voice"))


class _TableEmbedder:
    """Pure-logic stand-in: each question's vector is given."""

    fingerprint = "table"

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self._vectors: dict[str, np.ndarray] = {
            k: np.asarray(v) / np.linalg.norm(v) for k, v in vectors.items()
        }

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        stacked: np.ndarray = np.vstack([self._vectors[t] for t in texts])
        return stacked

    def embed_query(self, text: str) -> np.ndarray:
        return self._vectors[text]


def _faq(*questions: str) -> Faq:
    template = load_content(default_content_dir())
    entries = tuple(
        Entry(id=f"e{i}", question=q, answer="An answer.", phrasings=("x",), source="Test",
              topic="test")
        for i, q in enumerate(questions)
    )
    return replace(template, entries=entries)


def test_pairs_at_or_above_the_threshold_are_named_most_alike_first() -> None:
    embedder = _TableEmbedder({
        "a": [1.0, 0.0, 0.0],
        "b": [0.95, 0.31, 0.0],  # cosine 0.95 with a
        "c": [0.0, 0.0, 1.0],
        "d": [0.92, 0.0, 0.39],  # 0.92 with a
    })
    pairs = overlapping_entries(_faq("a", "b", "c", "d"), embedder)
    assert [(p.first, p.second) for p in pairs] == [("e0", "e1"), ("e0", "e3")]
    assert pairs[0].similarity >= pairs[1].similarity >= SAME_QUESTION


def test_different_questions_and_single_entries_give_nothing() -> None:
    embedder = _TableEmbedder({"a": [1.0, 0.0], "b": [0.0, 1.0]})
    assert overlapping_entries(_faq("a", "b"), embedder) == []
    assert overlapping_entries(_faq("a"), embedder) == []


@pytest.mark.e2e
def test_content_check_names_the_shipped_faqs_overlapping_entries() -> None:
    """The real embedding model on the real content: three pairs a question writer flagged."""
    from voice.errors import ModelError
    from voice.semantic.model import shared_embedder

    try:
        shared_embedder()
    except ModelError:
        pytest.skip("the embedding model is not installed")
    done = subprocess.run([VOICE, "content", "check"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "3 pair(s) of entries ask nearly the same question" in done.stdout
    assert "life-expectancy" in done.stdout and "extend-life" in done.stdout
