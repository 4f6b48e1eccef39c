"""Tests for the small `voice` commands, run as the real console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voice import __version__
from voice.cli.main import build_parser
from voice.content.loader import default_content_dir
from voice.errors import UsageError
from voice.hearing.model import locate_model
from voice.kiosk.settings import Activation, KioskSettings, settings_from_args

REPO = Path(__file__).resolve().parent.parent
VOICE = Path(sys.executable).parent / "voice"


def run_voice(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    environment.pop("VOSK_MODEL", None)
    environment.pop("VOICE_CONTENT", None)
    environment.update(env or {})
    return subprocess.run(
        [str(VOICE), *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd or REPO,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module", autouse=True)
def _console_script() -> None:
    if not VOICE.is_file():
        pytest.skip(f"the console script is not installed at {VOICE}")


# -- help and version ------------------------------------------------------------------------


def test_main_help_lists_the_common_tasks() -> None:
    result = run_voice("--help")
    assert result.returncode == 0
    for words in ("voice run", "voice ask", "voice content check", "voice model fetch", "devices"):
        assert words in result.stdout
    assert "offline" in result.stdout or "nothing is sent" in result.stdout


def test_run_help_explains_the_kiosk() -> None:
    result = run_voice("run", "--help")
    assert result.returncode == 0
    text = result.stdout
    for words in ("repeat", "Ctrl-C", "--input-device", "--output-device", "--no-captions"):
        assert words in text, words
    assert "arrow" in text and "Enter" in text  # the no-speech keys


def test_ask_help_explains_output_and_exit_status() -> None:
    result = run_voice("ask", "--help")
    assert result.returncode == 0
    assert "--json" in result.stdout
    assert "--text" in result.stdout
    assert "Exit status" in result.stdout


def test_version() -> None:
    result = run_voice("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"voice {__version__}"


def test_no_command_prints_help_and_exits_2() -> None:
    result = run_voice()
    assert result.returncode == 2
    assert "usage: voice" in result.stdout + result.stderr
    assert "COMMAND" in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("args", "hint"), [(["content"], "check"), (["model"], "verify")])
def test_group_without_action_says_what_to_choose(args: list[str], hint: str) -> None:
    result = run_voice(*args)
    assert result.returncode == 2
    assert hint in result.stderr
    assert "Traceback" not in result.stderr


# -- say -------------------------------------------------------------------------------------


def _duration(path: Path) -> float:
    info = soundfile.info(str(path))
    frames: int = info.frames
    rate: int = info.samplerate
    return frames / rate


def test_say_writes_a_wav(tmp_path: Path) -> None:
    out = tmp_path / "hello.wav"
    result = run_voice("say", "Hello there", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    info = soundfile.info(str(out))
    assert info.samplerate == 22050
    assert info.channels == 1
    samples, _ = soundfile.read(str(out), dtype="int16")
    assert 0.4 < len(samples) / 22050 < 3.0
    assert int(np.abs(samples.astype(np.int32)).max()) > 3000  # not silence


def test_say_lower_rate_gives_longer_audio(tmp_path: Path) -> None:
    slow, fast = tmp_path / "slow.wav", tmp_path / "fast.wav"
    text = "Please ask a member of staff."
    assert run_voice("say", text, "--rate", "120", "--out", str(slow)).returncode == 0
    assert run_voice("say", text, "--rate", "195", "--out", str(fast)).returncode == 0
    assert _duration(slow) > 1.3 * _duration(fast)


def test_say_rate_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "x.wav"
    result = run_voice("say", "Hello", "--rate", "20", "--out", str(out))
    assert result.returncode == 2
    assert "rate" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_say_to_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = run_voice("say", "Hello", "--out", str(tmp_path / "no" / "such" / "x.wav"))
    assert result.returncode == 2
    assert "folder" in result.stderr
    assert "Traceback" not in result.stderr


# -- content check ---------------------------------------------------------------------------


def test_content_check_ok() -> None:
    result = run_voice("content", "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 16 entries")


def test_content_check_reports_file_and_line_of_broken_toml(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(default_content_dir(), content)
    broken = content / "immunotherapy.toml"
    lines = broken.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("question = "))
    lines[index] = lines[index].rstrip("\n").rstrip('"') + "\n"  # drop the closing quote
    broken.write_text("".join(lines), encoding="utf-8")
    result = run_voice("content", "check", "--content", str(content))
    assert result.returncode == 2
    assert f"{broken}:{index + 1}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "OK" not in result.stdout


def test_content_check_of_an_empty_folder(tmp_path: Path) -> None:
    result = run_voice("content", "check", "--content", str(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()


# -- model -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return locate_model()


def test_model_path(model_dir: Path) -> None:
    result = run_voice("model", "path")
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == model_dir
    assert (Path(result.stdout.strip()) / "am" / "final.mdl").is_file()


def test_model_path_from_another_folder(model_dir: Path, tmp_path: Path) -> None:
    # The default model is found relative to the package, not the working directory.
    result = run_voice("model", "path", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == model_dir


def test_model_verify(model_dir: Path) -> None:
    result = run_voice("model", "verify", timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK")


def test_model_path_with_a_missing_model() -> None:
    result = run_voice("model", "path", env={"VOSK_MODEL": "/nonexistent"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert "/nonexistent" in result.stderr
    assert "voice model fetch" in result.stderr or "setup.sh" in result.stderr
    assert "Traceback" not in result.stderr


# -- devices ---------------------------------------------------------------------------------


def test_devices_without_a_sound_server(tmp_path: Path) -> None:
    result = run_voice(
        "devices",
        env={
            "HOME": str(tmp_path),
            "XDG_RUNTIME_DIR": str(tmp_path),
            "PULSE_SERVER": "unix:/nonexistent",
        },
    )
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 2)
    text = result.stdout + result.stderr
    assert "No audio devices found" in text or "--input-device" in text


# -- run options (parsed, not run) -----------------------------------------------------------


def test_run_options_become_kiosk_settings() -> None:
    args = build_parser().parse_args(
        ["run", "--no-captions", "--rate", "140", "--activation", "wake"]
    )
    settings = settings_from_args(args)
    assert settings == KioskSettings(captions=False, rate_wpm=140, activation=Activation.WAKE)
    assert settings.activation is Activation.WAKE
    assert settings.log_transcripts is False  # privacy: off unless asked


def test_run_defaults_match_kiosk_settings_defaults() -> None:
    settings = settings_from_args(build_parser().parse_args(["run", "--captions"]))
    assert settings == KioskSettings()


def test_captions_default_off_when_the_output_is_not_a_terminal() -> None:
    # Captions hold what patients said; piped into a log they would be stored.
    assert settings_from_args(build_parser().parse_args(["run"])).captions is False


@pytest.mark.parametrize(
    ("option", "value"),
    [("--rate", "300"), ("--volume", "2"), ("--end-silence", "0"), ("--max-question", "-1")],
)
def test_impossible_run_settings_are_usage_errors(option: str, value: str) -> None:
    with pytest.raises(UsageError):
        settings_from_args(build_parser().parse_args(["run", option, value]))


def test_run_options_all_reach_the_settings(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        [
            "run",
            "--content",
            str(tmp_path / "c"),
            "--model",
            str(tmp_path / "m"),
            "--input-device",
            "2",
            "--output-device",
            "USB",
            "--activation",
            "wake",
            "--wake-phrase",
            "hi there",
            "--volume",
            "0.5",
            "--idle-timeout",
            "30",
            "--end-silence",
            "1500",
            "--clear-silence",
            "650",
            "--no-keys",
            "--log-transcripts",
            "--status-file",
            str(tmp_path / "s.jsonl"),
        ]
    )
    settings = settings_from_args(args)
    assert settings.content_dir == tmp_path / "c"
    assert settings.model_path == tmp_path / "m"
    assert settings.input_device == "2"
    assert settings.output_device == "USB"
    assert settings.activation is Activation.WAKE
    assert settings.wake_phrase == "hi there"
    assert settings.volume == 0.5
    assert settings.idle_timeout_s == 30.0
    assert settings.end_silence_ms == 1500
    assert settings.clear_silence_ms == 650
    assert settings.keys is False
    assert settings.log_transcripts is True
    assert settings.status_file == tmp_path / "s.jsonl"


def test_run_rejects_an_unknown_activation(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["run", "--activation", "clap"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_clear_silence_is_never_longer_than_end_silence() -> None:
    args = build_parser().parse_args(["run", "--end-silence", "600"])
    settings = settings_from_args(args)
    assert (settings.clear_silence_ms, settings.unclear_silence_ms) == (600, 600)
    default = settings_from_args(build_parser().parse_args(["run"]))
    assert (default.clear_silence_ms, default.unclear_silence_ms, default.end_silence_ms) == (
        800,
        900,
        1400,
    )


def test_silences_stay_in_order_clear_unclear_end() -> None:
    args = build_parser().parse_args(["run", "--unclear-silence", "700"])
    settings = settings_from_args(args)
    assert (settings.clear_silence_ms, settings.unclear_silence_ms) == (700, 700)
    args = build_parser().parse_args(["run", "--unclear-silence", "1200", "--end-silence", "1100"])
    assert settings_from_args(args).unclear_silence_ms == 1100


def test_run_rejects_a_too_short_unclear_silence() -> None:
    args = build_parser().parse_args(["run", "--unclear-silence", "100"])
    with pytest.raises(UsageError, match="--unclear-silence must be at least 300 ms"):
        settings_from_args(args)
