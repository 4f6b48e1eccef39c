"""The real FAQ content, and the loader's validation messages (file, line, field, what to do)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voice.content.loader import CONTENT_ENV_VAR, check_content, default_content_dir, load_content
from voice.content.schema import Faq
from voice.errors import ContentError, ContentProblem, VoiceError
from voice.text.normalize import phrasing_key

EXPECTED_IDS = [
    "make-cancer-worse",
    "spread-during-treatment",
    "bad-reactions",
    "worst-side-effects",
    "success-rate",
    "treatment-length",
    "worse-before-better",
    "side-effects-duration",
    "ideal-candidate",
    "covid",
    "signs-working",
    "feel-better",
    "how-you-feel",
    "response-rate",
    "life-expectancy",
    "extend-life",
]

KIOSK = """\
[faq]
title = "Test FAQ"
topic_name = "testing"

[messages]
greeting = "Hello."
safety_notice = "General information only."
usage = "Ask me a question, or say help."
fallback = "I'm sorry, I don't have an answer to that. Please ask a member of staff."
help_intro = "You can ask about:"
confirm_template = "Did you mean: {question} Say yes or no."
rephrase = "Please ask again."
not_heard = "I didn't hear you."
goodbye = "Goodbye."
topics_intro = "Here are some things you can ask about:"
"""

ENTRY = """\
[[entry]]
id = "{id}"
question = "{question}"
answer = "A short answer."
source = "Test"
topic = "a test topic"
phrasings = [{phrasings}]
"""


def entry(entry_id: str, question: str = "", *phrasings: str) -> str:
    """One valid [[entry]] table as TOML text."""
    return ENTRY.format(
        id=entry_id,
        question=question or f"What about {entry_id}?",
        phrasings=", ".join(f'"{p}"' for p in phrasings or (f"tell me about {entry_id}",)),
    )


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A content folder with a valid kiosk.toml and nothing else."""
    write(tmp_path, "kiosk.toml", KIOSK)
    return tmp_path


