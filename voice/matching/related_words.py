"""Everyday words the FAQ does not use, mapped to the FAQ words they are related to.

Patients say "swollen", "grew" or "redness" where the FAQ says "swell", "grow" and "red". The
relations come from WordNet (voice/matching/data/related_words.txt, made by
scripts/make_related_words.py): a word's base forms, the other words of its most common sense,
and the words derived from it. Only words the FAQ never uses are looked up, and only a word the
FAQ itself uses, exactly as written, can be the target: a relation can add a known word to a
question but never change one, and two words that merely stem alike ("riding", "rid") never meet.
The matcher only offers an entry found this way ("Did you mean …?"); it answers on the patient's
own words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from voice.errors import InstallError

log = logging.getLogger(__name__)

RELATED_WORDS_FILE = Path(__file__).parent / "data" / "related_words.txt"


def load_related(
    faq_words: Mapping[str, str],
    stem: Callable[[str], str],
    exclude: Collection[str] = (),
    path: Path = RELATED_WORDS_FILE,
) -> dict[str, str]:
    """Map words the FAQ does not use to the stem of the first related word it does.

    ``faq_words`` maps each word the FAQ uses, as written, to its stem. Words whose stem is an FAQ
    stem, or is in ``exclude`` (subjects the FAQ does not cover), are not mapped. The file is read
    line by line, keeping only the lines that matter.
    """
    known = set(faq_words.values())
    related: dict[str, str] = {}
    lines_read = 0
    try:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.startswith("#"):
                    continue
                lines_read += 1
                word, _, others = line.rstrip("\n").partition("\t")
                target = next((o for o in others.split() if o in faq_words), None)
                if target is None:
                    continue
                word_stem = stem(word)
                if word_stem not in known and word_stem not in exclude:
                    related[word] = faq_words[target]
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(
            f"The matcher's word list {path} could not be read ({exc}). "
            "Reinstall the kiosk (scripts/setup.sh)."
        ) from exc
    if lines_read == 0:
        raise InstallError(
            f"The matcher's word list {path} is empty. Reinstall the kiosk (scripts/setup.sh)."
        )
    log.debug("%d everyday words lead to FAQ words", len(related))
    return related
