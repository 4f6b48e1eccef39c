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
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(reason + " (CI must install pulseaudio and pulseaudio-utils)")
        pytest.skip(reason)
    with VirtualAudio() as audio:
        yield audio
