"""The one calibrated decision: how far the semantic evidence moves the lexical matcher's call.

The lexical matcher's own decision (matcher.py: scores, margin, its named rules) is kept as the
gate: on labelled questions it almost never answers wrongly, but its "Did you mean …?" offered
the right entry only half the time and it declined or only offered many questions it could have
answered. A logistic model (weights in data/decision.json, fitted by
benchmarks/fit_decision.py on three FAQs and validated leave-one-FAQ-out) gives the probability
that the hybrid ranking's best entry is the right one, and then:

- an answer stands, unless its entry's cosine with the question is below
  ``answer_min_semantic`` or that probability is below ``veto`` (then "Did you mean …?");
- a "Did you mean …?" the lexical matcher asked only because its score fell short (typed
  questions; a heard one is the speech policy's to weigh) becomes an answer at ``answer`` or
  above, offers the hybrid ranking's best entry (right far more often than the lexical one) at
  ``confirm`` or above, and is declined below;
- a decline (with content words) is offered as "Did you mean …?" at ``rescue`` or above.

Named rules come first and are never overridden: no words, a control phrase, and a question
naming a subject the FAQ does not cover (the semantic evidence then changes nothing); a doubt
about the hearing ("unsure_hearing"), a close call between two entries ("close_call") and the
lexical matcher's named rules (one stray word, a WordNet relation) are left as they are.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources

from voice.errors import InstallError
from voice.matching.ranking import Ranking
from voice.matching.result import Action, MatchResult

FEATURES = (
    "sem_top",
    "sem_margin",
    "sem_of_top",
    "lex_top",
    "lex_of_top",
    "lex_margin",
    "agree",
    "hyb_margin",
    "unknown_share",
    "few_words",
    "lexical_answers",
    "lexical_offers",
)



# Offers whose entry the hybrid ranking may choose (not a doubt about the hearing).
_REOFFER = frozenset({"close_call", "weak_match"})


@dataclass(frozen=True)
class QuestionFacts:
    """What the lexical matcher knows about the question itself."""

    content_words: int
    unknown_share: float  # share of content words the FAQ never uses
    other_subject: bool  # it names a subject the FAQ does not cover
    # The lexical decision is a confirm only because its score fell short of the answer bar;
    # not a named rule's (one stray word, a WordNet relation, a close call, unsure hearing).
    liftable: bool = False
    # A speech transcript: the speech policy (voice/hearing/policy.py) weighs how well it was
    # heard, so the embedding neither lifts nor doubts its answer here; it only picks the entry
    # a "Did you mean …?" offers.
    heard: bool = False


@dataclass(frozen=True)
class DecisionModel:
    """Logistic weights over standardised features, and the thresholds on its probability."""

    intercept: float
    coef: dict[str, float]
    mean: dict[str, float]
    scale: dict[str, float]
    veto: float
    answer: float
    rescue: float
    # A liftable offer below this probability is declined (typed questions only).
    confirm: float = 0.0
    # An answer whose entry is less like the question than this (cosine) is only offered.
    answer_min_semantic: float = 0.0

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> DecisionModel:
        """From the JSON written by benchmarks/fit_decision.py."""
        def table(key: str) -> dict[str, float]:
            raw = data[key]
            assert isinstance(raw, dict)
            return {name: float(raw[name]) for name in FEATURES}

        thresholds = data["thresholds"]
        assert isinstance(thresholds, dict)
        return cls(
            intercept=float(data["intercept"]),  # type: ignore[arg-type]
            coef=table("coef"),
            mean=table("mean"),
            scale=table("scale"),
            veto=float(thresholds["veto"]),
            answer=float(thresholds["answer"]),
            rescue=float(thresholds["rescue"]),
            answer_min_semantic=float(thresholds.get("answer_min_semantic", 0.0)),
            confirm=float(thresholds.get("confirm", 0.0)),
        )

    def thresholds(self) -> dict[str, float]:
        """The thresholds on the probability, by their names in the JSON form."""
        return {
            "veto": self.veto,
            "answer": self.answer,
            "rescue": self.rescue,
            "answer_min_semantic": self.answer_min_semantic,
            "confirm": self.confirm,
        }

    def to_dict(self) -> dict[str, object]:
        """The JSON form (see from_dict)."""
        return {
            "intercept": self.intercept,
            "coef": self.coef,
            "mean": self.mean,
            "scale": self.scale,
            "thresholds": self.thresholds(),
        }

    def probability(self, x: dict[str, float]) -> float:
        """P(the hybrid's best entry is the right one)."""
        z = self.intercept + sum(
            self.coef[f] * (x[f] - self.mean[f]) / self.scale[f] for f in FEATURES
        )
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@lru_cache(maxsize=1)
def shipped_model() -> DecisionModel:
    """The weights in voice/matching/data/decision.json."""
    try:
        text = resources.files("voice.matching").joinpath("data/decision.json").read_text()
        data = json.loads(text)
        return DecisionModel.from_dict(data["model"])
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise InstallError(
            f"voice/matching/data/decision.json is missing or invalid ({exc}). Reinstall the "
            "kiosk, or refit it with benchmarks/fit_decision.py."
        ) from exc


def features(lexical: MatchResult, ranking: Ranking, facts: QuestionFacts) -> dict[str, float]:
    """Everything the logistic model looks at, by name."""
    x = ranking.features()
    top_id = ranking.entry_ids[ranking.top]
    same = lexical.entry_id == top_id
    x["unknown_share"] = facts.unknown_share
    x["few_words"] = float(facts.content_words <= 1)
    x["lexical_answers"] = float(lexical.action is Action.ANSWER and same)
    x["lexical_offers"] = float(lexical.action is Action.CONFIRM and same)
    return x


def decide(
    lexical: MatchResult,
    ranking: Ranking,
    facts: QuestionFacts,
    model: DecisionModel,
    probability: float | None = None,
) -> MatchResult:
    """The final decision for a question the lexical matcher decided on (not a command).

    ``probability``: the model's p for this evidence when already known (the fitting script).
    """
    if lexical.action is Action.COMMAND or lexical.reason == "no_words" or facts.other_subject:
        return lexical
    p = (
        probability
        if probability is not None
        else model.probability(features(lexical, ranking, facts))
    )
    top_id = ranking.entry_ids[ranking.top]
    if lexical.action is Action.ANSWER:
        if facts.heard:
            return lexical
        index = ranking.entry_ids.index(lexical.entry_id) if lexical.entry_id else ranking.top
        if float(ranking.semantic[index]) < model.answer_min_semantic:
            return replace(lexical, action=Action.CONFIRM, reason="semantic_doubt")
        if p < model.veto:
            return _with_entry(lexical, ranking, top_id, Action.CONFIRM, "semantic_doubt")
        return lexical
    if lexical.action is Action.CONFIRM:
        if not facts.liftable:
            # A named rule's offer stays an offer; the entry offered is the hybrid ranking's
            # when it is one of the two the words found closest (it is right far more often).
            close = {c.entry_id for c in lexical.alternatives[:2]}
            if lexical.reason in _REOFFER and top_id in close:
                return _with_entry(lexical, ranking, top_id)
            return lexical
        if p >= model.answer:
            return _with_entry(lexical, ranking, top_id, Action.ANSWER, "semantic_match")
        if p >= model.confirm:
            return _with_entry(lexical, ranking, top_id)
        return replace(lexical, action=Action.DECLINE, entry_id=None, reason="no_good_match")
    if p >= model.rescue:
        return _with_entry(lexical, ranking, top_id, Action.CONFIRM, "semantic_match")
    return lexical


def _with_entry(
    lexical: MatchResult,
    ranking: Ranking,
    entry_id: str,
    action: Action | None = None,
    reason: str | None = None,
) -> MatchResult:
    """``lexical`` turned to the hybrid ranking's best entry: its score and alternatives are then
    the hybrid ranking's (scaled to 0–1), so the entry leads them as the contract says."""
    alternatives = ranking.best()
    assert alternatives[0].entry_id == entry_id
    return replace(
        lexical,
        action=action if action is not None else lexical.action,
        reason=reason if reason is not None else lexical.reason,
        entry_id=entry_id,
        score=alternatives[0].score,
        alternatives=alternatives,
    )
