"""Shared fixtures: one private PulseAudio daemon with a virtual microphone and speaker."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pulse_harness import VirtualAudio, missing_programs


@pytest.fixture(scope="session")
def virtual_audio() -> Iterator[VirtualAudio]:
    """One private PulseAudio daemon with a virtual microphone and speaker for the session."""
    missing = missing_programs()
    if missing:
        reason = f"PulseAudio programs not installed: {', '.join(missing)}"
        if _on_ci():
            pytest.fail(reason + " (CI must install pulseaudio and pulseaudio-utils)")
        pytest.skip(reason)
    with VirtualAudio() as audio:
        yield audio


# On CI everything the tests need is installed by scripts/setup.sh, so a test skipped for a
# missing model, voice or audio tool is a broken set-up, not a reason to pass quietly.
_MISSING_SETUP = ("no speech model", "not installed", "are needed", "is needed", "PulseAudio")


def _on_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if _on_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        if any(marker in reason for marker in _MISSING_SETUP):
            report.outcome = "failed"
            report.longrepr = f"skipped on CI, where set-up must provide it: {reason}"
