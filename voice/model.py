"""The Vosk speech model: where it lives, whether it is intact, how to fetch it and load it."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from voice import __version__
from voice.errors import ModelError

if TYPE_CHECKING:
    import vosk

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = REPO_ROOT / "models" / "manifest.toml"
OFFICIAL_MODEL_NAME = "vosk-model-small-en-us-0.15"
MODELS_DIR_ENV = "VOICE_MODELS_DIR"
MODEL_ENV = "VOSK_MODEL"

# Pinned so that a clean machine resolves the same plugin every time (tested with Maven 3.8.7).
MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"

REQUIRED_FILES = ("am/final.mdl", "conf/model.conf")
# A model decodes with either a full HCLG graph or the HCLr + Gr pair of "lookahead" models.
GRAPH_CHOICES = (("graph/HCLG.fst",), ("graph/HCLr.fst", "graph/Gr.fst"))

WHAT_TO_DO = (
    "Run `scripts/setup.sh` (or `voice model fetch`), "
    "or point --model / VOSK_MODEL at a Vosk model folder."
)

ProgressCallback = Callable[[int, int | None], None]
NotifyCallback = Callable[[str], None]

_CHUNK = 1 << 20
_STALE_STAGING_SECONDS = 3600


def models_dir() -> Path:
    """Return the folder that holds installed models (``VOICE_MODELS_DIR`` overrides it)."""
    override = os.environ.get(MODELS_DIR_ENV)
    return Path(override).expanduser() if override else REPO_ROOT / "models"


def default_model_dir() -> Path:
    """Return where the official model is installed."""
    return models_dir() / OFFICIAL_MODEL_NAME


DEFAULT_MODEL_DIR = default_model_dir()


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
    path: Path = MANIFEST_PATH

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


class SourceKind(StrEnum):
    """Where a copy of the official model can come from."""

    ARCHIVE = "archive"
    MAVEN = "maven"
    URL = "url"


@dataclass(frozen=True)
class Source:
    """One place to fetch the model from: a local archive, Maven coordinates or an HTTPS URL."""

    kind: SourceKind
    location: str
    sha256: str | None = None
    size: int | None = None

    def describe(self) -> str:
        """Return a short human-readable name for this source."""
        if self.kind is SourceKind.ARCHIVE:
            return f"local file {self.location}"
        if self.kind is SourceKind.MAVEN:
            return f"Maven (mvn dependency:copy {self.location})"
        return self.location


def load_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    """Read and check the model manifest."""
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


def missing_parts(path: Path) -> list[str]:
    """Return the required model files absent from ``path`` (empty when the structure is fine)."""
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if not any(all((path / name).is_file() for name in choice) for choice in GRAPH_CHOICES):
        missing.append("graph/HCLG.fst (or graph/HCLr.fst with graph/Gr.fst)")
    return missing


def check_structure(path: Path) -> None:
    """Raise ModelError unless ``path`` is a folder holding a complete Vosk model."""
    if not path.is_dir():
        raise ModelError(f"No speech model found at {path}. {WHAT_TO_DO}")
    missing = missing_parts(path)
    if not missing:
        return
    hint = ""
    # Unzipping into the wrong place often leaves the model one folder further down.
    nested = [child for child in path.iterdir() if child.is_dir() and not missing_parts(child)]
    if len(nested) == 1:
        hint = f" The folder {nested[0]} inside it looks like a complete model: use that path."
    raise ModelError(
        f"The speech model at {path} is incomplete: {', '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} missing.{hint} {WHAT_TO_DO}"
    )


def locate_model(explicit: Path | None = None) -> Path:
    """Return the model folder to use: ``explicit``, else ``VOSK_MODEL``, else the default."""
    if explicit is not None:
        path = explicit
    elif os.environ.get(MODEL_ENV):
        path = Path(os.environ[MODEL_ENV])
    else:
        path = default_model_dir()
    path = path.expanduser()
    check_structure(path)
    logger.debug("Using speech model %s", path)
    return path


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_model(path: Path, manifest: Manifest) -> None:
    """Check every file pinned in the manifest by size and sha256; raise ModelError on mismatch."""
    check_structure(path)
    problems: list[str] = []
    for pinned in manifest.files:
        file = path / pinned.path
        if not file.is_file():
            problems.append(f"{pinned.path} is missing")
            continue
        size = file.stat().st_size
        if size != pinned.size:
            problems.append(f"{pinned.path} has {size} bytes instead of {pinned.size}")
        elif sha256_file(file) != pinned.sha256:
            problems.append(f"{pinned.path} has the wrong checksum")
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


def default_sources(manifest: Manifest, archive: Path | None = None) -> tuple[Source, ...]:
    """Return the sources to try, in order; a local archive, when given, is the only source."""
    # An explicit --from FILE is never silently replaced by a download.
    if archive is not None:
        return (Source(SourceKind.ARCHIVE, str(archive)),)
    return (
        Source(
            SourceKind.MAVEN, manifest.maven_coordinates, manifest.aar_sha256, manifest.aar_size
        ),
        Source(SourceKind.URL, manifest.zip_url, manifest.zip_sha256),
        Source(SourceKind.URL, manifest.aar_url, manifest.aar_sha256, manifest.aar_size),
    )


def fetch_model(
    dest_root: Path,
    progress: ProgressCallback | None = None,
    sources: Sequence[Source] | None = None,
    *,
    manifest: Manifest | None = None,
    notify: NotifyCallback | None = None,
) -> Path:
    """Install the official model under ``dest_root`` from the first source that works."""
    manifest = manifest if manifest is not None else load_manifest()
    say = _notifier(notify)
    dest = dest_root / manifest.name
    if dest.is_dir():
        try:
            verify_model(dest, manifest)
        except ModelError as exc:
            say(f"The installed copy is damaged and will be replaced: {exc}")
        else:
            say(f"{manifest.name} is already installed and intact at {dest}.")
            return dest
    try:
        dest_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(
            f"Cannot create the model folder {dest_root} ({exc.strerror}). "
            "Choose another place with --dest DIR."
        ) from exc
    _remove_stale_staging(dest_root, manifest.name)
    _check_free_space(dest_root, manifest)
    failures: list[str] = []
    for source in sources if sources is not None else default_sources(manifest):
        try:
            _fetch_from(source, dest_root, dest, manifest, progress, say)
        except ModelError as exc:
            logger.info("Model source %s failed: %s", source.describe(), exc)
            failures.append(f"{source.describe()}: {exc}")
        else:
            return dest
    raise ModelError(_all_failed_message(manifest, failures))


def load_model(path: Path) -> vosk.Model:
    """Load a Vosk model from a folder, quietly, and log how long it took."""
    check_structure(path)
    try:
        import vosk
    except ImportError as exc:
        raise ModelError(
            "The vosk Python package is not installed. Run `scripts/setup.sh`."
        ) from exc
    vosk.SetLogLevel(-2)  # -1 still prints Kaldi warnings; -2 only errors
    started = time.perf_counter()
    try:
        model = vosk.Model(model_path=str(path))
    except Exception as exc:  # vosk signals every load failure with a bare Exception
        raise ModelError(
            f"Vosk could not load the speech model at {path} ({exc}). Its files may be damaged "
            "or not a Vosk model: run `voice model fetch` to reinstall the official model, "
            "or point --model / VOSK_MODEL at another Vosk model folder."
        ) from exc
    logger.info("Loaded speech model %s in %.2f s", path, time.perf_counter() - started)
    return model


def _notifier(notify: NotifyCallback | None) -> NotifyCallback:
    """Return a callback that logs a message and passes it on to ``notify``."""

    def say(message: str) -> None:
        logger.info("%s", message)
        if notify is not None:
            notify(message)

    return say


def _fetch_from(
    source: Source,
    dest_root: Path,
    dest: Path,
    manifest: Manifest,
    progress: ProgressCallback | None,
    say: NotifyCallback,
) -> None:
    """Get an archive from one source, unpack, verify and install it atomically."""
    # Staging sits next to the destination so the final rename stays on one file system.
    with tempfile.TemporaryDirectory(dir=dest_root, prefix=f".{manifest.name}.") as work_name:
        work = Path(work_name)
        try:
            archive = _obtain(source, work, progress, say)
            say(f"Unpacking {archive.name}…")
            staged = work / manifest.name
            _unpack(archive, staged)
            say("Checking every model file against the manifest…")
            verify_model(staged, manifest)
            _install(staged, dest)
        except OSError as exc:
            raise ModelError(f"a file operation failed ({exc})") from exc
    say(f"Installed {manifest.name} at {dest}.")


def _obtain(
    source: Source, work: Path, progress: ProgressCallback | None, say: NotifyCallback
) -> Path:
    """Return a local path to the archive from ``source``, downloading it into ``work``."""
    if source.kind is SourceKind.ARCHIVE:
        archive = Path(source.location).expanduser()
        if not archive.is_file():
            raise ModelError(f"{archive} does not exist or is not a file")
    elif source.kind is SourceKind.MAVEN:
        archive = _maven_copy(source.location, work, say)
    else:
        archive = _download(source.location, work, progress, say)
    _check_archive(archive, source)
    return archive


def _check_archive(archive: Path, source: Source) -> None:
    """Check a fetched archive's size and sha256 when the source pins them."""
    if source.size is not None and archive.stat().st_size != source.size:
        raise ModelError(
            f"{archive.name} has {archive.stat().st_size} bytes instead of {source.size}"
        )
    if source.sha256 is not None and sha256_file(archive) != source.sha256:
        raise ModelError(f"{archive.name} does not match the sha256 pinned in the manifest")