def only_problem(directory: Path) -> ContentProblem:
    problems = check_content(directory)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def line_of(path: Path, text: str) -> int:
    """1-based line of the first line containing ``text``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


# --- The real content -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def faq() -> Faq:
    return load_content(default_content_dir())


def test_real_content_is_valid() -> None:
    assert check_content(default_content_dir()) == []


def test_real_content_has_the_sixteen_entries_in_seed_order(faq: Faq) -> None:
    assert [e.id for e in faq.entries] == EXPECTED_IDS
    assert faq.topic_name == "immunotherapy"


def test_real_answers_are_short_spoken_sentences(faq: Faq) -> None:
    for e in faq.entries:
        assert len(e.answer.split()) <= 60, e.id
        assert not re.search(r"[•\u2022\u25aa*\n]|(^|\s)- ", e.answer), e.id
        # Numbers as people say them: "15 to 20 percent", not "15-20%".
        assert "%" not in e.answer and not re.search(r"\d-\d", e.answer), e.id
        assert e.answer.endswith("."), e.id


def test_real_entries_have_many_distinct_phrasings(faq: Faq) -> None:
    for e in faq.entries:
        assert len(e.phrasings) >= 12, e.id
        normalised = [phrasing_key(p) for p in e.phrasings]
        assert len(set(normalised)) == len(normalised), e.id
        assert e.source and e.topic and e.question.endswith("?"), e.id
        assert e.path is not None and e.path.name == "immunotherapy.toml"
        assert e.line is not None
        assert e.path.read_text(encoding="utf-8").splitlines()[e.line - 1] == "[[entry]]"


def test_real_content_keeps_the_seed_facts_and_sources(faq: Faq) -> None:
    facts = {
        "make-cancer-worse": ["pseudo-progression", "CT scan"],
        "spread-during-treatment": ["Ashish Sangal", "only temporary"],
        "worst-side-effects": ["colitis", "pneumonitis", "kidney failure", "severe infections"],
        "success-rate": ["15 to 20 percent", "durable"],
        "treatment-length": ["up to two years", "checkpoint inhibitor"],
        "side-effects-duration": ["one to three weeks"],
        "ideal-candidate": ["non-small cell lung cancer", "80 to 85 percent"],
        "covid": ["University of Cincinnati", "preliminary"],
        "response-rate": ["20 to 30 percent"],
        "life-expectancy": ["UCLA", "pembrolizumab", "15 percent", "25 percent", "five years"],
        "extend-life": ["metastatic melanoma", "months or years"],
    }
    for entry_id, needles in facts.items():
        for needle in needles:
            assert needle in faq.entry(entry_id).answer, (entry_id, needle)
    assert "Sangal" in faq.entry("spread-during-treatment").source
    assert "UCLA" in faq.entry("life-expectancy").source
    assert "University of Cincinnati (UC) Cancer Center" in faq.entry("covid").source
    assert faq.entry("life-expectancy").question == "Does immunotherapy increase life expectancy?"
    # The seed's "our hospital" is another hospital, not this clinic.
    assert "our hospital" not in faq.entry("spread-during-treatment").answer


def test_real_content_leaves_out_the_link_bait(faq: Faq) -> None:
    text = " ".join(f"{e.question} {e.answer} {' '.join(e.phrasings)}" for e in faq.entries)
    for bait in ("CIN2", "prostate", "colors for melanoma", "THIS IS IMPORTANT"):
        assert bait.lower() not in text.lower()


def test_real_confirm_prompt_reads_well_with_every_question(faq: Faq) -> None:
    for e in faq.entries:
        prompt = faq.messages.confirm_template.format(question=e.question)
        assert e.question in prompt and "??" not in prompt
    assert "staff" in faq.messages.fallback


def test_survival_questions_do_not_lead_to_treatment_length(faq: Faq) -> None:
    phrasings = {phrasing_key(p) for p in faq.entry("treatment-length").phrasings}
    assert not any("alive" in p or "live" in p.split() for p in phrasings)
    assert "how long can immunotherapy keep you alive" in {
        phrasing_key(p) for p in faq.entry("life-expectancy").phrasings
    }


def test_default_content_dir_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(CONTENT_ENV_VAR, raising=False)
    assert default_content_dir() == Path(__file__).resolve().parent.parent / "content"
    monkeypatch.setenv(CONTENT_ENV_VAR, str(tmp_path))
    assert default_content_dir() == tmp_path


# --- Loading ----------------------------------------------------------------------------------


def test_entries_spread_over_files_load_in_file_order(content: Path) -> None:
    write(content, "b.toml", entry("second"))
    a = write(content, "a.toml", "# comment\n\n" + entry("first", "", "Will it hurt?"))
    faq = load_content(content)
    assert [e.id for e in faq.entries] == ["first", "second"]
    first = faq.entry("first")
    assert (first.path, first.line, first.phrasings, first.more) == (a, 3, ("Will it hurt?",), None)
    assert faq.title == "Test FAQ" and faq.messages.goodbye == "Goodbye."


def test_long_strings_are_joined_into_single_spaced_text(content: Path) -> None:
    text = entry("a").replace(
        'answer = "A short answer."', 'answer = """\nFirst line.\n   Second line.\n"""'
    )
    write(content, "faq.toml", text + 'more = "  Extra   detail. "\n')
    e = load_content(content).entry("a")
    assert (e.answer, e.more) == ("First line. Second line.", "Extra detail.")


def test_a_byte_order_mark_is_accepted(content: Path) -> None:
    (content / "faq.toml").write_bytes("\ufeff".encode() + entry("a").encode())
    assert [e.id for e in load_content(content).entries] == ["a"]


def test_phrasing_key_ignores_case_punctuation_and_spaces() -> None:
    assert phrasing_key("  Will it make me SICK?! ") == "will it make me sick"
    assert phrasing_key("It’s working...") == phrasing_key("its  working") != ""


# --- Validation: each problem names file, line, field and what to do ---------------------------


def test_syntax_error_gives_tomls_line_and_column(content: Path) -> None:
    path = write(content, "faq.toml", entry("a") + 'answer "missing equals"\n')
    problem = only_problem(content)
    assert problem.path == path and problem.line == 8
    assert "not valid TOML" in problem.message and "column" in problem.message
    assert "quotes" in problem.message
    assert str(problem).startswith(f"{path}:8: ")


def test_unterminated_string_is_a_syntax_error(content: Path) -> None:
    write(content, "faq.toml", entry("a").replace('"A short answer."', '"A short answer.'))
    problem = only_problem(content)
    assert problem.line == 4 and "not valid TOML" in problem.message


def test_key_given_twice_is_explained(content: Path) -> None:
    write(content, "faq.toml", entry("a") + 'answer = "Again."\n')
    problem = only_problem(content)
    assert problem.line == 8 and "appears twice" in problem.message


def test_unknown_entry_key_suggests_the_closest(content: Path) -> None:
    text = entry("a") + 'anwser = "typo"\n'
    path = write(content, "faq.toml", text)
    problem = only_problem(content)
    assert (problem.path, problem.line, problem.field) == (path, 8, "entry.anwser")
    assert 'The entry "a" has an unknown key "anwser"' in problem.message
    assert 'Did you mean "answer"?' in problem.message and "remove it" in problem.message


def test_unknown_key_without_close_match_lists_valid_keys(content: Path) -> None:
    write(content, "faq.toml", entry("a") + 'colour = "blue"\n')
    problem = only_problem(content)
    assert "Valid keys are: id, question, answer" in problem.message


def test_unknown_message_key_suggests_the_closest(content: Path) -> None:
    write(content, "kiosk.toml", KIOSK.replace("goodbye =", "good_bye ="))
    write(content, "faq.toml", entry("a"))
    problems = check_content(content)
    fields = {p.field: p for p in problems}
    assert set(fields) == {"messages.good_bye", "messages.goodbye"}
    assert 'Did you mean "goodbye"?' in fields["messages.good_bye"].message
    assert fields["messages.good_bye"].line == 14
    assert "has no goodbye" in fields["messages.goodbye"].message
    assert fields["messages.goodbye"].line == 5  # the [messages] header


def test_unknown_table_suggests_the_closest(content: Path) -> None:
    path = write(content, "faq.toml", entry("a") + '\n[mesages]\ngreeting = "Hi"\n')
    problem = only_problem(content)
    assert (problem.path, problem.line, problem.field) == (path, 9, "mesages")
    assert 'Did you mean "messages"?' in problem.message


def test_missing_entry_key_points_at_the_entry(content: Path) -> None:
    path = write(
        content,
        "faq.toml",
        entry("a") + "\n" + entry("b").replace('answer = "A short answer."\n', ""),
    )
    problem = only_problem(content)
    assert (problem.path, problem.line, problem.field) == (path, 9, "entry.answer")
    assert 'The entry "b" has no answer. Add a line like answer = "..."' in problem.message


def test_missing_id_names_the_entry_by_number(content: Path) -> None:
    write(content, "faq.toml", entry("a") + entry("b").replace('id = "b"\n', ""))
    problem = only_problem(content)
    assert problem.field == "entry.id" and problem.line == 8
    assert "Entry number 2 in this file has no id" in problem.message


def test_wrong_types_are_reported_per_field(content: Path) -> None:
    text = entry("a").replace('"A short answer."', "3")
    text = text.replace('phrasings = ["tell me about a"]', 'phrasings = "x"')
    path = write(content, "faq.toml", text)
    problems = check_content(content)
    assert [(p.path, p.line, p.field) for p in problems] == [
        (path, 4, "entry.answer"),
        (path, 7, "entry.phrasings"),
    ]
    assert 'must be text in double quotes, like answer = "..."' in problems[0].message
    assert 'must be a list of texts in double quotes, like phrasings = ["...", "..."]' in (
        problems[1].message
    )


def test_a_phrasing_that_is_not_text_is_reported(content: Path) -> None:
    text = entry("a").replace('phrasings = ["tell me about a"]', 'phrasings = ["ok", 5]')
    write(content, "faq.toml", text)
    problem = only_problem(content)
    assert problem.field == "entry.phrasings" and problem.line == 7
    assert "Phrasing number 2" in problem.message and "double quotes" in problem.message


def test_single_bracket_entry_table_is_explained(content: Path) -> None:
    write(content, "faq.toml", entry("a").replace("[[entry]]", "[entry]"))
    problem = only_problem(content)
    assert problem.line == 1 and problem.field == "entry"
    assert "Change [entry] to [[entry]]" in problem.message


def test_invalid_id_is_reported(content: Path) -> None:
    write(content, "faq.toml", entry("Side Effects"))
    problem = only_problem(content)
    assert problem.field == "entry.id" and problem.line == 2
    assert 'The id "Side Effects" is not valid' in problem.message
    assert "lower-case letters" in problem.message


def test_duplicate_ids_name_both_places(content: Path) -> None:
    write(content, "a.toml", entry("same"))
    second = write(content, "b.toml", "\n" + entry("same"))
    problem = only_problem(content)
    assert (problem.path, problem.line, problem.field) == (second, 3, "entry.id")
    assert 'The id "same" is used twice: here and in a.toml line 2.' in problem.message
    assert "different id" in problem.message


@pytest.mark.parametrize("key", ["answer", "question"])
def test_empty_answers_and_questions_are_reported(content: Path, key: str) -> None:
    text = re.sub(rf"^{key} = .*$", f'{key} = "  "', entry("a"), flags=re.MULTILINE)
    path = write(content, "faq.toml", text)
    problem = only_problem(content)
    assert (problem.path, problem.field) == (path, f"entry.{key}")
    assert problem.line == line_of(path, f"{key} =")
    assert f'The {key} of the entry "a" is empty. Write the' in problem.message


def test_same_phrasing_under_two_entries_names_both(content: Path) -> None:
    write(content, "a.toml", entry("first", "", "Will it make me sick?", "other"))
    path = write(
        content,
        "b.toml",
        entry("second", "", "something", "will it make  me SICK").replace(", ", ",\n    "),
    )
    problem = only_problem(content)
    assert (problem.path, problem.field) == (path, "entry.phrasings")
    assert problem.line == line_of(path, "will it make  me SICK")
    assert 'The phrasing "will it make me SICK" of the entry "second"' in problem.message
    assert 'the same as "Will it make me sick?" in the entry "first" (a.toml line 7)' in (
        problem.message
    )
    assert "Remove it from one of the two entries" in problem.message


def test_a_question_reused_as_another_entrys_phrasing_is_reported(content: Path) -> None:
    write(content, "faq.toml", entry("a", "Is it safe?") + entry("b", "", "is it safe"))
    problem = only_problem(content)
    assert problem.field == "entry.phrasings" and problem.line == 14
    assert 'in the entry "a" (faq.toml line 3)' in problem.message


def test_the_same_phrasing_twice_in_one_entry_is_allowed(content: Path) -> None:
    write(content, "faq.toml", entry("a", "Is it safe?", "is it safe", "Is it safe"))
    assert check_content(content) == []


def test_missing_message_names_the_messages_table(content: Path) -> None:
    kiosk = write(content, "kiosk.toml", KIOSK.replace('not_heard = "I didn\'t hear you."\n', ""))
    write(content, "faq.toml", entry("a"))
    problem = only_problem(content)
    assert (problem.path, problem.line, problem.field) == (kiosk, 5, "messages.not_heard")
    assert "The [messages] table has no not_heard. Add a line like" in problem.message


def test_missing_messages_and_faq_tables(tmp_path: Path) -> None:
    write(tmp_path, "faq.toml", entry("a"))
    problems = check_content(tmp_path)
    assert [(p.path, p.line, p.field) for p in problems] == [
        (tmp_path, None, "faq"),
        (tmp_path, None, "messages"),
    ]
    assert "Add one to kiosk.toml" in problems[0].message
    assert "No content file has a [messages] table" in problems[1].message


def test_messages_defined_twice_name_both_files(content: Path) -> None:
    extra = write(content, "z.toml", entry("a") + "\n[messages]\n" + KIOSK.split("[messages]\n")[1])
    problem = only_problem(content)
    assert (problem.path, problem.line, problem.field) == (extra, 9, "messages")
    assert "also in kiosk.toml line 5. Keep only one" in problem.message


def test_confirm_template_must_contain_question(content: Path) -> None:
    kiosk = write(content, "kiosk.toml", KIOSK.replace("{question}", "that"))
    write(content, "faq.toml", entry("a"))
    problem = only_problem(content)
    assert (problem.path, problem.line, problem.field) == (kiosk, 11, "messages.confirm_template")
    assert "must contain {question}" in problem.message and "Did you mean" in problem.message


def test_confirm_template_with_other_braces_is_reported(content: Path) -> None:
    write(content, "kiosk.toml", KIOSK.replace("{question}", "{question} {entry}"))
    write(content, "faq.toml", entry("a"))
    problem = only_problem(content)
    assert problem.field == "messages.confirm_template"
    assert "Use curly brackets only in {question}" in problem.message


def test_empty_folder_is_reported(tmp_path: Path) -> None:
    problem = only_problem(tmp_path)
    assert (problem.path, problem.line) == (tmp_path, None)
    assert "has no .toml files" in problem.message


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    problem = only_problem(tmp_path / "nowhere")
    assert "does not exist" in problem.message and CONTENT_ENV_VAR in problem.message


def test_no_entries_is_reported(content: Path) -> None:
    problem = only_problem(content)
    assert (problem.path, problem.field) == (content, "entry")
    assert "No FAQ entries were found. Add at least one [[entry]]" in problem.message


def test_file_that_is_not_utf8_is_reported_with_its_line(content: Path) -> None:
    path = content / "faq.toml"
    path.write_bytes(entry("a").replace("A short answer.", "Caf\xe9").encode("latin-1"))
    problem = only_problem(content)
    assert (problem.path, problem.line) == (path, 4)
    assert "not UTF-8" in problem.message and "Save it again as UTF-8" in problem.message


def test_a_broken_file_does_not_cause_follow_on_problems(content: Path) -> None:
    # kiosk.toml is broken, so "no [messages]" would only be noise.
    write(content, "kiosk.toml", KIOSK.replace("[faq]", "[faq"))
    write(content, "faq.toml", entry("a"))
    problem = only_problem(content)
    assert problem.line == 1 and "not valid TOML" in problem.message


def test_lines_inside_long_strings_are_not_mistaken_for_keys(content: Path) -> None:
    text = entry("a").replace('answer = "A short answer."', 'answer = """\nanwser = not a key\n"""')
    path = write(content, "faq.toml", text + 'anwser = "typo"\n')
    problem = only_problem(content)
    assert problem.line == line_of(path, 'anwser = "typo"') == 10


def test_several_problems_are_reported_together(content: Path) -> None:
    write(content, "kiosk.toml", KIOSK.replace('greeting = "Hello."\n', ""))
    write(
        content,
        "faq.toml",
        entry("a", "", "same words")
        + entry("a").replace('topic = "a test topic"', 'topik = "x"')
        + entry("c", "", "Same words!").replace('"A short answer."', '""')
        + entry("d", "", "SAME words"),
    )
    write(content, "more.toml", "[[entry]\n")
    problems = check_content(content)
    summary = sorted((p.path.name, p.line, p.field) for p in problems)
    assert summary == [
        ("faq.toml", 8, "entry.topic"),
        ("faq.toml", 13, "entry.topik"),
        ("faq.toml", 18, "entry.answer"),
        ("faq.toml", 28, "entry.phrasings"),
        ("kiosk.toml", 5, "messages.greeting"),
        ("more.toml", 1, None),
    ], "\n".join(map(str, problems))
    with pytest.raises(ContentError) as raised:
        load_content(content)
    assert raised.value.problems == problems
    assert isinstance(raised.value, VoiceError)
    assert str(raised.value).startswith("6 problem(s) in the content:")
    assert "faq.toml:18 [entry.answer]" in str(raised.value)


def test_duplicates_are_found_once_entries_are_otherwise_valid(content: Path) -> None:
    write(content, "faq.toml", entry("a", "", "same words") + entry("a", "", "Same words!"))
    problem = only_problem(content)
    assert 'The id "a" is used twice' in problem.message


def test_the_readme_example_entry_is_valid(content: Path) -> None:
    readme = (default_content_dir() / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    write(content, "faq.toml", example)
    faq = load_content(content)
    assert faq.entries[0].id == "side-effects-duration"
    assert faq.entries[0].answer.startswith("When side effects show up varies. But most")
