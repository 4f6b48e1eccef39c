"""Experiment (issue 14): is the lexical gate the limit on an FAQ the decision never saw, and
what evidence would one decision need?

Shipped (voice/matching/decision.py), the lexical matcher's call stands and the logistic
probability only lifts, vetoes or rescues it. "One decision" here takes all the evidence, the
lexical call only among its features: answer the hybrid ranking's best entry at p >= answer,
offer it at p >= confirm, decline below; the named rules stay first (no words, a control phrase,
another subject). Thresholds are chosen on the training FAQs by fit_decision.py's rules (no set
may get more wrong or off-topic answers than the lexical decision gives it).

Evidence beyond the shipped features, each computed from content and language data only:

- ``answers``: the question's cosine with the answers' sentences (bge's query-to-passage use);
- ``background``: its best cosine with a generic corpus of questions people ask at a hospital
  kiosk on many subjects (benchmarks/data/background_questions.txt, written without seeing our
  FAQs), less those the FAQ covers (cosine >= COVERED with one of its texts); as ``bg`` and
  ``sem_top - bg``;
- ``rival``: how close the best entry is to the FAQ's other entries (the median over its texts
  of the best cosine with another entry's text): near-duplicate entries are easy to confuse.

Tables:
1. shipped design and one decision, same evidence, leave-one-FAQ-out: on the held-out FAQ's
   fitted sets and on its blind set (nothing was ever fitted on the blind sets);
2. AUC of p (the best entry is right, against wrong or off-topic) on the held-out FAQ, per
   evidence;
3. one decision with background and rival evidence as it would ship: fitted on every FAQ's
   fitted sets, each threshold the most cautious of the folds' and the pooled choice, on the
   blind sets.

Nothing is written. About five minutes on one core.

    .venv/bin/python benchmarks/one_decision.py
    .venv/bin/python benchmarks/one_decision.py --exclude-topics "blood pressure,diabetes"
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import fit_decision as fd  # noqa: E402

from voice.content.loader import load_content  # noqa: E402
from voice.matching.evaluation import OUT_OF_DOMAIN  # noqa: E402
from voice.matching.result import Action  # noqa: E402
from voice.semantic.index import entry_texts  # noqa: E402
from voice.semantic.model import OnnxEmbedder, shared_embedder  # noqa: E402

BACKGROUND = REPO / "benchmarks" / "data" / "background_questions.txt"
COVERED = 0.85  # a background question this close to one of the FAQ's texts is the FAQ's own
SIZES = {"answers": 3, "background": 2, "rival": 1}  # features per kind of evidence

Fit = tuple[float, np.ndarray, np.ndarray, np.ndarray]
Decided = tuple[Action, str | None]


def probabilities(fit: Fit, x: np.ndarray) -> np.ndarray:
    """The logistic p of each row of features."""
    intercept, coef, mean, scale = fit
    return np.asarray(1.0 / (1.0 + np.exp(-(intercept + ((x - mean) / scale) @ coef))))


def named_rule(row: fd.Row) -> bool:
    """The rules no evidence overrides (as in decide())."""
    if row.evidence is None:
        return True
    facts = row.evidence[1]
    return (
        row.lexical.action is Action.COMMAND
        or row.lexical.reason == "no_words"
        or facts.other_subject
    )


def one_decision(row: fd.Row, p: float, answer: float, confirm: float) -> Decided:
    if named_rule(row):
        return row.lexical.action, row.lexical.entry_id
    if p >= answer:
        return Action.ANSWER, row.top
    if p >= confirm:
        return Action.CONFIRM, row.top
    return Action.DECLINE, None


def tally(rows: Sequence[fd.Row], decided: Sequence[Decided]) -> dict[str, float]:
    """% of in-domain answered right, wrong, offered right; % of off-topic answered."""
    n = [0, 0, 0, 0, 0, 0]  # in-domain, right, wrong, offered right, off-topic, answered
    for row, (action, entry) in zip(rows, decided, strict=True):
        if row.expected == OUT_OF_DOMAIN:
            n[4] += 1
            n[5] += action is Action.ANSWER
            continue
        n[0] += 1
        if action is Action.ANSWER:
            n[1 if entry == row.expected else 2] += 1
        elif action is Action.CONFIRM:
            n[3] += entry == row.expected
    d, o = max(n[0], 1), max(n[4], 1)
    return {"right": 100 * n[1] / d, "wrong": 100 * n[2] / d, "offered": 100 * n[3] / d,
            "off": 100 * n[5] / o}


def choose(train: Sequence[fd.Row], fit: Fit, strict: bool = True) -> tuple[float, float]:
    """Answer and confirm thresholds on the training FAQs, by fit_decision's rules: no set of a
    training FAQ gets more wrong or off-topic answers than the lexical decision gives it (only
    when ``strict``: when no threshold qualifies, the most cautious, 0.99); among the rest, most
    answered-correct per FAQ less PENALTY per point past the wrong and off-topic limits; then
    the most right offers less the other offers."""
    p = probabilities(fit, np.vstack([r.x for r in train]))
    faqs = sorted({r.faq for r in train})
    members = {faq: [i for i, r in enumerate(train) if r.faq == faq] for faq in faqs}
    sets = {(r.faq, r.set) for r in train}
    in_set = {k: [i for i, r in enumerate(train) if (r.faq, r.set) == k] for k in sets}
    lexical = {k: tally([train[i] for i in idx],
                        [(train[i].lexical.action, train[i].lexical.entry_id) for i in idx])
               for k, idx in in_set.items()}

    def no_set_worse(answer: float) -> bool:
        for k, idx in in_set.items():
            t = tally([train[i] for i in idx],
                      [one_decision(train[i], p[i], answer, 1.1) for i in idx])
            if t["wrong"] > lexical[k]["wrong"] + 1e-9 or t["off"] > lexical[k]["off"] + 1e-9:
                return False
        return True

    def score(answer: float) -> float:
        if strict and not no_set_worse(answer):
            return -1e9 + answer  # none qualifies: the most cautious
        total = 0.0
        for idx in members.values():
            t = tally([train[i] for i in idx],
                      [one_decision(train[i], p[i], answer, 1.1) for i in idx])
            total += (t["right"] - fd.PENALTY * max(0.0, t["wrong"] - fd.MAX_WRONG)
                      - fd.PENALTY * max(0.0, t["off"] - fd.MAX_OFF_TOPIC))
        return total

    answer = max((float(a) for a in np.round(np.arange(0.5, 1.0, 0.01), 2)), key=score)

    def offers(confirm: float) -> int:
        balance = 0
        for row, pi in zip(train, p, strict=True):
            action, entry = one_decision(row, pi, answer, confirm)
            if action is Action.CONFIRM and not named_rule(row):
                right = row.expected != OUT_OF_DOMAIN and entry == row.expected
                balance += 1 if right else -1
        return balance

    confirm = max((float(c) for c in np.round(np.arange(0.1, answer, 0.02), 2)), key=offers)
    return answer, confirm


def read_background(exclude: Sequence[str]) -> list[str]:
    """The background questions, without topics whose name holds one of ``exclude``."""
    questions: list[str] = []
    topic = ""
    for line in BACKGROUND.read_text(encoding="utf-8").splitlines():
        if line.startswith("# topic:"):
            topic = line.split(":", 1)[1].strip().lower()
        elif (line.strip() and not line.startswith("#")
              and not any(word in topic for word in exclude)):
            questions.append(line.strip())
    return questions


class Evidence:
    """The extra evidence for one FAQ's questions."""

    def __init__(self, embedder: OnnxEmbedder, content: Path, background: np.ndarray) -> None:
        faq = load_content(content)
        self.ids = [e.id for e in faq.entries]
        self.embedder = embedder
        texts, owners = entry_texts(faq)
        vectors = embedder.embed(texts)
        self.background = background[(background @ vectors.T).max(axis=1) < COVERED]
        self.dropped = len(background) - len(self.background)
        similar = vectors @ vectors.T
        self.rival = {}
        for i, entry_id in enumerate(self.ids):
            own = owners == i
            self.rival[entry_id] = float(np.median(similar[np.ix_(own, ~own)].max(axis=1)))
        sentences: list[str] = []
        sentence_owner: list[int] = []
        for i, entry in enumerate(faq.entries):
            for sentence in re.split(r"(?<=[.?!])\s+", entry.answer):
                if len(sentence.split()) >= 3:
                    sentences.append(sentence)
                    sentence_owner.append(i)
        self.sentences = embedder.embed(sentences)
        self.sentence_owner = np.asarray(sentence_owner)

    def of(self, row: fd.Row) -> dict[str, list[float]]:
        query = self.embedder.embed_query(row.question)
        assert row.evidence is not None and row.top is not None
        top = self.ids.index(row.top)
        answers = np.full(len(self.ids), -1.0)
        np.maximum.at(answers, self.sentence_owner, self.sentences @ query)
        bg = float((self.background @ query).max()) if len(self.background) else 0.0
        sem_top = float(row.evidence[0].semantic.max())
        return {
            "answers": [answers[top], answers.max(), float(int(np.argmax(answers)) == top)],
            "background": [bg, sem_top - bg],
            "rival": [self.rival[row.top]],
        }


