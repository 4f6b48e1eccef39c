"""Hostile or oversized content: reported by content check, and loaded in linear time."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from test_content import KIOSK, entry, write

from voice.content.loader import LIMITS, check_content, load_content
from voice.text.sentences import split_sentences


def _problems(tmp_path: Path, faq_text: str) -> list[str]:
    write(tmp_path, "kiosk.toml", KIOSK)
    write(tmp_path, "faq.toml", faq_text)
    return [f"{p.field}: {p.message}" for p in check_content(tmp_path)]


def test_an_empty_phrasings_list_is_rejected(tmp_path: Path) -> None:
    text = entry("a").replace('phrasings = ["tell me about a"]', "phrasings = []")
    [problem] = _problems(tmp_path, text)
    assert problem.startswith("entry.phrasings:") and "empty list" in problem


@pytest.mark.parametrize("bad", ["\\u001b[31m", "\\u0007", "\\u0000", "\\u009b"])
def test_control_characters_and_escapes_are_rejected(tmp_path: Path, bad: str) -> None:
    text = entry("a").replace('"A short answer."', f'"A short {bad}answer."')
    [problem] = _problems(tmp_path, text)
    assert problem.startswith("entry.answer:") and "control character" in problem


def test_a_control_character_in_a_phrasing_is_rejected(tmp_path: Path) -> None:
    text = entry("a", "", "will it \\u001b[2J hurt")
    [problem] = _problems(tmp_path, text)
    assert problem.startswith("entry.phrasings:") and "control character" in problem


def test_a_huge_answer_is_rejected(tmp_path: Path) -> None:
    text = entry("a").replace('"A short answer."', '"' + "Word. " * 900_000 + '"')
    [problem] = _problems(tmp_path, text)
    assert problem.startswith("entry.answer:") and f"is {LIMITS.answer_chars}" in problem


def test_too_many_phrasings_are_rejected(tmp_path: Path) -> None:
    many = [f"phrasing number {n}" for n in range(LIMITS.phrasings_per_entry + 1)]
    [problem] = _problems(tmp_path, entry("a", "", *many))
    assert "phrasings" in problem and str(LIMITS.phrasings_per_entry) in problem


def test_too_many_entries_are_rejected(tmp_path: Path) -> None:
    text = "\n".join(entry(f"e{n}") for n in range(LIMITS.entries + 1))
    [problem] = _problems(tmp_path, text)
    assert problem.startswith("entry:") and str(LIMITS.entries) in problem


def test_a_symlink_loop_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "kiosk.toml", KIOSK)
    write(tmp_path, "faq.toml", entry("a"))
    os.symlink(tmp_path / "loop.toml", tmp_path / "loop.toml")
    [problem] = check_content(tmp_path)
    assert problem.path.name == "loop.toml" and "leads to a loop" in problem.message


def test_a_dangling_symlink_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "kiosk.toml", KIOSK)
    write(tmp_path, "faq.toml", entry("a"))
    os.symlink(tmp_path / "gone.txt", tmp_path / "more.toml")
    [problem] = check_content(tmp_path)
    assert "leads to nothing" in problem.message


def test_a_fifo_is_reported_not_read(tmp_path: Path) -> None:
    write(tmp_path, "kiosk.toml", KIOSK)
    write(tmp_path, "faq.toml", entry("a"))
    os.mkfifo(tmp_path / "pipe.toml")
    [problem] = check_content(tmp_path)
    assert "named pipe (FIFO)" in problem.message


def test_many_phrasings_load_in_linear_time(tmp_path: Path) -> None:
    """8,000 phrasings took 52 s when each one's line was searched for again (now about 0.4 s)."""
    per = LIMITS.phrasings_per_entry
    text = "\n".join(
        entry(f"e{n}", "", *(f"question {n} number {k} zz{n}x{k}" for k in range(per)))
        for n in range(8000 // per)
    )
    write(tmp_path, "kiosk.toml", KIOSK)
    write(tmp_path, "faq.toml", text)
    started = time.perf_counter()
    faq = load_content(tmp_path)
    assert sum(len(e.phrasings) for e in faq.entries) == 8000
    # Generous for a loaded CI machine; the quadratic scan took two orders of magnitude more.
    assert time.perf_counter() - started < 10


def test_a_long_text_splits_into_sentences_in_linear_time() -> None:
    text = "This is one sentence of a long answer, said slowly. " * 20_000
    started = time.perf_counter()
    assert len(split_sentences(text)) == 20_000
    assert time.perf_counter() - started < 10
