"""Spoken-question benchmark: accuracy per condition for each decoding policy, and speed.

Generates (and caches) spoken versions of a deterministic sample of tests/data/typed_eval.tsv
with held-out voices (never used for tuning) under clean, 20 dB and 10 dB babble+noise, 44.1 kHz
stereo, 8 kHz and far_slow (20% slower, reverberant, 10 dB quieter) conditions, decodes each
file exactly as `voice ask` does (the open-vocabulary decoder and the FAQ phrase list side by
side), then scores the policies:

  open     - match the open transcript
  phrases  - match the phrase-list transcript
  auto     - phrase-list transcript; the open transcript must support an answer and can veto it

It also prints the recognition real-time factor (one core), model load time, and the peak RSS
of `voice ask FILE`. Figures are medians where timing is involved.

Another FAQ is measured with --content and its questions, for example a test FAQ's blind set
(never fitted on): --content tests/data/faqs/diabetes --questions tests/data/faqs/diabetes/blind.tsv

    .venv/bin/python benchmarks/bench_speech.py [--every 3] [--voices heldout|train|valid]
        [--content DIR] [--questions FILE] [--conditions clean,babble+noise_10dB] [--dump FILE]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from speechgen import (  # noqa: E402
    AudioCache,
    heldout_voices,
    standard_conditions,
    train_voices,
    validation_voices,
)

from voice.ask.recorded import choose_result  # noqa: E402
from voice.content.loader import default_content_dir, load_content  # noqa: E402
from voice.content.schema import Faq  # noqa: E402
from voice.hearing.recognizer import HeardQuestion, SpeechRecognizer  # noqa: E402
from voice.hearing.transcript import Transcript, WordConfidence  # noqa: E402
from voice.matching.evaluation import OUT_OF_DOMAIN, EvalItem, EvalReport, read_eval_file  # noqa: E402
from voice.matching.matcher import Matcher  # noqa: E402
from voice.matching.result import Action, MatchResult  # noqa: E402


@dataclass(frozen=True)
class Decoded:
    expected: str
    condition: str
    heard: HeardQuestion


def decode_file(
    recognizer: SpeechRecognizer, path: Path
) -> tuple[HeardQuestion, float, float, float]:
    """Decode exactly as `voice ask` does; real-time factors of the open, phrase-list and both.

    Both decoders' CPU time is measured around the whole call; each decoder's own share comes
    from the wall time spent in its calls (the process is single-threaded, so they agree when
    the machine is otherwise idle).
    """
    started = time.process_time()
    heard = recognizer.hear_file(path)
    both_s = time.process_time() - started
    assert heard.open is not None and heard.phrases is not None
    audio_s = heard.phrases.audio_s
    return (
        heard,
        heard.open.decode_ms / 1000 / audio_s,
        heard.phrases.decode_ms / 1000 / audio_s,
        both_s / audio_s,
    )


def policy_result(
    policy: str, faq: Faq, matcher: Matcher, heard: HeardQuestion
) -> MatchResult:
    if policy == "open":
        assert heard.open is not None
        only = HeardQuestion(heard.open, None, None, heard.speech_to_background_db)
        return choose_result(faq, matcher, "", only, time.perf_counter()).match
    if policy == "phrases":
        assert heard.phrases is not None
        only = HeardQuestion(heard.phrases, None, heard.phrases, heard.speech_to_background_db)
        return choose_result(faq, matcher, "", only, time.perf_counter()).match
    return choose_result(faq, matcher, "", heard, time.perf_counter()).match


def peak_rss_of_ask(path: Path, content: Path | None = None) -> float:
    cmd = [sys.executable, "-m", "voice", "ask", "--json", str(path)]
    if content is not None:
        cmd += ["--content", str(content)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, check=False, capture_output=True, cwd=REPO)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(before, after) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=3, help="take every Nth eval question")
    parser.add_argument(
        "--voices", choices=["heldout", "train", "valid"], default="heldout",
        help="held-out voices for the figures to report (default); training voices to tune "
        "on; validation voices to check a choice made on the training voices",
    )
    parser.add_argument(
        "--questions", type=Path, default=REPO / "tests/data/typed_eval.tsv",
        help="evaluation file whose questions are spoken (default: tests/data/typed_eval.tsv)",
    )
    parser.add_argument(
        "--content", type=Path, default=None,
        help="the FAQ content folder the questions are asked of (default: the bundled content)",
    )
    parser.add_argument("--offset", type=int, default=0, help="start at this eval question")
    parser.add_argument(
        "--conditions", default="all", help="comma-separated condition names (default: all)"
    )
    parser.add_argument(
        "--dump", type=Path, help="also write every decoding as JSON lines (for calibration)"
    )
    parser.add_argument("--no-rss", action="store_true", help="skip the peak-RSS measurement")
    args = parser.parse_args()

    faq = load_content(args.content or default_content_dir())
    matcher = Matcher(faq)
    started = time.perf_counter()
    recognizer = SpeechRecognizer(faq, None, "auto")
    load_s = time.perf_counter() - started
    items = read_eval_file(args.questions)[args.offset :: args.every]
    known = {entry.id for entry in faq.entries} | {OUT_OF_DOMAIN}
    strangers = sorted({item.expected for item in items} - known)
    if strangers:
        sys.exit(f"{args.questions} expects entries the content does not hold "
                 f"({', '.join(strangers[:5])}): give the questions of that FAQ with --questions.")
    conditions = [
        c for c in standard_conditions()
        if args.conditions == "all" or c.name in args.conditions.split(",")
    ]
    dump = args.dump.open("w", encoding="utf-8") if args.dump else None
    voices = {"heldout": heldout_voices, "train": train_voices, "valid": validation_voices}[
        args.voices
    ]()
    cache = AudioCache()
    decoded: list[Decoded] = []
    rtf_open: list[float] = []
    rtf_phrases: list[float] = []
    rtf_both: list[float] = []
    gen_started = time.perf_counter()
    for index, item in enumerate(items):
        voice = voices[index % len(voices)]
        for condition in conditions:
            path = cache.render(item.question, voice, condition)
            heard, r_open, r_phr, r_both = decode_file(recognizer, path)
            rtf_open.append(r_open)
            rtf_phrases.append(r_phr)
            rtf_both.append(r_both)
            decoded.append(Decoded(item.expected, condition.name, heard))
            if dump is not None:
                dump.write(json.dumps({
                    "question": item.question, "expected": item.expected,
                    "condition": condition.name, "voice": voice.name,
                    "open": _transcript_json(heard.open),
                    "phrases": _transcript_json(heard.phrases),
                    "speech_to_background_db": heard.speech_to_background_db,
                }) + "\n")
    elapsed = time.perf_counter() - gen_started
    if dump is not None:
        dump.close()
    print(f"{len(items)} questions x {len(conditions)} conditions, "
          f"{args.voices} voices ({', '.join(v.voice for v in voices)}); {elapsed:.0f} s")
    print(f"model load: {load_s:.2f} s (includes the phrase list)")
    rtf_o, rtf_p = statistics.median(rtf_open), statistics.median(rtf_phrases)
    print(f"real-time factor, one core, median: both decoders {statistics.median(rtf_both):.3f}"
          f" (CPU time / audio time); open {rtf_o:.3f}, phrase list {rtf_p:.3f} (wall time)")
    print()
    header = f"{'condition':20s} {'policy':8s} {'correct':>8s} {'confirm':>8s} {'wrong':>7s} " \
             f"{'decline':>8s} {'ood FA':>7s} {'ood conf':>8s}"
    print(header)
    by_condition: dict[str, list[Decoded]] = defaultdict(list)
    for d in decoded:
        by_condition[d.condition].append(d)
    for name, rows in by_condition.items():
        for policy in ("open", "phrases", "auto"):
            report = EvalReport()
            for d in rows:
                result = policy_result(policy, faq, matcher, d.heard)
                report.add(EvalItem("", d.expected, 0), result)
            d_n = max(report.in_domain, 1)
            print(f"{name:20s} {policy:8s} {report.correct_pct:7.1f}% "
                  f"{100 * report.confirm / d_n:7.1f}% {report.wrong_pct:6.1f}% "
                  f"{100 * report.decline / d_n:7.1f}% {report.false_accept_pct:6.1f}% "
                  f"{100 * report.ood_confirm / max(report.out_of_domain, 1):7.1f}%")
    ood_forced = [
        d for d in decoded
        if d.expected == OUT_OF_DOMAIN and d.condition == "clean"
        and policy_result("phrases", faq, matcher, d.heard).action is not Action.DECLINE
    ]
    n_ood = sum(1 for d in decoded if d.expected == OUT_OF_DOMAIN and d.condition == "clean")
    print(f"\nout-of-domain speech forced into an FAQ answer or confirm by the phrase list "
          f"(clean): {len(ood_forced)} of {n_ood}")
    if not args.no_rss:
        sample = cache.render(items[0].question, voices[0], standard_conditions()[0])
        rss = [peak_rss_of_ask(sample, args.content) for _ in range(3)]
        print(f"peak RSS of `voice ask FILE` (auto decoding): {max(rss):.0f} MB")


def _transcript_json(t: Transcript | None) -> dict[str, object] | None:
    if t is None:
        return None
    return {
        "text": t.text,
        "words": [[w.word, w.conf, w.start, w.end] for w in t.words],
        "audio_s": t.audio_s,
        "decode_ms": t.decode_ms,
    }


def load_dump(path: Path) -> list[tuple[str, str, str, HeardQuestion]]:
    """Read a --dump file back: (question, expected, condition, heard)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        t_open = _transcript_from(d["open"])
        t_phr = _transcript_from(d["phrases"])
        rows.append((d["question"], d["expected"], d["condition"],
                     HeardQuestion(t_phr, t_open, t_phr, d.get("speech_to_background_db"))))
    return rows


def _transcript_from(d: dict[str, object]) -> Transcript:
    words = tuple(WordConfidence(*w) for w in d["words"])  # type: ignore[attr-defined]
    return Transcript(str(d["text"]), words, float(d["audio_s"]),  # type: ignore[arg-type]
                      float(d["decode_ms"]))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
