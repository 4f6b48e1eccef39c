"""Split answer text into sentence-sized pieces to speak one at a time."""

from __future__ import annotations

import re

# A piece longer than this (in words) is split again at its commas.
MAX_CLAUSE_WORDS = 25

# Words that take a full stop but never end a sentence when followed by more text.
_NEVER_FINAL = frozenset(
    {"dr", "mr", "mrs", "ms", "prof", "st", "e.g", "i.e", "eg", "ie", "vs", "approx", "incl", "tel"}
)
# Words that take a full stop and end a sentence only when a capitalised word follows.
_SOMETIMES_FINAL = frozenset(
    {"etc", "a.m", "p.m", "am", "pm", "no", "jr", "sr", "co", "ltd", "inc"}
)

# A run of sentence punctuation, closing quotes/brackets, then whitespace: a candidate break.
_BREAK = re.compile(r"([.?!;…]+)([\"'”’)\]]*)(\s+)")
_PARAGRAPH = re.compile(r"\n\s*\n")
_WORD_BEFORE = re.compile(r"([\w.]+)$")
_NEXT_WORD = re.compile(r"[^ ]*")


def split_sentences(text: str) -> list[str]:
    """Split text into sentence-sized pieces, keeping abbreviations and decimals intact."""
    pieces: list[str] = []
    for paragraph in _PARAGRAPH.split(text):
        flat = " ".join(paragraph.split())
        for sentence in _split_paragraph(flat):
            pieces.extend(_split_long(sentence))
    return [piece for piece in pieces if piece]


def _split_paragraph(text: str) -> list[str]:
    """Split one paragraph (whitespace already collapsed) at sentence ends."""
    sentences: list[str] = []
    start = 0
    for match in _BREAK.finditer(text):
        end = match.end(2)
        if _is_sentence_end(text, match, start):
            sentences.append(text[start:end].strip())
            start = match.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def _is_sentence_end(text: str, match: re.Match[str], sentence_start: int) -> bool:
    """Decide whether the punctuation in ``match`` ends the sentence begun at sentence_start."""
    punctuation = match.group(1)
    # Both words are found where they are, without copying the rest of the text: a long
    # answer must split in linear time.
    next_word = _NEXT_WORD.match(text, match.end()).group(0)  # type: ignore[union-attr]
    if punctuation in ("...", "…"):
        # A trailing-off "..." runs on unless a new sentence visibly starts.
        return next_word[:1].isupper()
    if punctuation != ".":
        return True
    word_start = text.rfind(" ", sentence_start, match.start(1)) + 1
    before = _WORD_BEFORE.search(text, max(word_start, sentence_start), match.start(1))
    word = before.group(1).lower().rstrip(".") if before else ""
    if word in _NEVER_FINAL:
        return False
    if word in _SOMETIMES_FINAL:
        return next_word[:1].isupper()
    # Initials ("J. Smith") and list items ("a. Bring your card").
    if len(word) == 1 and word.isalpha():
        return False
    # A number opening a sentence is a list marker ("1. Bring your card"), not a sentence.
    opens_sentence = before is not None and not text[sentence_start : before.start()].strip()
    return not (word.isdigit() and opens_sentence)


def _split_long(sentence: str) -> list[str]:
    """Split a sentence longer than MAX_CLAUSE_WORDS at commas, keeping clauses whole."""
    if len(sentence.split()) <= MAX_CLAUSE_WORDS:
        return [sentence]
    clauses = [c.strip() for c in re.split(r"(?<=,)\s+", sentence)]
    pieces: list[str] = []
    current: list[str] = []
    count = 0
    for clause in clauses:
        words = len(clause.split())
        if current and count + words > MAX_CLAUSE_WORDS:
            pieces.append(" ".join(current))
            current, count = [], 0
        current.append(clause)
        count += words
    if current:
        pieces.append(" ".join(current))
    return pieces
