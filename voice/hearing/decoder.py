"""Streaming speech recognition with Vosk: the one place that knows Vosk's quirks.

The same ``Decoder`` serves recorded files and the live microphone: audio goes in as 16 kHz mono
16-bit chunks; partial hypotheses come out while it runs, and a ``Transcript`` at the end.
Vosk returns JSON strings; they are parsed into dataclasses here and nowhere else.
"""

from __future__ import annotations

import ctypes
import json
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from voice.audio.format import SAMPLE_RATE
from voice.errors import RecognitionError
from voice.hearing.transcript import UNKNOWN_WORD, Transcript, WordConfidence

log = logging.getLogger(__name__)

# Kaldi adds random dither to the audio before computing features, seeded from the C library's
# rand(). Left alone, the same file decodes differently depending on what the process decoded
# before it (vosk-api issue #868). Reseeding it for every new recognizer makes each result depend
# only on its own audio. The value itself is arbitrary.
DITHER_SEED = 0


def _c_srand() -> Any:
    """The C library's srand(), which Kaldi's rand() shares (None where it can't be reached)."""
    if sys.platform == "win32":
        return None  # libvosk may use another C runtime there; results just stay unseeded
    try:
        return ctypes.CDLL(None).srand
    except (OSError, AttributeError):
        return None


_SRAND = _c_srand()


@dataclass(frozen=True)
class Partial:
    """The hypothesis so far (finished segments plus the live partial).

    ``last_word_end`` comes only from finished segments, whose word times are accurate; Vosk's
    partial word times lag the audio by a second or more, so they are not used.
    ``in_speech`` is True while the live partial has words (the patient is still talking).
    """

    text: str
    last_word_end: float | None
    segment_ended: bool = False
    in_speech: bool = False


def _parse_words(result: dict[str, Any]) -> list[WordConfidence]:
    return [
        WordConfidence(
            word=str(w.get("word", "")),
            conf=float(w.get("conf", 1.0)),
            start=float(w.get("start", 0.0)),
            end=float(w.get("end", 0.0)),
        )
        for w in result.get("result", [])
    ]


