"""Speech ready before it is needed: every line the kiosk can say, rendered ahead and cached.

At start the kiosk prepares every sentence it can say (voice/speaking/lines.py) at every rate
the patient can choose. With a disk cache, the lines live on disk and only the recently said
ones in memory; the voice itself is not loaded in the kiosk at all: missing lines are rendered
by a child process (voice/speaking/worker.py) that exits when done, so the kiosk's memory does
not carry the voice's model. A line asked for before the child has made it is rendered next,
and the kiosk waits for it. Without a disk cache (``VOICE_SPEECH_CACHE=off``), the voice is
loaded here and the lines at the kiosk's rate are rendered in a background thread and kept in
memory. Content audio is kept on disk, keyed by the voice, the content, the text and the rate;
what patients say never is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from voice.errors import SpeechError
from voice.speaking.disk_cache import (
    CACHE_ENV_VAR,
    DiskCache,
    content_hash,
    default_cache_dir,
    disk_name,
    line_key,
)
from voice.speaking.engine import (
    DEFAULT_VOICE,
    LazyEngine,
    SpeechEngine,
    Voice,
    engine_spec,
    open_engine,
)
from voice.speaking.lines import content_lines, content_texts, reachable_rates
from voice.speaking.pronunciation import Pronunciations
from voice.speaking.render import OUTPUT_RATE, frozen, render_line
from voice.speaking.synthesis import SpeechAudio, join_audio
from voice.speaking.worker import Outcome, RenderWorker
from voice.text.sentences import split_sentences

__all__ = [
    "CACHE_ENV_VAR",
    "OUTPUT_RATE",
    "DiskCache",
    "PreparedSpeech",
    "content_hash",
    "content_lines",
    "content_texts",
    "default_cache_dir",
    "disk_name",
    "open_speech",
]

logger = logging.getLogger(__name__)

# Recently said lines kept in memory (about 45 s of speech); the rest is read from disk when it
# is said (0.2 ms for a sentence, median; 0.6 ms when not in the page cache).
MEMORY_BYTES = 2_000_000
# How long the kiosk waits for the renderer child to make a line it needs now (only with a
# cold cache: the child starts and loads the voice in 1-2 s, then renders a line in ~50 ms).
WAIT_FOR_RENDERER_S = 8.0

Key = tuple[str, int]


class _Default:
    """Marks "the default cache folder" apart from None (no disk cache)."""


_DEFAULT = _Default()


class PreparedSpeech:
    """Sentence audio from one engine: pronounced, loudness-normalised, at OUTPUT_RATE, cached.

    Implements the Synthesizer protocol of voice/speaking/synthesis.py. Given a LazyEngine and
    a cache folder, it renders in a child process and never loads the engine itself unless a
    line turns out not to be prepared.
    """

    def __init__(
        self,
        engine: SpeechEngine,
        pronunciations: Pronunciations | None = None,
        cache_dir: Path | None = None,
        memory_bytes: int = MEMORY_BYTES,
    ) -> None:
        self.engine = engine
        self.pronunciations = pronunciations or Pronunciations()
        self.cache_dir = cache_dir
        self._memory_bytes = memory_bytes
        # Without a disk cache, the content's lines at the kiosk's rate stay for the whole run.
        self._content: dict[Key, SpeechAudio] = {}
        self._recent: OrderedDict[Key, SpeechAudio] = OrderedDict()
        self._recent_bytes = 0
        self._content_keys: set[Key] = set()
        self._content_hash = ""
        self._rate: int | None = None  # the rate prepare was given
        self._disk: DiskCache | None = None
        self._worker: RenderWorker | None = None
        self._lock = threading.Lock()  # guards the dictionaries
        self._engine_lock = threading.Lock()  # the engines are not thread-safe
        self._thread: threading.Thread | None = None
        self._warned = False

    @property
    def sentence_pause_s(self) -> float:
        """Silence to add between joined sentences for this engine."""
        return self.engine.sentence_pause_s

    @property
    def renderer_pid(self) -> int | None:
        """The renderer child's process id while one has been started (for measurements)."""
        return None if self._worker is None else self._worker.pid

    # -- the Synthesizer protocol ------------------------------------------------------------

    def synthesize(self, text: str, rate_wpm: int) -> SpeechAudio:
        """One sentence's audio: from memory, else from disk, else rendered now."""
        key = (line_key(text), rate_wpm)
        audio = self._cached(key)
        if audio is None:
            audio = self._from_disk(key, wait=True)
        if audio is None:
            with self._engine_lock:
                # The background work may have finished this line while we waited.
                audio = self._cached(key)
                if audio is None:
                    audio = self._from_disk(key, wait=False)
                if audio is None:
                    audio = self._render_here(key)
        self._keep(key, audio)
        return audio

    def text(self, text: str, rate_wpm: int) -> SpeechAudio:
        """A whole text, sentence by sentence, joined with the engine's pause."""
        parts = [self.synthesize(sentence, rate_wpm) for sentence in split_sentences(text)]
        if not parts:
            return frozen(np.zeros(0, dtype=np.int16))
        return join_audio(parts, self.sentence_pause_s)

    # -- rendering ahead ---------------------------------------------------------------------

    def prepare(
        self,
        lines: list[str],
        rate_wpm: int,
        stop: threading.Event | None = None,
        rates: Sequence[int] | None = None,
    ) -> threading.Thread:
        """Start preparing the content's lines in the background (returns the thread).

        With a disk cache, at rate_wpm first and then at the other ``rates`` (by default every
        rate the patient can step to from rate_wpm); without one, at rate_wpm only.
        """
        self._rate = rate_wpm
        others = reachable_rates(rate_wpm) if rates is None else list(rates)
        self._content_hash = content_hash(lines, self.pronunciations)
        if self.cache_dir is not None:
            self._disk = DiskCache.open(self.cache_dir, self.engine.version, self._content_hash)
        disk_on = self._disk is not None and self._disk.enabled
        ordered = [rate_wpm, *(r for r in dict.fromkeys(others) if r != rate_wpm and disk_on)]
        keys = [(line_key(line), rate) for rate in ordered for line in lines]
        with self._lock:
            self._content_keys.update(keys)
        # Started here, not in the thread, so a line asked for right away is waited for.
        in_child, worker = self._start_child(keys)
        self._thread = threading.Thread(
            target=self._prepare,
            args=(keys, stop, in_child, worker),
            name="speech-prepare",
            daemon=True,
        )
        self._thread.start()
        return self._thread

    def wait_prepared(self, timeout: float | None = None) -> bool:
        """Wait for the background preparation; True when it has finished."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def memory_bytes(self) -> int:
        """Bytes of audio held in memory."""
        with self._lock:
            audio = [*self._content.values(), *self._recent.values()]
        return sum(a.samples.nbytes for a in audio)

    def close(self) -> None:
        """Stop a renderer child that is still running (what it made stays on disk)."""
        if self._worker is not None:
            self._worker.stop()

    # -- internals ---------------------------------------------------------------------------

    def _in_child(self) -> bool:
        engine = self.engine
        disk = self._disk
        on_disk = disk is not None and disk.enabled
        return on_disk and isinstance(engine, LazyEngine) and not engine.loaded

    def _start_child(self, keys: list[Key]) -> tuple[bool, RenderWorker | None]:
        """Whether the lines are prepared by a child, and the child for those missing from disk
        (None when none are)."""
        disk = self._disk
        engine = self.engine
        if not self._in_child():
            return False, None
        assert disk is not None and isinstance(engine, LazyEngine)
        missing = disk.missing(keys)
        if not missing:
            return True, None
        try:
            self._worker = RenderWorker(engine.spec, self.pronunciations, disk.folder, missing)
        except OSError as error:
            logger.warning(
                "Speech cannot be prepared by a separate process (%s); preparing it in the "
                "kiosk instead.",
                error,
            )
            return False, None
        return True, self._worker

    def _prepare(
        self,
        keys: list[Key],
        stop: threading.Event | None,
        in_child: bool,
        worker: RenderWorker | None,
    ) -> None:
        started = time.monotonic()
        if in_child:
            if worker is None:
                logger.info("Speech prepared: %d lines, all from disk", len(keys))
                return
            outcome = self._wait_for_child(worker, stop)
            if outcome.ok:
                logger.info(
                    "Speech prepared: %d lines (%d rendered by a separate process in %.1f s, "
                    "which peaked at %.0f MB; the rest from disk)",
                    len(keys),
                    outcome.rendered,
                    time.monotonic() - started,
                    outcome.peak_mb or float("nan"),
                )
                return
            if outcome.stage == "stopped":
                return
            if outcome.stage == "voice" and self._fall_back(worker.voice, outcome.error):
                return self._prepare(keys, stop, *self._start_child(keys))
            logger.warning(
                "Speech could not be prepared by a separate process (%s: %s); preparing it "
                "in the kiosk instead.",
                outcome.stage,
                outcome.error,
            )
        rendered = self._prepare_here(keys, stop)
        if rendered is not None:
            logger.info(
                "Speech prepared: %d lines (%d rendered, %d from disk) in %.1f s, %.1f MB",
                len(keys),
                rendered,
                len(keys) - rendered,
                time.monotonic() - started,
                self.memory_bytes() / 1e6,
            )

    @staticmethod
    def _wait_for_child(worker: RenderWorker, stop: threading.Event | None) -> Outcome:
        while (outcome := worker.wait(0.5)) is None:
            if stop is not None and stop.is_set():
                worker.stop()
        return outcome

    def _fall_back(self, failed: Voice, error: str | None) -> bool:
        """The natural voice failed to load in the child: speak with espeak-ng from now on.

        True when the kiosk now speaks with espeak-ng (whichever thread switched it).
        """
        if failed is not Voice.NATURAL:
            return False
        with self._engine_lock:
            if self.engine.voice is Voice.NATURAL:
                logger.warning(
                    "The natural voice is not available (%s); speaking with espeak-ng.", error
                )
                self.engine = LazyEngine(engine_spec(Voice.ESPEAK))
                assert self.cache_dir is not None
                self._disk = DiskCache.open(
                    self.cache_dir, self.engine.version, self._content_hash
                )
                with self._lock:
                    self._recent.clear()
                    self._recent_bytes = 0
            return True

    def _prepare_here(self, keys: list[Key], stop: threading.Event | None) -> int | None:
        """Render in this process; the number rendered, or None if stopped or failed."""
        rendered = 0
        for key in keys:
            if stop is not None and stop.is_set():
                return None
            disk = self._disk
            if key[1] != self._rate and (disk is None or not disk.enabled):
                continue  # with nowhere to put them, other rates are rendered when asked for
            if self._cached(key) is not None:
                continue
            try:
                with self._engine_lock:
                    if self._cached(key) is not None:
                        continue
                    audio = self._from_disk(key, wait=False)
                    if audio is None:
                        audio = self._render_here(key)
                        rendered += 1
            except SpeechError as error:
                logger.warning("Speech could not be prepared: %s", error)
                return None
            self._keep(key, audio)
        return rendered

    def _cached(self, key: Key) -> SpeechAudio | None:
        with self._lock:
            found = self._content.get(key)
            if found is None:
                found = self._recent.get(key)
                if found is not None:
                    self._recent.move_to_end(key)
            return found

    def _keep(self, key: Key, audio: SpeechAudio) -> None:
        disk = self._disk
        with self._lock:
            if key in self._content or key in self._recent:
                return
            resident = key in self._content_keys and key[1] == self._rate
            if resident and (disk is None or not disk.enabled):
                self._content[key] = audio
                return
            self._recent[key] = audio
            self._recent_bytes += audio.samples.nbytes
            while self._recent_bytes > self._memory_bytes and len(self._recent) > 1:
                _, old = self._recent.popitem(last=False)
                self._recent_bytes -= old.samples.nbytes

    def _from_disk(self, key: Key, wait: bool) -> SpeechAudio | None:
        """A content line from the disk cache; with wait, from the renderer child if it is
        still to make it (the kiosk waits for it rather than load the voice itself)."""
        disk = self._disk
        if disk is None or not disk.enabled or key not in self._content_keys:
            return None
        stored = disk.load(*key)
        worker = self._worker
        if stored is None and wait and worker is not None and worker.has(key):
            if worker.wait_for(key, WAIT_FOR_RENDERER_S):
                stored = disk.load(*key)
            else:
                outcome = worker.wait(0)
                failed = outcome is not None and outcome.stage == "voice"
                if failed and outcome and self._fall_back(worker.voice, outcome.error):
                    return self._from_disk(key, wait=False)
        return None if stored is None else frozen(stored)

    def _render_here(self, key: Key) -> SpeechAudio:
        """Render in this process; call with _engine_lock held. Content goes to disk too."""
        engine = self.engine
        if isinstance(engine, LazyEngine) and not engine.loaded and not self._warned:
            self._warned = True
            logger.warning(
                "A line the kiosk says was not prepared; loading the %s voice in the kiosk "
                "(about 1 s, and its memory stays in use).",
                engine.voice.value,
            )
        text, rate = key
        audio = frozen(render_line(engine, self.pronunciations, text, rate))
        disk = self._disk
        if disk is not None and key in self._content_keys:
            disk.store(text, rate, audio.samples)
        return audio


def open_speech(
    voice: Voice = DEFAULT_VOICE,
    pronunciations: Iterable[tuple[str, str]] = (),
    cache_dir: Path | _Default | None = _DEFAULT,
) -> PreparedSpeech:
    """The kiosk's speech in a voice (falling back to espeak-ng), with the content's table.

    With a disk cache the engine is not loaded here (see PreparedSpeech); without one it is.
    """
    folder = default_cache_dir() if isinstance(cache_dir, _Default) else cache_dir
    table = Pronunciations.of(pronunciations)
    if folder is None:
        return PreparedSpeech(open_engine(voice), table, None)
    try:
        spec = engine_spec(voice)
    except SpeechError as error:
        # As open_engine: the natural voice is not installed, espeak-ng takes over.
        logger.warning("The natural voice is not available (%s); speaking with espeak-ng.", error)
        spec = engine_spec(Voice.ESPEAK)
    return PreparedSpeech(LazyEngine(spec), table, folder)
