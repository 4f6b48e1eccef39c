"""Regenerate voice/matching/data/related_words.txt: everyday words and their WordNet relatives.

For each word the speech model can say (and each common English word), the line lists its base
forms ("grew" -> "grow", "shivers" -> "shiver"), then, for its most used part of speech only,
the other words of its most common sense and the words derived from it ("redness" -> "red",
"inflame" -> "inflammation"). Rarer senses and parts of speech are left out: they bring in
unrelated words ("number" as a verb is "come to", "phone" as a verb is "call"). So are base
forms far rarer than the word's main one ("riding" is "ride", not "rid"). The matcher
(voice/matching/related_words.py) uses the lines only for question words the FAQ never uses, to
find the FAQ word that was meant.

Only this script needs WordNet (Debian: `sudo apt-get install wordnet-base`) and the model; the
kiosk reads the committed file.

    .venv/bin/python scripts/make_related_words.py
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from voice.hearing.phrase_list import common_words  # noqa: E402
from voice.hearing.vocabulary import load_vocabulary  # noqa: E402
from voice.install.fetch import locate_model  # noqa: E402
from voice.text.language import english  # noqa: E402

STOP_WORDS = english().stop_words

WORDNET = Path("/usr/share/wordnet")
OUT = REPO / "voice" / "matching" / "data" / "related_words.txt"
FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
# WordNet's own detachment rules for regular inflections (as in its morphy function).
ENDINGS = {
    "n": [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
          ("men", "man"), ("ies", "y")],
    "v": [("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""),
          ("ing", "e"), ("ing", "")],
    "a": [("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
    "r": [],
}
SENSES = 1  # only the most common sense: rarer ones bring in unrelated words
RARE_FORM_SHARE = 0.25  # of the main form's use in WordNet's tagged texts
WORD = re.compile(r"[a-z]+")
# A WordNet pointer: symbol, target synset offset, target part of speech, source and target word.
Pointer = tuple[str, int, str, int, int]

HEADER = """\
# Words and the words WordNet relates them to: base forms, the other words of the most common
# sense, and derived words. One line per word: the word, a tab, the related words. The matcher
# uses these only for question words the FAQ never uses (see voice/matching/related_words.py).
# Regenerate with scripts/make_related_words.py.
# Source: WordNet 3.0 (Debian package wordnet-base), under this licence:
#
# WordNet 3.0 Copyright 2006 by Princeton University.  All rights reserved.
#
# Permission to use, copy, modify and distribute this software and database and its
# documentation for any purpose and without fee or royalty is hereby granted, provided that you
# agree to comply with the following copyright notice and statements, including the disclaimer,
# and that the same appear on ALL copies of the software, database and documentation, including
# modifications that you make for internal use or for distribution.
#
# THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO
# REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED.  BY WAY OF EXAMPLE, BUT NOT LIMITATION,
# PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANTABILITY OR FITNESS FOR
# ANY PARTICULAR PURPOSE OR THAT THE USE OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION
# WILL NOT INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR OTHER RIGHTS.
#
# The name of Princeton University or Princeton may not be used in advertising or publicity
# pertaining to distribution of the software and/or database.  Title to copyright in this
# software, database and any associated documentation shall at all times remain with Princeton
# University and LICENSEE agrees to preserve same.
"""


class WordNet:
    """Just enough of the WordNet database files: senses, exceptions, synsets, derivations."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.senses: dict[tuple[str, str], list[int]] = {}
        self.exceptions: dict[tuple[str, str], set[str]] = defaultdict(set)
        # How often each (lemma, part of speech) was seen in WordNet's tagged texts.
        self.usage: dict[tuple[str, str], int] = defaultdict(int)
        pos_of_number = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "a"}
        for line in (root / "cntlist.rev").read_text(encoding="latin-1").splitlines():
            key, _sense, count = line.split()
            lemma, _, rest = key.partition("%")
            self.usage[(lemma, pos_of_number[rest[0]])] += int(count)
        self._synsets: dict[tuple[str, int], tuple[list[str], list[Pointer]]] = {}
        for pos, name in FILES.items():
            for line in (root / f"index.{name}").read_text(encoding="latin-1").splitlines():
                if line.startswith(" "):
                    continue  # the licence at the top
                fields = line.split()
                pointer_count = int(fields[3])
                offsets = fields[4 + pointer_count + 2 :]
                self.senses[(fields[0], pos)] = [int(o) for o in offsets]
            exc = root / f"{name}.exc"
            if exc.exists():
                for line in exc.read_text(encoding="latin-1").splitlines():
                    form, *bases = line.split()
                    self.exceptions[(form, pos)].update(bases)

    def synset(self, pos: str, offset: int) -> tuple[list[str], list[Pointer]]:
        """The synset's words and pointers (symbol, offset, pos, source word, target word)."""
        key = (pos, offset)
        if key not in self._synsets:
            with (self.root / f"data.{FILES[pos]}").open("rb") as data:
                data.seek(offset)
                fields = data.readline().decode("latin-1").split(" | ")[0].split()
            count = int(fields[3], 16)
            words = [fields[4 + 2 * i].lower() for i in range(count)]
            at = 4 + 2 * count
            pointers = []
            for k in range(int(fields[at])):
                symbol, target, target_pos, ends = fields[at + 1 + 4 * k : at + 5 + 4 * k]
                pointers.append((
                    symbol, int(target), "a" if target_pos in "as" else target_pos,
                    int(ends[:2], 16), int(ends[2:], 16),
                ))
            self._synsets[key] = (words, pointers)
        return self._synsets[key]

    def base_forms(self, word: str) -> list[tuple[str, str]]:
        """(lemma, part of speech) pairs the word can be a form of, itself included."""
        found: list[tuple[str, str]] = []
        for pos in FILES:
            candidates = [word, *sorted(self.exceptions.get((word, pos), ()))]
            candidates += [
                word[: -len(end)] + new
                for end, new in ENDINGS[pos]
                if word.endswith(end) and len(word) > len(end) + 1
            ]
            found += [(c, pos) for c in candidates if (c, pos) in self.senses]
        return list(dict.fromkeys(found))

    def related(self, word: str) -> list[str]:
        """Base forms, then words of the same most common sense, and derived words, for the
        most used part of speech (ties: noun, verb, adjective, adverb)."""
        order = list(FILES)
        ranked = sorted(
            self.base_forms(word), key=lambda f: (-self.usage[f], order.index(f[1]))
        )
        if not ranked:
            return []
        # Forms far rarer than the main one are other words that happen to look alike
        # ("riding" is "ride", not "rid"; "number" is not "more numb").
        floor = RARE_FORM_SHARE * self.usage[ranked[0]]
        out = [lemma for lemma, pos in ranked if self.usage[(lemma, pos)] >= floor]
        for lemma, pos in ranked[:1]:
            for offset in self.senses[(lemma, pos)][:SENSES]:
                words, pointers = self.synset(pos, offset)
                out += words
                if lemma not in words:
                    continue
                source = words.index(lemma) + 1
                for symbol, target, target_pos, from_word, to_word in pointers:
                    if symbol == "+" and from_word == source and to_word:
                        out.append(self.synset(target_pos, target)[0][to_word - 1])
        return [w for w in dict.fromkeys(out) if w != word and WORD.fullmatch(w)]


def main() -> None:
    if not (WORDNET / "index.noun").exists():
        sys.exit(f"WordNet is not at {WORDNET}: sudo apt-get install wordnet-base")
    wordnet = WordNet(WORDNET)
    words = set(load_vocabulary(locate_model())) | set(common_words())
    lines = []
    for word in sorted(words):
        if not WORD.fullmatch(word) or word in STOP_WORDS:
            continue
        related = [w for w in wordnet.related(word) if w not in STOP_WORDS]
        if related:
            lines.append(f"{word}\t{' '.join(related)}")
    OUT.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} words to {OUT}")


if __name__ == "__main__":
    main()
