"""Speech ready before it is needed: sentence audio rendered ahead, cached in memory and on disk.

Every line the kiosk can say from its content (answers, its messages, "Did you mean …?") is
rendered in a background thread when the kiosk starts, so start-up is not held up and a line
that is asked for before its turn is rendered at once. Content audio is also kept on disk,
keyed by the voice, the content, the text and the rate; what patients say never is.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voice.audio.resample import resample
from voice.content.schema import Faq
from voice.errors import SpeechError
from voice.speaking.engine import DEFAULT_VOICE, SpeechEngine, Voice, open_engine
from voice.speaking.loudness import normalise
from voice.speaking.pronunciation import Pronunciations
from voice.speaking.synthesis import SpeechAudio, join_audio
from voice.text.sentences import split_sentences

logger = logging.getLogger(__name__)

# Every line leaves here at espeak-ng's rate, so the speaker's stream never reopens (or
# resamples while playing) when the voice changes.
OUTPUT_RATE = 22050
# Lines that are not content (kept in memory only, least recently used first out).
MEMORY_LINES = 128
CACHE_ENV_VAR = "VOICE_SPEECH_CACHE"  # a folder, or "off" to keep nothing on disk
_OFF = frozenset({"off", "0", "no", "false", "none"})
KEEP_CONTENT_VERSIONS = 3  # older renderings of edited content are removed


class _Default:
    """Marks "the default cache folder" apart from None (no disk cache)."""


_DEFAULT = _Default()


def default_cache_dir() -> Path | None:
    """Where content audio is kept: $VOICE_SPEECH_CACHE, else the user cache; None if off."""
    setting = os.environ.get(CACHE_ENV_VAR, "").strip()
    if setting.lower() in _OFF:
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "clinic-voice-kiosk" / "speech"


def line_key(text: str) -> str:
    """A line's text with its spacing made uniform (the same line, however it was wrapped)."""
    return " ".join(text.split())


def disk_name(text: str, rate_wpm: int) -> str:
    """The cache file name of a line at a rate (the folder holds voice and content)."""
    digest = hashlib.sha256(f"{rate_wpm}\n{line_key(text)}".encode()).hexdigest()
    return f"{digest[:32]}.npy"


def content_hash(lines: Iterable[str], pronunciations: Pronunciations) -> str:
    """A short hash of the content's spoken lines and its pronunciation table."""
    digest = hashlib.sha256(pronunciations.digest_text().encode())
    for line in lines:
        digest.update(b"\0" + line_key(line).encode())
    return digest.hexdigest()[:16]


def content_texts(faq: Faq) -> list[str]:
    """Every whole text the kiosk can say from its content, most urgent first."""
    from voice.kiosk import dialogue as d

    m = faq.messages
    labels: list[str] = []
    for entry in faq.entries:
        if entry.topic not in labels:
            labels.append(entry.topic)
    topics = labels[: d.DialogueSettings().topics_in_help]
    texts = [m.greeting, m.safety_notice, m.usage, m.not_heard, m.fallback, m.rephrase]
    texts += [m.help_intro, m.goodbye]
    if topics:
        texts.append(f"{m.topics_intro} {d.spoken_list(topics)}.")
    texts += [d.SLOWER_ACK, d.FASTER_ACK, d.SLOWEST, d.FASTEST]
    texts += [d.LOUDER_ACK, d.QUIETER_ACK, d.LOUDEST, d.QUIETEST, d.SELECT_WITHOUT_TOPIC]
    texts += [m.confirm_template.format(question=entry.question) for entry in faq.entries]
    texts += [entry.answer for entry in faq.entries]
    count = len(faq.entries)
    texts += [
        d.TOPIC_LINE.format(number=i + 1, count=count, topic=entry.topic)
        for i, entry in enumerate(faq.entries)
    ]
    return texts


def content_lines(faq: Faq) -> list[str]:
    """Every sentence the kiosk can say from its content, most urgent first, without repeats."""
    seen: dict[str, None] = {}
    for text in content_texts(faq):
        for sentence in split_sentences(text):
            seen.setdefault(line_key(sentence), None)
    return list(seen)


