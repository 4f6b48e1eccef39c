"""Language data the engine is given: stop words, question words, number words, contractions,
fillers, command phrases (voice/text/data/english.toml). Subject words are content, not this."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from voice.errors import InstallError

ENGLISH_FILE = Path(__file__).parent / "data" / "english.toml"


@dataclass(frozen=True)
class Language:
    """Word lists and phrases of one language, as the matcher and recogniser use them."""

    stop_words: frozenset[str]
    question_words: frozenset[str]
    fillers: frozenset[str]
    leading_fillers: frozenset[str]
    comparison_before: frozenset[str]
    comparison_after: frozenset[str]
    polite_openings: tuple[str, ...]
    polite_endings: tuple[str, ...]
    background_phrases: tuple[str, ...]
    units: tuple[str, ...]  # number words 0-19, in order
    tens: tuple[str, ...]  # number words 20, 30, ... 90, in order
    affirmations: tuple[tuple[str, str], ...]
    contractions: tuple[tuple[str, str], ...]
    contraction_endings: tuple[tuple[str, str], ...]
    rewrites: tuple[tuple[str, str], ...]
    commands: tuple[tuple[str, tuple[str, ...]], ...]  # command name -> its phrasings
    stop_over_echo: frozenset[str] = frozenset()  # "stop" as heard over the kiosk's own voice


def _words(data: dict[str, Any], key: str) -> frozenset[str]:
    return frozenset(str(data[key]).split())


def _pairs(table: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in table.items())


@cache
def load_language(path: Path = ENGLISH_FILE) -> Language:
    """Read a language data file (cached: it is read once per process)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        numbers = data["numbers"]
        return Language(
            stop_words=_words(data, "stop_words") | _words(data, "context_words"),
            question_words=_words(data, "question_words"),
            fillers=_words(data, "fillers"),
            leading_fillers=_words(data, "leading_fillers"),
            comparison_before=_words(data, "comparison_before"),
            comparison_after=_words(data, "comparison_after"),
            polite_openings=tuple(data["polite_openings"]),
            polite_endings=tuple(data["polite_endings"]),
            background_phrases=tuple(data["background_phrases"]),
            units=tuple(str(numbers["units"]).split()),
            tens=tuple(str(numbers["tens"]).split()),
            affirmations=_pairs(data["affirmations"]),
            contractions=_pairs(data["contractions"]),
            contraction_endings=_pairs(data["contraction_endings"]),
            rewrites=_pairs(data["rewrites"]),
            commands=tuple((str(k), tuple(v)) for k, v in data["commands"].items()),
            stop_over_echo=frozenset(str(data.get("stop_over_echo", "")).split()),
        )
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise InstallError(
            f"The language data file {path} is missing or damaged ({exc}). "
            "Reinstall the kiosk (scripts/setup.sh)."
        ) from exc


def english() -> Language:
    """The bundled English data."""
    return load_language(ENGLISH_FILE)
