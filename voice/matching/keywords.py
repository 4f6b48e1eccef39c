"""Content words and their inverse-document-frequency weights."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable

from voice.text.stemming import stem


def content_words(normalized: str, stop_words: Collection[str]) -> list[str]:
    """Stemmed content words of a normalised text, in order."""
    stems = (stem(w) for w in normalized.split() if w not in stop_words)
    # A stem can be a stop word too: "likely" is "like".
    return [s for s in stems if s not in stop_words]


def idf_weights(documents: Iterable[Iterable[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency of each word over the given documents."""
    counts: Counter[str] = Counter()
    total = 0
    for words in documents:
        total += 1
        counts.update(set(words))
    return {w: math.log((1 + total) / (1 + n)) + 1.0 for w, n in counts.items()}
