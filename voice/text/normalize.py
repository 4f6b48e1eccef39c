"""Text normalisation shared by the matcher and the command classifier.

Typed questions and speech-recognizer transcripts differ in case, punctuation, contractions,
number words and spellings; everything is brought to one lower-case, space-separated form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CONTRACTIONS: dict[str, str] = {
    "won't": "will not",
    "can't": "cannot",
    "shan't": "shall not",
    "ain't": "is not",
    "let's": "let us",
    "y'all": "you all",
    "it's": "it is",
    "that's": "that is",
    "what's": "what is",
    "who's": "who is",
    "where's": "where is",
    "how's": "how is",
    "there's": "there is",
    "here's": "here is",
    "he's": "he is",
    "she's": "she is",
}
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("n't", " not"),
    ("'re", " are"),
    ("'ve", " have"),
    ("'ll", " will"),
    ("'d", " would"),
    ("'m", " am"),
    ("'s", ""),  # possessive ("doctor's") after the known "X's = X is" forms above
)

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}

# Multi-word rewrites, applied on word boundaries after punctuation is gone. Order matters:
# longer, more specific forms first. These cover how the speech recognizer spells domain words
# (it has no "immunotherapy" in some models' vocabularies) and everyday synonyms.
_PHRASES: tuple[tuple[str, str], ...] = (
    # speech-recognition spellings of the treatment's name
    ("immune o therapy", "immunotherapy"),
    ("immuno therapy", "immunotherapy"),
    ("immune therapy", "immunotherapy"),
    ("immunity therapy", "immunotherapy"),
    ("immunotherapies", "immunotherapy"),
    ("immune treatment", "immunotherapy"),
    ("immune system treatment", "immunotherapy"),
    ("immune system therapy", "immunotherapy"),
    ("immune drugs", "immunotherapy"),
    ("immune drug", "immunotherapy"),
    ("pseudo progression", "pseudoprogression"),
    ("pseudo-progression", "pseudoprogression"),
    ("check point", "checkpoint"),
    ("side affects", "side effects"),
    ("side affect", "side effect"),
    ("sideeffects", "side effects"),
    ("side effect", "side effects"),
    ("pembro", "pembrolizumab"),
    # synonyms
    ("corona virus", "covid"),
    ("coronavirus", "covid"),
    ("covid 19", "covid"),
    ("covid19", "covid"),
    ("covid nineteen", "covid"),
    ("co vid", "covid"),
    ("kovid", "covid"),
    ("the virus", "covid"),
    ("chemo therapy", "chemotherapy"),
    ("chemo", "chemotherapy"),
    ("radio therapy", "radiotherapy"),
    ("radiation therapy", "radiotherapy"),
    ("radiation", "radiotherapy"),
    ("per cent", "percent"),
    ("tumour", "tumor"),
    ("tumours", "tumors"),
    ("oncologist", "doctor"),
    # a patient's own work, not the treatment working ("can I keep working while I'm on it")
    ("i keep working", "i keep my employment"),
    ("i carry on working", "i keep my employment"),
    ("i continue working", "i keep my employment"),
    ("i still work", "i keep my employment"),
    ("i go to work", "i go to my employment"),
    ("i go back to work", "i go back to my employment"),
    ("i return to work", "i go back to my employment"),
    ("keep my job", "keep my employment"),
    ("time off work", "time off employment"),
    # idioms whose words mean something else alone ("good" is a good result)
    ("for good", "permanently"),
    ("for ever", "permanently"),
    ("forever", "permanently"),
    ("physician", "doctor"),
)

# Sounds that mean "yes"; replaced before fillers are dropped ("uh huh" is not "huh").
_AFFIRMATIONS = (("uh huh", "yes"), ("uh-huh", "yes"), ("mm hmm", "yes"), ("mhm", "yes"))

_FILLERS = frozenset({"um", "umm", "uh", "uhh", "er", "erm", "hmm", "mm", "ah", "eh", "oh"})

# Words that only fill in at the start of a spoken question ("well, how long …").
_LEADING_FILLERS = frozenset({"well", "so", "okay", "ok", "right", "now", "and", "hi", "hello"})

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_DASHES = str.maketrans({"\u2013": " ", "\u2014": " ", "-": " ", "/": " "})
_NON_WORD = re.compile(r"[^a-z0-9' ]+")
_SPACES = re.compile(r"\s+")


def _fold(text: str) -> str:
    """Lower-case, strip accents and unify quotes and dashes."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.translate(_APOSTROPHES).translate(_DASHES).lower()


def _expand_contraction(word: str) -> str:
    if "'" not in word:
        return word
    if word in _CONTRACTIONS:
        return _CONTRACTIONS[word]
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) > len(suffix):
            return word[: -len(suffix)] + replacement
    return word.replace("'", "")


def _numbers(words: list[str]) -> list[str]:
    """Turn number words into digits: "twenty five" -> "25", "fifteen" -> "15"."""
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _TENS:
            value = _TENS[word]
            if i + 1 < len(words) and words[i + 1] in _UNITS and 0 < _UNITS[words[i + 1]] < 10:
                value += _UNITS[words[i + 1]]
                i += 1
            out.append(str(value))
        elif word in _UNITS and word != "one":
            # "one" stays a word: "the one with the drip" is not a number.
            out.append(str(_UNITS[word]))
        elif word == "hundred" and out and out[-1].isdigit():
            out[-1] = str(int(out[-1]) * 100)
        else:
            out.append(word)
        i += 1
    return out


def _rewrite_phrases(text: str) -> str:
    padded = f" {text} "
    for source, target in _PHRASES:
        padded = padded.replace(f" {source} ", f" {target} ")
    return padded.strip()


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Return the canonical form of a question or transcript used for matching."""
    text = _fold(text).replace("%", " percent ")
    words = [_expand_contraction(w) for w in _NON_WORD.sub(" ", text).split()]
    text = _SPACES.sub(" ", " ".join(words)).strip()
    for sound, word in _AFFIRMATIONS:
        text = f" {text} ".replace(f" {sound} ", f" {word} ").strip()
    words = [w for w in text.split() if w not in _FILLERS]
    while len(words) > 1 and words[0] in _LEADING_FILLERS:
        words = words[1:]
    words = _numbers(words)
    text = " ".join(words)
    # Rewrites run twice so that a rewrite can feed another ("covid nineteen" -> "covid 19").
    return _rewrite_phrases(_rewrite_phrases(text))
