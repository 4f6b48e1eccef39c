"""Unit tests of the trust rules for spoken questions (pure logic: transcripts are made up)."""

from __future__ import annotations

import pytest

from voice.content import default_content_dir, load_content
from voice.match_result import Action
from voice.matching import Matcher
from voice.speech_policy import judge, topic_witness, topic_words
from voice.transcript import Transcript, WordConfidence

TOPIC = frozenset({"immunotherapy"})


def heard(text: str, conf: float = 1.0) -> Transcript:
    words = tuple(
        WordConfidence(w, conf, i * 0.3, i * 0.3 + 0.25) for i, w in enumerate(text.split())
    )
    return Transcript(text, words, 0.3 * len(words), 0.0)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_content(default_content_dir()))


def test_topic_words_come_from_the_topic_name() -> None:
    assert topic_words("Immunotherapy") == {"immunotherapy"}
    assert topic_words("Cancer immunotherapy") == {"cancer", "immunotherapy"}


def test_witness_takes_only_the_topic_word_from_the_phrase_list() -> None:
    witness = topic_witness(
        "can you know family make my cancer worse", "can immunotherapy make my cancer worse", TOPIC
    )
    assert witness == "can immunotherapy make my cancer worse"


def test_witness_keeps_every_other_difference() -> None:
    assert topic_witness("where can i parked my car", "my heart my co", TOPIC) == (
        "where can i parked my car"
    )
    # The phrase-list side has more than the topic word where they differ: nothing is taken.
    open_text = "how do i know neither am i prepared and film"
    main_text = "how do i know if my during immunotherapy"
    assert topic_witness(open_text, main_text, TOPIC) == open_text


def test_open_garble_of_the_topic_word_alone_does_not_block_an_answer(matcher: Matcher) -> None:
    # Decoded from a synthetic voice (tests/speechgen.py): the open decoder's version.
    main = heard("what are the worst side effects on immunotherapy")
    garbled = heard("the west side effects on in you know family")
    assert judge(matcher, main, garbled).action is Action.CONFIRM
    result = judge(matcher, main, garbled, topic=TOPIC)
    assert result.action is Action.ANSWER
    assert result.entry_id == judge(matcher, main).entry_id


def test_open_transcript_pointing_elsewhere_still_blocks_an_answer(matcher: Matcher) -> None:
    main = heard("can immunotherapy make my cancer worse")
    other = heard("can you know family make my car park cheaper")
    result = judge(matcher, main, other, topic=TOPIC)
    assert result.action is not Action.ANSWER


def test_shaky_word_still_turns_an_answer_into_a_confirm(matcher: Matcher) -> None:
    main = heard("can immunotherapy make my cancer worse", conf=0.2)
    result = judge(matcher, main, heard("can immunotherapy make my cancer worse"), topic=TOPIC)
    assert result.action is Action.CONFIRM
    assert result.reason == "unsure_hearing"
