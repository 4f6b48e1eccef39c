"""Pre-generate spoken test questions (voices × conditions) into the audio cache, with a manifest.

    .venv/bin/python benchmarks/make_test_audio.py                      # everything
    .venv/bin/python benchmarks/make_test_audio.py --voices heldout --conditions clean,8k_mono
    .venv/bin/python benchmarks/make_test_audio.py --write-fixtures tests/fixtures

The manifest is a TSV with a header row: path, text, expected_id, voice, condition, split
(split is "train" or "heldout", so accuracy can be reported on voices not used for tuning).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# speechgen lives beside the tests (pytest imports it as a top-level module from there).
sys.path.insert(0, str(REPO / "tests"))

from speechgen import (  # noqa: E402
    DEFAULT_CACHE_ROOT,
    AudioCache,
    Condition,
    NoiseKind,
    VoiceSpec,
    add_pause,
    convert,
    heldout_voices,
    mix_noise,
    noise_only,
    silence,
    standard_conditions,
    synthesize,
    train_voices,
)

from voice.errors import UsageError, VoiceError  # noqa: E402

DEFAULT_QUESTIONS = REPO / "tests" / "data" / "typed_eval.tsv"


@dataclass(frozen=True)
class Question:
    """One line of the questions TSV."""

    text: str
    expected_id: str


@dataclass(frozen=True)
class Settings:
    """What to generate, built once from the command line."""

    questions: Path
    voices: tuple[tuple[VoiceSpec, str], ...]  # (voice, "train" | "heldout")
    conditions: tuple[Condition, ...]
    cache: Path
    manifest: Path
    limit: int | None


def read_questions(path: Path) -> list[Question]:
    """Read ``question<TAB>expected_id`` lines, skipping blanks and # comments."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"Could not read the questions file {path}: {exc.strerror}.") from exc
    questions = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip() or not fields[1].strip():
            raise UsageError(f"{path}:{number}: expected 'question<TAB>expected_id'.")
        questions.append(Question(fields[0].strip(), fields[1].strip()))
    return questions


def generate(settings: Settings) -> None:
    """Render every question × voice × condition into the cache and write the manifest."""
    questions = read_questions(settings.questions)[: settings.limit]
    cache = AudioCache(settings.cache)
    per_question: list[float] = []
    by_condition: dict[str, list[float]] = defaultdict(list)
    by_engine: dict[str, list[float]] = defaultdict(list)
    settings.manifest.parent.mkdir(parents=True, exist_ok=True)
    with settings.manifest.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(["path", "text", "expected_id", "voice", "condition", "split"])
        for question in questions:
            started = time.perf_counter()
            for voice, split in settings.voices:
                for condition in settings.conditions:
                    t0 = time.perf_counter()
                    path = cache.render(question.text, voice, condition)
                    elapsed = time.perf_counter() - t0
                    by_condition[condition.name].append(elapsed)
                    if condition.name == "clean":
                        by_engine[voice.engine].append(elapsed)
                    writer.writerow(
                        [path, question.text, question.expected_id, voice.name,
                         condition.name, split]
                    )
            per_question.append(time.perf_counter() - started)
    files = len(questions) * len(settings.voices) * len(settings.conditions)
    total = sum(per_question)
    print(f"{len(questions)} questions, {files} files, {total:.1f} s; manifest {settings.manifest}")
    if per_question:
        print(
            f"per question ({len(settings.voices)} voices × {len(settings.conditions)} "
            f"conditions): mean {statistics.mean(per_question):.2f} s, "
            f"median {statistics.median(per_question):.2f} s, max {max(per_question):.2f} s"
        )
    for name, times in by_condition.items():
        print(f"  condition {name:20s} mean {1000 * statistics.mean(times):7.1f} ms per file")
    for name, times in by_engine.items():
        print(f"  clean synthesis {name:14s} mean {1000 * statistics.mean(times):7.1f} ms")


# Small committed fixtures (tests/fixtures) for tests that must not depend on TTS engines.
_FIXTURE_VOICE = VoiceSpec("espeak-ng", "en-us+m3", 160, 50)
_FIXTURE_QUESTION = "how long will I have to stay on immunotherapy"


