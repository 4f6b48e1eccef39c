"""Ctrl-C and Ctrl-\\ typed on the kiosk's keyboard do not stop it (issue 16, item 6)."""

from __future__ import annotations

import os
import pty
import signal
import sys
import termios
import time
from types import FrameType

import pytest

from voice.kiosk.keys import KeyReader


def test_control_keys_are_not_signals(monkeypatch: pytest.MonkeyPatch) -> None:
    master, slave = pty.openpty()
    terminal = os.fdopen(slave, "r")
    monkeypatch.setattr(sys, "stdin", terminal)
    received: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        received.append(signum)

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGQUIT)}
    reader = KeyReader()
    try:
        assert reader.start()
        assert not termios.tcgetattr(slave)[3] & termios.ISIG
        os.write(master, b"\x03\x1c")  # Ctrl-C, Ctrl-\
        time.sleep(0.5)
        assert received == []
        assert reader.events.empty()  # not keys the kiosk uses either
        reader.stop()
        # The terminal gets its signals back when the kiosk stops.
        assert termios.tcgetattr(slave)[3] & termios.ISIG
    finally:
        reader.stop()
        for s, handler in previous.items():
            signal.signal(s, handler)
        terminal.close()
        os.close(master)