def _maven_copy(coordinates: str, work: Path, say: NotifyCallback) -> Path:
    """Download an artifact with ``mvn dependency:copy`` into ``work`` and return its path."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ModelError("`mvn` (Apache Maven) is not installed")
    out_dir = work / "maven"
    command = [
        mvn,
        "-B",
        f"{MAVEN_DEPENDENCY_PLUGIN}:copy",
        f"-Dartifact={coordinates}",
        f"-DoutputDirectory={out_dir}",
        "-Dmdep.overWriteReleases=true",
    ]
    say(f"Downloading {coordinates} via Maven…")
    errors: list[str] = []
    # Run inside the empty work folder so that no pom.xml nearby changes what mvn does.
    with subprocess.Popen(
        command,
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
    ) as process:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip()
            logger.debug("mvn: %s", line)
            if line.startswith("[ERROR]") and len(errors) < 3:
                errors.append(line.removeprefix("[ERROR]").strip())
            elif "Downloaded from" in line and coordinates.split(":")[1] in line:
                say(f"mvn: {line.removeprefix('[INFO]').strip()}")
    if process.returncode != 0:
        detail = " ".join(errors) or f"exit status {process.returncode}"
        raise ModelError(f"mvn failed: {detail}")
    found = sorted(out_dir.glob("*.aar"))
    if not found:
        raise ModelError(f"mvn finished but left no .aar file in {out_dir}")
    return found[0]


def _download(url: str, work: Path, progress: ProgressCallback | None, say: NotifyCallback) -> Path:
    """Stream ``url`` into ``work``, reporting bytes done and total."""
    target = work / (PurePosixPath(url).name or "download")
    say(f"Downloading {url}…")
    request = urllib.request.Request(
        url, headers={"User-Agent": f"clinic-voice-kiosk/{__version__}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response, target.open("wb") as out:
            total: int | None = response.length
            done = 0
            if progress is not None:
                progress(done, total)
            while chunk := response.read(1 << 16):
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    except urllib.error.HTTPError as exc:
        raise ModelError(f"the server answered {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise ModelError(f"download failed ({exc.reason})") from exc
    except (TimeoutError, ConnectionError) as exc:
        raise ModelError(f"download failed ({exc})") from exc
    if total is not None and done != total:
        raise ModelError(f"download stopped after {done} of {total} bytes")
    return target


def _unpack(archive: Path, target: Path) -> None:
    """Extract the model folder found inside a .zip or .aar archive into ``target``."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = [info for info in bundle.infolist() if not info.is_dir()]
            prefix = _model_prefix(info.filename for info in members)
            if prefix is None:
                raise ModelError(f"{archive.name} does not contain a Vosk model (no am/final.mdl)")
            for info in members:
                if not info.filename.startswith(prefix):
                    continue
                relative = PurePosixPath(info.filename[len(prefix) :])
                if relative.is_absolute() or ".." in relative.parts or "\\" in info.filename:
                    raise ModelError(f"{archive.name} contains an unsafe path: {info.filename}")
                out = target.joinpath(*relative.parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(info) as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise ModelError(f"{archive.name} is not a readable zip or AAR archive ({exc})") from exc


def _model_prefix(names: Iterable[str]) -> str | None:
    """Return the folder prefix inside an archive whose ``am/final.mdl`` marks a model."""
    marker = "am/final.mdl"
    prefixes = [
        name[: -len(marker)] for name in names if name == marker or name.endswith("/" + marker)
    ]
    return min(prefixes, key=len) if prefixes else None


def _install(staged: Path, dest: Path) -> None:
    """Move a verified model into place, replacing any damaged copy, without a half state."""
    if not (dest.exists() or dest.is_symlink()):
        staged.rename(dest)
        return
    old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
    dest.rename(old)
    staged.rename(dest)
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old)
    else:
        old.unlink()


