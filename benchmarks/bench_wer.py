"""Word error rate of `voice transcribe` (open vocabulary) on real read speech.

The recordings are Debian's pocketsphinx-testdata LibriVox clips (a human reader, 16 kHz) with
their reference transcripts. All files go through one `voice transcribe` call, as a developer
would run it; words are compared lower-cased and without punctuation. Prints each file's
reference, hypothesis and WER, then the total WER (all errors / all reference words).

    .venv/bin/python benchmarks/bench_wer.py [--model PATH]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import soundfile as sf  # noqa: E402
from speechgen import librivox_samples  # noqa: E402

VOICE = str(Path(sys.executable).with_name("voice"))


@dataclass(frozen=True)
class Errors:
    """Word-level edit counts of a hypothesis against its reference."""

    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0

    @property
    def total(self) -> int:
        """All errors together (the WER numerator)."""
        return self.substitutions + self.deletions + self.insertions

    def __add__(self, other: Errors) -> Errors:
        return Errors(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
        )


def words(text: str) -> list[str]:
    """Lower-cased words without punctuation (apostrophes inside words are kept: "don't")."""
    cleaned = re.sub(r"[^a-z0-9']+", " ", text.lower())
    return [w.strip("'") for w in cleaned.split() if w.strip("'")]


def align(reference: list[str], hypothesis: list[str]) -> Errors:
    """The fewest substitutions + deletions + insertions turning reference into hypothesis."""
    # previous[j]: best Errors for reference[:i-1] against hypothesis[:j]; one row at a time.
    previous = [Errors(insertions=j) for j in range(len(hypothesis) + 1)]
    for i, ref_word in enumerate(reference, start=1):
        current = [Errors(deletions=i)]
        for j, hyp_word in enumerate(hypothesis, start=1):
            diagonal = previous[j - 1]
            if ref_word != hyp_word:
                diagonal = diagonal + Errors(substitutions=1)
            current.append(
                min(
                    diagonal,
                    previous[j] + Errors(deletions=1),
                    current[j - 1] + Errors(insertions=1),
                    key=lambda e: e.total,
                )
            )
        previous = current
    return previous[-1]


def transcribe(files: list[Path], model: Path | None) -> tuple[dict[str, str], float]:
    """Run `voice transcribe` once over every file: ({path: hypothesis}, wall seconds)."""
    command = [VOICE, "transcribe", *map(str, files)]
    if model is not None:
        command += ["--model", str(model)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"voice transcribe failed (exit {done.returncode}):\n{done.stderr}")
    hypotheses = {}
    for line in done.stdout.splitlines():
        path, _, text = line.partition("\t")
        hypotheses[path] = text
    return hypotheses, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="Vosk model folder (default: voice's default)")
    args = parser.parse_args()

    samples = librivox_samples()
    hypotheses, seconds = transcribe([path for path, _ in samples], args.model)
    total = Errors()
    reference_words = 0
    audio_s = 0.0
    for path, reference in samples:
        audio_s += sf.info(str(path)).duration
        ref = words(reference)
        hyp = words(hypotheses[str(path)])
        errors = align(ref, hyp)
        total = total + errors
        reference_words += len(ref)
        print(f"{path.name}")
        print(f"  ref: {' '.join(ref)}")
        print(f"  hyp: {' '.join(hyp)}")
        print(
            f"  WER {errors.total / len(ref):.1%} ({errors.total}/{len(ref)}: "
            f"{errors.substitutions} sub, {errors.deletions} del, {errors.insertions} ins)"
        )
    print(
        f"TOTAL WER {total.total / reference_words:.1%} over {len(samples)} files, "
        f"{reference_words} reference words ({total.substitutions} sub, {total.deletions} del, "
        f"{total.insertions} ins)"
    )
    print(
        f"{audio_s:.1f} s of audio in {seconds:.1f} s wall time "
        "(one `voice transcribe` call, model load included)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
