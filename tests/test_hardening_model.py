"""A damaged copy of the official model is refused when it loads (exit 2, "voice model fetch"),
never a segfault or wrong answers; another model gets only the structure check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import voice.install.manifest as manifest_module
from voice.errors import ModelError
from voice.hearing.model import load_model, locate_model
from voice.install.checksums import CACHE_NAME
from voice.install.manifest import (
    Manifest,
    check_installed_model,
    load_manifest,
    verify_model,
)

VOICE = str(Path(sys.executable).with_name("voice"))
REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "samples" / "will-it-make-me-feel-sick.wav"


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return load_manifest()


@pytest.fixture(scope="module")
def official(manifest: Manifest) -> Path:
    try:
        path = locate_model()
        verify_model(path, manifest)
    except ModelError as exc:
        pytest.skip(f"no intact official model installed: {exc}")
    return path


@pytest.fixture
def copy(official: Path, tmp_path: Path) -> Path:
    """A full copy of the official model, under its official name, to damage."""
    return Path(shutil.copytree(official, tmp_path / "models" / official.name))


def flip_byte(file: Path, offset: int) -> None:
    with file.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0x01]))


def ask(model: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [VOICE, "ask", "--json", "--model", str(model), *extra, str(SAMPLE)],
        capture_output=True, text=True, timeout=120, cwd=REPO, check=False,
    )


def test_a_flipped_byte_in_the_graph_is_exit_2_not_a_segfault(copy: Path) -> None:
    flip_byte(copy / "graph" / "HCLr.fst", 1_000_000)
    done = ask(copy, "--decoding", "phrases")
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert "graph/HCLr.fst has the wrong checksum" in done.stderr
    assert "Run `voice model fetch`" in done.stderr
    assert "LOG (" not in done.stderr and "ERROR (" not in done.stderr  # no Kaldi output


@pytest.mark.parametrize("name", ["am/final.mdl", "conf/model.conf", "ivector/final.ie"])
def test_a_flipped_byte_anywhere_is_found_on_load(copy: Path, name: str) -> None:
    file = copy / name
    flip_byte(file, file.stat().st_size // 2)
    with pytest.raises(ModelError, match=f"{name} has the wrong checksum.*voice model fetch"):
        load_model(copy)


def test_a_cut_file_is_found_by_its_size(copy: Path) -> None:
    gr = copy / "graph" / "Gr.fst"
    with gr.open("r+b") as handle:
        handle.truncate(1000)
    with pytest.raises(ModelError, match=r"graph/Gr\.fst has 1000 bytes instead of"):
        load_model(copy)


def test_an_extra_words_file_is_rejected_on_load_and_by_verify(
    copy: Path, manifest: Manifest
) -> None:
    # With graph/words.txt present Vosk returned an empty transcript for every question.
    (copy / "graph" / "words.txt").write_text("<eps> 0\nhello 1\n")
    with pytest.raises(ModelError, match=r"graph/words\.txt is not part of the model"):
        load_model(copy)
    with pytest.raises(ModelError, match=r"graph/words\.txt is not part of the model"):
        verify_model(copy, manifest)
    done = ask(copy)
    assert done.returncode == 2
    assert "voice model fetch" in done.stderr


def test_hashes_are_cached_by_size_and_mtime(
    copy: Path, manifest: Manifest, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    real_sha = manifest_module.sha256_file

    def counting(path: Path) -> str:
        hashed.append(path.name)
        return real_sha(path)

    monkeypatch.setattr(manifest_module, "sha256_file", counting)
    check_installed_model(copy, manifest)
    assert len(hashed) == len(manifest.files)
    assert (copy.parent / CACHE_NAME).is_file()
    hashed.clear()
    check_installed_model(copy, manifest)
    assert hashed == []  # nothing changed: nothing hashed again
    flip_byte(copy / "conf" / "mfcc.conf", 0)  # same size, new mtime
    with pytest.raises(ModelError, match=r"conf/mfcc\.conf has the wrong checksum"):
        check_installed_model(copy, manifest)
    assert hashed == ["mfcc.conf"]


def test_a_broken_cache_file_is_ignored(copy: Path, manifest: Manifest) -> None:
    (copy.parent / CACHE_NAME).write_text("{not json")
    check_installed_model(copy, manifest)
    (copy.parent / CACHE_NAME).write_text('{"x": 3, "y": [1, 2]}')
    check_installed_model(copy, manifest)


def test_another_model_gets_only_the_structure_check(
    official: Path, tmp_path: Path, manifest: Manifest
) -> None:
    own = Path(shutil.copytree(official, tmp_path / "my-clinic-model", symlinks=True))
    (own / "graph" / "extra-notes.txt").write_text("our own model\n")
    check_installed_model(own, manifest)  # no manifest match by name: not checked
    assert not (tmp_path / CACHE_NAME).exists()
    load_model(own)