def write_fixtures(directory: Path) -> None:
    """Write the small fixture set and its manifest (all 16 kHz mono unless named otherwise)."""
    directory.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    work = directory / ".work"
    work.mkdir(exist_ok=True)

    def to16k(source: Path, name: str) -> Path:
        return convert(source, directory / name, 16000, 1)

    def add(name: str, text: str, expected: str, voice: str, condition: str) -> None:
        rows.append([name, text, expected, voice, condition])

    q = synthesize(_FIXTURE_QUESTION, _FIXTURE_VOICE, work / "q.wav")
    to16k(q, "question_treatment_length.wav")
    add("question_treatment_length.wav", _FIXTURE_QUESTION, "treatment-length",
        _FIXTURE_VOICE.name, "clean")
    mixed = mix_noise(q, work / "q_noisy.wav", 10.0, NoiseKind.BABBLE_NOISE, seed=1)
    to16k(mixed, "question_treatment_length_babble_noise_10dB.wav")
    add("question_treatment_length_babble_noise_10dB.wav", _FIXTURE_QUESTION,
        "treatment-length", _FIXTURE_VOICE.name, "babble+noise_10dB")
    convert(q, directory / "question_treatment_length_8k.wav", 8000, 1)
    add("question_treatment_length_8k.wav", _FIXTURE_QUESTION, "treatment-length",
        _FIXTURE_VOICE.name, "8k_mono")
    slt = VoiceSpec("flite", "slt", None, None)
    text = "can immunotherapy make my cancer worse"
    synthesize(text, slt, directory / "question_make_worse_flite_slt.wav")
    add("question_make_worse_flite_slt.wav", text, "make-cancer-worse", slt.name, "clean")
    female = VoiceSpec("espeak-ng", "en+f2", 140, 55)
    for text, expected, name in (("say that again", "repeat", "command_repeat.wav"),
                                 ("stop", "stop", "command_stop.wav")):
        to16k(synthesize(text, female, work / name), name)
        add(name, text, expected, female.name, "clean")
    parts = ["can cancer spread", "during immunotherapy"]
    to16k(add_pause(parts, 700, _FIXTURE_VOICE, work / "pause.wav"), "question_pause_700ms.wav")
    add("question_pause_700ms.wav", " ".join(parts), "spread-during-treatment",
        _FIXTURE_VOICE.name, "pause_700ms")
    noise_only(directory / "room_noise_2s.wav", 2.0, seed=7, kind=NoiseKind.NOISE)
    add("room_noise_2s.wav", "", "", "", "noise_-35dBFS")
    noise_only(directory / "room_babble_2s.wav", 2.0, seed=7, kind=NoiseKind.BABBLE)
    add("room_babble_2s.wav", "", "", "", "babble_-35dBFS")
    silence(directory / "silence_1s.wav", 1.0)
    add("silence_1s.wav", "", "", "", "silence")
    for leftover in work.iterdir():
        leftover.unlink()
    work.rmdir()
    with (directory / "manifest.tsv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter="\t", lineterminator="\n")
        writer.writerow(["path", "text", "expected_id", "voice", "condition"])
        writer.writerows(rows)
    size = sum(p.stat().st_size for p in directory.glob("*.wav"))
    print(f"wrote {len(rows)} fixtures to {directory} ({size / 1024:.0f} KiB)")


def parse_args(argv: list[str] | None) -> Settings | Path:
    """Build Settings (or the fixtures directory) from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS,
                        help="TSV of question<TAB>expected_id (default: %(default)s)")
    parser.add_argument("--voices", default="all",
                        help="train, heldout, all, or comma-separated voice names "
                             "such as espeak-ng_en-us+m3_s160_p50 (default: all)")
    parser.add_argument("--conditions", default="all",
                        help="all or comma-separated names: "
                             + ", ".join(c.name for c in standard_conditions()))
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE_ROOT,
                        help="cache directory (default: %(default)s)")
    parser.add_argument("--manifest", type=Path, default=None,
                        help="manifest TSV to write (default: <cache>/manifest.tsv)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions")
    parser.add_argument("--write-fixtures", type=Path, default=None, metavar="DIR",
                        help="write the small committed fixture set to DIR and stop")
    args = parser.parse_args(argv)
    if args.write_fixtures is not None:
        return Path(args.write_fixtures)

    splits = [(v, "train") for v in train_voices()] + [(v, "heldout") for v in heldout_voices()]
    if args.voices in ("train", "heldout"):
        voices = [(v, s) for v, s in splits if s == args.voices]
    elif args.voices == "all":
        voices = splits
    else:
        by_name = {v.name: (v, s) for v, s in splits}
        wanted = args.voices.split(",")
        unknown = [n for n in wanted if n not in by_name]
        if unknown:
            raise UsageError(f"Unknown voice(s) {', '.join(unknown)}; known: {', '.join(by_name)}.")
        voices = [by_name[n] for n in wanted]
    known = {c.name: c for c in standard_conditions()}
    names = list(known) if args.conditions == "all" else args.conditions.split(",")
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"Unknown condition(s) {', '.join(unknown)}; known: {', '.join(known)}.")
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1.")
    return Settings(
        questions=args.questions,
        voices=tuple(voices),
        conditions=tuple(known[n] for n in names),
        cache=args.cache,
        manifest=args.manifest or args.cache / "manifest.tsv",
        limit=args.limit,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the generator; turn errors into messages and an exit status."""
    try:
        settings = parse_args(argv)
        if isinstance(settings, Path):
            write_fixtures(settings)
        else:
            generate(settings)
    except VoiceError as exc:
        print(f"make_test_audio: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
