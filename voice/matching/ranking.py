"""Hybrid ranking: sentence-embedding similarity plus the lexical matcher's score, per entry.

The semantic cosine (voice/semantic/) ranks by meaning and is right first for 98–100% of the
labelled in-domain questions; the lexical score (keywords and rapidfuzz) still catches
near-verbatim and misheard phrasings. Adding half the lexical score to the cosine puts the right
entry first for 98–100% and in the top two for all of them (issue 14's prototype, rank.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voice.matching.result import Candidate

LEXICAL_WEIGHT = 0.5


@dataclass(frozen=True)
class Ranking:
    """Per-entry evidence for one question, in the FAQ's entry order."""

    entry_ids: tuple[str, ...]
    semantic: np.ndarray  # best cosine over each entry's question and phrasings
    lexical: np.ndarray  # the lexical matcher's score (0 where it gave none)

    @classmethod
    def combine(
        cls, entry_ids: tuple[str, ...], semantic: np.ndarray, lexical: list[Candidate]
    ) -> Ranking:
        """Line up the lexical candidates with the semantic scores."""
        index = {entry_id: i for i, entry_id in enumerate(entry_ids)}
        scores = np.zeros(len(entry_ids), dtype=np.float64)
        for candidate in lexical:
            scores[index[candidate.entry_id]] = candidate.score
        return cls(entry_ids, np.asarray(semantic, dtype=np.float64), scores)

    @property
    def hybrid(self) -> np.ndarray:
        """Semantic cosine plus half the lexical score."""
        return self.semantic + LEXICAL_WEIGHT * self.lexical

    def best(self) -> tuple[Candidate, ...]:
        """The top three entries by the hybrid score, scaled to 0–1 (its largest possible value
        is 1 + LEXICAL_WEIGHT)."""
        hybrid = self.hybrid
        order = np.argsort(-hybrid, kind="stable")[:3]
        top = 1.0 + LEXICAL_WEIGHT
        return tuple(
            Candidate(self.entry_ids[i], round(min(1.0, max(0.0, float(hybrid[i]) / top)), 4))
            for i in order
        )

    @property
    def top(self) -> int:
        """The index of the hybrid's best entry."""
        return int(np.argmax(self.hybrid))

    def _margin(self, scores: np.ndarray) -> float:
        if len(scores) < 2:
            return float(scores[0]) if len(scores) else 0.0
        two = np.partition(scores, -2)[-2:]
        return float(two[1] - two[0])

    def features(self) -> dict[str, float]:
        """The ranking's evidence for the decision (voice/matching/decision.py)."""
        top = self.top
        sem_order = int(np.argmax(self.semantic))
        lex_top = float(self.lexical.max()) if len(self.lexical) else 0.0
        return {
            "sem_top": float(self.semantic[sem_order]),
            "sem_margin": self._margin(self.semantic),
            "sem_of_top": float(self.semantic[top]),
            "lex_top": lex_top,
            "lex_of_top": float(self.lexical[top]),
            "lex_margin": self._margin(self.lexical),
            "agree": float(sem_order == int(np.argmax(self.lexical)) and lex_top > 0),
            "hyb_margin": self._margin(self.hybrid),
        }
