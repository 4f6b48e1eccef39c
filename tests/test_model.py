"""Tests for locating, verifying, fetching and loading the Vosk model (real files, real Vosk)."""

from __future__ import annotations

import os
import re
import shutil
import time
import zipfile
from pathlib import Path

import pytest

import voice.hearing.model as voice_model
import voice.paths as voice_paths
from voice.errors import ModelError
from voice.hearing.model import load_model, locate_model
from voice.install.fetch import Source, SourceKind, default_sources, fetch_model
from voice.install.manifest import Manifest, describe_model, load_manifest, verify_model

LOCAL_AAR = (
    Path.home() / ".m2/repository/com/alphacephei/vosk-model-en/0.3.45/vosk-model-en-0.3.45.aar"
)


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return load_manifest()


@pytest.fixture(scope="module")
def local_aar() -> Path:
    if not LOCAL_AAR.is_file():
        pytest.skip(f"no local copy of the model AAR at {LOCAL_AAR}")
    return LOCAL_AAR


@pytest.fixture(scope="module")
def real_model(tmp_path_factory: pytest.TempPathFactory, manifest: Manifest) -> Path:
    """The official model: the installed one if intact, else unpacked from the local AAR."""
    try:
        installed = locate_model()
        verify_model(installed, manifest)
    except ModelError:
        if not LOCAL_AAR.is_file():
            pytest.skip("neither an installed model nor a local AAR is available")
        root = tmp_path_factory.mktemp("models")
        return fetch_model(root, sources=default_sources(manifest, LOCAL_AAR), manifest=manifest)
    return installed


def make_skeleton(path: Path, files: tuple[str, ...]) -> Path:
    """Create a folder with empty files at the given relative paths."""
    for name in files:
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(b"x")
    return path


def linked_copy(model: Path, target: Path) -> Path:
    """Copy a model cheaply: small files copied (so they can be damaged), big ones symlinked."""
    for file in model.rglob("*"):
        if not file.is_file():
            continue
        out = target / file.relative_to(model)
        out.parent.mkdir(parents=True, exist_ok=True)
        if file.stat().st_size > 64 * 1024:
            out.symlink_to(file.resolve())
        else:
            shutil.copyfile(file, out)
    return target


LOOKAHEAD = ("am/final.mdl", "conf/model.conf", "graph/HCLr.fst", "graph/Gr.fst")


# --- locate_model ---------------------------------------------------------------------------


def test_locate_missing_folder_says_what_to_do(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ModelError) as caught:
        locate_model(missing)
    message = str(caught.value)
    assert f"No speech model found at {missing}." in message
    assert "scripts/setup.sh" in message
    assert "voice model fetch" in message
    assert "VOSK_MODEL" in message


def test_locate_incomplete_folder_names_missing_files(tmp_path: Path) -> None:
    make_skeleton(tmp_path, ("am/final.mdl", "graph/HCLr.fst"))
    with pytest.raises(ModelError) as caught:
        locate_model(tmp_path)
    message = str(caught.value)
    assert "is incomplete" in message
    assert "conf/model.conf" in message
    assert "graph/HCLr.fst with graph/Gr.fst" in message
    assert "am/final.mdl" not in message


def test_locate_points_at_a_model_one_folder_down(tmp_path: Path) -> None:
    inner = make_skeleton(tmp_path / "vosk-model-small-en-us-0.15", LOOKAHEAD)
    with pytest.raises(ModelError, match="inside it looks like a complete model") as caught:
        locate_model(tmp_path)
    assert str(inner) in str(caught.value)


def test_locate_accepts_full_hclg_graph(tmp_path: Path) -> None:
    make_skeleton(tmp_path, ("am/final.mdl", "conf/model.conf", "graph/HCLG.fst"))
    assert locate_model(tmp_path) == tmp_path