class DiskCache:
    """Content audio as .npy files: <root>/<engine version>/<content hash>/<line>.npy."""

    def __init__(self, root: Path, engine_version: str, content: str) -> None:
        self.folder = root / _safe(engine_version) / content
        self.enabled = True
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            os.utime(self.folder)  # most recently used content version
            _prune(self.folder.parent, KEEP_CONTENT_VERSIONS)
        except OSError as error:
            self._off(error)

    def load(self, text: str, rate_wpm: int) -> npt.NDArray[np.int16] | None:
        """The stored samples of a line, or None."""
        if not self.enabled:
            return None
        path = self.folder / disk_name(text, rate_wpm)
        try:
            samples = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            logger.debug("Ignoring a damaged speech cache file %s (%s)", path.name, error)
            return None
        if samples.dtype != np.int16 or samples.ndim != 1:
            return None
        found: npt.NDArray[np.int16] = samples
        return found

    def store(self, text: str, rate_wpm: int, samples: npt.NDArray[np.int16]) -> None:
        """Keep a line's samples (written whole, then renamed, so readers never see half)."""
        if not self.enabled:
            return
        path = self.folder / disk_name(text, rate_wpm)
        temporary = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with temporary.open("wb") as file:
                np.save(file, samples, allow_pickle=False)
            os.replace(temporary, path)
        except OSError as error:
            temporary.unlink(missing_ok=True)
            self._off(error)

    def _off(self, error: OSError) -> None:
        self.enabled = False
        logger.warning(
            "Speech is not cached on disk (%s); it is rendered again at each start. "
            "Set %s to a writable folder, or to off.",
            error,
            CACHE_ENV_VAR,
        )


