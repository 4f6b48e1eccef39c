"""Nothing under voice/ names a medical subject: subjects are content (the [subject] table).

The engine must serve any clinic's FAQ, so its code, comments and language data may not carry
one FAQ's subject words. Examples in comments use neutral placeholders ("X", "another subject").
"""

from __future__ import annotations

import re
from pathlib import Path

VOICE = Path(__file__).resolve().parents[1] / "voice"

# Treatments, conditions, medicines and tests a clinic's FAQ might be about.
MEDICAL_SUBJECTS = """
immunotherapy immunotherapies immuno chemotherapy chemo radiotherapy radiation cancer cancers
tumour tumours tumor tumors melanoma lymphoma leukaemia leukemia oncology oncologist
pembrolizumab nivolumab keytruda pseudoprogression checkpoint covid coronavirus vaccine
vaccination diabetes insulin hypertension cholesterol asthma dementia arthritis stroke
paracetamol ibuprofen aspirin paxlovid antibiotic steroid colitis hepatitis pancreatitis
infusion infusions pregnancy prostate
""".split()
_PATTERN = re.compile(r"\b(" + "|".join(MEDICAL_SUBJECTS) + r")\b", re.IGNORECASE)


def _engine_files() -> list[Path]:
    """The engine's code and its language data (not WordNet's or wordfreq's word lists)."""
    return sorted([*VOICE.rglob("*.py"), *VOICE.rglob("*.toml")])


def test_the_engine_names_no_medical_subject() -> None:
    found = [
        f"{path.relative_to(VOICE.parent)}:{number}: {match.group(0)}"
        for path in _engine_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for match in _PATTERN.finditer(line)
    ]
    assert not found, "subject words in the engine (move them to content):\n" + "\n".join(found)


def test_the_check_finds_a_subject_word() -> None:
    assert _PATTERN.search('ours = "immunotherapy" in words')
    assert not _PATTERN.search("the FAQ's own subject")
