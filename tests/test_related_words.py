"""Everyday words mapped to the FAQ words they are related to (WordNet relations)."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice.errors import InstallError
from voice.matching.related_words import RELATED_WORDS_FILE, load_related
from voice.text.language import english
from voice.text.stemming import stem

STOP_WORDS = english().stop_words
FAQ_WORDS = {w: stem(w) for w in ("swell", "chill", "tremble", "worse", "bad", "grow", "rid")}


def _write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "related.txt"
    path.write_bytes(text.encode(encoding))
    return path


def test_the_first_related_word_the_faq_uses_is_taken(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "# a comment\tswell\nswollen\tswell vain\nshivers\tshiver tremble chill\ncar\tauto\n",
    )
    assert load_related(FAQ_WORDS, stem, path=path) == {
        "swollen": stem("swell"),
        "shivers": stem("tremble"),
    }


def test_a_word_the_faq_uses_is_never_mapped_to_another(tmp_path: Path) -> None:
    # "worse" is an FAQ word itself: it must stay "worse", not become "bad".
    path = _write(tmp_path, "worse\tbad\nworsen\tworse\n")
    assert load_related(FAQ_WORDS, stem, path=path) == {"worsen": stem("worse")}


def test_only_words_the_faq_uses_as_written_are_targets(tmp_path: Path) -> None:
    # "riding" stems to "rid", as does the FAQ's "rid"; the target must be the FAQ's word itself.
    path = _write(tmp_path, "ride\triding\ngrew\tgrow\n")
    assert load_related(FAQ_WORDS, stem, path=path) == {"grew": stem("grow")}


def test_excluded_subjects_are_not_mapped(tmp_path: Path) -> None:
    path = _write(tmp_path, "radiotherapy\tgrow\nswollen\tswell\n")
    related = load_related(FAQ_WORDS, stem, exclude={stem("radiotherapy")}, path=path)
    assert related == {"swollen": stem("swell")}


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        (None, "utf-8", "could not be read"),
        ("", "utf-8", "is empty"),
        ("# only comments\n", "utf-8", "is empty"),
        ("caf\u00e9\tswell\n", "latin-1", "could not be read"),
    ],
)
def test_a_damaged_file_says_what_to_do(
    tmp_path: Path, content: str | None, encoding: str, message: str
) -> None:
    path = tmp_path / "missing.txt" if content is None else _write(tmp_path, content, encoding)
    with pytest.raises(InstallError, match=message) as caught:
        load_related(FAQ_WORDS, stem, path=path)
    assert "setup.sh" in str(caught.value)


def test_the_shipped_file_is_well_formed() -> None:
    seen: set[str] = set()
    lines = RELATED_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    assert any("Princeton University" in line for line in lines if line.startswith("#"))
    for line in lines:
        if line.startswith("#"):
            continue
        word, tab, others = line.partition("\t")
        assert tab and word.isalpha() and word not in seen, line
        assert word not in STOP_WORDS
        assert others.split() and word not in others.split(), line
        seen.add(word)
    assert len(seen) > 20000


@pytest.mark.parametrize(
    ("word", "related"),
    [("swollen", "swell"), ("grew", "grow"), ("redness", "red"), ("aching", "ache")],
)
def test_the_shipped_file_has_everyday_relations(word: str, related: str) -> None:
    assert load_related({related: related}, lambda w: w)[word] == related


@pytest.mark.parametrize(("word", "unrelated"), [("riding", "rid"), ("number", "come")])
def test_the_shipped_file_leaves_out_rare_forms_and_senses(word: str, unrelated: str) -> None:
    assert word not in load_related({unrelated: unrelated}, lambda w: w)
