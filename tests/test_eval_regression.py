"""Accuracy on the held-out typed evaluation set must not fall below what it reaches now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from voice.content import default_content_dir, load_content
from voice.errors import UsageError
from voice.evaluation import OUT_OF_DOMAIN, EvalReport, evaluate, read_eval_file
from voice.matching import Matcher

EVAL_FILE = Path(__file__).parent / "data" / "typed_eval.tsv"
VOICE = str(Path(sys.executable).with_name("voice"))

# Reached when this test was written: answered-correct 144/162 (88.9%), wrong 1 (0.6%),
# out-of-domain false-accept 0 of 67. The limits leave a little room, no more.
MIN_CORRECT_PCT = 87.0
MAX_WRONG_PCT = 1.5
MAX_FALSE_ACCEPT_PCT = 1.5


@pytest.fixture(scope="module")
def report() -> EvalReport:
    matcher = Matcher(load_content(default_content_dir()))
    return evaluate(read_eval_file(EVAL_FILE), matcher.match)


def test_the_set_is_the_documented_one(report: EvalReport) -> None:
    assert (report.in_domain, report.out_of_domain) == (162, 67)


def test_every_expected_id_is_an_entry() -> None:
    ids = {e.id for e in load_content(default_content_dir()).entries}
    expected = {i.expected for i in read_eval_file(EVAL_FILE)}
    assert expected - {OUT_OF_DOMAIN} == ids


def test_answered_correct(report: EvalReport) -> None:
    assert report.correct_pct >= MIN_CORRECT_PCT, "\n".join(report.summary_lines())


def test_wrong_answers(report: EvalReport) -> None:
    assert report.wrong_pct <= MAX_WRONG_PCT, "\n".join(report.summary_lines())


def test_out_of_domain_false_accepts(report: EvalReport) -> None:
    assert report.false_accept_pct <= MAX_FALSE_ACCEPT_PCT, "\n".join(report.summary_lines())


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
