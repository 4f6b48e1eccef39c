"""Where tables, keys and values sit in a content file (tomllib gives no positions), so every
problem can name its line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from voice.text.normalize import phrasing_key

_TABLE_HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY_LINE = re.compile(r"""\s*("[^"\n]*"|'[^'\n]*'|[A-Za-z0-9_-]+)\s*=""")
_QUOTED = re.compile(r""""((?:[^"\\]|\\.)*)"|'([^']*)'""")


@dataclass
class SourceMap:
    """Lines of tables and keys in one file, found by a light scan (tomllib gives no positions)."""

    lines: list[str]
    tables: dict[tuple[str, int], int] = field(default_factory=dict)
    keys: dict[tuple[str, int, str], int] = field(default_factory=dict)
    _values: dict[int, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def scan(cls, text: str) -> SourceMap:
        """Record the 1-based line of each table header and ``key =`` line, past long strings."""
        source = cls(text.splitlines())
        counts: dict[str, int] = {}
        table, index = "", 0
        open_quote: str | None = None
        for number, line in enumerate(source.lines, start=1):
            if open_quote is None:
                header = _TABLE_HEADER.match(line)
                key = _KEY_LINE.match(line)
                if header:
                    table = header.group(2)
                    index = counts.get(table, 0) if header.group(1) == "[[" else 0
                    counts[table] = index + 1
                    source.tables.setdefault((table, index), number)
                elif key:
                    source.keys.setdefault((table, index, key.group(1).strip("\"'")), number)
            for quote in ('"""', "'''"):
                if open_quote in (None, quote) and line.count(quote) % 2 == 1:
                    open_quote = None if open_quote else quote
        return source

    def table_line(self, table: str, index: int = 0) -> int | None:
        """Line of the table header, if found."""
        return self.tables.get((table, index))

    def key_line(self, table: str, index: int, key: str) -> int | None:
        """Line of ``key =`` in the table, else the table's header line."""
        return self.keys.get((table, index, key), self.table_line(table, index))

    def top_line(self, key: str) -> int | None:
        """Line of a top-level key or table."""
        return self.keys.get(("", 0, key), self.table_line(key))

    def value_line(self, table: str, index: int, key: str, value: str) -> int | None:
        """Line holding this quoted value of ``key`` (one item of a list), else the key's line."""
        start = self.key_line(table, index, key)
        if start is None:
            return None
        lines = self._values.get(start)
        if lines is None:
            lines = self._values[start] = self._scan_values(start)
        return lines.get(phrasing_key(value), start)

    def _scan_values(self, start: int) -> dict[str, int]:
        """The first line of each quoted value from ``start`` to the next table (one pass, so
        checking every phrasing of a long list stays linear)."""
        ends = [line for line in self.tables.values() if line > start]
        end = min(ends, default=len(self.lines) + 1)
        found: dict[str, int] = {}
        for number in range(start, end):
            for a, b in _QUOTED.findall(self.lines[number - 1]):
                found.setdefault(phrasing_key(a or b), number)
        return found
