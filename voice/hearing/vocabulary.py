"""The words a Vosk model can recognise, read from graph/words.txt or the Gr.fst symbol table."""

from __future__ import annotations

import functools
import logging
import mmap
import struct
from collections.abc import Iterable
from pathlib import Path

from voice.errors import ModelError

logger = logging.getLogger(__name__)

FST_MAGIC = 0x7EB2FDD6
SYMBOL_TABLE_MAGIC = 0x7EB2FB74
_HAS_INPUT_SYMBOLS = 1
_HAS_OUTPUT_SYMBOLS = 2
# Graph bookkeeping symbols that no speaker can say; "[unk]" stays because grammars use it.
_NOT_WORDS = frozenset({"<eps>", "<s>", "</s>", "!SIL"})

_I32 = struct.Struct("<i")
_I64 = struct.Struct("<q")


def load_vocabulary(model_path: Path) -> frozenset[str]:
    """Return the model's vocabulary (lower-case words plus "[unk]"), cached per file."""
    words_txt = model_path / "graph" / "words.txt"
    source = words_txt if words_txt.is_file() else model_path / "graph" / "Gr.fst"
    try:
        stat = source.stat()
    except FileNotFoundError as exc:
        raise ModelError(
            f"The speech model at {model_path} has no word list (neither graph/words.txt nor "
            "graph/Gr.fst). Use a complete Vosk model folder, or run `voice model fetch`."
        ) from exc
    # Keyed on size and mtime so a replaced model is read again.
    return _load_cached(str(source.resolve()), stat.st_size, stat.st_mtime_ns)


def missing_words(words: Iterable[str], vocab: frozenset[str]) -> list[str]:
    """Return the words (lower-cased, first occurrence order) that the vocabulary lacks."""
    seen: set[str] = set()
    missing: list[str] = []
    for word in words:
        key = word.lower()
        if key not in vocab and key not in seen:
            missing.append(key)
        seen.add(key)
    return missing


def split_into_known(
    word: str, vocab: frozenset[str], min_piece: int = 3, max_pieces: int = 3
) -> tuple[str, ...] | None:
    """Split an unknown word into the fewest known words ("pseudo", "progression")."""
    word = word.lower()
    # best[i] is the shortest split of word[:i] into known pieces, if any.
    best: list[tuple[str, ...] | None] = [None] * (len(word) + 1)
    best[0] = ()
    for end in range(min_piece, len(word) + 1):
        for start in range(end - min_piece + 1):
            head = best[start]
            piece = word[start:end]
            if head is None or piece not in vocab or len(head) >= max_pieces:
                continue
            candidate = (*head, piece)
            current = best[end]
            if current is None or len(candidate) < len(current):
                best[end] = candidate
    result = best[len(word)]
    return result if result and len(result) > 1 else None


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, size: int, mtime_ns: int) -> frozenset[str]:
    """Read a word list once per file version."""
    source = Path(path)
    symbols = _read_words_txt(source) if source.suffix == ".txt" else _read_fst_symbols(source)
    words = frozenset(s for s in symbols if s not in _NOT_WORDS and not s.startswith("#"))
    logger.debug("Read %d words from %s", len(words), source)
    return words


def _read_words_txt(path: Path) -> list[str]:
    """Read a Kaldi ``words.txt`` symbol table (``word id`` per line)."""
    words: list[str] = []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 2 or not parts[1].isdigit():
                    raise ModelError(
                        f"{path}:{number} is not a `word id` line, so the word list is damaged. "
                        "Replace the model folder with a fresh copy."
                    )
                words.append(parts[0])
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(
            f"Cannot read the word list {path} ({exc}). Replace the model folder with a fresh copy."
        ) from exc
    return words


class _Reader:
    """Little-endian cursor over an OpenFST binary file."""

    def __init__(self, data: mmap.mmap) -> None:
        self.data = data
        self.offset = 0

    def int32(self) -> int:
        (value,) = _I32.unpack_from(self.data, self.offset)
        self.offset += 4
        return int(value)

    def int64(self) -> int:
        (value,) = _I64.unpack_from(self.data, self.offset)
        self.offset += 8
        return int(value)

    def string(self) -> str:
        length = self.int32()
        if length < 0 or self.offset + length > len(self.data):
            raise ValueError(f"string length {length} at byte {self.offset - 4} is impossible")
        value = self.data[self.offset : self.offset + length].decode("utf-8")
        self.offset += length
        return value

    def symbol_table(self) -> list[str]:
        if self.int32() & 0xFFFFFFFF != SYMBOL_TABLE_MAGIC:
            raise ValueError(f"no symbol table at byte {self.offset - 4}")
        self.string()  # table name
        self.int64()  # next free key
        count = self.int64()
        # Each entry takes at least 12 bytes, so a larger count means a damaged header.
        if count < 0 or count * 12 > len(self.data) - self.offset:
            raise ValueError(f"symbol count {count} is impossible")
        symbols = []
        for _ in range(count):
            symbols.append(self.string())
            self.int64()  # symbol id
        return symbols


def _read_fst_symbols(path: Path) -> list[str]:
    """Read the word symbols embedded in an OpenFST binary (Vosk's graph/Gr.fst)."""
    try:
        with (
            path.open("rb") as handle,
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data,
        ):
            reader = _Reader(data)
            if reader.int32() & 0xFFFFFFFF != FST_MAGIC:
                raise ValueError("it does not start with the OpenFST magic number")
            reader.string()  # fst type
            reader.string()  # arc type
            reader.int32()  # version
            flags = reader.int32()
            reader.offset += 8 + 8 + 8 + 8  # properties, start, state count, arc count
            if not flags & (_HAS_INPUT_SYMBOLS | _HAS_OUTPUT_SYMBOLS):
                raise ValueError("it carries no symbol table")
            symbols = reader.symbol_table()
            # Vosk reports output symbols; for the acceptor G both tables are the same.
            if flags & _HAS_INPUT_SYMBOLS and flags & _HAS_OUTPUT_SYMBOLS:
                symbols = reader.symbol_table()
            return symbols
    except (OSError, ValueError, struct.error) as exc:
        raise ModelError(
            f"Cannot read the word list in {path}: {exc}. The file is damaged or not a Vosk graph; "
            "run `voice model fetch` to reinstall the official model, or use another model folder."
        ) from exc
