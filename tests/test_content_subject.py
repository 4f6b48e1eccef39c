"""The optional [subject] table: what an FAQ is about, validated like the rest of the content."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_content import KIOSK, entry, write

from voice.content.loader import check_content, load_content
from voice.content.schema import Subject

GOOD = """
[subject]
name = "Blood Pressure"
aliases = ["bp", "high blood"]
generic_words = ["reading"]
other_subjects = ["diabetes"]

[subject.synonyms]
"pills" = "medicine"
"light headed" = "dizzy"

[subject.sound_alikes]
"amlodipine" = "am lo di peen"
"""


def _folder(tmp_path: Path, subject: str) -> Path:
    write(tmp_path, "kiosk.toml", KIOSK + subject)
    write(tmp_path, "faq.toml", entry("a"))
    return tmp_path


def test_no_subject_table_is_an_empty_subject(tmp_path: Path) -> None:
    assert load_content(_folder(tmp_path, "")).subject == Subject()


def test_a_subject_is_read_in_order(tmp_path: Path) -> None:
    subject = load_content(_folder(tmp_path, GOOD)).subject
    assert subject.name == "blood pressure"
    assert subject.aliases == ("bp", "high blood")
    assert subject.synonyms == (("pills", "medicine"), ("light headed", "dizzy"))
    assert subject.sound_alikes == (("amlodipine", "am lo di peen"),)
    assert subject.rewrites()[:2] == (("bp", "blood pressure"), ("high blood", "blood pressure"))


@pytest.mark.parametrize(
    ("table", "field", "says"),
    [
        ('[subject]\nname = "x"\nalias = ["y"]\n', "subject.alias", 'Did you mean "aliases"'),
        ('[subject]\naliases = ["y"]\n', "subject.name", "has no name"),
        ('[subject]\nname = "x"\nother_subjects = ["blood pressure"]\n', "subject.other_subjects",
         "more than one word"),
        ('[subject]\nname = "x"\ngeneric_words = "drip"\n', "subject.generic_words",
         "must be a list"),
        ('[subject]\nname = "x"\ngeneric_words = [""]\n', "subject.generic_words", "empty"),
        ('[subject]\nname = "x"\nsynonyms = ["a"]\n', "subject.synonyms", "must be lines"),
        ('[subject]\nname = "x"\n[subject.synonyms]\n"a" = 3\n', "subject.synonyms",
         "must be lines"),
    ],
)
def test_subject_problems_are_reported(tmp_path: Path, table: str, field: str, says: str) -> None:
    problems = check_content(_folder(tmp_path, "\n" + table))
    assert [p.field for p in problems] == [field], problems
    assert says in problems[0].message
    assert problems[0].line is not None
