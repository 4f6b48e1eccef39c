"""The kiosk's newer messages in content: optional, with defaults, and checked by content check."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_content import ENTRY, KIOSK, write

from voice.content.loader import check_content, default_content_dir, load_content
from voice.content.schema import Messages

FAQS = Path(__file__).parent / "data" / "faqs"
FOLDERS = [default_content_dir(), FAQS / "blood-pressure", FAQS / "hospital-visit"]


def _folder(tmp_path: Path, extra: str) -> Path:
    write(tmp_path, "kiosk.toml", KIOSK + extra)
    entry = ENTRY.format(id="a", question="Is it?", phrasings='"is it"')
    write(tmp_path, "faq.toml", entry)
    return tmp_path


def test_content_without_the_new_messages_gets_the_built_in_wording(tmp_path: Path) -> None:
    faq = load_content(_folder(tmp_path, ""))
    defaults = Messages(*(["x"] * 10))
    assert faq.messages.source_line == defaults.source_line
    assert faq.messages.not_understood == defaults.not_understood
    assert faq.messages.push_to_talk == defaults.push_to_talk


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_every_content_folder_words_the_new_messages_itself(folder: Path) -> None:
    # Staff can see and edit every line the kiosk says, so each folder writes them out.
    text = (folder / "kiosk.toml").read_text(encoding="utf-8")
    for key in ("source_line", "not_understood", "push_to_talk"):
        assert f"\n{key} = " in text, key
    messages = load_content(folder).messages
    assert "{source}" in messages.source_line
    assert "care team" in messages.source_line
    assert "space bar" in messages.push_to_talk
    assert messages.not_understood.startswith("Sorry, I didn't catch that.")


def test_source_line_without_the_placeholder_is_a_problem(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 'source_line = "Ask your care team."\n')
    problems = check_content(folder)
    assert [p.field for p in problems] == ["messages.source_line"]
    assert "must contain {source}" in problems[0].message
    assert problems[0].line == KIOSK.count("\n") + 1


def test_source_line_with_other_curly_brackets_is_a_problem(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 'source_line = "From {source} {page}."\n')
    problems = check_content(folder)
    assert [p.field for p in problems] == ["messages.source_line"]
    assert "Use curly brackets only in {source}" in problems[0].message


def test_an_empty_new_message_is_a_problem(tmp_path: Path) -> None:
    problems = check_content(_folder(tmp_path, 'not_understood = "  "\n'))
    assert [p.field for p in problems] == ["messages.not_understood"]


def test_a_misspelt_new_message_is_an_unknown_key(tmp_path: Path) -> None:
    problems = check_content(_folder(tmp_path, 'push_to_tlk = "Hold the space bar."\n'))
    assert [p.field for p in problems] == ["messages.push_to_tlk"]
    assert 'Did you mean "push_to_talk"?' in problems[0].message
