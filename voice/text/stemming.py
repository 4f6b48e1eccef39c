"""Light English stemming, so "effects"/"effect" and "working"/"works" meet."""

from __future__ import annotations

from functools import lru_cache

_SUFFIXES = ("ingly", "edly", "ness", "ment", "ing", "ies", "ied", "ed", "es", "ly", "s")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Cut one common English ending."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                return base + "y"
            if suffix == "s" and base.endswith("s"):
                return word  # "less", "loss"
            return base
    return word
