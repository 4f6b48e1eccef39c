"""Keyboard (or big USB button acting as a keyboard) input for the no-speech mode."""

from __future__ import annotations

import logging
import os
import queue
import select
import sys
import threading
from typing import Any

from voice.kiosk.events import Key

log = logging.getLogger(__name__)

PUSH_TO_TALK = "push-to-talk"

# Byte sequences from a terminal, and what they mean.
KEY_MAP: dict[bytes, Key | str] = {
    b"\x1b[C": Key.NEXT,  # right arrow
    b"\x1b[B": Key.NEXT,  # down arrow
    b"n": Key.NEXT,
    b"\t": Key.NEXT,
    b"\x1b[D": Key.PREVIOUS,  # left arrow
    b"\x1b[A": Key.PREVIOUS,  # up arrow
    b"p": Key.PREVIOUS,
    b"\n": Key.SELECT,
    b"\r": Key.SELECT,
    b"r": Key.REPEAT,
    b"s": Key.STOP,
    b"\x1b": Key.STOP,  # Esc
    b"h": Key.HELP,
    b"?": Key.HELP,
    # EN 301 549 5.1.3.12: volume and speed without speaking (unshifted keys too).
    b"+": Key.LOUDER,
    b"=": Key.LOUDER,
    b"-": Key.QUIETER,
    b"_": Key.QUIETER,
    b"<": Key.SLOWER,
    b",": Key.SLOWER,
    b">": Key.FASTER,
    b".": Key.FASTER,
    b" ": PUSH_TO_TALK,
}


def decode_keys(data: bytes) -> list[Key | str]:
    """Split raw terminal input into keys (pure, for tests)."""
    keys: list[Key | str] = []
    i = 0
    while i < len(data):
        for length in (3, 1):
            piece = data[i : i + length]
            if piece in KEY_MAP and (length == 3 or piece != b"\x1b" or i + 1 == len(data)):
                keys.append(KEY_MAP[piece])
                i += length
                break
        else:
            i += 1  # unknown key: ignore
    return keys


class KeyReader:
    """Reads keys from a terminal in a background thread; does nothing if stdin is no terminal."""

    def __init__(self) -> None:
        self.events: queue.Queue[Key | str] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved: Any = None

    def start(self) -> bool:
        """Start reading; False when there is no terminal to read from."""
        if not sys.stdin.isatty():
            return False
        import termios
        import tty

        fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        # Ctrl-C, Ctrl-\ and Ctrl-Z typed on the patients' keyboard are keys like any other,
        # not signals: only the service manager (SIGTERM) stops the kiosk.
        attrs = termios.tcgetattr(fd)
        attrs[3] &= ~termios.ISIG
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        self._thread = threading.Thread(target=self._run, name="keys", daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        fd = sys.stdin.fileno()
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([fd], [], [], 0.2)
                if not ready:
                    continue
                data = os.read(fd, 16)
            except (OSError, ValueError):  # the terminal went away: no more keys
                return
            if not data:
                return
            for key in decode_keys(data):
                self.events.put(key)

    def stop(self) -> None:
        """Stop reading and restore the terminal."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None
        if self._saved is not None:
            import termios

            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None
