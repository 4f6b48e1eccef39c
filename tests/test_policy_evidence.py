"""Unit tests of the evidence the speech policy's rules read (transcripts are made up)."""

from __future__ import annotations

import pytest

from voice.content.loader import default_content_dir, load_content
from voice.hearing.evidence import Evidence
from voice.hearing.policy import apply_rules
from voice.hearing.transcript import Transcript, WordConfidence
from voice.matching.matcher import Matcher
from voice.matching.result import MatchResult


def heard(text: str, conf: float = 1.0, start: float = 0.0, step: float = 0.3) -> Transcript:
    words = tuple(
        WordConfidence(w, conf, start + i * step, start + i * step + step)
        for i, w in enumerate(text.split())
    )
    return Transcript(text, words, start + step * len(words), 0.0)


class CountingMatcher(Matcher):
    """A real matcher that counts the calls the evidence makes (each costs about 1 ms)."""

    calls = 0

    def match(
        self, text: str, asr_confidence: float | None = None, heard: bool = False
    ) -> MatchResult:
        self.calls += 1
        return super().match(text, asr_confidence, heard)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_content(default_content_dir()))


@pytest.fixture()
def counting() -> CountingMatcher:
    return CountingMatcher(load_content(default_content_dir()))


def test_the_transcript_facts(matcher: Matcher) -> None:
    main = heard("can [unk] immunotherapy make my cancer worse", conf=0.5, start=1.0)
    witness = heard("can chemo make my cancer worse", conf=0.8, step=0.5)
    ev = Evidence.gather(matcher, main, witness, speech_to_background_db=12.0)
    assert ev.text == "can immunotherapy make my cancer worse"
    assert (ev.unknown_words, ev.unknown_share) == (1, 1 / 7)
    assert ev.weakest_confidence == 0.5
    assert ev.open_text == "can chemo make my cancer worse"
    assert ev.open_weakest_confidence == pytest.approx(0.8)
    assert ev.mean_open_confidence == pytest.approx(0.8)
    assert ev.span_share == pytest.approx(2.1 / 3.0)
    assert ev.same_words is False
    assert ev.speech_to_background_db == 12.0
    assert ev.heard_twice


def test_without_an_open_hearing_its_facts_are_none(matcher: Matcher) -> None:
    ev = Evidence.gather(matcher, heard("can immunotherapy make my cancer worse"))
    assert not ev.heard_twice
    assert (ev.open_text, ev.mean_open_confidence, ev.span_share, ev.same_words) == (None,) * 4
    assert ev.open_score is None
    assert not ev.names_other_subject
    assert not ev.open_answers_alone


def test_the_matchers_facts(matcher: Matcher) -> None:
    text = "how do i know if my murray immunotherapy is working"
    ev = Evidence.gather(matcher, heard(text), heard("he can't do i know if my radio therapy"))
    assert ev.match == matcher.match(text, heard=True)
    assert ev.names_other_subject
    assert ev.open_score is not None and 0.0 <= ev.open_score <= 1.0
    assert not ev.open_answers_alone
    assert ev.topical_word_count == len(matcher.topical_words(text))


def test_nothing_heard_asks_the_matcher_nothing(counting: CountingMatcher) -> None:
    judgement = apply_rules(Evidence.gather(counting, heard(""), heard("")))
    assert judgement.rule == "no_speech"
    assert counting.calls == 0


def test_a_clear_answer_does_not_match_the_open_transcript(counting: CountingMatcher) -> None:
    # Only a doubted answer asks whether the open transcript answers the same on its own.
    text = "can immunotherapy make my cancer worse"
    ev = Evidence.gather(counting, heard(text), heard(text))
    assert apply_rules(ev).rule == "answer"
    assert counting.calls == 1
    assert "open_answers_alone" not in vars(ev)


def test_each_fact_is_worked_out_once(counting: CountingMatcher) -> None:
    ev = Evidence.gather(counting, heard("is melanoma treatable"), heard("is melanoma treatable"))
    for _ in range(3):
        assert ev.match.entry_id is not None
        assert isinstance(ev.open_answers_alone, bool)
    assert counting.calls == 2


def test_either_hearing_may_be_like_the_entry(matcher: Matcher) -> None:
    main, witness = heard("more time is that", 0.71), heard("how long will it give me")
    ev = Evidence.gather(matcher, main, witness)
    entry = ev.match.entry_id
    assert entry is not None
    mine = matcher.likeness(main.clean_text, entry)
    other = matcher.likeness(witness.clean_text, entry)
    assert mine is not None and other is not None
    low, high = sorted((mine, other))
    assert ev.like_entry(low) is True and ev.like_entry(high) is True
    assert ev.like_entry(high + 0.01) is False
    assert Evidence.gather(matcher, main).like_entry(mine + 0.01) is False


def test_the_open_hearing_is_embedded_only_when_needed(matcher: Matcher) -> None:
    calls: list[str] = []

    class Counting(Matcher):
        def likeness(self, text: str, entry_id: str) -> float | None:
            calls.append(text)
            return super().likeness(text, entry_id)

    counting = Counting(matcher.faq, semantic=matcher.semantic)
    ev = Evidence.gather(counting, heard("can immunotherapy make my cancer worse"),
                         heard("can immune a therapy make my cancer worse"))
    assert ev.like_entry(0.5) is True
    assert calls == ["can immunotherapy make my cancer worse"]


def test_without_the_embedding_model_there_is_no_likeness_and_no_floor() -> None:
    words_only = Matcher(load_content(default_content_dir()), semantic=None)
    ev = Evidence.gather(words_only, heard("more time is that", 0.71), heard("what time is that"))
    assert ev.like_entry(0.5) is None
    assert words_only.answer_floor is None
    # The rule that needs them then leaves the question to the others.
    assert apply_rules(ev).rule != "unlike_entry"
