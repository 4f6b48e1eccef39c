"""Evaluation sets (question -> expected entry id or "none") and the accuracy report."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from voice.errors import UsageError
from voice.matching.result import Action, MatchResult

OUT_OF_DOMAIN = "none"


@dataclass(frozen=True)
class EvalItem:
    """One evaluation question and the entry id it should reach ("none" = out of domain)."""

    question: str
    expected: str
    line: int


@dataclass(frozen=True)
class Miss:
    """An evaluation item that was not answered correctly."""

    item: EvalItem
    result: MatchResult


@dataclass
class EvalReport:
    """Counts over in-domain and out-of-domain items."""

    in_domain: int = 0
    correct: int = 0
    confirm: int = 0
    confirm_correct: int = 0
    wrong: int = 0
    decline: int = 0
    out_of_domain: int = 0
    false_accept: int = 0
    ood_confirm: int = 0
    misses: list[Miss] = field(default_factory=list)

    def add(self, item: EvalItem, result: MatchResult) -> None:
        """Count one result."""
        if item.expected == OUT_OF_DOMAIN:
            self.out_of_domain += 1
            if result.action is Action.ANSWER:
                self.false_accept += 1
                self.misses.append(Miss(item, result))
            elif result.action is not Action.DECLINE:
                self.ood_confirm += 1
                self.misses.append(Miss(item, result))
            return
        self.in_domain += 1
        if result.action is Action.ANSWER and result.entry_id == item.expected:
            self.correct += 1
            return
        if result.action is Action.ANSWER:
            self.wrong += 1
        elif result.action is Action.CONFIRM:
            self.confirm += 1
            self.confirm_correct += result.entry_id == item.expected
        else:
            self.decline += 1
        self.misses.append(Miss(item, result))

    @staticmethod
    def _pct(n: int, d: int) -> float:
        return 100.0 * n / d if d else 0.0

    @property
    def correct_pct(self) -> float:
        """Answered-correct, percent of in-domain items."""
        return self._pct(self.correct, self.in_domain)

    @property
    def wrong_pct(self) -> float:
        """Wrong answers, percent of in-domain items."""
        return self._pct(self.wrong, self.in_domain)

    @property
    def false_accept_pct(self) -> float:
        """Out-of-domain items answered, percent of out-of-domain items."""
        return self._pct(self.false_accept, self.out_of_domain)

    def summary_lines(self) -> list[str]:
        """The figures, one per line, for people."""
        d = self.in_domain
        return [
            f"in-domain questions:        {d}",
            f"answered-correct:           {self.correct} ({self.correct_pct:.1f}%)",
            f"confirm:                    {self.confirm} ({self._pct(self.confirm, d):.1f}%)"
            f", of which the right entry: {self.confirm_correct}",
            f"wrong-answer:               {self.wrong} ({self.wrong_pct:.1f}%)",
            f"decline:                    {self.decline} ({self._pct(self.decline, d):.1f}%)",
            f"out-of-domain questions:    {self.out_of_domain}",
            f"out-of-domain false-accept: {self.false_accept} ({self.false_accept_pct:.1f}%)"
            f", confirm offered: {self.ood_confirm}",
        ]


def read_eval_file(path: Path) -> list[EvalItem]:
    """Read a TSV of ``question<TAB>expected_id``; ``#`` starts a comment line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the evaluation file ({exc}).") from exc
    items: list[EvalItem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in raw.split("\t")]
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise UsageError(
                f"{path}:{number}: expected 'question<TAB>expected_id' (use 'none' for "
                f"out-of-domain questions), got {raw!r}."
            )
        items.append(EvalItem(parts[0], parts[1], number))
    if not items:
        raise UsageError(f"{path}: the evaluation file has no questions.")
    return items


def evaluate(items: Iterable[EvalItem], match: Callable[[str], MatchResult]) -> EvalReport:
    """Run every item through ``match`` and count the outcomes."""
    report = EvalReport()
    for item in items:
        report.add(item, match(item.question))
    return report
