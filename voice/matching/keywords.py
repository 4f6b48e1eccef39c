"""Content words: stop-word removal, light stemming and inverse-document-frequency weights."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

# Words that carry no topic. Question words ("how", "what", "long") are deliberately NOT here:
# "how long" vs "how many" separates entries.
STOP_WORDS = frozenset(
    """
    a an the and or but if of to in on at for with by from as into about over after before is
    are was were be been being am do does did doing done have has had having will would shall
    should can cannot could may might must i me my mine we us our you your yours he him his
    she her it its they them their this that these those there here so very really just also
    too then than please tell want wondering wonder think like okay ok yes thank
    thanks hello hi doctor nurse bit little lot get got getting go going gone kind sort say
    said mean question ask asking something anything thing things one someone somebody any
    some all while
    """.split()
) | frozenset(
    # Who the question is about, and how the patient came to ask it: "my husband's consultant
    # mentioned …", "I read online that …". They say nothing about which answer is wanted, and
    # as words the FAQ never uses they would count against the match.
    """
    husband wife partner brother sister dad father mum mom mother son daughter friend family
    consultant heard hear read online mention mentioned true real kind folk person myself ever
    yet since now once even though actually usually normally really roughly
    """.split()
)

# Everyday words for the subject that add nothing to tell entries apart. They are kept as
# words (so "does it work" still has content) but weigh little.
GENERIC_WORDS = frozenset(
    {
        "immunotherapy", "treatment", "therapy", "drug", "drugs", "drip", "infusion",
        "infusions", "injection", "injections",
    }
)

# Question words shape a question but say little about its topic on their own.
QUESTION_WORDS = frozenset(
    {"what", "how", "who", "why", "when", "where", "which", "whether", "does", "doe", "will"}
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Cut common English endings so "effects"/"effect" and "working"/"works" meet."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix in ("ingly", "edly", "ness", "ment", "ing", "ies", "ied", "ed", "es", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                return base + "y"
            if suffix == "s" and base.endswith("s"):
                return word  # "less", "loss"
            return base
    return word


def content_words(normalized: str) -> list[str]:
    """Stemmed content words of a normalised text, in order."""
    stems = (stem(w) for w in normalized.split() if w not in STOP_WORDS)
    # A stem can be a stop word too: "likely" is "like".
    return [s for s in stems if s not in STOP_WORDS]


def idf_weights(documents: Iterable[Iterable[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency of each word over the given documents."""
    counts: Counter[str] = Counter()
    total = 0
    for words in documents:
        total += 1
        counts.update(set(words))
    return {w: math.log((1 + total) / (1 + n)) + 1.0 for w, n in counts.items()}
