"""The calibrated decision (voice/matching/decision.py): what it may change, and what never."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from voice.content.loader import default_content_dir, load_content
from voice.matching.decision import (
    FEATURES,
    DecisionModel,
    QuestionFacts,
    decide,
    features,
    shipped_model,
)
from voice.matching.matcher import Matcher
from voice.matching.ranking import Ranking
from voice.matching.result import Action, Candidate, MatchResult

IDS = ("a", "b", "c")
MODEL = DecisionModel(
    intercept=0.0,
    coef=dict.fromkeys(FEATURES, 0.0),
    mean=dict.fromkeys(FEATURES, 0.0),
    scale=dict.fromkeys(FEATURES, 1.0),
    veto=0.0,
    answer=0.9,
    rescue=0.8,
    answer_min_semantic=0.72,
)
FACTS = QuestionFacts(content_words=4, unknown_share=0.0, other_subject=False, liftable=True)


def ranking(semantic: tuple[float, ...], lexical: tuple[float, ...] = (0.5, 0.4, 0.1)) -> Ranking:
    return Ranking.combine(
        IDS, np.array(semantic), [Candidate(i, s) for i, s in zip(IDS, lexical, strict=True)]
    )


def lexical(action: Action, entry: str | None = "a", reason: str = "weak_match") -> MatchResult:
    return MatchResult("q", action, entry_id=entry, score=0.5, reason=reason)


def test_hybrid_ranks_by_meaning_plus_half_the_words() -> None:
    r = ranking((0.70, 0.90, 0.2), (0.5, 0.2, 0.0))
    assert IDS[r.top] == "b"  # 0.90 + 0.10 > 0.70 + 0.25
    best = r.best()
    assert [c.entry_id for c in best] == ["b", "a", "c"]
    assert best[0].score == round((0.90 + 0.5 * 0.2) / 1.5, 4)


def test_a_liftable_offer_with_a_high_probability_is_answered_with_the_hybrid_entry() -> None:
    r = ranking((0.70, 0.90, 0.2))
    result = decide(lexical(Action.CONFIRM), r, FACTS, MODEL, probability=0.95)
    assert (result.action, result.entry_id, result.reason) == (
        Action.ANSWER, "b", "semantic_match"
    )
    below = decide(lexical(Action.CONFIRM), r, FACTS, MODEL, probability=0.5)
    assert (below.action, below.entry_id) == (Action.CONFIRM, "b")


@pytest.mark.parametrize("reason", ["close_call", "unsure_hearing"])
def test_named_confirms_are_left_alone(reason: str) -> None:
    facts = replace(FACTS, liftable=False)
    before = lexical(Action.CONFIRM, reason=reason)
    assert decide(before, ranking((0.7, 0.9, 0.2)), facts, MODEL, probability=0.99) == before


def test_another_subject_is_never_overridden() -> None:
    facts = replace(FACTS, other_subject=True)
    before = lexical(Action.DECLINE, None, "no_good_match")
    assert decide(before, ranking((0.9, 0.5, 0.2)), facts, MODEL, probability=0.99) == before


def test_no_words_and_commands_pass_through() -> None:
    none = MatchResult("", Action.DECLINE, reason="no_words")
    assert decide(none, ranking((0.9, 0.5, 0.2)), FACTS, MODEL, probability=1.0) == none


def test_an_answer_unlike_the_question_is_only_offered() -> None:
    answer = lexical(Action.ANSWER, "a", "confident")
    doubted = decide(answer, ranking((0.70, 0.5, 0.2)), FACTS, MODEL, probability=0.99)
    assert (doubted.action, doubted.reason) == (Action.CONFIRM, "semantic_doubt")
    kept = decide(answer, ranking((0.80, 0.5, 0.2)), FACTS, MODEL, probability=0.99)
    assert kept == answer


def test_a_decline_is_offered_only_above_the_rescue_threshold() -> None:
    before = lexical(Action.DECLINE, None, "no_good_match")
    r = ranking((0.9, 0.5, 0.2))
    assert decide(before, r, FACTS, MODEL, probability=0.5) == before
    offered = decide(before, r, FACTS, MODEL, probability=0.85)
    assert (offered.action, offered.entry_id) == (Action.CONFIRM, "a")


def test_features_are_all_named() -> None:
    x = features(lexical(Action.CONFIRM), ranking((0.7, 0.9, 0.2)), FACTS)
    assert set(x) == set(FEATURES)
    assert 0.0 < MODEL.probability(x) < 1.0


def test_the_shipped_weights_load_and_round_trip() -> None:
    model = shipped_model()
    assert DecisionModel.from_dict(model.to_dict()) == model
    assert 0.0 < model.answer <= 1.0


def test_results_stay_well_formed_with_the_model() -> None:
    """The result's entry leads its alternatives, scores sorted and within 0–1, whatever the
    decision changed."""
    from pathlib import Path

    from voice.content.loader import default_content_dir, load_content
    from voice.matching.evaluation import read_eval_file
    from voice.matching.matcher import Matcher

    faq = load_content(default_content_dir())
    matcher = Matcher(faq)
    if matcher.semantic is None:
        pytest.skip("the embedding model is not installed (voice model fetch)")
    data = Path(__file__).parent / "data"
    for name in ("typed_eval.tsv", "dev_eval.tsv", "near_miss_eval.tsv"):
        for item in read_eval_file(data / name):
            for heard in (False, True):
                result = matcher.match(item.question, heard=heard)
                scores = [c.score for c in result.alternatives]
                assert scores == sorted(scores, reverse=True)
                assert all(0.0 <= s <= 1.0 for s in scores)
                if result.action in (Action.ANSWER, Action.CONFIRM):
                    assert result.entry_id == result.alternatives[0].entry_id
                    assert result.score == result.alternatives[0].score
                if result.action is Action.DECLINE:
                    assert result.entry_id is None


def test_a_heard_answer_is_left_to_the_speech_policy() -> None:
    """A transcript's answer is not doubted here: a doubt would turn into an offer that the
    speech policy then declines for want of the open decoder's support (seen in the kiosk:
    "does help with co vid" declined instead of offered)."""
    faq = load_content(default_content_dir())
    matcher = Matcher(faq)
    if matcher.semantic is None:
        pytest.skip("the embedding model is not installed")
    typed = matcher.match("does help with co vid")
    heard = matcher.match("does help with co vid", heard=True)
    assert heard.action is Action.ANSWER and heard.entry_id == "covid"
    assert typed.entry_id == "covid"
