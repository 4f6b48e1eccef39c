"""The `voice ask` command line, run for real: the JSON contract, exit codes and human output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from voice.ask.record import JSON_FIELDS
from voice.content.loader import default_content_dir, load_content
from voice.content.schema import Faq
from voice.matching.commands import Command

VOICE = str(Path(sys.executable).with_name("voice"))
REPO = Path(__file__).resolve().parent.parent
ACTIONS = {"answer", "confirm", "decline", "command"}

# One of each action, plus the awkward inputs: curly apostrophe, empty, whitespace only.
INPUTS = [
    "how successful is immunotherapy",
    "does it make things worse",
    "where can I park my car",
    "stop",
    "Um, what\u2019s the success rate of immune therapy?",
    "",
    "   ",
    "can immunotherapy cause colitis",
    "tell me a joke",
    "yes",
]


def _run(*args: str, module: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "voice", *args] if module else [VOICE, *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, cwd=REPO, check=False
    )


def _ask_json(inputs: list[str], module: bool = False) -> tuple[int, list[dict[str, Any]], str]:
    args = ["ask", "--json"]
    for text in inputs:
        args += ["--text", text]
    done = _run(*args, module=module)
    lines = done.stdout.splitlines()
    return done.returncode, [json.loads(line) for line in lines], done.stderr


@pytest.fixture(scope="module")
def faq() -> Faq:
    return load_content(default_content_dir())


@pytest.fixture(scope="module")
def results() -> list[dict[str, Any]]:
    code, objects, stderr = _ask_json(INPUTS)
    assert code == 0, stderr
    assert stderr == ""
    return objects


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def test_one_object_per_input_in_order(results: list[dict[str, Any]]) -> None:
    assert [r["input"] for r in results] == INPUTS
    assert all(isinstance(r, dict) for r in results)


def test_exactly_the_contract_keys_in_order(results: list[dict[str, Any]]) -> None:
    for r in results:
        assert list(r) == list(JSON_FIELDS)


def test_field_types(results: list[dict[str, Any]]) -> None:
    commands = {c.value for c in Command}
    for r in results:
        assert isinstance(r["input"], str)
        assert isinstance(r["transcript"], str)
        assert r["transcript"] == r["input"]  # typed text is its own transcript
        assert r["action"] in ACTIONS
        assert r["command"] is None or r["command"] in commands
        assert r["entry_id"] is None or isinstance(r["entry_id"], str)
        assert r["question"] is None or isinstance(r["question"], str)
        assert r["answer"] is None or isinstance(r["answer"], str)
        assert _is_number(r["score"]) and 0 <= r["score"] <= 100
        assert isinstance(r["alternatives"], list) and len(r["alternatives"]) <= 3
        for alt in r["alternatives"]:
            assert list(alt) == ["entry_id", "score"]
            assert isinstance(alt["entry_id"], str)
            assert _is_number(alt["score"]) and 0 <= alt["score"] <= 100
        alt_scores = [a["score"] for a in r["alternatives"]]
        assert alt_scores == sorted(alt_scores, reverse=True)
        assert _is_number(r["elapsed_ms"]) and r["elapsed_ms"] >= 0
        assert isinstance(r["reason"], str) and r["reason"]
        # Typed input: nothing from a speech recognizer, nothing failed.
        assert (r["asr_ms"], r["confidence"], r["words"], r["error"]) == (None,) * 4


def test_each_action_appears(results: list[dict[str, Any]]) -> None:
    assert {r["action"] for r in results} == ACTIONS


def test_answer_and_confirm_carry_the_entry_text(results: list[dict[str, Any]], faq: Faq) -> None:
    for r in results:
        if r["action"] in ("answer", "confirm"):
            entry = faq.entry(r["entry_id"])
            assert r["question"] == entry.question
            assert r["answer"] == entry.answer
            assert r["command"] is None
            assert r["alternatives"][0]["entry_id"] == r["entry_id"]
            assert r["alternatives"][0]["score"] == r["score"]


def test_decline_and_command_carry_no_entry(results: list[dict[str, Any]]) -> None:
    for r in results:
        if r["action"] in ("decline", "command"):
            assert (r["entry_id"], r["question"], r["answer"]) == (None, None, None)
        if r["action"] == "decline":
            assert r["command"] is None
        if r["action"] == "command":
            assert r["command"] is not None


def test_expected_decisions(results: list[dict[str, Any]]) -> None:
    got = {r["input"]: (r["action"], r["command"] or r["entry_id"]) for r in results}
    assert got["how successful is immunotherapy"] == ("answer", "success-rate")
    assert got["Um, what\u2019s the success rate of immune therapy?"] == (
        "answer",
        "success-rate",
    )
    assert got["does it make things worse"][0] == "confirm"
    assert got["where can I park my car"] == ("decline", None)
    assert got["stop"] == ("command", "stop")
    assert got["yes"] == ("command", "yes")
    assert got[""] == ("decline", None)
    assert got["   "] == ("decline", None)


def test_all_declined_still_exits_zero() -> None:
    code, objects, stderr = _ask_json(["where can I park my car", "tell me a joke", ""])
    assert code == 0, stderr
    assert [r["action"] for r in objects] == ["decline"] * 3


def test_python_dash_m_voice_gives_the_same_objects() -> None:
    inputs = ["how successful is immunotherapy", "where can I park my car"]
    code, objects, stderr = _ask_json(inputs, module=True)
    assert code == 0, stderr
    _, expected, _ = _ask_json(inputs)
    for r in (*objects, *expected):
        r.pop("elapsed_ms")
    assert objects == expected


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["ask", "--json"], id="no-inputs"),
        pytest.param(["ask"], id="no-inputs-human"),
        pytest.param(["ask", "--json", "--text", "stop", "--no-such-option"], id="unknown-option"),
        pytest.param(["ask", "--text"], id="text-without-value"),
    ],
)
def test_usage_errors_exit_two_with_one_message(args: list[str]) -> None:
    done = _run(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    # argparse prints the usage, then the message: one line, last.
    lines = done.stderr.splitlines()
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1, done.stderr
    assert lines[-1] == errors[0]
    assert errors[0].startswith("voice")
    assert lines[0].startswith("usage: voice")


def test_human_output_shows_every_input() -> None:
    inputs = [
        "how successful is immunotherapy",
        "does it make things worse",
        "stop",
        "tell me a joke",
    ]
    args = ["ask"]
    for text in inputs:
        args += ["--text", text]
    done = _run(*args)
    assert done.returncode == 0, done.stderr
    shown = [line[2:] for line in done.stdout.splitlines() if line.startswith("> ")]
    assert shown == inputs
    out = done.stdout
    assert "15 to 20 percent" in out  # the success-rate answer is printed in full
    assert "Did you mean" in out
    assert "command: stop" in out
    assert "decline" in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(done.stdout.splitlines()[0])
