"""Other clinics' FAQs work with ``--content DIR`` and no code change (tests/data/faqs/).

Their labelled questions were written from the entry questions only, without seeing the FAQ's
phrasings (tests/data/README.md). Only eval.tsv is measured here: blind.tsv is kept for final
figures, not for tuning.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from voice.content.loader import check_content, load_content
from voice.matching.evaluation import OUT_OF_DOMAIN, evaluate, read_eval_file
from voice.matching.matcher import Matcher

FAQS = Path(__file__).parent / "data" / "faqs"
VOICE = str(Path(sys.executable).with_name("voice"))

# Figures now (typed eval.tsv), with a little room, no more. These are regression floors, not the
# issue's targets (the note on issue 14 has those). Words alone: blood pressure 81.5% correct,
# 0 wrong, 2 of 27 off-topic answered; hospital visit 78.3%, 0, 1 of 27; diabetes 45.0%, 0,
# 0 of 27; colonoscopy 63.3%, 1.7%, 4 of 27.
FLOORS = {
    "blood-pressure": (80.0, 1.0, 7.5),
    "hospital-visit": (76.0, 1.0, 3.8),
    "diabetes": (43.0, 1.0, 1.0),
    "colonoscopy": (61.0, 2.0, 15.0),
}
# With the sentence-embedding model installed (issue 14; in-sample: the decision was fitted on
# these sets): blood pressure 80.0%, 0, 2 of 27; hospital visit 75.0%, 0, 0 of 27; diabetes
# 40.0%, 0, 0 of 27; colonoscopy 55.0%, 0, 2 of 27.
SEMANTIC_FLOORS = {
    "blood-pressure": (78.0, 1.0, 7.5),
    "hospital-visit": (73.0, 1.0, 1.0),
    "diabetes": (38.0, 1.0, 1.0),
    "colonoscopy": (53.0, 1.0, 7.5),
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_content_is_valid_and_names_its_subject(name: str) -> None:
    assert check_content(FAQS / name) == []
    faq = load_content(FAQS / name)
    assert faq.subject.name
    assert {i.expected for i in read_eval_file(FAQS / name / "eval.tsv")} - {OUT_OF_DOMAIN} == {
        e.id for e in faq.entries
    }


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_accuracy_floor(name: str) -> None:
    faq = load_content(FAQS / name)
    matcher = Matcher(faq)
    floors = SEMANTIC_FLOORS if matcher.semantic is not None else FLOORS
    min_correct, max_wrong, max_false_accept = floors[name]
    report = evaluate(read_eval_file(FAQS / name / "eval.tsv"), matcher.match)
    summary = "\n".join(report.summary_lines())
    assert report.correct_pct >= min_correct, summary
    assert report.wrong_pct <= max_wrong, summary
    assert report.false_accept_pct <= max_false_accept, summary


def test_another_faqs_subject_is_not_foreign_to_it() -> None:
    """Words the immunotherapy FAQ treats as other subjects are this FAQ's own words."""
    faq = load_content(FAQS / "blood-pressure")
    result = Matcher(faq).match("can I come off my blood pressure tablets")
    assert result.entry_id == "stop-medicine"
    assert result.action.value in ("answer", "confirm")


def test_voice_ask_with_content_dir() -> None:
    done = subprocess.run(
        [VOICE, "ask", "--json", "--content", str(FAQS / "hospital-visit"), "--text",
         "what are the visiting hours"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout.splitlines()[0])
    assert (record["action"], record["entry_id"]) == ("answer", "visiting-hours")
