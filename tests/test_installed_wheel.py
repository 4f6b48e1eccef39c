"""After a normal (non-editable) install, ``voice`` finds its content, language data and model
manifest from any working directory (voice/paths.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the built wheel; the dependencies come from the test environment."""
    work = tmp_path_factory.mktemp("wheel")
    # Built from a copy, so the build leaves no build/ or egg-info folder in the checkout.
    source = work / "src"
    source.mkdir()
    parts = ("pyproject.toml", "README.md", "voice", "content")
    subprocess.run(["cp", "-r", *(str(REPO / part) for part in parts), str(source)], check=True)
    (source / "models").mkdir()
    shutil.copy(REPO / "models" / "manifest.toml", source / "models")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(work / "dist"), str(source)],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next((work / "dist").glob("clinic_voice_kiosk-*.whl"))
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    # Dependencies (vosk, numpy, …) from this environment, without its editable `voice`.
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site,
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    return env_dir


def _run(env_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VOICE_CONTENT", "PYTHONPATH")}
    env["HOME"] = str(cwd)
    return subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "voice", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_the_installed_package_is_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import voice; print(voice.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )
    assert not done.stdout.strip().startswith(str(REPO)), done.stdout


def test_voice_ask_text_from_another_directory(installed: Path, tmp_path: Path) -> None:
    done = _run(installed, "ask", "--json", "--text", "will it make me feel sick", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout.splitlines()[0])
    assert (record["action"], record["entry_id"]) == ("answer", "how-you-feel")


def test_content_check_finds_the_bundled_content(installed: Path, tmp_path: Path) -> None:
    done = _run(installed, "content", "check", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "OK:" in done.stdout


def test_the_model_is_looked_for_in_the_user_data_folder(installed: Path, tmp_path: Path) -> None:
    done = _run(installed, "model", "path", cwd=tmp_path)
    assert done.returncode == 2
    assert str(tmp_path / ".local" / "share" / "clinic-voice-kiosk" / "models") in done.stderr
    assert "Traceback" not in done.stderr
