"""The model manifest (models/manifest.toml): the pinned files of the official model, and
checking a model folder against it."""

from __future__ import annotations

import hashlib
import logging
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from voice.errors import ModelError
from voice.hearing.model import check_structure
from voice.paths import manifest_path

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
# Files the published archives hold besides the pinned ones; Vosk does not read them.
UNPINNED_ALLOWED = frozenset({"README", "uuid"})


@dataclass(frozen=True)
class PinnedFile:
    """One model file with the size and sha256 the manifest expects."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What ``models/manifest.toml`` says about the official model and where to get it."""

    name: str
    version: str
    licence: str
    maven_coordinates: str
    aar_url: str
    aar_size: int
    aar_sha256: str
    aar_model_dir: str
    zip_url: str
    zip_sha256: str | None
    zip_model_dir: str
    files: tuple[PinnedFile, ...]
    path: Path

    @property
    def model_size(self) -> int:
        """Return the total size of the pinned model files in bytes."""
        return sum(pinned.size for pinned in self.files)


@dataclass(frozen=True)
class ModelInfo:
    """A short description of a model folder."""

    path: Path
    name: str
    is_official: bool
    size_bytes: int


def load_manifest(path: Path | None = None) -> Manifest:
    """Read and check the model manifest (the bundled one unless ``path`` is given)."""
    path = path if path is not None else manifest_path()
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ModelError(
            f"The model manifest {path} is missing. Restore it from the repository."
        ) from exc
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(
            f"The model manifest {path} cannot be read ({exc}). Restore it from the repository."
        ) from exc
    try:
        model, maven, archive = data["model"], data["maven"], data["zip"]
        files = tuple(
            PinnedFile(str(name), int(entry["size"]), str(entry["sha256"]).lower())
            for name, entry in data["files"].items()
        )
        coordinates = ":".join(
            str(maven[key]) for key in ("group", "artifact", "version", "packaging")
        )
        return Manifest(
            name=str(model["name"]),
            version=str(model["version"]),
            licence=str(model["licence"]),
            maven_coordinates=coordinates,
            aar_url=str(maven["url"]),
            aar_size=int(maven["size"]),
            aar_sha256=str(maven["sha256"]).lower(),
            aar_model_dir=str(maven["model_dir"]),
            zip_url=str(archive["url"]),
            zip_sha256=str(archive.get("sha256", "")).lower() or None,
            zip_model_dir=str(archive["model_dir"]),
            files=files,
            path=path,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(
            f"The model manifest {path} is invalid (problem with {exc}). "
            "Restore it from the repository."
        ) from exc


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_model(path: Path, manifest: Manifest) -> None:
    """Check every file pinned in the manifest by size and sha256, and that no other file is
    there; raise ModelError on any difference."""
    check_structure(path)
    _raise_problems(path, manifest, _problems(path, manifest, sha256_file))


def check_installed_model(path: Path, manifest: Manifest | None = None) -> None:
    """Check the official model where it is loaded from: sizes and unlisted files every time,
    sha256 from a cache kept by size and mtime. A model with another name is not checked."""
    from voice.install.checksums import ChecksumCache

    manifest = manifest if manifest is not None else load_manifest()
    if path.resolve().name != manifest.name:
        logger.debug("%s is not %s: only its structure is checked", path, manifest.name)
        return
    started = time.perf_counter()
    cache = ChecksumCache(path.resolve())
    problems = _problems(path, manifest, cache.sha256)
    cache.save()
    logger.debug("Checked %s in %.3f s", path, time.perf_counter() - started)
    _raise_problems(path, manifest, problems)


def unlisted_files(path: Path, manifest: Manifest) -> list[str]:
    """Files in the model folder that the manifest does not pin (an extra graph/words.txt
    changes what Vosk hears)."""
    pinned = {pinned.path for pinned in manifest.files} | UNPINNED_ALLOWED
    found = (file.relative_to(path).as_posix() for file in path.rglob("*") if not file.is_dir())
    return sorted(name for name in found if name not in pinned)


def pinned_file_problems(
    folder: Path, files: Iterable[PinnedFile], digest: Callable[[Path], str]
) -> list[str]:
    """Pinned files that are missing, of the wrong size, or (right size) of the wrong hash."""
    problems: list[str] = []
    for pinned in files:
        file = folder / pinned.path
        if not file.is_file():
            problems.append(f"{pinned.path} is missing")
            continue
        size = file.stat().st_size
        if size != pinned.size:
            problems.append(f"{pinned.path} has {size} bytes instead of {pinned.size}")
        elif digest(file) != pinned.sha256:
            problems.append(f"{pinned.path} has the wrong checksum")
    return problems


def _problems(path: Path, manifest: Manifest, digest: Callable[[Path], str]) -> list[str]:
    """What differs between the folder and the manifest; hashes only for files of the right size."""
    problems = pinned_file_problems(path, manifest.files, digest)
    problems += [f"{name} is not part of the model" for name in unlisted_files(path, manifest)]
    return problems


def _raise_problems(path: Path, manifest: Manifest, problems: list[str]) -> None:
    if problems:
        raise ModelError(
            f"The speech model at {path} is not an intact copy of {manifest.name} "
            f"(as pinned in {manifest.path}): {'; '.join(problems)}. "
            "Run `voice model fetch` to install a fresh copy."
        )


def looks_official(path: Path, manifest: Manifest) -> bool:
    """Tell cheaply whether ``path`` holds the official model (sizes and small files only)."""
    for pinned in manifest.files:
        file = path / pinned.path
        if not file.is_file() or file.stat().st_size != pinned.size:
            return False
        if pinned.size <= 64 * 1024 and sha256_file(file) != pinned.sha256:
            return False
    return True


def describe_model(path: Path, manifest: Manifest | None = None) -> ModelInfo:
    """Describe the model folder at ``path`` (name, size, whether it is the official model)."""
    check_structure(path)
    manifest = manifest if manifest is not None else load_manifest()
    size = sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
    return ModelInfo(
        path=path,
        name=path.resolve().name,
        is_official=looks_official(path, manifest),
        size_bytes=size,
    )


@dataclass(frozen=True)
class EmbeddingManifest:
    """What ``models/manifest.toml`` says about the sentence-embedding model ([embedding])."""

    name: str
    licence: str
    dimensions: int
    query_prefix: str
    maven_coordinates: str
    jar_url: str
    jar_size: int
    jar_sha256: str
    files: tuple[PinnedFile, ...]
    path: Path

    @property
    def model_size(self) -> int:
        """Return the total size of the pinned model files in bytes."""
        return sum(pinned.size for pinned in self.files)

    @property
    def fingerprint(self) -> str:
        """A short id of the exact model files (their pinned hashes), for caches."""
        joined = "\n".join(f"{p.path}={p.sha256}" for p in self.files)
        return hashlib.sha256(joined.encode()).hexdigest()[:16]


def load_embedding_manifest(path: Path | None = None) -> EmbeddingManifest:
    """Read the [embedding] part of the model manifest (the bundled one unless ``path``)."""
    path = path if path is not None else manifest_path()
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ModelError(
            f"The model manifest {path} cannot be read ({exc}). Restore it from the repository."
        ) from exc
    try:
        section = data["embedding"]
        maven = section["maven"]
        coordinates = ":".join(
            str(maven[key]) for key in ("group", "artifact", "version", "packaging")
        )
        return EmbeddingManifest(
            name=str(section["name"]),
            licence=str(section["licence"]),
            dimensions=int(section["dimensions"]),
            query_prefix=str(section.get("query_prefix", "")),
            maven_coordinates=coordinates,
            jar_url=str(maven["url"]),
            jar_size=int(maven["size"]),
            jar_sha256=str(maven["sha256"]).lower(),
            files=tuple(
                PinnedFile(str(name), int(entry["size"]), str(entry["sha256"]).lower())
                for name, entry in section["files"].items()
            ),
            path=path,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(
            f"The model manifest {path} has no valid [embedding] section (problem with {exc}). "
            "Restore it from the repository."
        ) from exc


def embedding_problems(
    folder: Path, manifest: EmbeddingManifest, digest: Callable[[Path], str] = sha256_file
) -> list[str]:
    """What differs between an embedding-model folder and the manifest (empty: intact)."""
    return pinned_file_problems(folder, manifest.files, digest)