class Decoder:
    """One streaming recognition session over a loaded model (not thread-safe).

    ``background``: make each next recognizer in a worker thread as soon as the last one is
    done with, and keep the audio that arrives meanwhile. Making one takes 35 ms with a phrase
    list and 0.3–0.9 s for the open vocabulary here (Vosk releases the GIL while it works), and
    a live loop that waited for it could not stop the kiosk's reply in time.
    """

    def __init__(
        self, model: Any, phrases: Sequence[str] | None = None, *, background: bool = False
    ) -> None:
        self._model = model
        self._grammar = None if phrases is None else json.dumps(list(phrases))
        self._worker = (
            ThreadPoolExecutor(1, thread_name_prefix="recognizer") if background else None
        )
        self._next: Future[Any] | None = None  # the recognizer being made in the worker
        self._waiting: list[bytes] = []  # audio that came while it was being made
        self._rec: Any = self._new_recognizer()  # None: a fresh one is made on the next chunk
        self._words: list[WordConfidence] = []
        self._texts: list[str] = []
        self._live_text = ""  # the partial of the segment still being decoded
        self._samples = 0
        self._decode_s = 0.0

    def _new_recognizer(self) -> Any:
        import vosk

        if _SRAND is not None:
            _SRAND(DITHER_SEED)
        try:
            if self._grammar is None:
                rec = vosk.KaldiRecognizer(self._model, SAMPLE_RATE)
            else:
                rec = vosk.KaldiRecognizer(self._model, SAMPLE_RATE, self._grammar)
            rec.SetWords(True)
        except Exception as exc:  # vosk raises bare Exception when the recognizer can't be made
            raise RecognitionError(f"The speech recognizer could not start ({exc}).") from exc
        return rec

    @property
    def stream_time(self) -> float:
        """Seconds of audio fed so far."""
        return self._samples / SAMPLE_RATE

    def accept(self, chunk: bytes) -> Partial:
        """Feed one chunk; return the current hypothesis (finished segments plus partial)."""
        self._samples += len(chunk) // 2
        if not self._ready(wait=False):
            self._waiting.append(chunk)  # decoded once the recognizer is made
            return Partial(self._hypothesis(), self._last_end(), False, False)
        chunks = [*self._waiting, chunk]
        self._waiting = []
        segment_done = False
        for piece in chunks:
            segment_done = self._decode(piece) or segment_done
        in_speech = any(w != UNKNOWN_WORD for w in self._live_text.split())
        return Partial(self._hypothesis(), self._last_end(), segment_done, in_speech)

    def _ready(self, wait: bool) -> bool:
        """Whether a recognizer is there to decode with (making or collecting it if not)."""
        if self._rec is not None:
            return True
        if self._next is None:
            self._rec = self._new_recognizer()
            return True
        if not wait and not self._next.done():
            return False
        try:
            self._rec = self._next.result()
        finally:
            self._next = None
        return True

    def _decode(self, chunk: bytes) -> bool:
        """Decode one chunk with the current recognizer; True when it closed a segment."""
        started = time.perf_counter()
        try:
            segment_done = bool(self._rec.AcceptWaveform(chunk))
            raw = self._rec.Result() if segment_done else self._rec.PartialResult()
        except Exception as exc:
            raise RecognitionError(f"The speech recognizer failed while decoding ({exc}).") from exc
        self._decode_s += time.perf_counter() - started
        data = json.loads(raw)
        if segment_done:
            self._take_segment(data)
            self._live_text = ""
        else:
            self._live_text = str(data.get("partial", ""))
        return segment_done

    def _last_end(self) -> float | None:
        return self._words[-1].end if self._words else None

    def _hypothesis(self) -> str:
        """The finished segments' text followed by the live partial."""
        return " ".join(t for t in [*self._texts, self._live_text] if t)

    def _take_segment(self, data: dict[str, Any]) -> None:
        text = str(data.get("text", "")).strip()
        if text:
            self._texts.append(text)
            self._words.extend(_parse_words(data))

    def so_far(self) -> Transcript:
        """What has been heard since the last reset, without flushing the decoder.

        Word confidences and times come with it only when every word is in a finished segment
        (no live partial): Vosk gives them for finished segments alone.
        """
        words = () if self._live_text.strip() or self._waiting else tuple(self._words)
        return Transcript(self._hypothesis(), words, self.stream_time, 0.0)

    def finish(self) -> Transcript:
        """Flush the decoder and return everything heard since the last reset."""
        if self._rec is None and not self._waiting:  # nothing fed since the last reset
            return Transcript("", (), self.stream_time, 0.0)
        self._ready(wait=True)
        waiting, self._waiting = self._waiting, []
        for chunk in waiting:
            self._decode(chunk)
        started = time.perf_counter()
        try:
            data = json.loads(self._rec.FinalResult())
        except Exception as exc:
            raise RecognitionError(f"The speech recognizer failed while decoding ({exc}).") from exc
        self._decode_s += time.perf_counter() - started
        self._take_segment(data)
        transcript = Transcript(
            text=" ".join(self._texts),
            words=tuple(self._words),
            audio_s=self.stream_time,
            decode_ms=self._decode_s * 1000,
        )
        self.reset()
        return transcript

    def reset(self) -> None:
        """Forget the current utterance and start a new one (keeps the grammar).

        A fresh recognizer rather than Vosk's Reset(): Reset() keeps counting word times from
        the first audio ever fed and can keep audio fed just before it. It is made when the next
        audio comes, or at once in the worker (``background``), not here: with the background
        vocabulary that takes about 35 ms, which must not delay the reply after ``finish``.
        """
        self._rec = None
        self._words = []
        self._texts = []
        self._live_text = ""
        self._samples = 0
        self._decode_s = 0.0
        self._waiting = []
        if self._worker is not None and self._next is None:
            self._next = self._worker.submit(self._new_recognizer)


def decode_chunks(
    model: Any, chunks: Iterable[bytes], phrases: Sequence[str] | None = None
) -> Transcript:
    """Decode a whole stream of chunks (a file) as one utterance."""
    decoder = Decoder(model, phrases)
    for chunk in chunks:
        decoder.accept(chunk)
    return decoder.finish()
