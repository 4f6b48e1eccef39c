"""`voice ask --content` end to end on a test FAQ: real synthetic speech, the real Vosk model.

The phrase-list decoder is built from the FAQ, so it bends a question the FAQ does not cover into
the FAQ's words: asked of the colonoscopy FAQ, "what should my blood pressure be" is heard as
"what should my blood pressure re", which the words alone answer with what to do about
medicines before the procedure. The open decoder heard the question as it was, and neither
hearing is as like that entry in meaning as a typed answer must be (speech policy rule 15), so
it is only offered. A question the FAQ does cover is still answered.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from speechgen import AudioCache, VoiceSpec

pytestmark = pytest.mark.e2e

VOICE = str(Path(sys.executable).with_name("voice"))
CONTENT = Path(__file__).parent / "data" / "faqs" / "colonoscopy"
# Training voices (tests/speechgen.py): tuning may look at them, figures come from others.
ESPEAK_F2 = VoiceSpec("espeak-ng", "en+f2", 140, 55)
SLT = VoiceSpec("flite", "slt")


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    cache = AudioCache()
    files = {
        "other_subject": cache.speech("what should my blood pressure be", ESPEAK_F2),
        "covered": cache.speech("do i need someone to take me home", SLT),
    }
    run = subprocess.run(
        [VOICE, "ask", "--json", "--content", str(CONTENT), *map(str, files.values())],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    return dict(zip(files, lines, strict=True))


def test_a_question_bent_into_the_faqs_words_is_not_answered(
    answers: dict[str, dict[str, object]],
) -> None:
    line = answers["other_subject"]
    assert line["action"] != "answer", line
    assert line["reason"] in ("semantic_doubt", "other_subject", "no_good_match"), line


def test_a_question_the_faq_covers_is_still_answered(
    answers: dict[str, dict[str, object]],
) -> None:
    line = answers["covered"]
    assert (line["action"], line["entry_id"]) == ("answer", "driving-home"), line
