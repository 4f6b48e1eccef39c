"""Regenerate voice/hearing/data/common_words.txt, the phrase list's background vocabulary.

The list is the most frequent English words (letters only), most frequent first, from the
wordfreq package's data. Only this script needs wordfreq; the kiosk reads the committed file.

    python -m venv /tmp/wf && /tmp/wf/bin/pip install wordfreq
    /tmp/wf/bin/python scripts/make_common_words.py
"""

from __future__ import annotations

import re
from pathlib import Path

from wordfreq import top_n_list  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parents[1] / "voice" / "hearing" / "data" / "common_words.txt"
TAKE = 10000  # of wordfreq's list, before dropping words with digits or apostrophes

HEADER = """\
# The most frequent English words, most frequent first (letters only): the background
# vocabulary of the phrase-list recognizer (see voice/hearing/phrase_list.py), so speech that
# is not an FAQ question is heard as the words it is instead of being forced into FAQ words.
# Source: wordfreq 3.1 (https://github.com/rspeer/wordfreq), top_n_list("en", 10000).
# wordfreq's data is licensed CC BY-SA 4.0 (Robyn Speer and contributors), and so is this list.
# Regenerate with scripts/make_common_words.py.
"""


def main() -> None:
    words = [w for w in top_n_list("en", TAKE) if re.fullmatch(r"[a-z]+", w)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(HEADER + "\n".join(words) + "\n", encoding="utf-8")
    print(f"wrote {len(words)} words to {OUT}")


if __name__ == "__main__":
    main()
