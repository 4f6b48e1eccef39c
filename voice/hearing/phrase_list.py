"""The runtime phrase list that adapts Vosk's small model to the FAQ.

Vosk turns the phrase list into a bigram language model over the words passed. Words missing
from the model's vocabulary are silently dropped by Vosk (with a Kaldi warning), so every word is
checked here first: known sound-alikes replace unknown medical words, the rest are reported.

Besides the FAQ's own words, the list holds a background vocabulary: the subjects the FAQ does
not cover (so "radiotherapy" can be heard as itself) and the most common English words, each
as a phrase of its own. FAQ phrasings dominate the bigram counts, so FAQ questions are still
heard well, but other speech is heard as the everyday words it is instead of being forced into
FAQ words, which would then look like an FAQ question.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from voice.content.loader import Faq
from voice.errors import ModelError
from voice.hearing.transcript import UNKNOWN_WORD
from voice.matching.commands import COMMAND_PHRASES
from voice.matching.matcher import FOREIGN_WORDS

log = logging.getLogger(__name__)

# Spoken forms the small model knows for words it doesn't. The matcher's normaliser maps these
# back ("pseudo progression" -> "pseudoprogression").
SOUND_ALIKES: dict[str, str] = {
    "pseudoprogression": "pseudo progression",
    "immunotherapies": "immunotherapy",
    "covid": "co vid",
}

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORD = re.compile(r"[a-z']+|\d+")

COMMON_WORDS_FILE = Path(__file__).parent / "data" / "common_words.txt"
# How many of the most common English words join the phrase list. Calibrated on the training
# voices (benchmarks/bench_speech.py): 2,000 words still let background talk turn into FAQ
# questions; the whole list (about 9,800 the model knows) starts to cost FAQ questions.
BACKGROUND_WORD_COUNT = 8000

# Words patients use around questions that the FAQ phrasings may lack; they let the bigram
# model follow a rambling question instead of forcing it into FAQ words.
EXTRA_PHRASES = (
    "i was wondering",
    "can you tell me",
    "i would like to know",
    "my husband my wife my mother my father my son my daughter",
    "excuse me",
    "thank you",
    "hello",
    "good morning",
    "chemotherapy chemo radiotherapy radiation surgery",
    "where is the toilet parking appointment pharmacy",
    "how much does it cost",
)


def number_words(n: int) -> str:
    """Spell 0–999 the way people say it ("15" -> "fifteen")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("" if ones == 0 else f" {_ONES[ones]}")
    hundreds, rest = divmod(n, 100)
    return f"{_ONES[hundreds]} hundred" + ("" if rest == 0 else f" and {number_words(rest)}")


def spoken_words(text: str) -> list[str]:
    """Lower-case words as a speaker says them: digits spelled, punctuation gone."""
    words: list[str] = []
    text = text.lower().replace("%", " percent").replace("\u2019", "'").replace("\u2018", "'")
    for token in _WORD.findall(text):
        if token.isdigit():
            words.extend(number_words(int(token)).split() if int(token) < 1000 else [])
        else:
            words.append(token.strip("'"))
    return [w for w in words if w]


def common_words(path: Path = COMMON_WORDS_FILE) -> list[str]:
    """The most common English words, most frequent first (see scripts/make_common_words.py)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(
            f"The recognizer's word list {path} could not be read ({exc.strerror or exc}). "
            "Reinstall the kiosk (scripts/setup.sh)."
        ) from exc
    return [w for w in text.split("\n") if w and not w.startswith("#")]


def background_words(vocabulary: frozenset[str] | set[str], count: int) -> list[str]:
    """Subjects the FAQ does not cover, then the ``count`` commonest words, that the model knows."""
    foreign = sorted(w for w in FOREIGN_WORDS if w in vocabulary)
    common = [w for w in common_words() if w in vocabulary][:count]
    return list(dict.fromkeys([*foreign, *common]))


@dataclass(frozen=True)
class PhraseList:
    """Phrases for Vosk's grammar, and the words that had to be left out."""

    phrases: tuple[str, ...]
    dropped: tuple[str, ...]


def build_phrase_list(
    faq: Faq, model_path: Path, background: int = BACKGROUND_WORD_COUNT
) -> PhraseList:
    """Every question, phrasing and control phrase, in words the model knows, the background
    vocabulary (``background`` common words; 0 for none), and "[unk]"."""
    from voice.hearing.vocabulary import load_vocabulary

    vocabulary = load_vocabulary(model_path)
    texts: list[str] = []
    for entry in faq.entries:
        texts.append(entry.question)
        texts.extend(entry.phrasings)
    for phrases in COMMAND_PHRASES.values():
        texts.extend(phrases)
    texts.extend(EXTRA_PHRASES)
    dropped: set[str] = set()
    out: list[str] = []
    seen: set[str] = set()
    for text in texts:
        words: list[str] = []
        for word in spoken_words(text):
            if word not in vocabulary and word in SOUND_ALIKES:
                word = SOUND_ALIKES[word]
            parts = word.split()
            if all(p in vocabulary for p in parts):
                words.extend(parts)
            else:
                dropped.add(word)
        phrase = " ".join(words)
        if phrase and phrase not in seen:
            seen.add(phrase)
            out.append(phrase)
    if dropped:
        log.info(
            "left out of the phrase list (not in the model's vocabulary): %s",
            ", ".join(sorted(dropped)),
        )
    if background:
        out.extend(w for w in background_words(vocabulary, background) if w not in seen)
    out.append(UNKNOWN_WORD)
    return PhraseList(tuple(out), tuple(sorted(dropped)))
