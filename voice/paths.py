"""Where the kiosk finds its bundled content, the model manifest and installed models.

From a source checkout (``pip install -e .`` or running in the repository) these are the
checkout's ``content/`` and ``models/`` folders. After a normal ``pip install .`` the content
and manifest come from the installed package, and models live in a user data folder
(``$XDG_DATA_HOME/clinic-voice-kiosk/models``, usually ``~/.local/share/...``) unless
``VOICE_MODELS_DIR`` or ``VOSK_MODEL`` say otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

MODELS_DIR_ENV = "VOICE_MODELS_DIR"
APP_NAME = "clinic-voice-kiosk"


def checkout_root() -> Path | None:
    """The source checkout this package runs from, or None for an installed package."""
    root = Path(__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "content").is_dir():
        return root
    return None


def _installed(folder: str) -> Path:
    """A data folder installed inside the package (see pyproject.toml's package-dir)."""
    return Path(__file__).resolve().parent / folder


def bundled_content_dir() -> Path:
    """The FAQ content shipped with the kiosk."""
    root = checkout_root()
    return root / "content" if root is not None else _installed("bundled_content")


def manifest_path() -> Path:
    """The model manifest shipped with the kiosk (``models/manifest.toml``)."""
    root = checkout_root()
    base = root / "models" if root is not None else _installed("bundled_models")
    return base / "manifest.toml"


def models_dir() -> Path:
    """The folder that holds installed models (``VOICE_MODELS_DIR`` overrides it)."""
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    root = checkout_root()
    if root is not None:
        return root / "models"
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / APP_NAME / "models"
