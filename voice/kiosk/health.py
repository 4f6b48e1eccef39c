"""The kiosk's health: which parts work, what to log about it, and a line monitoring can read.

Pure logic (the time is passed in). A part that fails is logged once when it starts failing,
then reminded at most every ``reminder_s``, and once more when it works again, instead of a
warning on every attempt (about 43,000 a day with no microphone).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Part(StrEnum):
    """The parts of the kiosk a clinic's monitoring cares about."""

    MICROPHONE = "microphone"
    SPEAKER = "speaker"
    SPEECH = "speech"


class Log(StrEnum):
    """What to log about a report."""

    NOTHING = "nothing"
    FAILING = "failing"  # it has just started failing
    REMINDER = "reminder"  # still failing, and the last line about it is old
    RECOVERED = "recovered"  # it works again


@dataclass
class _State:
    ok: bool = True
    detail: str = ""
    since: float = 0.0
    last_logged: float = 0.0


@dataclass
class Health:
    """The state of each part, and when it was last logged."""

    reminder_s: float = 300.0
    _parts: dict[Part, _State] = field(default_factory=dict)

    def report(self, part: Part, ok: bool, now: float, detail: str = "") -> Log:
        """Record how ``part`` is doing; returns what, if anything, to log about it."""
        state = self._parts.setdefault(part, _State(since=now))
        if ok:
            was_failing = not state.ok
            state.ok, state.detail = True, ""
            if was_failing:
                state.since = now
                return Log.RECOVERED
            return Log.NOTHING
        if state.ok:
            state.ok, state.detail, state.since, state.last_logged = False, detail, now, now
            return Log.FAILING
        state.detail = detail
        if now - state.last_logged >= self.reminder_s:
            state.last_logged = now
            return Log.REMINDER
        return Log.NOTHING

    def works(self, part: Part) -> bool:
        """Whether the part works (a part never reported is taken to work)."""
        state = self._parts.get(part)
        return state is None or state.ok

    @property
    def listening(self) -> bool:
        """The kiosk can hear patients."""
        return self.works(Part.MICROPHONE)

    def line(self, now: float, wall_time: float) -> dict[str, object]:
        """The health line: one JSON object, the same keys every time."""
        parts = {}
        for part in Part:
            state = self._parts.get(part, _State(since=now))
            parts[part.value] = {
                "ok": state.ok,
                "detail": state.detail,
                "for_s": round(now - state.since, 1),
            }
        return {
            "time": round(wall_time, 3),
            "ok": all(p["ok"] for p in parts.values()),
            "listening": self.listening,
            "parts": parts,
        }


def write_health_file(path: Path, line: dict[str, object]) -> None:
    """Replace the health file atomically, so a reader never sees half a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
    os.replace(temporary, path)