def test_locate_prefers_explicit_then_env_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = make_skeleton(tmp_path / "models" / "vosk-model-small-en-us-0.15", LOOKAHEAD)
    from_env = make_skeleton(tmp_path / "env-model", LOOKAHEAD)
    explicit = make_skeleton(tmp_path / "explicit-model", LOOKAHEAD)
    monkeypatch.setenv("VOICE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("VOSK_MODEL", raising=False)
    assert locate_model() == default
    monkeypatch.setenv("VOSK_MODEL", str(from_env))
    assert locate_model() == from_env
    assert locate_model(explicit) == explicit


# --- manifest and verify_model --------------------------------------------------------------


def test_manifest_pins_every_required_file(manifest: Manifest) -> None:
    pinned = {file.path for file in manifest.files}
    assert {"am/final.mdl", "conf/model.conf", "graph/HCLr.fst", "graph/Gr.fst"} <= pinned
    assert all(len(file.sha256) == 64 for file in manifest.files)
    assert manifest.maven_coordinates == "com.alphacephei:vosk-model-en:0.3.45:aar"
    assert manifest.zip_sha256 is None


def test_broken_manifest_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "manifest.toml"
    broken.write_text('[model]\nname = "x"\n')
    with pytest.raises(ModelError, match=re.escape(str(broken))):
        load_manifest(broken)


def test_verify_accepts_the_official_model(real_model: Path, manifest: Manifest) -> None:
    verify_model(real_model, manifest)
    info = describe_model(real_model, manifest)
    assert info.is_official
    assert info.size_bytes > 60_000_000


def test_verify_detects_a_corrupted_file(
    real_model: Path, manifest: Manifest, tmp_path: Path
) -> None:
    copy = linked_copy(real_model, tmp_path / "copy")
    verify_model(copy, manifest)
    conf = copy / "conf" / "model.conf"
    data = bytearray(conf.read_bytes())
    data[0] ^= 0x01  # same size, different content: only the checksum can tell
    conf.write_bytes(bytes(data))
    (copy / "ivector" / "splice.conf").unlink()
    with pytest.raises(ModelError) as caught:
        verify_model(copy, manifest)
    message = str(caught.value)
    assert "conf/model.conf has the wrong checksum" in message
    assert "ivector/splice.conf is missing" in message
    assert "voice model fetch" in message
    assert not describe_model(copy, manifest).is_official


def test_verify_rejects_another_model(tmp_path: Path, manifest: Manifest) -> None:
    other = make_skeleton(tmp_path, LOOKAHEAD)
    with pytest.raises(ModelError, match=r"am/final\.mdl has 1 bytes instead of"):
        verify_model(other, manifest)


# --- fetch_model ----------------------------------------------------------------------------


def test_fetch_from_local_aar_then_again_quickly(
    local_aar: Path, manifest: Manifest, tmp_path: Path
) -> None:
    messages: list[str] = []
    sources = default_sources(manifest, local_aar)
    installed = fetch_model(tmp_path, sources=sources, manifest=manifest, notify=messages.append)
    assert installed == tmp_path / manifest.name
    verify_model(installed, manifest)
    assert [p.name for p in tmp_path.iterdir()] == [manifest.name]  # no staging left behind
    assert any("Installed" in message for message in messages)

    stamp = (installed / "am" / "final.mdl").stat().st_mtime_ns
    started = time.perf_counter()
    again = fetch_model(tmp_path, sources=sources, manifest=manifest, notify=messages.append)
    assert again == installed
    assert time.perf_counter() - started < 3.0
    assert (installed / "am" / "final.mdl").stat().st_mtime_ns == stamp
    assert "already installed and intact" in messages[-1]


def test_fetch_replaces_a_damaged_install(
    local_aar: Path, manifest: Manifest, tmp_path: Path
) -> None:
    sources = default_sources(manifest, local_aar)
    installed = fetch_model(tmp_path, sources=sources, manifest=manifest)
    (installed / "conf" / "mfcc.conf").write_text("damaged\n")
    fetch_model(tmp_path, sources=sources, manifest=manifest)
    verify_model(installed, manifest)
    assert [p.name for p in tmp_path.iterdir()] == [manifest.name]


def test_fetch_from_zip_with_alphacephei_layout(
    real_model: Path, manifest: Manifest, tmp_path: Path
) -> None:
    archive = tmp_path / "vosk-model-small-en-us-0.15.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:
        for file in sorted(real_model.rglob("*")):
            if file.is_file():
                bundle.write(file, f"{manifest.name}/{file.relative_to(real_model)}")
    root = tmp_path / "models"
    installed = fetch_model(root, sources=default_sources(manifest, archive), manifest=manifest)
    verify_model(installed, manifest)


def test_fetch_never_installs_a_tampered_archive(manifest: Manifest, tmp_path: Path) -> None:
    archive = tmp_path / "tampered.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name in LOOKAHEAD:
            bundle.writestr(f"{manifest.name}/{name}", b"not the real thing")
    root = tmp_path / "models"
    with pytest.raises(ModelError, match=r"am/final\.mdl has 18 bytes instead of"):
        fetch_model(root, sources=default_sources(manifest, archive), manifest=manifest)
    assert list(root.iterdir()) == []


def test_fetch_rejects_unsafe_paths_and_non_archives(manifest: Manifest, tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as bundle:
        bundle.writestr("m/am/final.mdl", b"x")
        bundle.writestr("m/../../escaped.txt", b"x")
    garbage = tmp_path / "garbage.aar"
    garbage.write_bytes(b"this is not a zip file")
    root = tmp_path / "models"
    sources = [Source(SourceKind.ARCHIVE, str(evil)), Source(SourceKind.ARCHIVE, str(garbage))]
    with pytest.raises(ModelError) as caught:
        fetch_model(root, sources=sources, manifest=manifest)
    message = str(caught.value)
    assert "contains an unsafe path: m/../../escaped.txt" in message
    assert "garbage.aar is not a readable zip or AAR archive" in message
    assert not (tmp_path / "escaped.txt").exists()
    assert list(root.iterdir()) == []


def test_fetch_checks_the_pinned_archive_checksum(
    local_aar: Path, manifest: Manifest, tmp_path: Path
) -> None:
    source = Source(SourceKind.ARCHIVE, str(local_aar), sha256="0" * 64)
    with pytest.raises(ModelError, match="does not match the sha256 pinned in the manifest"):
        fetch_model(tmp_path, sources=[source], manifest=manifest)


def test_fetch_lists_every_failed_source_and_what_to_do(
    manifest: Manifest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))  # so `mvn` cannot be found
    sources = [
        Source(SourceKind.ARCHIVE, str(tmp_path / "no-such-file.zip")),
        Source(SourceKind.MAVEN, manifest.maven_coordinates),
        Source(SourceKind.URL, "http://127.0.0.1:9/vosk-model-small-en-us-0.15.zip"),
    ]
    root = tmp_path / "models"
    started = time.perf_counter()
    with pytest.raises(ModelError) as caught:
        fetch_model(root, sources=sources, manifest=manifest)
    assert time.perf_counter() - started < 10
    message = str(caught.value)
    assert "no-such-file.zip does not exist" in message
    assert "`mvn` (Apache Maven) is not installed" in message
    assert "http://127.0.0.1:9/vosk-model-small-en-us-0.15.zip: download failed" in message
    assert "voice model fetch --from FILE" in message
    assert manifest.zip_url in message
    assert list(root.iterdir()) == []


def test_default_sources_try_maven_then_both_downloads(manifest: Manifest) -> None:
    kinds = [source.kind for source in default_sources(manifest)]
    assert kinds == [SourceKind.MAVEN, SourceKind.URL, SourceKind.URL]
    assert default_sources(manifest, Path("x.zip")) == (Source(SourceKind.ARCHIVE, "x.zip"),)


def test_stale_staging_folders_are_cleaned(
    local_aar: Path, manifest: Manifest, tmp_path: Path
) -> None:
    stale = tmp_path / f".{manifest.name}.leftover"
    (stale / "am").mkdir(parents=True)
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    fetch_model(tmp_path, sources=default_sources(manifest, local_aar), manifest=manifest)
    assert not stale.exists()


# --- load_model -----------------------------------------------------------------------------


def test_load_model_wraps_vosk_errors(tmp_path: Path) -> None:
    bogus = make_skeleton(tmp_path, LOOKAHEAD)
    with pytest.raises(ModelError, match="Vosk could not load the speech model at"):
        load_model(bogus)


def test_load_model_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="No speech model found"):
        load_model(tmp_path / "missing")


def test_load_model_loads_the_real_model(real_model: Path) -> None:
    import vosk

    model = load_model(real_model)
    recognizer = vosk.KaldiRecognizer(model, 16000)
    recognizer.AcceptWaveform(b"\0\0" * 16000)
    assert '"text"' in recognizer.FinalResult()


def test_models_dir_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VOICE_MODELS_DIR", str(tmp_path))
    assert voice_model.default_model_dir() == tmp_path / "vosk-model-small-en-us-0.15"
    monkeypatch.delenv("VOICE_MODELS_DIR")
    assert voice_model.default_model_dir().parent == voice_paths.checkout_root() / "models"  # type: ignore[operator]