def _remove_stale_staging(dest_root: Path, name: str) -> None:
    """Delete staging folders left by an interrupted fetch (older than an hour)."""
    now = time.time()
    for leftover in dest_root.glob(f".{name}.*"):
        try:
            if leftover.is_dir() and now - leftover.stat().st_mtime > _STALE_STAGING_SECONDS:
                logger.info("Removing leftover staging folder %s", leftover)
                shutil.rmtree(leftover)
        except OSError as exc:
            logger.warning("Could not remove leftover folder %s: %s", leftover, exc)


def _check_free_space(dest_root: Path, manifest: Manifest) -> None:
    """Fail early when the archive and the unpacked model would not fit."""
    needed = manifest.aar_size + manifest.model_size + 16 * 1024 * 1024
    free = shutil.disk_usage(dest_root).free
    if free < needed:
        raise ModelError(
            f"Not enough free disk space in {dest_root}: {free // 2**20} MB free, about "
            f"{needed // 2**20} MB needed. Free some space or use --dest DIR on a larger disk."
        )


def _all_failed_message(manifest: Manifest, failures: list[str]) -> str:
    """Build the message listing every source tried and what the user can do."""
    tried = "\n".join(f"  {number}. {failure}" for number, failure in enumerate(failures, 1))
    return (
        f"Could not fetch the speech model {manifest.name}. Tried:\n{tried or '  (no sources)'}\n"
        "What to do: check the internet connection and run `voice model fetch` again; or download "
        f"{manifest.zip_url} on another computer, copy it here and run "
        "`voice model fetch --from FILE`; or point --model / VOSK_MODEL at a Vosk model folder "
        "you already have."
    )
