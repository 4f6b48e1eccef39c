"""How well the kiosk's voices are understood: every answer and message, through a recogniser.

For each shipped voice this renders every content text the kiosk speaks (answers, messages,
"Did you mean …?" questions, acknowledgements, topic lines) exactly as the kiosk does
(pronunciation table, loudness normalisation, 22,050 Hz), transcribes it with Vosk (the
project's model, open vocabulary) and, when installed, Whisper, and prints:

- WER clean and under stress (pink noise at +5 dB SNR to the gated speech level, then a
  second-order 2 kHz low-pass, 12 dB per octave: a rough stand-in for an older listener in
  a waiting room);
- words per minute over the answers at the default rate;
- time to first audio (median): a prepared line (from the cache) and an unprepared one (its
  first sentence rendered from nothing), on this machine, without the device's own latency;
- level spread: highest minus lowest gated speech level over all sentences, in dB.

The recogniser's WER stands in for how easily a listener understands. Words are compared in the
kiosk's spoken form (lower case, numbers as words); "Dr." counts as "doctor", an acronym such as
"CT" as its letters, and a hyphen as a space, since a listener hears no difference.

    .venv/bin/python benchmarks/bench_voice.py [--voices natural,espeak] [--rate 155] [--limit N]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
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
from voice.speaking.engine import Voice, open_engine  # noqa: E402
from voice.speaking.loudness import speech_level_dbfs  # noqa: E402
from voice.speaking.prerender import OUTPUT_RATE, PreparedSpeech, content_texts  # noqa: E402
from voice.speaking.pronunciation import Pronunciations  # noqa: E402
from voice.text.normalize import spoken_words  # noqa: E402
from voice.text.sentences import split_sentences  # noqa: E402

ASR_RATE = 16000
STRESS_SNR_DB = 5.0
STRESS_CUTOFF_HZ = 2000.0
FloatArray = npt.NDArray[np.float64]


def score_words(text: str) -> list[str]:
    """The words a listener hears in a written text, for scoring."""
    text = re.sub(r"\bDr\.", "doctor", text)
    text = re.sub(r"\b([A-Z]{2,3})\b", lambda m: " ".join(m.group(1)), text)
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
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp))
            )
        previous = current
    return previous[-1]


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


@dataclass
class Counts:
    """Errors and reference words of one condition."""

    errors: int = 0
    words: int = 0

    def add(self, reference: list[str], hypothesis: list[str]) -> None:
        self.errors += edit_distance(reference, hypothesis)
        self.words += len(reference)

    @property
    def wer(self) -> float:
        return self.errors / max(1, self.words)


def vosk_transcriber(model: Any) -> Callable[[FloatArray, int], str]:
    """Transcribe float audio with the project's Vosk model (open vocabulary)."""

    def transcribe(samples: FloatArray, rate: int) -> str:
        audio = resample(samples.astype(np.float32), rate, ASR_RATE)
        pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
        chunks = [pcm[i : i + 8000] for i in range(0, len(pcm), 8000)]
        return decode_chunks(model, chunks).text

    return transcribe


def whisper_transcriber() -> Callable[[FloatArray, int], str] | None:
    """Whisper tiny.en if a Whisper package is installed (nothing is downloaded otherwise)."""
    try:
        import whisper  # type: ignore[import-not-found]
    except ImportError:
        return None
    model = whisper.load_model("tiny.en")

    def transcribe(samples: FloatArray, rate: int) -> str:
        audio = resample(samples.astype(np.float32), rate, ASR_RATE)
        return str(model.transcribe(audio, language="en", fp16=False)["text"])

    return transcribe


