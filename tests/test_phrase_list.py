"""Tests for the runtime phrase list (spoken forms, and the real model's vocabulary)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from voice.content.loader import default_content_dir, load_content
from voice.content.schema import Faq
from voice.errors import ModelError
from voice.hearing.model import locate_model
from voice.hearing.phrase_list import (
    BACKGROUND_WORD_COUNT,
    PhraseList,
    build_phrase_list,
    common_words,
)
from voice.hearing.transcript import UNKNOWN_WORD
from voice.hearing.vocabulary import load_vocabulary
from voice.matching.commands import command_phrases
from voice.text.language import english
from voice.text.normalize import spoken_words
from voice.text.numbers import Numbers

COMMAND_PHRASES = command_phrases(english())
EXTRA_PHRASES = english().background_phrases


def number_words(n: int) -> str:
    return Numbers(english()).to_words(n)


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (15, "fifteen"),
        (19, "nineteen"),
        (20, "twenty"),
        (25, "twenty five"),
        (40, "forty"),
        (99, "ninety nine"),
        (100, "one hundred"),
        (115, "one hundred and fifteen"),
        (250, "two hundred and fifty"),
        (999, "nine hundred and ninety nine"),
    ],
)
def test_number_words(n: int, words: str) -> None:
    assert number_words(n) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("15-20%", ["fifteen", "twenty", "percent"]),
        ("Covid 19", ["covid", "nineteen"]),
        ("COVID-19", ["covid", "nineteen"]),
        ("Can it make cancer worse?", ["can", "it", "make", "cancer", "worse"]),
        ("I'm tired", ["i'm", "tired"]),
        ("Is it safe? It's fine.", ["is", "it", "safe", "it's", "fine"]),
        ("'quoted' words", ["quoted", "words"]),
        ("patients' rights", ["patients", "rights"]),
        ("pseudo-progression", ["pseudo", "progression"]),
        ("every 3 weeks", ["every", "three", "weeks"]),
        ("up to 2 years", ["up", "to", "two", "years"]),
        ("...", []),
        ("", []),
    ],
)
def test_spoken_words(text: str, words: list[str]) -> None:
    assert spoken_words(text) == words


def test_spoken_words_skips_numbers_it_cannot_say() -> None:
    assert spoken_words("call 12345 now") == ["call", "now"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("I don\u2019t know", ["i", "don't", "know"]),  # typographic apostrophe, as pasted
        ("It\u2019s fine", ["it's", "fine"]),
        ("\u2018quoted\u2019 words", ["quoted", "words"]),
        ("patients\u2019 rights", ["patients", "rights"]),
    ],
)
def test_spoken_words_typographic_apostrophes(text: str, words: list[str]) -> None:
    assert spoken_words(text) == words


# -- the real model and the real content ---------------------------------------------------


@pytest.fixture(scope="module")
def model_path() -> Path:
    try:
        return locate_model()
    except ModelError as exc:
        pytest.skip(f"no speech model installed: {exc}")


@pytest.fixture(scope="module")
def faq() -> Faq:
    return load_content(default_content_dir())


@pytest.fixture(scope="module")
def vocabulary(model_path: Path) -> frozenset[str]:
    return load_vocabulary(model_path)


@pytest.fixture(scope="module")
def phrase_list(faq: Faq, model_path: Path) -> PhraseList:
    return build_phrase_list(faq, model_path)


def test_ends_with_unknown_word(phrase_list: PhraseList) -> None:
    assert phrase_list.phrases[-1] == UNKNOWN_WORD
    assert phrase_list.phrases.count(UNKNOWN_WORD) == 1


def test_every_word_is_in_the_model_vocabulary(
    phrase_list: PhraseList, vocabulary: frozenset[str]
) -> None:
    # Vosk silently drops unknown words from a grammar; none may reach it.
    unknown = {w for p in phrase_list.phrases for w in p.split() if w not in vocabulary}
    assert unknown == set()


def test_no_phrase_is_empty_or_duplicated(phrase_list: PhraseList) -> None:
    assert all(p.strip() for p in phrase_list.phrases)
    assert all(p == " ".join(p.split()) for p in phrase_list.phrases)
    assert len(set(phrase_list.phrases)) == len(phrase_list.phrases)


def test_sound_alikes_replace_unknown_medical_words(phrase_list: PhraseList) -> None:
    assert "what is pseudo progression" in phrase_list.phrases
    assert any("pseudo progression" in p for p in phrase_list.phrases)
    assert not any("pseudoprogression" in p for p in phrase_list.phrases)
    assert "pseudoprogression" not in phrase_list.dropped


def test_sound_alikes_are_all_sayable(faq: Faq, vocabulary: frozenset[str]) -> None:
    for word, spoken in faq.subject.sound_alikes:
        assert word not in vocabulary, f"{word} needs no sound-alike"
        assert all(part in vocabulary for part in spoken.split()), spoken


def test_questions_phrasings_commands_and_extras_are_included(
    faq: Faq, phrase_list: PhraseList
) -> None:
    phrases = set(phrase_list.phrases)
    assert "can immunotherapy make cancer worse" in phrases  # a question
    assert "can immunotherapy make my cancer worse" in phrases  # a phrasing
    for phrases_of_command in COMMAND_PHRASES.values():
        for phrase in phrases_of_command:
            assert phrase in phrases, phrase
    for extra in (*EXTRA_PHRASES, *faq.subject.background_phrases):
        assert extra in phrases, extra
    # One phrase per distinct text at most, the background words, and "[unk]".
    total = len(faq.entries) + sum(len(e.phrasings) for e in faq.entries)
    total += sum(len(p) for p in COMMAND_PHRASES.values()) + len(EXTRA_PHRASES)
    total += len(faq.subject.background_phrases)
    foreign = len(faq.subject.other_subjects)
    assert len(phrase_list.phrases) <= total + foreign + BACKGROUND_WORD_COUNT + 1


def test_background_vocabulary_lets_other_subjects_and_everyday_words_be_heard(
    faq: Faq, model_path: Path, phrase_list: PhraseList
) -> None:
    phrases = set(phrase_list.phrases)
    # Subjects the FAQ does not cover, so they are heard as themselves.
    for word in ("radiotherapy", "vaccine", "pregnancy", "insurance"):
        assert word in phrases, word
    # Everyday words, each a phrase of its own.
    for word in ("weather", "taxi", "password", "lunch"):
        assert word in phrases, word
    bare = set(build_phrase_list(faq, model_path, background=0).phrases)
    assert "weather" not in bare and "vaccine" not in bare
    assert len(phrases) - len(bare) >= BACKGROUND_WORD_COUNT // 2


def test_common_words_are_ordered_by_frequency_without_comments() -> None:
    words = common_words()
    assert words[:3] == ["the", "to", "and"]
    assert len(words) >= BACKGROUND_WORD_COUNT
    assert all(w.isalpha() and w.islower() for w in words)


def test_an_unreadable_word_list_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="setup"):
        common_words(tmp_path / "missing.txt")


def test_dropped_words_are_reported_and_really_unknown(
    faq: Faq,
    model_path: Path,
    phrase_list: PhraseList,
    vocabulary: frozenset[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert list(phrase_list.dropped) == sorted(set(phrase_list.dropped))
    for word in phrase_list.dropped:
        assert word not in vocabulary
        assert not any(word in p.split() for p in phrase_list.phrases)
    # Each dropped word comes from the content and is rare: the phrase list still covers it.
    content_words = {
        w for e in faq.entries for t in (e.question, *e.phrasings) for w in spoken_words(t)
    }
    assert set(phrase_list.dropped) <= content_words
    assert len(phrase_list.dropped) <= 10, phrase_list.dropped
    with caplog.at_level(logging.INFO, logger="voice.hearing.phrase_list"):
        build_phrase_list(faq, model_path)
    for word in phrase_list.dropped:
        assert word in caplog.text


def test_phrase_list_of_a_tiny_faq(model_path: Path, faq: Faq) -> None:
    from dataclasses import replace

    one = replace(faq, entries=faq.entries[:1])
    small = build_phrase_list(one, model_path)
    full = build_phrase_list(faq, model_path)
    assert len(small.phrases) < len(full.phrases)
    assert small.phrases[-1] == UNKNOWN_WORD
