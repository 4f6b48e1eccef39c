"""Entries that ask nearly the same question, found for the people who edit the content.

When two entries' questions mean the same thing ("Does the treatment increase life
expectancy?" and "Does the treatment extend life?"), a patient's question lands on either, and
which one wins is close to chance. The kiosk cannot fix that: the content can, by merging the two
or by making each question say what sets it apart. ``voice content check`` names such pairs.

Measured with bge-small-en-v1.5 on five FAQs (issue 14): the three pairs of the bundled FAQ
that a question writer flagged as asking the same thing have question cosines of
0.91-0.93; no pair of entries in the four other FAQs goes above 0.85.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voice.content.schema import Faq
from voice.semantic.model import Embedder

SAME_QUESTION = 0.90  # cosine of two entries' questions at which they ask the same thing


@dataclass(frozen=True)
class Overlap:
    """Two entries whose questions ask nearly the same thing."""

    first: str
    second: str
    similarity: float


def overlapping_entries(
    faq: Faq, embedder: Embedder, threshold: float = SAME_QUESTION
) -> list[Overlap]:
    """Pairs of entries whose questions are at least ``threshold`` alike, most alike first."""
    if len(faq.entries) < 2:
        return []
    vectors = embedder.embed([entry.question for entry in faq.entries])
    similarity = vectors @ vectors.T
    pairs = [
        Overlap(faq.entries[a].id, faq.entries[b].id, round(float(similarity[a, b]), 3))
        for a, b in zip(*np.triu_indices(len(faq.entries), k=1), strict=True)
        if similarity[a, b] >= threshold
    ]
    return sorted(pairs, key=lambda pair: -pair.similarity)
