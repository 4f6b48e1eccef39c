"""Say hard words the way the clinic wants: whole-word respellings applied before either engine.

The caption keeps the written word; only what is spoken changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Pronunciations:
    """Written word or phrase -> how to say it, matched whole and ignoring case."""

    table: tuple[tuple[str, str], ...] = ()
    _pattern: re.Pattern[str] | None = field(default=None, init=False, compare=False, repr=False)
    _spoken: dict[str, str] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.table:
            return
        spoken = {written.casefold(): said for written, said in self.table}
        # Longest first, so "X-19" is replaced before "X".
        words = sorted(spoken, key=len, reverse=True)
        alternatives = "|".join(re.escape(word) for word in words)
        # Not inside a longer word: no letter, digit or joining hyphen on either side.
        pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w]|-\w)", re.IGNORECASE)
        object.__setattr__(self, "_pattern", pattern)
        object.__setattr__(self, "_spoken", spoken)

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> Pronunciations:
        """A table from (written, spoken) pairs."""
        return cls(tuple(pairs))

    def apply(self, text: str) -> str:
        """The text as the engine should read it."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self._spoken[m.group(0).casefold()], text)

    def digest_text(self) -> str:
        """A stable description of the table, for cache keys."""
        return "\n".join(f"{written}\t{said}" for written, said in self.table)
