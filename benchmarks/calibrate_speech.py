"""Calibrate the spoken-question policy (voice.hearing.policy.SpeechPolicy) on decoded training
audio.

Reads the JSON lines written by `bench_speech.py --dump` (training voices only), grid-searches
the policy for the most answered-correct questions with at most MAX_WRONG wrong answers and
MAX_FA out-of-domain false-accepts in every condition, and prints the best values with their
per-condition figures, then the figures of the shipped defaults (which may be set more
cautiously than the best). Check the result on held-out voices with bench_speech.py.

    .venv/bin/python benchmarks/calibrate_speech.py .cache/decoded-train.jsonl
"""

from __future__ import annotations

import argparse
import functools
import itertools
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests"))

from bench_speech import load_dump  # noqa: E402

from voice.content.loader import default_content_dir, load_content  # noqa: E402
from voice.hearing.policy import DEFAULT_POLICY, SpeechPolicy, judge  # noqa: E402
from voice.matching.evaluation import EvalItem, EvalReport  # noqa: E402
from voice.matching.matcher import Matcher  # noqa: E402

MAX_WRONG = 2.0  # percent, per condition
MAX_FA = 3.0


def reports(rows, matcher: Matcher, policy: SpeechPolicy):  # type: ignore[no-untyped-def]
    by_cond: dict[str, EvalReport] = defaultdict(EvalReport)
    for _question, expected, condition, heard in rows:
        main = heard.phrases if heard.phrases is not None else heard.transcript
        result = judge(
            matcher, main, heard.open, policy,
            speech_to_background_db=heard.speech_to_background_db,
        )
        by_cond[condition].add(EvalItem("", expected, 0), result)
    return by_cond


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "dump",
        nargs="?",
        type=Path,
        default=REPO / ".cache/decoded-train.jsonl",
        help="JSON lines from bench_speech.py --dump, training voices (default: %(default)s)",
    )
    path = parser.parse_args().dump
    rows = load_dump(path)
    faq = load_content(default_content_dir())
    matcher = Matcher(faq)
    # Every policy re-matches the same transcripts: remember the answers.
    matcher.match = functools.lru_cache(maxsize=None)(matcher.match)  # type: ignore[method-assign]
    matcher.score_entries = functools.lru_cache(maxsize=None)(  # type: ignore[method-assign]
        matcher.score_entries
    )
    matcher.likeness = functools.lru_cache(maxsize=None)(  # type: ignore[method-assign]
        matcher.likeness
    )
    best = None
    for conf, c_unk, d_unk, veto, a_min, c_min in itertools.product(
        [0.0, 0.2, 0.3, 0.4, 0.5],
        [0.2, 0.34, 0.5],
        [0.34, 0.5, 0.8],
        [False, True],
        [0.0, 0.15, 0.25, 0.3, 0.4],
        [0.0, 0.2, 0.3, 0.4],
    ):
        if d_unk < c_unk:
            continue
        policy = SpeechPolicy(
            min_word_confidence=conf,
            confirm_unknown_share=c_unk,
            decline_unknown_share=d_unk,
            veto_other_subject=veto,
            answer_min_open_score=a_min,
            confirm_min_open_score=c_min,
        )
        reps = reports(rows, matcher, policy)
        if any(r.wrong_pct > MAX_WRONG or r.false_accept_pct > MAX_FA for r in reps.values()):
            continue
        score = sum(r.correct_pct for r in reps.values()) / len(reps)
        ood_confirm = sum(r.ood_confirm for r in reps.values())
        key = (round(score, 2), -ood_confirm)
        if best is None or key > best[0]:
            best = (key, policy, reps)
    if best is None:
        print("no policy meets the limits")
        return
    _, policy, reps = best
    print(f"{len(rows)} decoded questions from {path}")
    print(f"best on this set: {policy}")
    show(reps)
    print(f"default: {DEFAULT_POLICY}")
    show(reports(rows, matcher, DEFAULT_POLICY))


def show(reps) -> None:  # type: ignore[no-untyped-def]
    for condition, r in reps.items():
        d = max(r.in_domain, 1)
        confirm = 100 * r.confirm / d
        print(f"  {condition:20s} correct {r.correct_pct:5.1f}%  confirm {confirm:5.1f}%"
              f"  wrong {r.wrong_pct:4.1f}%  decline {100 * r.decline / d:5.1f}%"
              f"  ood FA {r.false_accept_pct:4.1f}%  ood confirm {r.ood_confirm}/{r.out_of_domain}")


if __name__ == "__main__":
    main()
