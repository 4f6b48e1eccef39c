"""The renderer child: content lines rendered into the disk cache by a process of their own.

The natural voice holds about 150 MB while loaded (its ONNX model, the pronunciation lexicons,
inference buffers), and a kiosk whose lines are all on disk never needs it. So the kiosk starts
this child only when lines are missing from the disk cache; the child loads the voice, renders
them (any line the kiosk is waiting for first), and exits, which hands all of that memory back.

One JSON object a line. The kiosk writes the job first, ``{"voice", "factory", "version",
"folder", "pronunciations": [[written, spoken], …], "lines": [[text, rate], …]}``, then any
number of ``{"first": index}`` (render this one next). The child answers ``{"event":
"loaded"}``, ``{"event": "done", "index": i}`` for each line, and at the end ``{"event":
"finished", "rendered": n, "peak_mb": m}`` or ``{"event": "failed", "stage": "voice" | "disk" |
"render", "error": "…"}``. It renders only the lines it is given (the content's: never a
patient's words) and stops when its input closes (the kiosk has gone).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from voice.errors import SpeechError
from voice.speaking.disk_cache import DiskCache
from voice.speaking.engine import EngineSpec, Voice
from voice.speaking.pronunciation import Pronunciations

logger = logging.getLogger(__name__)

Key = tuple[str, int]  # a line and its rate in words per minute
# Once the lines at the kiosk's own rate are done, the other rates are made at a lower
# priority: on a busy CPU the kiosk's listening comes first.
NICENESS = 10


@dataclass(frozen=True)
class Outcome:
    """How a renderer child ended."""

    ok: bool
    stage: str | None = None  # what failed: "voice", "disk", "render", "exit" or "stopped"
    error: str | None = None
    rendered: int = 0
    peak_mb: float | None = None


class RenderWorker:
    """A running renderer child, seen from the kiosk: which lines it has put on disk so far."""

    def __init__(
        self,
        spec: EngineSpec,
        pronunciations: Pronunciations,
        folder: Path,
        lines: Sequence[Key],
        command: Sequence[str] | None = None,
    ) -> None:
        self.voice = spec.voice
        self._index = {key: i for i, key in enumerate(lines)}
        self._done: set[int] = set()
        self._changed = threading.Condition()
        self._outcome: Outcome | None = None
        self._errors: deque[str] = deque(maxlen=20)  # the child's last stderr lines
        self._stopping = False
        # Written in order by a thread of its own: the job is larger than a pipe holds, and
        # the kiosk must not wait while the child starts up to read it.
        self._outbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self._outbox.put({
            "voice": spec.voice.value,
            "factory": spec.factory,
            "version": spec.version,
            "folder": str(folder),
            "pronunciations": [list(pair) for pair in pronunciations.table],
            "lines": [list(key) for key in lines],
        })
        self._proc = subprocess.Popen(
            list(command or [sys.executable, "-m", __name__]),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        for target in (self._write, self._read, self._drain):
            threading.Thread(target=target, name="speech-renderer", daemon=True).start()

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self._proc.pid

    def has(self, key: Key) -> bool:
        """Whether this line is one the child was given."""
        return key in self._index

    def wait_for(self, key: Key, timeout: float) -> bool:
        """Ask for a line next and wait until it is on disk; False if the child ends first."""
        index = self._index.get(key)
        if index is None:
            return False
        with self._changed:
            if index in self._done:
                return True
        self._outbox.put({"first": index})
        with self._changed:
            self._changed.wait_for(
                lambda: index in self._done or self._outcome is not None, timeout
            )
            return index in self._done

    def wait(self, timeout: float | None = None) -> Outcome | None:
        """How the child ended, once it has (None if still running after timeout)."""
        with self._changed:
            self._changed.wait_for(lambda: self._outcome is not None, timeout)
            return self._outcome

    def stop(self) -> None:
        """End the child now (what it finished stays on disk)."""
        self._stopping = True
        if self._proc.poll() is None:
            self._proc.terminate()

    def _write(self) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        while True:
            message = self._outbox.get()
            try:
                stdin.write(json.dumps(message) + "\n")
                stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                return  # the child has gone; _read reports how it ended

    def _read(self) -> None:
        stdout = self._proc.stdout
        assert stdout is not None
        ended: Outcome | None = None
        for line in stdout:
            try:
                message = json.loads(line)
                event = message["event"]
            except (ValueError, KeyError, TypeError):
                logger.debug("Renderer output ignored: %d characters", len(line))
                continue
            if event == "done":
                with self._changed:
                    self._done.add(int(message["index"]))
                    self._changed.notify_all()
            elif event == "finished":
                ended = Outcome(True, rendered=message["rendered"], peak_mb=message["peak_mb"])
            elif event == "failed":
                ended = Outcome(False, message["stage"], message["error"])
        status = self._proc.wait()
        if ended is None:
            detail = " / ".join(self._errors) or f"exit status {status}"
            ended = Outcome(False, "stopped" if self._stopping else "exit", detail)
        with self._changed:
            self._outcome = ended
            self._changed.notify_all()

    def _drain(self) -> None:
        stderr = self._proc.stderr
        assert stderr is not None
        for line in stderr:
            if line.strip():
                self._errors.append(line.strip())
                logger.debug("renderer: %s", line.rstrip())


# -- the child -------------------------------------------------------------------------------


def _peak_mb() -> float | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def _render_all(job: dict[str, Any], send: Any, first: deque[int], gone: threading.Event) -> int:
    """Render the job's lines that are not on disk yet; the exit status."""
    from voice.speaking.render import render_line

    spec = EngineSpec(Voice(job["voice"]), job["version"], job["factory"], sentence_pause_s=0)
    try:
        engine = spec.load()
    except SpeechError as error:
        send({"event": "failed", "stage": "voice", "error": str(error)})
        return 3
    send({"event": "loaded"})
    pronunciations = Pronunciations.of((str(a), str(b)) for a, b in job["pronunciations"])
    disk = DiskCache(Path(job["folder"]))
    lines: list[Key] = [(str(text), int(rate)) for text, rate in job["lines"]]
    urgent = {i for i, (_, rate) in enumerate(lines) if rate == lines[0][1]}
    niced = False
    done: set[int] = set()
    order = iter(range(len(lines)))
    rendered = 0
    while len(done) < len(lines):
        if gone.is_set():
            return 0
        index = _next_asked(first, done)
        if index is None:
            index = next(i for i in order if i not in done)
        text, rate = lines[index]
        if not niced and urgent <= done:
            niced = True
            with contextlib.suppress(OSError):
                os.nice(NICENESS)
        if not disk.has(text, rate):  # another kiosk, or the kiosk itself, may have made it
            try:
                samples = render_line(engine, pronunciations, text, rate)
            except SpeechError as error:
                send({"event": "failed", "stage": "render", "error": str(error)})
                return 5
            if not disk.store(text, rate, samples):
                send({"event": "failed", "stage": "disk", "error": f"cannot write {disk.folder}"})
                return 4
            rendered += 1
        done.add(index)
        send({"event": "done", "index": index})
    send({"event": "finished", "rendered": rendered, "peak_mb": _peak_mb()})
    return 0


def _next_asked(first: deque[int], done: set[int]) -> int | None:
    """The next line the kiosk asked for that is not made yet."""
    while first:
        index = first.popleft()
        if index not in done:
            return index
    return None


def main() -> int:
    """Run as ``python -m voice.speaking.worker`` with the job on standard input."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the kiosk, which stops us
    # Answers go to the original stdout; anything else that writes there (a library's
    # message, a native print) goes to stderr instead of into the protocol.
    protocol: IO[str] = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        with lock:
            protocol.write(json.dumps(message) + "\n")
            protocol.flush()

    job = json.loads(sys.stdin.readline() or "null")
    if not isinstance(job, dict):
        return 2
    first: deque[int] = deque()
    gone = threading.Event()

    def listen() -> None:
        for line in sys.stdin:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                first.append(int(json.loads(line)["first"]))
        gone.set()

    threading.Thread(target=listen, daemon=True).start()
    return _render_all(job, send, first, gone)


if __name__ == "__main__":
    sys.exit(main())
