"""The runtime phrase list that adapts Vosk's small model to the FAQ.

Vosk turns the phrase list into a bigram language model over the words passed. Words missing
from the model's vocabulary are silently dropped by Vosk (with a Kaldi warning), so every word is
checked here first: the content's sound-alikes replace words the model lacks (drug names), the
rest are reported.

Besides the FAQ's own words, the list holds a background vocabulary: the subjects the FAQ does
not cover (so another subject can be heard as itself) and the most common English words, each
as a phrase of its own. FAQ phrasings dominate the bigram counts, so FAQ questions are still
heard well, but other speech is heard as the everyday words it is instead of being forced into
FAQ words, which would then look like an FAQ question.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from voice.content.schema import Faq, Subject
from voice.errors import ModelError
from voice.hearing.transcript import UNKNOWN_WORD
from voice.matching.commands import command_phrases
from voice.text.language import Language, english
from voice.text.normalize import spoken_words

log = logging.getLogger(__name__)



COMMON_WORDS_FILE = Path(__file__).parent / "data" / "common_words.txt"
# How many of the most common English words join the phrase list. Calibrated on the training
# voices (benchmarks/bench_speech.py): 2,000 words still let background talk turn into FAQ
# questions; the whole list (about 9,800 the model knows) starts to cost FAQ questions.
BACKGROUND_WORD_COUNT = 8000







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


def background_words(
    vocabulary: frozenset[str] | set[str], count: int, subject: Subject
) -> list[str]:
    """Subjects the FAQ does not cover, then the ``count`` commonest words, that the model knows."""
    foreign = sorted(w for w in subject.other_subjects if w in vocabulary)
    common = [w for w in common_words() if w in vocabulary][:count]
    return list(dict.fromkeys([*foreign, *common]))


@dataclass(frozen=True)
class PhraseList:
    """Phrases for Vosk's grammar, and the words that had to be left out."""

    phrases: tuple[str, ...]
    dropped: tuple[str, ...]


def build_phrase_list(
    faq: Faq,
    model_path: Path,
    background: int = BACKGROUND_WORD_COUNT,
    language: Language | None = None,
) -> PhraseList:
    """Every question, phrasing and control phrase, in words the model knows, the background
    vocabulary (``background`` common words; 0 for none), and "[unk]"."""
    from voice.hearing.vocabulary import load_vocabulary

    language = language if language is not None else english()
    vocabulary = load_vocabulary(model_path)
    sound_alikes = dict(faq.subject.sound_alikes)
    texts: list[str] = []
    for entry in faq.entries:
        texts.append(entry.question)
        texts.extend(entry.phrasings)
    for phrases in command_phrases(language).values():
        texts.extend(phrases)
    texts.extend(language.background_phrases)
    texts.extend(faq.subject.background_phrases)
    dropped: set[str] = set()
    out: list[str] = []
    seen: set[str] = set()
    for text in texts:
        words: list[str] = []
        for word in spoken_words(text, language):
            if word not in vocabulary and word in sound_alikes:
                word = sound_alikes[word]
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
        out.extend(
            w for w in background_words(vocabulary, background, faq.subject) if w not in seen
        )
    out.append(UNKNOWN_WORD)
    return PhraseList(tuple(out), tuple(sorted(dropped)))
