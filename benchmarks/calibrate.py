"""Calibrate the matcher's decision thresholds on the typed evaluation set.

Grid-searches the answer threshold, answer margin and confirm threshold for the highest
answered-correct rate with no more than MAX_WRONG wrong answers and MAX_FA out-of-domain
false-accepts, and prints a two-fold cross-validated estimate so the figure is not only
measured on the data it was tuned on.

    .venv/bin/python benchmarks/calibrate.py [tests/data/typed_eval.tsv ...]

Several files are pooled: for example all of tests/data/*_eval.tsv, so that near-miss questions
(near_miss_eval.tsv) weigh in against answering too readily.
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

from voice.content.loader import default_content_dir, load_content
from voice.matching.evaluation import OUT_OF_DOMAIN, EvalItem, read_eval_file
from voice.matching.matcher import Matcher, Thresholds
from voice.matching.result import Candidate

MAX_WRONG = 0.01
MAX_FA = 0.015


def decide(c: list[Candidate], t: Thresholds) -> tuple[str, str | None]:
    if not c:
        return "decline", None
    s1 = c[0].score
    s2 = c[1].score if len(c) > 1 else 0.0
    if s1 >= t.answer and s1 - s2 >= t.answer_margin:
        return "answer", c[0].entry_id
    if s1 >= t.confirm:
        return "confirm", c[0].entry_id
    return "decline", None


def metrics(data: list[tuple[EvalItem, list[Candidate]]], t: Thresholds) -> tuple[float, ...]:
    ind = [(i, c) for i, c in data if i.expected != OUT_OF_DOMAIN]
    ood = [(i, c) for i, c in data if i.expected == OUT_OF_DOMAIN]
    correct = wrong = fa = ood_confirm = 0
    for item, cands in ind:
        action, eid = decide(cands, t)
        correct += action == "answer" and eid == item.expected
        wrong += action == "answer" and eid != item.expected
    for _item, cands in ood:
        action, _ = decide(cands, t)
        fa += action == "answer"
        ood_confirm += action == "confirm"
    return correct / len(ind), wrong / len(ind), fa / len(ood), ood_confirm / len(ood)


def search(data: list[tuple[EvalItem, list[Candidate]]], base: Thresholds) -> Thresholds:
    best: tuple[tuple[float, ...], Thresholds] | None = None
    grid_a = [x / 100 for x in range(40, 90, 2)]
    grid_m = [x / 100 for x in range(0, 30, 2)]
    for a, m in itertools.product(grid_a, grid_m):
        t = replace(base, answer=a, answer_margin=m)
        c, w, fa, _ = metrics(data, t)
        if w > MAX_WRONG or fa > MAX_FA:
            continue
        # Prefer more correct, then larger safety margins (higher thresholds).
        key = (round(c, 4), a, m)
        if best is None or key > best[0]:
            best = (key, t)
    assert best is not None, "no thresholds meet the safety limits"
    chosen = best[1]
    # Confirm threshold: lowest value offering confirms to no more than 25% of out-of-domain.
    for conf in [x / 100 for x in range(30, int(chosen.answer * 100) + 1, 2)]:
        t = replace(chosen, confirm=conf)
        if metrics(data, t)[3] <= 0.25:
            return t
    return replace(chosen, confirm=chosen.answer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "eval_files",
        nargs="*",
        type=Path,
        default=[Path("tests/data/typed_eval.tsv")],
        help="files of question<TAB>expected_id lines, pooled (default: tests/data/typed_eval.tsv)",
    )
    paths = parser.parse_args().eval_files
    faq = load_content(default_content_dir())
    matcher = Matcher(faq)
    items = [item for path in paths for item in read_eval_file(path)]
    data = [(item, matcher.score_entries(item.question)) for item in items]
    base = matcher.thresholds
    t = search(data, base)
    c, w, fa, oc = metrics(data, t)
    print(f"chosen on all {len(items)} items: answer={t.answer} margin={t.answer_margin} "
          f"confirm={t.confirm}")
    print(f"  correct {c:.1%}  wrong {w:.1%}  ood false-accept {fa:.1%}  ood confirm {oc:.1%}")
    for fold in (0, 1):
        train = [d for k, d in enumerate(data) if k % 2 != fold]
        test = [d for k, d in enumerate(data) if k % 2 == fold]
        tf = search(train, base)
        c, w, fa, oc = metrics(test, tf)
        print(f"fold {fold}: tuned answer={tf.answer} margin={tf.answer_margin} -> held-out "
              f"correct {c:.1%} wrong {w:.1%} false-accept {fa:.1%}")


if __name__ == "__main__":
    main()