class PreparedSpeech:
    """Sentence audio from one engine: pronounced, loudness-normalised, at OUTPUT_RATE, cached.

    Implements the Synthesizer protocol of voice/speaking/synthesis.py.
    """

    def __init__(
        self,
        engine: SpeechEngine,
        pronunciations: Pronunciations | None = None,
        cache_dir: Path | None = None,
        memory_lines: int = MEMORY_LINES,
    ) -> None:
        self.engine = engine
        self.pronunciations = pronunciations or Pronunciations()
        self.cache_dir = cache_dir
        self._memory_lines = memory_lines
        self._content: dict[tuple[str, int], SpeechAudio] = {}  # kept for the whole run
        self._recent: OrderedDict[tuple[str, int], SpeechAudio] = OrderedDict()
        self._content_keys: set[tuple[str, int]] = set()
        self._disk: DiskCache | None = None
        self._lock = threading.Lock()  # guards the dictionaries
        self._engine_lock = threading.Lock()  # the engines are not thread-safe
        self._thread: threading.Thread | None = None

    @property
    def sentence_pause_s(self) -> float:
        """Silence to add between joined sentences for this engine."""
        return self.engine.sentence_pause_s

    # -- the Synthesizer protocol ------------------------------------------------------------

    def synthesize(self, text: str, rate_wpm: int) -> SpeechAudio:
        """One sentence's audio: from memory, else from disk, else rendered now."""
        key = (line_key(text), rate_wpm)
        cached = self._cached(key)
        if cached is not None:
            return cached
        with self._engine_lock:
            # The background thread may have finished this line while we waited.
            cached = self._cached(key)
            if cached is not None:
                return cached
            audio = self._load_or_render(key)
        self._keep(key, audio)
        return audio

    def text(self, text: str, rate_wpm: int) -> SpeechAudio:
        """A whole text, sentence by sentence, joined with the engine's pause."""
        parts = [self.synthesize(sentence, rate_wpm) for sentence in split_sentences(text)]
        if not parts:
            return _frozen(np.zeros(0, dtype=np.int16))
        return join_audio(parts, self.sentence_pause_s)

    # -- rendering ahead ---------------------------------------------------------------------

    def prepare(
        self, lines: list[str], rate_wpm: int, stop: threading.Event | None = None
    ) -> threading.Thread:
        """Start rendering the content's lines in the background (returns the thread)."""
        keys = [(line_key(line), rate_wpm) for line in lines]
        with self._lock:
            self._content_keys.update(keys)
        if self.cache_dir is not None:
            self._disk = DiskCache(
                self.cache_dir, self.engine.version, content_hash(lines, self.pronunciations)
            )

        def run() -> None:
            started = time.monotonic()
            rendered = 0
            for key in keys:
                if stop is not None and stop.is_set():
                    return
                if self._cached(key) is not None:
                    continue
                try:
                    with self._engine_lock:
                        if self._cached(key) is not None:
                            continue
                        audio = self._load_or_render(key)
                except SpeechError as error:
                    logger.warning("Speech could not be prepared: %s", error)
                    return
                self._keep(key, audio)
                rendered += 1
            logger.info(
                "Speech prepared: %d lines (%d rendered, %d from disk) in %.1f s, %.1f MB",
                len(keys),
                rendered,
                len(keys) - rendered,
                time.monotonic() - started,
                self.memory_bytes() / 1e6,
            )

        self._thread = threading.Thread(target=run, name="speech-prepare", daemon=True)
        self._thread.start()
        return self._thread

    def wait_prepared(self, timeout: float | None = None) -> bool:
        """Wait for the background rendering; True when it has finished."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def memory_bytes(self) -> int:
        """Bytes of audio held in memory."""
        with self._lock:
            audio = [*self._content.values(), *self._recent.values()]
        return sum(a.samples.nbytes for a in audio)

    # -- internals ---------------------------------------------------------------------------

    def _cached(self, key: tuple[str, int]) -> SpeechAudio | None:
        with self._lock:
            found = self._content.get(key)
            if found is None:
                found = self._recent.get(key)
                if found is not None:
                    self._recent.move_to_end(key)
            return found

    def _keep(self, key: tuple[str, int], audio: SpeechAudio) -> None:
        with self._lock:
            if key in self._content_keys:
                self._content[key] = audio
                return
            self._recent[key] = audio
            self._recent.move_to_end(key)
            while len(self._recent) > self._memory_lines:
                self._recent.popitem(last=False)

    def _load_or_render(self, key: tuple[str, int]) -> SpeechAudio:
        """Call with _engine_lock held."""
        text, rate = key
        content = key in self._content_keys
        disk = self._disk if content else None
        if disk is not None:
            stored = disk.load(text, rate)
            if stored is not None:
                return _frozen(stored)
        audio = self._render(text, rate)
        if disk is not None:
            disk.store(text, rate, audio.samples)
        return audio

    def _render(self, text: str, rate_wpm: int) -> SpeechAudio:
        if not text:
            return _frozen(np.zeros(0, dtype=np.int16))
        started = time.monotonic()
        raw = self.engine.render(self.pronunciations.apply(text), rate_wpm)
        rate = self.engine.sample_rate
        if rate != OUTPUT_RATE and raw.size:
            raw = resample(raw, rate, OUTPUT_RATE)
        level = normalise(raw, OUTPUT_RATE)
        samples = np.round(np.clip(level, -1.0, 1.0) * 32767.0).astype(np.int16)
        # Only sizes are logged: a spoken line can echo what a patient said.
        logger.debug(
            "Rendered %.2f s of speech (%d characters) in %.3f s",
            len(samples) / OUTPUT_RATE,
            len(text),
            time.monotonic() - started,
        )
        return _frozen(samples)


def _frozen(samples: npt.NDArray[np.int16]) -> SpeechAudio:
    samples.flags.writeable = False
    return SpeechAudio(samples=samples, sample_rate=OUTPUT_RATE)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in name)


def _prune(folder: Path, keep: int) -> None:
    """Remove all but the `keep` most recently used content versions in folder."""
    versions = sorted(
        (p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True
    )
    for old in versions[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def open_speech(
    voice: Voice = DEFAULT_VOICE,
    pronunciations: Iterable[tuple[str, str]] = (),
    cache_dir: Path | _Default | None = _DEFAULT,
) -> PreparedSpeech:
    """The kiosk's speech in a voice (falling back to espeak-ng), with the content's table."""
    engine = open_engine(voice)
    folder = default_cache_dir() if isinstance(cache_dir, _Default) else cache_dir
    return PreparedSpeech(engine, Pronunciations.of(pronunciations), folder)
