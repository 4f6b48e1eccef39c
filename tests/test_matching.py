"""The FAQ matcher on the real content: answer, confirm ("Did you mean …?") or decline."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice.content.loader import default_content_dir, load_content
from voice.content.schema import Faq
from voice.matching.evaluation import read_eval_file
from voice.matching.matcher import Matcher, Thresholds
from voice.matching.result import Action, MatchResult

EVAL_FILE = Path(__file__).parent / "data" / "typed_eval.tsv"
FAQ = load_content(default_content_dir())


@pytest.fixture(scope="module")
def faq() -> Faq:
    return FAQ


@pytest.fixture(scope="module")
def matcher(faq: Faq) -> Matcher:
    return Matcher(faq)


def _assert_well_formed(result: MatchResult, faq: Faq) -> None:
    ids = {e.id for e in faq.entries}
    assert 0.0 <= result.score <= 1.0
    assert len(result.alternatives) <= 3
    scores = [c.score for c in result.alternatives]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert all(c.entry_id in ids for c in result.alternatives)
    assert len({c.entry_id for c in result.alternatives}) == len(result.alternatives)
    if result.action in (Action.ANSWER, Action.CONFIRM):
        assert result.entry_id == result.alternatives[0].entry_id
        assert result.score == result.alternatives[0].score
        assert result.command is None
    if result.action is Action.DECLINE:
        assert result.entry_id is None
        assert result.command is None


# --- answer ----------------------------------------------------------------------------------


@pytest.mark.parametrize("entry_id", [e.id for e in FAQ.entries])
def test_each_entry_answers_its_own_question(matcher: Matcher, faq: Faq, entry_id: str) -> None:
    question = faq.entry(entry_id).question
    result = matcher.match(question)
    assert (result.action, result.entry_id) == (Action.ANSWER, entry_id)
    assert result.reason == "confident"


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("Um, what\u2019s the success rate of immune therapy?", "success-rate"),
        ("how successful is immunotherapy", "success-rate"),
        ("what is pseudo progression", "make-cancer-worse"),
        ("can it make the cancer worse", "make-cancer-worse"),
        ("can immunotherapy cause colitis", "worst-side-effects"),
        ("does immunotherapy help with covid nineteen", "covid"),
        ("is immunotherapy dangerous with the coronavirus", "covid"),
        ("who is a good candidate for immunotherapy", "ideal-candidate"),
        ("how long do side effects from immunotherapy last", "side-effects-duration"),
        ("what percentage of patients respond to immunotherapy", "response-rate"),
        ("does immunotherapy make you feel better than chemo", "feel-better"),
        ("can I have a bad reaction to immunotherapy", "bad-reactions"),
        ("Will immunotherapy increase my life expectancy?", "life-expectancy"),
        ("how often do you have immunotherapy", "treatment-length"),
    ],
)
def test_clear_questions_are_answered(
    matcher: Matcher, faq: Faq, question: str, entry_id: str
) -> None:
    result = matcher.match(question)
    assert (result.action, result.entry_id) == (Action.ANSWER, entry_id)
    _assert_well_formed(result, faq)


# --- confirm ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "close_entries"),
    [
        # The seed's "Can immunotherapy make things worse?" vs "Can it make cancer worse?"
        ("does it make things worse", {"bad-reactions", "make-cancer-worse"}),
        # "Is it working?": the success rate, or the signs that it is working?
        ("is it working", {"success-rate", "signs-working"}),
        ("does it work", {"success-rate", "signs-working"}),
        # Live longer: extend-life or life-expectancy?
        ("will I live longer", {"extend-life", "life-expectancy"}),
    ],
)
def test_close_calls_are_confirmed(
    matcher: Matcher, faq: Faq, question: str, close_entries: set[str]
) -> None:
    result = matcher.match(question)
    assert result.action is Action.CONFIRM
    assert result.reason == "close_call"
    assert result.entry_id in close_entries
    assert {c.entry_id for c in result.alternatives[:2]} == close_entries
    _assert_well_formed(result, faq)


# --- decline ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "where can I park my car",
        "how much is parking",
        "where are the toilets",
        "what time is my appointment",
        "tell me a joke",
        "how are you today",
        "what's the weather like outside",
        "what's your name",
        "will chemotherapy make my hair fall out",
        "is hormone therapy better than chemo",
        "how many sessions of chemo will I need",
    ],
)
def test_off_topic_is_declined(matcher: Matcher, faq: Faq, question: str) -> None:
    result = matcher.match(question)
    assert result.action is Action.DECLINE
    assert result.reason == "no_good_match"
    _assert_well_formed(result, faq)


def test_small_talk_leaves_nothing_to_match(matcher: Matcher) -> None:
    # "real" and "person" are stop words: they say nothing about which answer is wanted.
    result = matcher.match("are you a real person")
    assert (result.action, result.reason) == (Action.DECLINE, "no_words")


@pytest.mark.parametrize(
    "question",
    [
        "does chemo make you sick",
        "how long does chemo take",
        "what are the side effects of chemotherapy",
        "how long do chemo side effects last",
        "what percentage of patients respond to chemotherapy",
        "does chemo hurt",
        "can chemo cure cancer",
    ],
)
def test_chemotherapy_questions_are_never_answered(matcher: Matcher, question: str) -> None:
    # A confirm ("Did you mean: Does immunotherapy make you feel better?") is tolerable;
    # answering a chemotherapy question with immunotherapy content is not.
    assert matcher.match(question).action is not Action.ANSWER


@pytest.mark.parametrize("question", ["chemo", "where is chemo", "where do I go for chemo"])
def test_chemotherapy_only_questions_are_not_answered(matcher: Matcher, question: str) -> None:
    assert matcher.match(question).action is not Action.ANSWER


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "?", "um", "uh, er", "thank you"])
def test_no_words_is_declined(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert result.action is Action.DECLINE
    assert result.reason == "no_words"
    assert result.entry_id is None
    assert result.alternatives == ()
    assert result.score == 0.0


# --- speech-recognizer confidence ------------------------------------------------------------

CLEAR = "can immunotherapy cause colitis"


@pytest.mark.parametrize("confidence", [None, 0.8, 0.95, 1.0])
def test_confident_hearing_keeps_the_answer(matcher: Matcher, confidence: float | None) -> None:
    result = matcher.match(CLEAR, asr_confidence=confidence)
    assert (result.action, result.entry_id) == (Action.ANSWER, "worst-side-effects")


@pytest.mark.parametrize("confidence", [0.0, 0.5, 0.79])
def test_unsure_hearing_turns_an_answer_into_a_confirm(matcher: Matcher, confidence: float) -> None:
    sure = matcher.match(CLEAR)
    unsure = matcher.match(CLEAR, asr_confidence=confidence)
    assert unsure.action is Action.CONFIRM
    assert unsure.reason == "unsure_hearing"
    assert unsure.entry_id == sure.entry_id
    assert unsure.score == sure.score
    assert unsure.alternatives == sure.alternatives


def test_unsure_hearing_does_not_rescue_a_decline(matcher: Matcher) -> None:
    result = matcher.match("where can I park my car", asr_confidence=0.3)
    assert result.action is Action.DECLINE


def test_asr_threshold_is_configurable(faq: Faq) -> None:
    strict = Matcher(faq, Thresholds(asr_confidence=0.99))
    assert strict.match(CLEAR, asr_confidence=0.95).action is Action.CONFIRM


# --- thresholds and result shape -------------------------------------------------------------


def test_answer_threshold_above_one_never_answers(faq: Faq) -> None:
    never = Matcher(faq, Thresholds(answer=1.01))
    result = never.match(CLEAR)
    assert (result.action, result.entry_id) == (Action.CONFIRM, "worst-side-effects")
    assert result.reason == "weak_match"


def test_transcript_is_kept_verbatim(matcher: Matcher) -> None:
    text = "  Um, what\u2019s the SUCCESS rate?  "
    assert matcher.match(text).transcript == text


def test_every_evaluation_result_is_well_formed(matcher: Matcher, faq: Faq) -> None:
    for item in read_eval_file(EVAL_FILE):
        _assert_well_formed(matcher.match(item.question), faq)


def test_score_entries_sorted_and_bounded(matcher: Matcher, faq: Faq) -> None:
    ids = {e.id for e in faq.entries}
    for item in read_eval_file(EVAL_FILE):
        candidates = matcher.score_entries(item.question)
        scores = [c.score for c in candidates]
        assert scores == sorted(scores, reverse=True), item.question
        assert all(0.0 <= s <= 1.0 for s in scores), item.question
        assert {c.entry_id for c in candidates} <= ids
        assert len({c.entry_id for c in candidates}) == len(candidates)


def test_matching_is_deterministic(faq: Faq) -> None:
    questions = [i.question for i in read_eval_file(EVAL_FILE)]
    first = [Matcher(faq).match(q) for q in questions[:40]]
    again = Matcher(faq)
    assert [again.match(q) for q in questions[:40]] == first


@pytest.mark.parametrize("text", ["tell me a job", "job"])
def test_one_word_used_only_in_a_phrasing_is_not_enough_to_answer(
    matcher: Matcher, text: str
) -> None:
    # "job" appears only in the phrasing "what shows the drip is doing its job".
    result = matcher.match(text)
    assert (result.action, result.reason) == (Action.CONFIRM, "weak_match")


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [("pseudoprogression", "make-cancer-worse"), ("covid", "covid")],
)
def test_one_word_the_entry_is_about_still_answers(
    matcher: Matcher, text: str, entry_id: str
) -> None:
    result = matcher.match(text)
    assert (result.action, result.entry_id) == (Action.ANSWER, entry_id)


# --- words the FAQ does not use -------------------------------------------------------------


def test_an_everyday_word_leads_to_the_faq_word_and_asks_first(faq: Faq, matcher: Matcher) -> None:
    # "grew" is not an FAQ word; WordNet gives its base form "grow", which the FAQ uses. That is
    # enough to offer the entry, not to answer with it: the relation is not the patient's word.
    question = "my tumour grew after the first dose, will it go down"
    result = matcher.match(question)
    assert (result.action, result.entry_id) == (Action.CONFIRM, "spread-during-treatment")
    without = Matcher(faq)
    without._related = {}
    assert without.match(question).action is Action.DECLINE


@pytest.mark.parametrize(
    "question", ["I want to quit treatment", "how long will I be kept in"]
)
def test_an_answer_that_needs_a_related_word_is_only_offered(
    matcher: Matcher, question: str
) -> None:
    # "quit" -> "stop", "kept" -> "keep": the FAQ's words, but not what these patients mean.
    assert matcher.match(question).action is not Action.ANSWER


def test_evidence_from_different_phrasings_of_one_entry_adds_up(faq: Faq) -> None:
    # "colitis" is in one phrasing and the answer, "side effects" in others: only the entry
    # as a whole covers the question. Scored phrasing by phrasing, a short "side effects"
    # phrasing of another entry wins.
    question = "are there side effects like colitis"
    result = Matcher(faq).match(question)
    assert (result.action, result.entry_id) == (Action.ANSWER, "worst-side-effects")
    per_phrasing = Matcher(faq, Thresholds(coverage_weight=0.0)).match(question)
    assert per_phrasing.entry_id != "worst-side-effects"


def test_who_is_asking_does_not_count_against_the_match(matcher: Matcher) -> None:
    plain = matcher.match("how long do the side effects last")
    told = matcher.match("my husband's consultant mentioned how long the side effects last")
    assert (told.action, told.entry_id) == (plain.action, plain.entry_id)
    assert told.score == pytest.approx(plain.score, abs=0.1)


@pytest.mark.parametrize(
    "question",
    [
        "can I ride my bike after immunotherapy",  # "riding" stems like the FAQ's "rid"
        "what are your comments",  # "comment" stems like "comes"
        "what number do I phone",  # as verbs: "come to", "call"
        "where is the hospital in Phoenix",  # words only an answer uses in passing
        "tell me a job, an occupation",  # two words for one stray phrasing word
        "what's your name",  # one word of small talk
        "where can I park my car",
    ],
)
def test_everyday_words_do_not_pull_other_questions_into_an_answer(
    matcher: Matcher, question: str
) -> None:
    assert matcher.match(question).action is not Action.ANSWER


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("better than chemo?", "feel-better"),
        ("compared to the chemo, is this one easier to cope with", "feel-better"),
        ("does this treatment make you feel like you've got the flu", "how-you-feel"),
    ],
)
def test_a_subject_named_only_to_compare_with_is_not_the_question(
    matcher: Matcher, question: str, entry_id: str
) -> None:
    result = matcher.match(question)
    assert (result.action, result.entry_id) == (Action.ANSWER, entry_id)


@pytest.mark.parametrize(
    "question",
    [
        "I'd like to know if chemo makes you feel better",  # "like to" is not a comparison
        "does chemo make you feel better than before",
        "can I get my covid booster while I'm having immunotherapy",
        "is radiotherapy better than immunotherapy",  # compared with, but never covered
    ],
)
def test_a_question_about_another_subject_is_still_not_answered(
    matcher: Matcher, question: str
) -> None:
    assert matcher.match(question).action is not Action.ANSWER


@pytest.mark.parametrize(
    "heard",
    [
        "can likely working while i'm having immunotherapy",  # "can I keep working ..."
        "how much does immunotherapy last",  # "how much does immunotherapy cost"
    ],
)
def test_a_few_common_words_covered_by_an_entry_are_not_enough_to_answer(
    matcher: Matcher, heard: str
) -> None:
    # Misheard off-topic questions: every word is somewhere in one entry's phrasings, but they
    # are common words, and too few to cover a question (Thresholds.coverage_min_words).
    assert matcher.match(heard).action is not Action.ANSWER


@pytest.mark.parametrize(
    "question",
    [
        "can I keep working while I'm having the infusions",  # the patient's job
        "can I still work during immunotherapy",
        "can the immune treatment cause problems with your eyes",  # an organ no answer names
        "can immunotherapy affect my thyroid",
        "Is Paxlovid, the covid tablets, safe to take with immunotherapy?",  # other medicines
        "Will I feel better if I take paracetamol before I come in for the drip?",
        "will medicare cover the immunotherapy",  # paying for it
    ],
)
def test_questions_about_a_subject_no_answer_covers_are_not_answered(
    matcher: Matcher, question: str
) -> None:
    assert matcher.match(question).action is not Action.ANSWER


def test_the_treatment_working_is_not_the_patient_working(matcher: Matcher) -> None:
    result = matcher.match("how can I tell if the treatment is working")
    assert (result.action, result.entry_id) == (Action.ANSWER, "signs-working")


def test_a_typed_word_the_faq_never_uses_counts_more_than_a_heard_one(matcher: Matcher) -> None:
    # "targeted therapy tablets" make it another question; typed, that is taken at its word. A
    # transcript's unknown word may be a mishearing, so it counts less against the match.
    question = "what percentage of patients respond to the targeted therapy tablets"
    typed = matcher.match(question)
    heard = matcher.match(question, heard=True)
    assert typed.action is not Action.ANSWER
    assert heard.score > typed.score
    # A question without such words scores the same either way.
    plain = "what percentage of patients respond"
    assert matcher.match(plain).score == matcher.match(plain, heard=True).score