def with_features(rows: Sequence[fd.Row], extra: Sequence[list[float]]) -> list[fd.Row]:
    """The rows with more features after their own."""
    return [replace(r, x=np.concatenate([r.x, e])) for r, e in zip(rows, extra, strict=True)]


def auc(p: np.ndarray, label: np.ndarray) -> float:
    pos, neg = p[label == 1], p[label == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    return float((pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean())


def row_line(faq: str, label: str, design: str, t: dict[str, float], limits: str) -> str:
    return (f"{faq:16s} {label:6s} {design:10s} {t['right']:6.1f} {t['wrong']:6.1f} "
            f"{t['offered']:6.1f} | {t['off']:5.1f}   {limits}")


def design_table(fitted: list[fd.Row], never: list[fd.Row]) -> None:
    for held in fd.FAQS:
        train = [r for r in fitted if r.faq != held]
        fit = fd.fit_logistic(train)
        shipped = fd.choose(train, fit)
        answer, confirm = choose([r for r in train if r.evidence is not None], fit)
        for label, rows in (("fitted", [r for r in fitted if r.faq == held]),
                            ("blind", [r for r in never if r.faq == held])):
            fd._P.clear()
            current = [(m.action, m.entry_id) for m in (fd.final(r, shipped) for r in rows)]
            p = probabilities(fit, np.vstack([r.x for r in rows]))
            one = [one_decision(r, pi, answer, confirm) for r, pi in zip(rows, p, strict=True)]
            print(row_line(held, label, "shipped", tally(rows, current),
                           f"answer {shipped.answer}, rescue {shipped.rescue}"))
            print(row_line(held, label, "one", tally(rows, one),
                           f"answer {answer}, confirm {confirm}"), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exclude-topics", default="",
                        help="comma-separated words: leave out background topics naming them")
    args = parser.parse_args()
    exclude = [w.strip().lower() for w in args.exclude_topics.split(",") if w.strip()]
    fitted, never = fd.gather(), fd.gather(fd.blind_sets(), blind_ok=True)
    header = (f"{'FAQ':16s} {'set':6s} {'design':10s} {'right':>6s} {'wrong':>6s} "
              f"{'offer':>6s} | {'off':>5s}   thresholds")
    print("Columns: % of in-domain answered right / wrong / offered right (\"Did you mean\" the "
          "right entry) | % of off-topic answered.\n\n1. Leave-one-FAQ-out, shipped features: "
          "fitted and thresholded on the other FAQs' fitted sets")
    print(header)
    design_table(fitted, never)

    embedder = shared_embedder()
    questions = read_background(exclude)
    corpus = embedder.embed(questions)
    evidence = {faq: Evidence(embedder, content, corpus) for faq, (content, _) in fd.FAQS.items()}
    print(f"\nbackground: {len(questions)} questions"
          + (f" (topics naming {', '.join(exclude)} left out)" if exclude else "")
          + "; dropped as the FAQ's own: "
          + ", ".join(f"{faq} {e.dropped}" for faq, e in evidence.items()))
    usable_fitted = [r for r in fitted if r.evidence is not None]
    usable_never = [r for r in never if r.evidence is not None]
    extra = {id(r): evidence[r.faq].of(r) for r in usable_fitted + usable_never}
    variants = {
        "shipped": (),
        "+answers": ("answers",),
        "+background": ("background",),
        "+bg+rival": ("background", "rival"),
    }

    def rows_for(kinds: Sequence[str], rows: list[fd.Row]) -> list[fd.Row]:
        """The rows with these kinds of evidence (zeros where there is none: no words)."""
        out: list[list[float]] = []
        for r in rows:
            features: list[float] = []
            for k in kinds:
                features += extra[id(r)][k] if id(r) in extra else [0.0] * SIZES[k]
            out.append(features)
        return with_features(rows, out)

    print("\n2. AUC of p on the held-out FAQ (fitted on the other FAQs' fitted sets): fitted "
          "sets / blind set")
    print(f"{'FAQ':16s} " + " ".join(f"{name:>15s}" for name in variants))
    for held in fd.FAQS:
        cells = []
        for kinds in variants.values():
            train = rows_for(kinds, [r for r in fitted if r.faq != held])
            fit = fd.fit_logistic(train)
            parts = []
            for part in (usable_fitted, usable_never):
                mine = rows_for(kinds, [r for r in part if r.faq == held])
                p = probabilities(fit, np.vstack([r.x for r in mine]))
                parts.append(auc(p, np.array([r.label for r in mine])))
            cells.append(f"{parts[0]:.3f} / {parts[1]:.3f}")
        print(f"{held:16s} " + " ".join(f"{c:>15s}" for c in cells), flush=True)

    print("\n3. One decision with background and rival evidence, as it would ship: fitted on "
          "every FAQ's fitted sets, thresholds the most cautious of the folds' and the pooled "
          "choice; with fit_decision's rule (no set worse than the lexical decision) and with its "
          "penalty alone")
    print(header)
    kinds = variants["+bg+rival"]
    rows = rows_for(kinds, fitted)
    held_rows = rows_for(kinds, never)
    fit = fd.fit_logistic(rows)
    for strict in (True, False):
        folds = [choose([r for r in rows if r.faq != held],
                        fd.fit_logistic([r for r in rows if r.faq != held]), strict)
                 for held in fd.FAQS]
        folds.append(choose(rows, fit, strict))
        answer, confirm = max(a for a, _ in folds), max(c for _, c in folds)
        design = "strict" if strict else "penalty"
        for faq in fd.FAQS:
            for label, part in (("fitted", rows), ("blind", held_rows)):
                mine = [r for r in part if r.faq == faq]
                p = probabilities(fit, np.vstack([r.x for r in mine]))
                decided = [one_decision(r, pi, answer, confirm)
                           for r, pi in zip(mine, p, strict=True)]
                print(row_line(faq, label, design, tally(mine, decided),
                               f"answer {answer}, confirm {confirm}"), flush=True)


if __name__ == "__main__":
    main()
