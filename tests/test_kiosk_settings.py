"""Tests that each kiosk default is written once and reaches argparse, help and the core."""

from __future__ import annotations

import argparse

import pytest

from voice.kiosk.dialogue import DialogueSettings
from voice.kiosk.endpoint import EndpointSettings
from voice.kiosk.settings import KioskSettings, add_run_parser


def _run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voice")
    add_run_parser(parser.add_subparsers(dest="command"))
    return parser


def _run_help() -> str:
    parser = _run_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[
        "run"
    ]
    return " ".join(sub.format_help().split())


def test_kiosk_defaults_come_from_the_core_settings() -> None:
    kiosk, endpoint, dialogue = KioskSettings(), EndpointSettings(), DialogueSettings()
    assert kiosk.endpoint() == endpoint
    assert kiosk.dialogue() == dialogue


@pytest.mark.parametrize(
    ("dest", "field"),
    [
        ("wake_phrase", "wake_phrase"),
        ("rate", "rate_wpm"),
        ("volume", "volume"),
        ("idle_timeout", "idle_timeout_s"),
        ("end_silence", "end_silence_ms"),
        ("unclear_silence", "unclear_silence_ms"),
        ("clear_silence", "clear_silence_ms"),
        ("max_question", "max_question_s"),
    ],
)
def test_argparse_defaults_are_the_settings_defaults(dest: str, field: str) -> None:
    args = _run_parser().parse_args(["run"])
    assert getattr(args, dest) == getattr(KioskSettings(), field)


def test_argparse_activation_default_is_the_settings_default() -> None:
    assert _run_parser().parse_args(["run"]).activation == KioskSettings().activation.value


def test_help_shows_the_defaults() -> None:
    help_text = _run_help()
    defaults = KioskSettings()
    assert f"(default {defaults.end_silence_ms} ms;" in help_text
    assert f"(default {defaults.unclear_silence_ms} ms," in help_text
    assert f"(default {defaults.clear_silence_ms} ms," in help_text
    assert f"(default {defaults.idle_timeout_s:g})" in help_text
    assert f"(default {defaults.max_question_s:g})" in help_text
    assert f"(default {defaults.rate_wpm})" in help_text
    assert f"(default {defaults.volume:g})" in help_text
