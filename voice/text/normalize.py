"""The text forms the engine compares, all made here from one folding step.

- ``Normalizer``: the matching form of a question or transcript. Typed questions and speech
  transcripts differ in case, punctuation, contractions, number words and spellings; everything
  is brought to one lower-case, space-separated form, with the content's synonyms (its subject's
  aliases, spellings the recogniser uses) and the language's rewrites applied.
- ``spoken_words``: words as a speaker says them (digits spelled), for the recogniser's phrase
  list and for telling the kiosk's own words in what the microphone hears.
- ``phrasing_key``: the form in which two content phrasings count as the same one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from voice.text.language import Language, english
from voice.text.numbers import Numbers

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_DASHES = str.maketrans({"\u2013": " ", "\u2014": " ", "-": " ", "/": " "})
_NON_WORD = re.compile(r"[^a-z0-9' ]+")
_SPACES = re.compile(r"\s+")
_SPOKEN_TOKEN = re.compile(r"[a-z']+|\d+")
_KEY_APOSTROPHES = re.compile(r"['’]")
_KEY_NON_WORD = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Lower-case, strip accents and unify quotes and dashes."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.translate(_APOSTROPHES).translate(_DASHES).lower()


class Normalizer:
    """Brings questions and transcripts to the matching form.

    ``rewrites`` are the content's own (subject aliases, then synonyms), applied before the
    language's; within each list, in order, so longer, more specific forms come first.
    """

    def __init__(
        self, language: Language | None = None, rewrites: Sequence[tuple[str, str]] = ()
    ) -> None:
        self.language = language if language is not None else english()
        self._numbers = Numbers(self.language)
        self._contractions = dict(self.language.contractions)
        self._rewrites = (*rewrites, *self.language.rewrites)
        self.normalize = lru_cache(maxsize=4096)(self._normalize)

    def __call__(self, text: str) -> str:
        """Return the canonical form of a question or transcript used for matching."""
        return self.normalize(text)

    def _expand_contraction(self, word: str) -> str:
        if "'" not in word:
            return word
        if word in self._contractions:
            return self._contractions[word]
        for suffix, replacement in self.language.contraction_endings:
            if word.endswith(suffix) and len(word) > len(suffix):
                return word[: -len(suffix)] + replacement
        return word.replace("'", "")

    def _rewrite(self, text: str) -> str:
        padded = f" {text} "
        for source, target in self._rewrites:
            padded = padded.replace(f" {source} ", f" {target} ")
        return padded.strip()

    def _normalize(self, text: str) -> str:
        language = self.language
        text = fold(text).replace("%", " percent ")
        words = [self._expand_contraction(w) for w in _NON_WORD.sub(" ", text).split()]
        text = _SPACES.sub(" ", " ".join(words)).strip()
        for sound, word in language.affirmations:
            text = f" {text} ".replace(f" {sound} ", f" {word} ").strip()
        words = [w for w in text.split() if w not in language.fillers]
        while len(words) > 1 and words[0] in language.leading_fillers:
            words = words[1:]
        text = " ".join(self._numbers.to_digits(words))
        # Rewrites run twice, so one rewrite can feed another ("A B" -> "C" and then "C D" -> "E").
        return self._rewrite(self._rewrite(text))


@lru_cache(maxsize=8)
def _numbers_of(language: Language) -> Numbers:
    return Numbers(language)


def spoken_words(text: str, language: Language | None = None) -> list[str]:
    """Lower-case words as a speaker says them: digits spelled, punctuation gone."""
    numbers = _numbers_of(language if language is not None else english())
    words: list[str] = []
    text = text.lower().replace("%", " percent").replace("\u2019", "'").replace("\u2018", "'")
    for token in _SPOKEN_TOKEN.findall(text):
        if token.isdigit():
            words.extend(numbers.to_words(int(token)).split() if int(token) < 1000 else [])
        else:
            words.append(token.strip("'"))
    return [w for w in words if w]


def phrasing_key(text: str) -> str:
    """Lower-case, drop punctuation and collapse spaces, so near-identical phrasings match."""
    return " ".join(_KEY_NON_WORD.sub(" ", _KEY_APOSTROPHES.sub("", text.casefold())).split())
