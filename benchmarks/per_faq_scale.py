"""Experiment (issue 14): does putting each FAQ's cosines on one scale make the decision carry
over to an FAQ it never saw?

Each FAQ's scores sit in a different place (its phrasings are more or less alike), so thresholds
fitted on the pooled FAQs decline many answerable questions on some FAQs. Here each FAQ gets a
reference from its own content, computed as the kiosk could when content loads: the median, over
its entry texts (question and phrasings), of the best cosine with another text of the same entry
("own") and with a text of another entry ("other"). The semantic scores of every question are
then mapped onto the mean reference of the FAQs:

- ``none``: as shipped;
- ``shift``: moved so that the FAQ's "other" median lands on the mean "other";
- ``affine``: stretched so that both its "own" and "other" medians land on the means.

For each, the decision is fitted and thresholded as fit_decision.py does, validated
leave-one-FAQ-out on the fitted sets, and the most cautious thresholds (as shipped) are measured
on the sets never fitted on (blind2 and each test FAQ's blind.tsv). Nothing is written.

    .venv/bin/python benchmarks/per_faq_scale.py
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import fit_decision as fd  # noqa: E402

from voice.content.loader import load_content  # noqa: E402
from voice.matching.decision import FEATURES, DecisionModel, features  # noqa: E402
from voice.semantic.index import load_index  # noqa: E402

MODES = ("none", "shift", "affine")


def reference(content: Path) -> tuple[float, float]:
    """The FAQ's median best cosine of an entry text with its own entry and with another."""
    index = load_index(load_content(content))
    if index is None:
        sys.exit("The embedding model is not installed: run `voice model fetch` first.")
    vectors, owners = index.vectors, index.owners
    similarity = vectors @ vectors.T
    own: list[float] = []
    other: list[float] = []
    for i in range(len(vectors)):
        same = owners == owners[i]
        others = ~same
        same[i] = False
        if same.any():
            own.append(float(similarity[i, same].max()))
        if others.any():
            other.append(float(similarity[i, others].max()))
    return float(np.median(own)), float(np.median(other))


def rescale(
    rows: Sequence[fd.Row], mode: str, refs: dict[str, tuple[float, float]]
) -> list[fd.Row]:
    """The rows with their semantic scores mapped by ``mode`` and their features recomputed."""
    if mode == "none":
        return list(rows)
    mean_own = float(np.mean([r[0] for r in refs.values()]))
    mean_other = float(np.mean([r[1] for r in refs.values()]))
    out: list[fd.Row] = []
    for row in rows:
        if row.evidence is None:
            out.append(row)
            continue
        ranking, facts = row.evidence
        own, other = refs[row.faq]
        if mode == "shift":
            semantic = ranking.semantic - (other - mean_other)
        else:
            stretch = (mean_own - mean_other) / (own - other)
            semantic = mean_other + (ranking.semantic - other) * stretch
        scaled = dataclasses.replace(ranking, semantic=semantic)
        named = features(row.lexical, scaled, facts)
        x = np.array([named[f] for f in FEATURES])
        out.append(dataclasses.replace(row, evidence=(scaled, facts), x=x))
    return out


def validate(rows: Sequence[fd.Row], lines: list[str]) -> DecisionModel:
    """Leave-one-FAQ-out lines, and the shipped-style model (most cautious thresholds)."""
    folds: list[dict[str, float]] = []
    for held in fd.FAQS:
        train = [r for r in rows if r.faq != held]
        model = fd.choose(train, fd.fit_logistic(train))
        folds.append(model.thresholds())
        lines.append(fd.line(f"{held} (held out)", "lofo", fd.count(
            [r for r in rows if r.faq == held], model)))
    fit = fd.fit_logistic(rows)
    folds.append(fd.choose(rows, fit).thresholds())
    return fd.most_cautious(fit, folds)


def main() -> None:
    refs = {faq: reference(content) for faq, (content, _) in fd.FAQS.items()}
    print("each FAQ's reference (median best cosine of an entry text with):")
    for faq, (own, other) in refs.items():
        print(f"  {faq:16s} its own entry {own:.3f}   another entry {other:.3f}")
    blind = fd.blind_sets()
    fitted_rows, blind_rows = fd.gather(), fd.gather(blind, blind_ok=True)
    for mode in MODES:
        fd._P.clear()  # probabilities are cached per row and fit
        rows = rescale(fitted_rows, mode, refs)
        lines = [f"\n### {mode}", fd.HEADER]
        model = validate(rows, lines)
        lines.append(f"most cautious thresholds: {model.thresholds()}")
        held_rows = rescale(blind_rows, mode, refs)
        for faq in blind:
            lines.append(fd.line(f"{faq} never fitted", mode, fd.count(
                [r for r in held_rows if r.faq == faq], model)))
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