def measure(
    voice: Voice,
    texts: list[str],
    answers: set[str],
    pronunciations: Pronunciations,
    rate: int,
    recognisers: dict[str, Callable[[FloatArray, int], str]],
    verbose: bool,
) -> dict[str, str]:
    """One voice's row of the table."""
    started = time.monotonic()
    engine = open_engine(voice)
    load_s = time.monotonic() - started
    if engine.voice is not voice:
        raise SpeechError(f"the {voice.value} voice did not load")
    # Time to first audio for unprepared lines: a cold cache, the first sentence of each text.
    cold = PreparedSpeech(engine, pronunciations, cache_dir=None)
    unprepared_ms = []
    for text in texts:
        first = split_sentences(text)[0]
        t0 = time.perf_counter()
        cold.synthesize(first + " ", rate)  # a key the prepared run below does not reuse
        unprepared_ms.append((time.perf_counter() - t0) * 1000)
    speech = PreparedSpeech(engine, pronunciations, cache_dir=None)
    t0 = time.monotonic()
    rendered = {text: speech.text(text, rate) for text in texts}
    render_s = time.monotonic() - t0
    prepared_ms = []
    for text in texts:
        t0 = time.perf_counter()
        speech.synthesize(split_sentences(text)[0], rate)
        prepared_ms.append((time.perf_counter() - t0) * 1000)
    levels = []
    for text in texts:
        for sentence in split_sentences(text):
            pcm = speech.synthesize(sentence, rate).samples / 32768.0
            level = speech_level_dbfs(pcm, OUTPUT_RATE)
            if level is not None:
                levels.append(level)
    words = seconds = 0.0
    counts = {f"{name} {cond}": Counts() for name in recognisers for cond in ("clean", "stress")}
    for text, audio in rendered.items():
        samples = audio.samples.astype(np.float64) / 32768.0
        reference = score_words(text)
        if text in answers:
            words += len(reference)
            seconds += audio.duration_s
        for name, transcribe in recognisers.items():
            for cond, signal in (("clean", samples), ("stress", stress(samples, OUTPUT_RATE))):
                heard = transcribe(signal, OUTPUT_RATE)
                counts[f"{name} {cond}"].add(reference, hyp_words(heard))
                if verbose and cond == "clean":
                    print(f"  REF {' '.join(reference)}\n  HYP {' '.join(hyp_words(heard))}")
    audio_s = sum(a.duration_s for a in rendered.values())
    row = {
        "voice": f"{voice.value} ({engine.version})",
        "wpm": f"{60 * words / seconds:.0f}" if seconds else "-",
    }
    for key, count in counts.items():
        row[f"WER {key}"] = f"{100 * count.wer:.1f}% ({count.errors}/{count.words})"
    row["first audio, prepared"] = f"{statistics.median(prepared_ms):.3f} ms"
    row["first audio, unprepared"] = (
        f"{statistics.median(unprepared_ms):.0f} ms (max {max(unprepared_ms):.0f})"
    )
    row["level spread"] = f"{max(levels) - min(levels):.2f} dB"
    row["load, render all"] = f"{load_s:.2f} s, {render_s:.1f} s for {audio_s:.0f} s of audio"
    row["memory"] = f"{speech.memory_bytes() / 1e6:.1f} MB"
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", default="natural,espeak")
    parser.add_argument("--rate", type=int, default=155)
    parser.add_argument("--content", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=0, help="only the first N texts")
    parser.add_argument("--verbose", action="store_true", help="print each transcript")
    args = parser.parse_args()
    faq = load_content(args.content or default_content_dir())
    texts = list(dict.fromkeys(content_texts(faq)))
    if args.limit:
        texts = texts[: args.limit]
    answers = {entry.answer for entry in faq.entries}
    pronunciations = Pronunciations.of(faq.pronunciations)
    recognisers: dict[str, Callable[[FloatArray, int], str]] = {
        "Vosk": vosk_transcriber(load_model(locate_model(None)))
    }
    whisper = whisper_transcriber()
    if whisper is None:
        print("Whisper is not installed: its columns are skipped.")
    else:
        recognisers["Whisper"] = whisper
    print(f"{len(texts)} texts ({len(answers & set(texts))} answers) at {args.rate} wpm\n")
    rows = []
    for name in args.voices.split(","):
        rows.append(
            measure(
                Voice(name), texts, answers, pronunciations, args.rate, recognisers, args.verbose
            )
        )
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(row.get(c, "-") for c in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
