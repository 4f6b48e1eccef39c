"""The Vosk speech model: where it lives, whether its folder is complete, and loading it.

Fetching and checking a copy against the manifest is the installer's job (voice/install/).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from voice.errors import ModelError
from voice.native_stderr import NativeStderr
from voice.paths import models_dir

if TYPE_CHECKING:
    import vosk

logger = logging.getLogger(__name__)

OFFICIAL_MODEL_NAME = "vosk-model-small-en-us-0.15"
MODEL_ENV = "VOSK_MODEL"

REQUIRED_FILES = ("am/final.mdl", "conf/model.conf")
# A model decodes with either a full HCLG graph or the HCLr + Gr pair of "lookahead" models.
GRAPH_CHOICES = (("graph/HCLG.fst",), ("graph/HCLr.fst", "graph/Gr.fst"))

WHAT_TO_DO = (
    "Run `scripts/setup.sh` (or `voice model fetch`), "
    "or point --model / VOSK_MODEL at a Vosk model folder."
)


def default_model_dir() -> Path:
    """Return where the official model is installed."""
    return models_dir() / OFFICIAL_MODEL_NAME


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


def load_model(path: Path) -> vosk.Model:
    """Load a Vosk model from a folder, quietly, and log how long it took.

    The official model is first checked against the manifest: Vosk crashes (segfault) or hears
    nothing with damaged or extra files, rather than reporting them.
    """
    from voice.install.manifest import check_installed_model

    check_structure(path)
    check_installed_model(path)
    try:
        import vosk
    except ImportError as exc:
        raise ModelError(
            "The vosk Python package is not installed. Run `scripts/setup.sh`."
        ) from exc
    vosk.SetLogLevel(-2)  # -1 still prints Kaldi warnings; -2 only errors
    started = time.perf_counter()
    # Kaldi prints its log (74 lines for a garbage model.conf) straight to file descriptor 2:
    # the user gets one sentence, -v shows what Kaldi said.
    with NativeStderr() as native:
        try:
            with native.redirected():
                model = vosk.Model(model_path=str(path))
        except Exception as exc:  # vosk signals every load failure with a bare Exception
            _log_kaldi(path, native.text(), logging.INFO)
            raise ModelError(
                f"Vosk could not load the speech model at {path} ({exc}). Its files may be "
                "damaged or not a Vosk model: run `voice model fetch` to reinstall the official "
                "model, or point --model / VOSK_MODEL at another Vosk model folder."
            ) from exc
        _log_kaldi(path, native.text(), logging.DEBUG)
    logger.info("Loaded speech model %s in %.2f s", path, time.perf_counter() - started)
    return model


def _log_kaldi(path: Path, text: str, level: int) -> None:
    """Log Kaldi's own output from loading ``path``, if it printed any."""
    if text:
        logger.log(level, "Kaldi said while loading %s:\n%s", path, text)
