"""How well the kiosk's voices are understood: every answer and message, through a recogniser.

For each shipped voice this renders every content text the kiosk speaks (answers, messages,
"Did you mean …?" questions, acknowledgements, topic lines) exactly as the kiosk does
(pronunciation table, loudness normalisation, 22,050 Hz), transcribes it with Vosk (the
project's model, open vocabulary) and, when installed, Whisper, and prints:

- WER clean and under stress (pink noise at +5 dB SNR to the gated speech level, then a
  second-order 2 kHz low-pass, 12 dB per octave: a rough stand-in for an older listener in
  a waiting room);
- words per minute over the answers at the default rate (spoken words, see below, over the
  answers' rendered length with their pauses);
- time to first audio (median): a prepared line (from the cache) and an unprepared one (its
  first sentence rendered from nothing), on this machine, without the device's own latency;
- level spread: highest minus lowest gated speech level over all sentences, in dB;
- the words each recogniser got wrong most often, and the reference words outside Vosk's
  vocabulary (which it can never get right, in any voice).

The recogniser's WER stands in for how easily a listener understands. Words are compared in the
kiosk's spoken form (lower case, numbers as words); "Dr." counts as "doctor", an acronym of two
to four capitals such as "CT" or "UCLA" as its letters (both voices spell them out; "COVID" is
said as a word), and a hyphen as a space, since a listener hears no difference.

Each text is rendered once per voice; its clean and stressed audio go to one Vosk model per
process (a fresh recognizer per text, as the kiosk decodes, so results do not depend on the
order or on --jobs). Progress and an ETA go to stderr, the results to stdout.

    .venv/bin/python benchmarks/bench_voice.py [--voices natural,espeak] [--rate 155]
        [--limit N] [--jobs 2] [--transcripts FILE.tsv] [--verbose]
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from voice.audio.resample import resample  # noqa: E402
from voice.content.loader import default_content_dir, load_content  # noqa: E402
from voice.errors import SpeechError  # noqa: E402
from voice.hearing.decoder import decode_chunks  # noqa: E402
from voice.hearing.model import load_model, locate_model  # noqa: E402
from voice.hearing.vocabulary import load_vocabulary  # noqa: E402
from voice.speaking.engine import Voice, open_engine  # noqa: E402
from voice.speaking.loudness import speech_level_dbfs  # noqa: E402
from voice.speaking.prerender import OUTPUT_RATE, PreparedSpeech, content_texts  # noqa: E402
from voice.speaking.pronunciation import Pronunciations  # noqa: E402
from voice.speaking.synthesis import SpeechAudio  # noqa: E402
from voice.text.normalize import spoken_words  # noqa: E402
from voice.text.sentences import split_sentences  # noqa: E402

ASR_RATE = 16000
STRESS_SNR_DB = 5.0
STRESS_CUTOFF_HZ = 2000.0
CONDITIONS = ("clean", "stress")
CHUNK_BYTES = 8000  # 0.25 s of 16 kHz 16-bit audio, as the microphone delivers it
TOP_ERRORS = 12
FloatArray = npt.NDArray[np.float64]

# -- scoring ------------------------------------------------------------------------------------


def score_words(text: str) -> list[str]:
    """The words a listener hears in a written text, for scoring."""
    text = re.sub(r"\bDr\.", "doctor", text)
    text = re.sub(r"\b([A-Z]{2,4})\b", lambda m: " ".join(m.group(1)), text)
    text = text.replace("-", " ")
    return [w for w in spoken_words(text) if w]


def hyp_words(text: str) -> list[str]:
    """A transcript's words in the same form."""
    return [w if w != "dr" else "doctor" for w in score_words(text)]


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level Levenshtein distance (substitutions + deletions + insertions)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i]
        for j, hyp in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def word_errors(reference: list[str], hypothesis: list[str]) -> list[tuple[str, str]]:
    """The errors of one minimal alignment: (ref, hyp), "" standing for a missing word."""
    rows, cols = len(reference) + 1, len(hypothesis) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i][j] = min(
                cost[i - 1][j] + 1,
                cost[i][j - 1] + 1,
                cost[i - 1][j - 1] + (reference[i - 1] != hypothesis[j - 1]),
            )
    errors: list[tuple[str, str]] = []
    i, j = len(reference), len(hypothesis)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (reference[i - 1] != hypothesis[j - 1]):
            if reference[i - 1] != hypothesis[j - 1]:
                errors.append((reference[i - 1], hypothesis[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            errors.append((reference[i - 1], ""))
            i -= 1
        else:
            errors.append(("", hypothesis[j - 1]))
            j -= 1
    errors.reverse()
    return errors


@dataclass
class Counts:
    """Errors and reference words of one condition, and which words went wrong."""

    errors: int = 0
    words: int = 0
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, reference: list[str], hypothesis: list[str]) -> None:
        found = word_errors(reference, hypothesis)
        self.errors += len(found)
        self.words += len(reference)
        self.confusions.update(found)

    @property
    def wer(self) -> float:
        return self.errors / max(1, self.words)


def words_per_minute(words: int, seconds: float) -> float | None:
    """Pace, or None for no audio."""
    return 60 * words / seconds if seconds > 0 else None


# -- the stress condition -----------------------------------------------------------------------


def pink_noise(n: int, seed: int = 0) -> FloatArray:
    """Pink (1/f) noise of unit RMS, the same every run."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.arange(len(spectrum), dtype=np.float64)
    freqs[0] = 1.0
    noise = np.fft.irfft(spectrum / np.sqrt(freqs), n)
    rms = float(np.sqrt(np.mean(noise**2))) or 1.0
    out: FloatArray = noise / rms
    return out


def low_pass(samples: FloatArray, rate: int, cutoff_hz: float) -> FloatArray:
    """A second-order Butterworth low-pass (12 dB per octave above cutoff_hz), zero phase."""
    spectrum = np.fft.rfft(samples)
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    gain = 1 / np.sqrt(1 + (freqs / cutoff_hz) ** 4)
    out: FloatArray = np.fft.irfft(spectrum * gain, len(samples))
    return out


def stress(samples: FloatArray, rate: int) -> FloatArray:
    """Pink noise at +5 dB SNR to the gated speech level, then a 2 kHz low-pass."""
    level = speech_level_dbfs(samples, rate)
    if level is None:
        return samples
    noise = pink_noise(len(samples)) * 10 ** ((level - STRESS_SNR_DB) / 20)
    return low_pass(samples + noise, rate, STRESS_CUTOFF_HZ)


def condition(audio: SpeechAudio, name: str) -> FloatArray:
    """A rendered line as floats, clean or stressed."""
    samples = audio.samples.astype(np.float64) / 32768.0
    return stress(samples, audio.sample_rate) if name == "stress" else samples


# -- recognisers --------------------------------------------------------------------------------


def asr_audio(samples: FloatArray, rate: int) -> npt.NDArray[np.float32]:
    """Float audio at the recogniser's 16 kHz."""
    return resample(samples.astype(np.float32), rate, ASR_RATE)


def pcm16(audio: npt.NDArray[np.float32]) -> bytes:
    """16 kHz float audio as the 16-bit PCM Vosk takes."""
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


_vosk_model: Any = None  # one per process, loaded by load_vosk


def load_vosk(model_path: str) -> None:
    """Load the Vosk model into this process (the main one, or a --jobs worker)."""
    global _vosk_model
    _vosk_model = load_model(Path(model_path))


def vosk_text(pcm: bytes) -> str:
    """Transcribe 16 kHz PCM with the loaded model, open vocabulary, a fresh recognizer."""
    chunks = [pcm[i : i + CHUNK_BYTES] for i in range(0, len(pcm), CHUNK_BYTES)]
    return decode_chunks(_vosk_model, chunks).text


def whisper_transcriber() -> Callable[[npt.NDArray[np.float32]], str] | None:
    """Whisper tiny.en if a Whisper package is installed (nothing is downloaded otherwise)."""
    try:
        import whisper  # type: ignore[import-not-found]
    except ImportError:
        return None
    model = whisper.load_model("tiny.en")

    def transcribe(audio: npt.NDArray[np.float32]) -> str:
        return str(model.transcribe(audio, language="en", fp16=False)["text"])

    return transcribe


# -- rendering ----------------------------------------------------------------------------------


@dataclass
class Rendered:
    """One voice's audio of every text, and what was measured while rendering it."""

    voice: str
    audio: list[SpeechAudio]
    unprepared_ms: list[float]
    prepared_ms: list[float]
    levels: list[float]
    load_s: float
    render_s: float
    memory_bytes: int


def render_voice(
    voice: Voice, texts: list[str], pronunciations: Pronunciations, rate: int
) -> Rendered:
    """Render every text as the kiosk does, timing first sentences cold and then prepared."""
    started = time.monotonic()
    engine = open_engine(voice)
    load_s = time.monotonic() - started
    if engine.voice is not voice:
        raise SpeechError(f"the {voice.value} voice did not load")
    sentences = list(dict.fromkeys(_line(s) for text in texts for s in split_sentences(text)))
    firsts = list(dict.fromkeys(_line(split_sentences(text)[0]) for text in texts))
    # Unprepared: each distinct first sentence rendered from nothing, in a cache of its own.
    cold = PreparedSpeech(engine, pronunciations, cache_dir=None)
    unprepared_ms = []
    for first in firsts:
        t0 = time.perf_counter()
        cold.synthesize(first, rate)
        unprepared_ms.append((time.perf_counter() - t0) * 1000)
    # Prepared: every sentence rendered ahead, as the kiosk does at start (kept in memory).
    speech = PreparedSpeech(engine, pronunciations, cache_dir=None)
    t0 = time.monotonic()
    speech.prepare(sentences, rate)
    speech.wait_prepared()
    render_s = time.monotonic() - t0
    audio = [speech.text(text, rate) for text in texts]
    prepared_ms = []
    for first in firsts:
        t0 = time.perf_counter()
        speech.synthesize(first, rate)
        prepared_ms.append((time.perf_counter() - t0) * 1000)
    levels = []
    for sentence in sentences:
        pcm = speech.synthesize(sentence, rate).samples / 32768.0
        level = speech_level_dbfs(pcm, OUTPUT_RATE)
        if level is not None:
            levels.append(level)
    return Rendered(
        voice=f"{voice.value} ({engine.version})",
        audio=audio,
        unprepared_ms=unprepared_ms,
        prepared_ms=prepared_ms,
        levels=levels,
        load_s=load_s,
        render_s=render_s,
        memory_bytes=speech.memory_bytes(),
    )


def _line(sentence: str) -> str:
    """A sentence with uniform spacing, as the kiosk keys its cache."""
    return " ".join(sentence.split())


# -- transcribing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One rendered text in one condition, to be transcribed."""

    voice: int
    text: int
    condition: str
    audio_s: float


class Progress:
    """Transcription progress with an ETA on stderr (by seconds of audio, what decoding costs)."""

    def __init__(self, label: str, total_s: float, every_s: float = 10.0) -> None:
        self.label = label
        self.total_s = total_s
        self.done_s = 0.0
        self.count = 0
        self.every_s = every_s
        self.started = time.monotonic()
        self.shown = self.started

    def advance(self, audio_s: float, of: int) -> None:
        self.done_s += audio_s
        self.count += 1
        now = time.monotonic()
        if now - self.shown < self.every_s and self.count < of:
            return
        self.shown = now
        elapsed = now - self.started
        left = elapsed * (self.total_s - self.done_s) / max(self.done_s, 1e-9)
        print(
            f"{self.label}: {self.count}/{of} transcripts, {self.done_s:.0f}/{self.total_s:.0f} s"
            f" of audio, {_clock(elapsed)} elapsed, about {_clock(left)} left",
            file=sys.stderr,
            flush=True,
        )


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _pcm_jobs(jobs: list[Job], rendered: list[Rendered]) -> Iterator[bytes]:
    for job in jobs:
        audio = rendered[job.voice].audio[job.text]
        yield pcm16(asr_audio(condition(audio, job.condition), audio.sample_rate))


def transcribe_vosk(
    jobs: list[Job], rendered: list[Rendered], model_path: Path, workers: int
) -> list[str]:
    """Vosk's transcript of every job, in order, with one model per process."""
    progress = Progress("Vosk", sum(job.audio_s for job in jobs))
    heard: list[str] = []
    if workers <= 1:
        load_vosk(str(model_path))
        for pcm in _pcm_jobs(jobs, rendered):
            heard.append(vosk_text(pcm))
            progress.advance(jobs[len(heard) - 1].audio_s, len(jobs))
        return heard
    # spawn, not fork: the voice engines' threads (espeak-ng, onnxruntime) must not be forked.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=load_vosk, initargs=(str(model_path),)
    ) as pool:
        for text in pool.map(vosk_text, _pcm_jobs(jobs, rendered), chunksize=1):
            heard.append(text)
            progress.advance(jobs[len(heard) - 1].audio_s, len(jobs))
    return heard


# -- the report ---------------------------------------------------------------------------------


def table_row(
    rendered: Rendered, counts: dict[str, Counts], words: int, seconds: float
) -> dict[str, str]:
    """One voice's row of the table."""
    wpm = words_per_minute(words, seconds)
    row = {"voice": rendered.voice, "wpm": f"{wpm:.0f}" if wpm is not None else "-"}
    for key, count in counts.items():
        row[f"WER {key}"] = f"{100 * count.wer:.1f}% ({count.errors}/{count.words})"
    row["first audio, prepared"] = f"{statistics.median(rendered.prepared_ms):.3f} ms"
    row["first audio, unprepared"] = (
        f"{statistics.median(rendered.unprepared_ms):.0f} ms"
        f" (max {max(rendered.unprepared_ms):.0f})"
    )
    spread = max(rendered.levels) - min(rendered.levels)
    row["level spread"] = f"{spread:.2f} dB"
    audio_s = sum(a.duration_s for a in rendered.audio)
    row["load, render all"] = (
        f"{rendered.load_s:.2f} s, {rendered.render_s:.1f} s for {audio_s:.0f} s of audio"
    )
    row["memory"] = f"{rendered.memory_bytes / 1e6:.1f} MB"
    return row


def confusion_text(confusions: Counter[tuple[str, str]], top: int) -> str:
    """The commonest errors as "ref→hyp ×n" ("-" for a missing word)."""
    return ", ".join(
        f"{ref or '-'}→{hyp or '-'} ×{n}" for (ref, hyp), n in confusions.most_common(top)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", default="natural,espeak", help="comma-separated")
    parser.add_argument("--rate", type=int, default=155)
    parser.add_argument("--content", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=0, help="only the first N texts")
    parser.add_argument("--jobs", type=int, default=1, help="Vosk processes (one model each)")
    parser.add_argument("--transcripts", type=Path, default=None, help="write a TSV of them")
    parser.add_argument("--verbose", action="store_true", help="print each transcript")
    args = parser.parse_args()
    voices = [Voice(name.strip()) for name in args.voices.split(",") if name.strip()]
    started = time.monotonic()
    faq = load_content(args.content or default_content_dir())
    texts = list(dict.fromkeys(content_texts(faq)))
    if args.limit:
        texts = texts[: args.limit]
    answers = {entry.answer for entry in faq.entries}
    pronunciations = Pronunciations.of(faq.pronunciations)
    references = [score_words(text) for text in texts]
    model_path = locate_model(None)
    whisper = whisper_transcriber()
    recognisers = ["Vosk"] if whisper is None else ["Vosk", "Whisper"]
    if whisper is None:
        print("Whisper is not installed: its columns are skipped.")
    print(f"{len(texts)} texts ({len(answers & set(texts))} answers) at {args.rate} wpm\n")

    rendered = []
    for voice in voices:
        print(f"Rendering {len(texts)} texts in the {voice.value} voice …", file=sys.stderr)
        rendered.append(render_voice(voice, texts, pronunciations, args.rate))
    jobs = [
        Job(v, t, cond, audio.duration_s)
        for v, voice_audio in enumerate(rendered)
        for t, audio in enumerate(voice_audio.audio)
        for cond in CONDITIONS
    ]
    heard = {"Vosk": transcribe_vosk(jobs, rendered, model_path, args.jobs)}
    if whisper is not None:
        progress = Progress("Whisper", sum(job.audio_s for job in jobs))
        heard["Whisper"] = []
        for job in jobs:
            audio = rendered[job.voice].audio[job.text]
            signal = asr_audio(condition(audio, job.condition), audio.sample_rate)
            heard["Whisper"].append(whisper(signal))
            progress.advance(job.audio_s, len(jobs))

    counts = [
        {f"{name} {cond}": Counts() for name in recognisers for cond in CONDITIONS}
        for _ in rendered
    ]
    lines = ["voice\trecogniser\tcondition\ttext\terrors\twords\treference\theard"]
    for name in recognisers:
        for job, text in zip(jobs, heard[name], strict=True):
            reference, hypothesis = references[job.text], hyp_words(text)
            count = counts[job.voice][f"{name} {job.condition}"]
            before = count.errors
            count.add(reference, hypothesis)
            voice_name = voices[job.voice].value
            lines.append(
                f"{voice_name}\t{name}\t{job.condition}\t{job.text}\t{count.errors - before}"
                f"\t{len(reference)}\t{' '.join(reference)}\t{' '.join(hypothesis)}"
            )
            if args.verbose:
                print(f"  {voice_name} {name} {job.condition} #{job.text}", file=sys.stderr)
                print(f"    REF {' '.join(reference)}\n    HYP {' '.join(hypothesis)}",
                      file=sys.stderr)  # fmt: skip
    if args.transcripts is not None:
        args.transcripts.write_text("\n".join(lines) + "\n", encoding="utf-8")

    rows = []
    for voice_audio, voice_counts in zip(rendered, counts, strict=True):
        answer_audio = [
            a for text, a in zip(texts, voice_audio.audio, strict=True) if text in answers
        ]
        words = sum(len(score_words(text)) for text in texts if text in answers)
        seconds = sum(a.duration_s for a in answer_audio)
        rows.append(table_row(voice_audio, voice_counts, words, seconds))
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(row.get(c, "-") for c in columns) + " |")

    print("\nCommonest errors (reference→heard, '-' for no word):")
    for voice, voice_counts in zip(voices, counts, strict=True):
        for key, count in voice_counts.items():
            print(f"- {voice.value}, {key}: {confusion_text(count.confusions, TOP_ERRORS)}")
    vocabulary = load_vocabulary(model_path)
    outside = Counter(w for reference in references for w in reference if w not in vocabulary)
    print(
        "\nReference words outside Vosk's vocabulary (wrong in every voice): "
        + (", ".join(f"{w} ×{n}" for w, n in outside.most_common()) or "none")
        + f"; {sum(outside.values())} of {sum(len(r) for r in references)} words"
    )
    print(f"\nRun time {_clock(time.monotonic() - started)} (--jobs {args.jobs}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
