"""Tests for splitting answer text into speakable sentences."""

from __future__ import annotations

import pytest

from voice.text.sentences import MAX_CLAUSE_WORDS, split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   \n ", []),
        ("Please take a seat.", ["Please take a seat."]),
        ("Please take a seat", ["Please take a seat"]),
        (
            "Please take a seat. Is that all? Yes! Thank you.",
            ["Please take a seat.", "Is that all?", "Yes!", "Thank you."],
        ),
        ("Bring your card; staff will check it.", ["Bring your card;", "staff will check it."]),
        ("Dr. Smith will see you now.", ["Dr. Smith will see you now."]),
        ("Mrs. Jones and Mr. Patel are nurses.", ["Mrs. Jones and Mr. Patel are nurses."]),
        ("Take 2.5 ml twice a day. Shake well.", ["Take 2.5 ml twice a day.", "Shake well."]),
        (
            "Bring a list, e.g. your tablets. Also i.e. inhalers.",
            ["Bring a list, e.g. your tablets.", "Also i.e. inhalers."],
        ),
        (
            "We are open 8 a.m. to 5 p.m. Closed on Sundays.",
            ["We are open 8 a.m. to 5 p.m.", "Closed on Sundays."],
        ),
        ("Go to room No. 5 please.", ["Go to room No. 5 please."]),
        ("Ask for J. Smith at the desk.", ["Ask for J. Smith at the desk."]),
        ("Come at 9. Then wait.", ["Come at 9.", "Then wait."]),
        (
            "Bring two things. 1. Your card. 2. Your letter.",
            ["Bring two things.", "1. Your card.", "2. Your letter."],
        ),
        ('The sign says "Wait here." Then sit.', ['The sign says "Wait here."', "Then sit."]),
        ("Well... maybe not. Ask staff.", ["Well... maybe not.", "Ask staff."]),
        ("Really?! Yes.", ["Really?!", "Yes."]),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_whitespace_and_line_breaks_are_collapsed_within_a_paragraph() -> None:
    assert split_sentences("The clinic\n  is   upstairs.\tAsk here.") == [
        "The clinic is upstairs.",
        "Ask here.",
    ]


def test_blank_line_ends_a_piece_even_without_punctuation() -> None:
    assert split_sentences("Opening hours\n\nMonday to Friday.") == [
        "Opening hours",
        "Monday to Friday.",
    ]


def test_long_sentence_is_split_at_commas_into_pieces_of_at_most_max_words() -> None:
    clause = "please bring your appointment letter and your list of current tablets"  # 11 words
    text = f"{clause}, {clause}, {clause}, {clause}."
    pieces = split_sentences(text)
    assert len(pieces) == 2
    assert all(len(piece.split()) <= MAX_CLAUSE_WORDS for piece in pieces)
    # Nothing is lost or reordered.
    assert " ".join(pieces) == text
    assert pieces[0].endswith(",")


def test_long_sentence_without_commas_is_kept_whole() -> None:
    text = " ".join(["word"] * (MAX_CLAUSE_WORDS + 10)) + "."
    assert split_sentences(text) == [text]


def test_sentence_of_exactly_max_words_is_not_split() -> None:
    text = ", ".join(["two words"] * (MAX_CLAUSE_WORDS // 2)) + ", end."
    assert len(text.split()) <= MAX_CLAUSE_WORDS
    assert split_sentences(text) == [text]
