"""Accuracy on the labelled question sets must not fall below what it reaches now."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from voice.content.loader import default_content_dir, load_content
from voice.errors import UsageError
from voice.matching.evaluation import OUT_OF_DOMAIN, EvalReport, evaluate, read_eval_file
from voice.matching.matcher import Matcher

DATA = Path(__file__).parent / "data"
EVAL_FILE = DATA / "typed_eval.tsv"
VOICE = str(Path(sys.executable).with_name("voice"))


@dataclass(frozen=True)
class Floor:
    """A set's size, and the limits its figures must stay within (in percent)."""

    in_domain: int
    out_of_domain: int
    min_correct: float
    max_wrong: float
    max_false_accept: float


# The limits leave a little room below what each set reaches now, no more (tests/data/README.md):
# typed_eval 93.2% answered-correct, 0 wrong, 0 of 67 false-accepts; dev_eval 71.1%, 0%,
# 1 of 70; fresh_eval 83.3%, 2.1%, 1 of 50; blind_eval 89.3%, 0%, 1 of 56; near_miss_eval
# (no in-domain questions) 4 of 80.
FLOORS = {
    "typed_eval.tsv": Floor(162, 67, 92.0, 1.5, 1.5),
    "dev_eval.tsv": Floor(128, 70, 70.0, 1.6, 1.5),
    "fresh_eval.tsv": Floor(96, 50, 82.0, 2.1, 2.0),
    "blind_eval.tsv": Floor(112, 56, 88.0, 1.0, 1.8),
    "near_miss_eval.tsv": Floor(0, 80, 0.0, 0.0, 5.0),
}
# With the sentence-embedding model installed (issue 14; decision refitted on five FAQs) the
# figures are: typed_eval 92.6%, 0, 0 of 67; dev_eval 68.8%, 0, 0 of 70; fresh_eval 81.2%, 1.0%,
# 1 of 50; blind_eval 87.5%, 0, 1 of 56; near_miss_eval 2 of 80 (in-sample: the decision was
# fitted on these sets). The fresh blind set, blind2_eval.tsv, is not measured here.
SEMANTIC_FLOORS = {
    "typed_eval.tsv": Floor(162, 67, 92.0, 1.0, 1.5),
    "dev_eval.tsv": Floor(128, 70, 68.0, 1.0, 1.5),
    "fresh_eval.tsv": Floor(96, 50, 80.0, 1.1, 2.0),
    "blind_eval.tsv": Floor(112, 56, 87.0, 1.0, 1.8),
    "near_miss_eval.tsv": Floor(0, 80, 0.0, 0.0, 3.0),
}
_MATCHER = Matcher(load_content(default_content_dir()))
if _MATCHER.semantic is not None:
    FLOORS = SEMANTIC_FLOORS


@pytest.fixture(scope="module", params=sorted(FLOORS))
def named_report(request: pytest.FixtureRequest) -> tuple[Floor, EvalReport]:
    name = str(request.param)
    return FLOORS[name], evaluate(read_eval_file(DATA / name), _MATCHER.match)


@pytest.fixture(scope="module")
def report() -> EvalReport:
    return evaluate(read_eval_file(EVAL_FILE), _MATCHER.match)


def test_the_sets_are_the_documented_ones(named_report: tuple[Floor, EvalReport]) -> None:
    floor, report = named_report
    assert (report.in_domain, report.out_of_domain) == (floor.in_domain, floor.out_of_domain)


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_every_expected_id_is_an_entry(name: str) -> None:
    ids = {e.id for e in load_content(default_content_dir()).entries}
    expected = {i.expected for i in read_eval_file(DATA / name)}
    if FLOORS[name].in_domain:
        assert expected - {OUT_OF_DOMAIN} == ids
    else:
        assert expected == {OUT_OF_DOMAIN}


def test_answered_correct(named_report: tuple[Floor, EvalReport]) -> None:
    floor, report = named_report
    assert report.correct_pct >= floor.min_correct, "\n".join(report.summary_lines())


def test_wrong_answers(named_report: tuple[Floor, EvalReport]) -> None:
    floor, report = named_report
    assert report.wrong_pct <= floor.max_wrong, "\n".join(report.summary_lines())


def test_out_of_domain_false_accepts(named_report: tuple[Floor, EvalReport]) -> None:
    floor, report = named_report
    assert report.false_accept_pct <= floor.max_false_accept, "\n".join(report.summary_lines())


def test_counts_add_up(report: EvalReport) -> None:
    assert report.correct + report.wrong + report.confirm + report.decline == report.in_domain
    assert report.confirm_correct <= report.confirm
    in_domain_misses = report.in_domain - report.correct
    ood_misses = report.false_accept + report.ood_confirm
    assert len(report.misses) == in_domain_misses + ood_misses


def test_voice_eval_cli() -> None:
    done = subprocess.run(
        [VOICE, "eval", "--text", str(EVAL_FILE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for label in ("answered-correct", "wrong-answer", "out-of-domain false-accept"):
        assert any(line.startswith(f"{label}:") for line in lines), label
    assert "misses:" in lines
    assert any(line.startswith("  line ") for line in lines)


def test_voice_eval_cli_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "eval.tsv"
    bad.write_text("# comment\nquestion without a tab\n", encoding="utf-8")
    done = subprocess.run(
        [VOICE, "eval", "--text", str(bad)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{bad}:2:" in done.stderr


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("just a question\n", ":1:"),
        ("# only a comment\n", "no questions"),
        ("q1\tsuccess-rate\nq2\t\n", ":2:"),
    ],
)
def test_read_eval_file_rejects_bad_files(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "eval.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match=where):
        read_eval_file(path)
