"""FAQ content: typed entries and kiosk messages, loaded and validated from staff-editable TOML."""

from __future__ import annotations

import difflib
import errno
import logging
import os
import re
import stat
import tomllib
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

from voice.content.schema import Entry, Faq, Messages, Subject
from voice.content.source_map import SourceMap
from voice.errors import ContentError, ContentProblem
from voice.paths import bundled_content_dir
from voice.text.normalize import phrasing_key

logger = logging.getLogger(__name__)

CONTENT_ENV_VAR = "VOICE_CONTENT"


_ENTRY_TEXT_KEYS = ("id", "question", "answer", "source", "topic")
_ENTRY_REQUIRED = (*_ENTRY_TEXT_KEYS, "phrasings")
_ENTRY_KEYS = (*_ENTRY_REQUIRED, "more")
_FAQ_KEYS = ("title", "topic_name")
_MESSAGE_KEYS = tuple(f.name for f in fields(Messages))
# Messages with a built-in wording (a default in Messages): content may leave them out.
_OPTIONAL_MESSAGES = tuple(f.name for f in fields(Messages) if f.default is not MISSING)
# The placeholder each message template must hold exactly, and nothing else in braces.
_TEMPLATES = {"confirm_template": "question", "source_line": "source"}
_TEMPLATE_MISSING = {
    "confirm_template": "The confirm_template must contain {question}, where the kiosk puts the "
    'question it thinks was asked, like confirm_template = "Did you mean: {question} '
    'Please say yes or no."',
    "source_line": "The source_line must contain {source}, where the kiosk names where the answer "
    'comes from, like source_line = "This is from {source}. For advice about your own care, '
    'ask your care team."',
}
_TOP_LEVEL_KEYS = ("faq", "messages", "subject", "pronunciations", "entry")
_SUBJECT_LISTS = ("aliases", "generic_words", "other_subjects", "background_phrases")
_SUBJECT_TABLES = ("synonyms", "sound_alikes")
_SUBJECT_KEYS = ("name", *_SUBJECT_LISTS, *_SUBJECT_TABLES)

# What each key holds, for the "what to do" half of a problem message.
_WHAT = {
    "id": 'a short name in lower case with hyphens, like "side-effects-duration"',
    "question": "the question as a patient would ask it",
    "answer": "the spoken answer",
    "source": "where the answer comes from",
    "topic": "a short spoken label for the list of topics",
    "title": "the title of this FAQ",
    "topic_name": 'the subject in a word or two, like "blood pressure"',
}

@dataclass(frozen=True)
class ContentLimits:
    """Sizes the kiosk is built for; content check reports anything larger (content/README.md)."""

    entries: int = 1000
    phrasings_per_entry: int = 200
    answer_chars: int = 1500  # about 250 words: a spoken answer is far shorter (60 words)
    more_chars: int = 4000
    line_chars: int = 300  # a question, phrasing, topic, id, source or message


LIMITS = ContentLimits()
# Control characters and terminal escapes have no place in spoken or shown text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_APOSTROPHES = re.compile(r"['’]")
_NON_WORD = re.compile(r"[\W_]+")
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)\s*$")


def default_content_dir() -> Path:
    """Return the content folder: ``$VOICE_CONTENT`` if set, else the bundled content."""
    configured = os.environ.get(CONTENT_ENV_VAR, "").strip()
    if configured:
        return Path(configured).expanduser()
    return bundled_content_dir()


def check_content(directory: Path) -> list[ContentProblem]:
    """Return every problem in the content folder; an empty list means the content is valid."""
    return _Loader(directory).run()[1]


def load_content(directory: Path) -> Faq:
    """Load and validate every ``*.toml`` file in ``directory``; ContentError lists all problems."""
    faq, problems = _Loader(directory).run()
    if problems or faq is None:
        raise ContentError(problems)
    logger.info("Loaded %d FAQ entries from %s", len(faq.entries), directory)
    return faq


@dataclass
class _File:
    """One parsed content file."""

    path: Path
    data: dict[str, Any]
    source: SourceMap


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f' Did you mean "{close[0]}"?'
    return " Valid keys are: " + ", ".join(choices) + "."


def _example(key: str) -> str:
    return f'{key} = ["...", "..."]' if key == "phrasings" else f'{key} = "..."'


def _where(path: Path, line: int | None) -> str:
    return f"{path.name} line {line}" if line is not None else path.name


def _syntax_problem(path: Path, text: str, error: tomllib.TOMLDecodeError) -> ContentProblem:
    message = str(error)
    match = _TOML_POSITION.search(message)
    reason = message[: match.start()] if match else message
    if match and match.group(1):
        line: int = int(match.group(1))
        where = f" at column {match.group(2)}"
    else:
        line, where = max(1, len(text.splitlines())), " at the end of the file"
    if "overwrite" in reason or "twice" in reason:
        hint = "The same key or table appears twice: remove or rename one of them."
    else:
        hint = (
            "Check the quotes, brackets and = signs there: "
            "every text needs a double quote at both ends."
        )
    return ContentProblem(path, line, None, f"This is not valid TOML ({reason}){where}. {hint}")


def _read_file(path: Path, problems: list[ContentProblem]) -> _File | None:
    try:
        raw = path.read_bytes()
    except OSError as error:
        problems.append(
            ContentProblem(
                path,
                None,
                None,
                f"The file could not be read ({error.strerror or error}). "
                "Check that it exists and that the kiosk is allowed to read it.",
            )
        )
        return None
    try:
        # utf-8-sig: some editors (Notepad) start UTF-8 files with a byte-order mark.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.append(
            ContentProblem(
                path,
                raw[: error.start].count(b"\n") + 1,
                None,
                "The file is not UTF-8 text (the first unreadable character is on this line). "
                "Save it again as UTF-8 in your text editor.",
            )
        )
        return None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        problems.append(_syntax_problem(path, text, error))
        return None
    return _File(path, data, SourceMap.scan(text))


def _not_a_file(path: Path) -> str | None:
    """What is wrong with a content path that is not a readable regular file (None: fine)."""
    try:
        mode = path.stat().st_mode
    except OSError as error:
        if path.is_symlink():
            what = "a loop" if error.errno == errno.ELOOP else "nothing"
            return (
                f"This is a shortcut (symbolic link) that leads to {what}. "
                "Replace it with the real file, or remove it."
            )
        return f"The file could not be read ({error.strerror or error})."
    if stat.S_ISREG(mode):
        return None
    what = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else (
        "a folder" if stat.S_ISDIR(mode) else "not a regular file"
    )
    return f"This is {what}, not a text file. Remove it from the content folder."


class _Loader:
    """Reads one content folder, collecting every problem instead of stopping at the first."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.problems: list[ContentProblem] = []
        self.failed_files = 0
        self.entry_tables = 0
        self.tables: dict[str, tuple[_File, dict[str, Any]]] = {}
        self.placed: list[tuple[Entry, _File, int]] = []

    def report(self, path: Path, line: int | None, field: str | None, message: str) -> None:
        self.problems.append(ContentProblem(path, line, field, message))

    def run(self) -> tuple[Faq | None, list[ContentProblem]]:
        files = self._files()
        for path in files:
            loaded = _read_file(path, self.problems)
            if loaded is None:
                self.failed_files += 1
            else:
                self._take_file(loaded)
        if not files:
            return None, self.problems
        # Missing parts may sit in a file that failed to parse, so only report them otherwise.
        complete = self.failed_files == 0
        title, topic_name = self._faq(complete)
        messages = self._messages(complete)
        subject = self._subject()
        pronunciations = self._pronunciations()
        if complete and self.entry_tables == 0:
            self.report(
                self.directory,
                None,
                "entry",
                "No FAQ entries were found. "
                "Add at least one [[entry]] table to a .toml file in this folder.",
            )
        self._check_duplicates()
        if self.problems or messages is None:
            return None, self.problems
        entries = tuple(entry for entry, _, _ in self.placed)
        if len(entries) > LIMITS.entries:
            self.report(
                self.directory,
                None,
                "entry",
                f"The content has {len(entries)} entries; the most the kiosk takes is "
                f"{LIMITS.entries}. Split it between kiosks, or remove entries.",
            )
            return None, self.problems
        return Faq(title, topic_name, messages, entries, subject, pronunciations), self.problems

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            self.report(
                self.directory,
                None,
                None,
                "The content folder does not exist or is not a folder. Check the path, "
                f"or set {CONTENT_ENV_VAR} to the folder that holds the .toml files.",
            )
            return []
        # Hidden files are editor backups and lock files, not content.
        files: list[Path] = []
        for path in sorted(self.directory.glob("*.toml")):
            if path.name.startswith("."):
                continue
            kind = _not_a_file(path)
            if kind is None:
                files.append(path)
            else:
                self.report(path, None, None, kind)
                self.failed_files += 1
        if not files and not self.failed_files:
            self.report(
                self.directory,
                None,
                None,
                "The content folder has no .toml files. "
                "Put kiosk.toml and at least one file of FAQ entries in it.",
            )
        return files

    def _take_file(self, file: _File) -> None:
        for key, value in file.data.items():
            if key == "entry":
                self._take_entries(file, value)
            elif key in ("faq", "messages", "subject", "pronunciations"):
                self._take_table(file, key, value)
            else:
                self.report(
                    file.path,
                    file.source.top_line(key),
                    key,
                    f'"{key}" is not a table the kiosk knows.{_suggest(key, _TOP_LEVEL_KEYS)} '
                    "A content file may only hold [faq], [messages], [subject], [pronunciations] "
                    "and [[entry]] tables.",
                )

    def _take_table(self, file: _File, name: str, value: object) -> None:
        line = file.source.table_line(name)
        if not isinstance(value, dict):
            self.report(
                file.path,
                file.source.top_line(name),
                name,
                f"[{name}] must be a single table: write [{name}] on a line of its own, "
                "with its keys on the lines below it.",
            )
            return
        if name in self.tables:
            first = self.tables[name][0]
            self.report(
                file.path,
                line,
                name,
                f"The [{name}] table is also in "
                f"{_where(first.path, first.source.table_line(name))}. Keep only one of the two.",
            )
            return
        self.tables[name] = (file, value)

    def _take_entries(self, file: _File, value: object) -> None:
        if isinstance(value, dict):
            self.entry_tables += 1
            self.report(
                file.path,
                file.source.top_line("entry"),
                "entry",
                "Each entry must start with [[entry]], with two square brackets on each side. "
                "Change [entry] to [[entry]].",
            )
            return
        if not isinstance(value, list):
            self.report(
                file.path,
                file.source.top_line("entry"),
                "entry",
                '"entry" must be a list of tables. Start each FAQ entry with a line [[entry]].',
            )
            return
        for index, raw in enumerate(value):
            self.entry_tables += 1
            if not isinstance(raw, dict):
                self.report(
                    file.path,
                    file.source.top_line("entry"),
                    "entry",
                    f"Entry number {index + 1} is not a table. "
                    "Start each FAQ entry with a line [[entry]].",
                )
                continue
            entry = self._entry(file, index, raw)
            if entry is not None:
                self.placed.append((entry, file, index))

    def _check_keys(
        self,
        file: _File,
        table: str,
        index: int,
        raw: dict[str, Any],
        allowed: tuple[str, ...],
        label: str,
        optional: tuple[str, ...] = ("more",),
    ) -> None:
        for key in raw:
            if key not in allowed:
                self.report(
                    file.path,
                    file.source.key_line(table, index, key),
                    f"{table}.{key}",
                    f'{label[0].upper()}{label[1:]} has an unknown key "{key}".'
                    f"{_suggest(key, allowed)} Fix its spelling or remove it.",
                )
        required = tuple(key for key in allowed if key not in optional)
        for key in required:
            if key not in raw:
                self.report(
                    file.path,
                    file.source.table_line(table, index),
                    f"{table}.{key}",
                    f"{label[0].upper()}{label[1:]} has no {key}. "
                    f"Add a line like {_example(key)} to it.",
                )

    def _text(
        self, file: _File, table: str, index: int, raw: dict[str, Any], key: str, label: str
    ) -> str:
        """Return the cleaned text of ``key`` ("" after reporting a problem, or if absent)."""
        if key not in raw:
            return ""
        value = raw[key]
        line = file.source.key_line(table, index, key)
        if not isinstance(value, str):
            self.report(
                file.path,
                line,
                f"{table}.{key}",
                f"The {key} of {label} must be text in double quotes, like {_example(key)}.",
            )
            return ""
        # Line breaks inside long strings are only for editing; speech and captions want spaces.
        text = " ".join(value.split())
        self._check_size_and_characters(file, line, f"{table}.{key}", f"The {key} of {label}", text)
        if not text:
            what = _WHAT.get(key, "the words the kiosk should say")
            self.report(
                file.path,
                line,
                f"{table}.{key}",
                f"The {key} of {label} is empty. Write {what} between the quotes.",
            )
        return text

    def _phrasings(
        self, file: _File, index: int, raw: dict[str, Any], label: str
    ) -> tuple[str, ...]:
        if "phrasings" not in raw:
            return ()
        value = raw["phrasings"]
        line = file.source.key_line("entry", index, "phrasings")
        if not isinstance(value, list):
            self.report(
                file.path,
                line,
                "entry.phrasings",
                f"The phrasings of {label} must be a list of texts in double quotes, "
                f"like {_example('phrasings')}.",
            )
            return ()
        cleaned: list[str] = []
        for position, item in enumerate(value, start=1):
            if not isinstance(item, str):
                self.report(
                    file.path,
                    line,
                    "entry.phrasings",
                    f"Phrasing number {position} of {label} is not text. "
                    "Put double quotes around it.",
                )
            elif not phrasing_key(item):
                self.report(
                    file.path,
                    file.source.value_line("entry", index, "phrasings", item),
                    "entry.phrasings",
                    f"Phrasing number {position} of {label} is empty. "
                    "Write a phrasing between the quotes, or remove it.",
                )
            else:
                text = " ".join(item.split())
                self._check_size_and_characters(
                    file,
                    file.source.value_line("entry", index, "phrasings", item),
                    "entry.phrasings",
                    f"Phrasing number {position} of {label}",
                    text,
                )
                cleaned.append(text)
        if not value:
            self.report(
                file.path,
                line,
                "entry.phrasings",
                f"The phrasings of {label} are an empty list. Write at least one other way a "
                'patient might ask, like phrasings = ["will it make me sick"].',
            )
        elif len(cleaned) > LIMITS.phrasings_per_entry:
            self.report(
                file.path,
                line,
                "entry.phrasings",
                f"{label[0].upper()}{label[1:]} has {len(cleaned)} phrasings; the most the kiosk "
                f"takes is {LIMITS.phrasings_per_entry}. Keep the most different ones.",
            )
        return tuple(cleaned)

    def _check_size_and_characters(
        self, file: _File, line: int | None, field: str, what: str, text: str
    ) -> None:
        """Report control characters, and texts longer than the kiosk is built for."""
        if _CONTROL.search(text):
            self.report(
                file.path,
                line,
                field,
                f"{what} contains a control character (an invisible code such as a terminal "
                "escape). Delete the text and type it again.",
            )
        key = field.rsplit(".", 1)[-1]
        limit = {"answer": LIMITS.answer_chars, "more": LIMITS.more_chars}.get(
            key, LIMITS.line_chars
        )
        if len(text) > limit:
            self.report(
                file.path,
                line,
                field,
                f"{what} is {len(text)} characters long; the most the kiosk takes is {limit}. "
                "Shorten it" + (" (put detail in more)." if key == "answer" else "."),
            )

    def _entry(self, file: _File, index: int, raw: dict[str, Any]) -> Entry | None:
        raw_id = raw.get("id")
        if isinstance(raw_id, str) and raw_id.strip():
            label = f'the entry "{raw_id.strip()}"'
        else:
            label = f"entry number {index + 1} in this file"
        before = len(self.problems)
        self._check_keys(file, "entry", index, raw, _ENTRY_KEYS, label)
        text = {key: self._text(file, "entry", index, raw, key, label) for key in _ENTRY_TEXT_KEYS}
        if text["id"] and not _ID_PATTERN.fullmatch(text["id"]):
            self.report(
                file.path,
                file.source.key_line("entry", index, "id"),
                "entry.id",
                f'The id "{text["id"]}" is not valid. Use only lower-case letters, digits and '
                'single hyphens, like "side-effects-duration".',
            )
        phrasings = self._phrasings(file, index, raw, label)
        more = self._text(file, "entry", index, raw, "more", label) if "more" in raw else ""
        if len(self.problems) > before:
            return None
        return Entry(
            id=text["id"],
            question=text["question"],
            answer=text["answer"],
            phrasings=phrasings,
            source=text["source"],
            topic=text["topic"],
            more=more or None,
            path=file.path,
            line=file.source.table_line("entry", index),
        )

    def _faq(self, complete: bool) -> tuple[str, str]:
        found = self.tables.get("faq")
        if found is None:
            if complete:
                self.report(
                    self.directory,
                    None,
                    "faq",
                    "No content file has a [faq] table. "
                    "Add one to kiosk.toml, with a title and a topic_name.",
                )
            return "", ""
        file, raw = found
        label = "the [faq] table"
        self._check_keys(file, "faq", 0, raw, _FAQ_KEYS, label)
        title = self._text(file, "faq", 0, raw, "title", label)
        return title, self._text(file, "faq", 0, raw, "topic_name", label)

    def _messages(self, complete: bool) -> Messages | None:
        found = self.tables.get("messages")
        if found is None:
            if complete:
                self.report(
                    self.directory,
                    None,
                    "messages",
                    "No content file has a [messages] table, so the kiosk has nothing to say. "
                    "Add one to kiosk.toml (see README.md).",
                )
            return None
        file, raw = found
        label = "the [messages] table"
        before = len(self.problems)
        self._check_keys(file, "messages", 0, raw, _MESSAGE_KEYS, label, _OPTIONAL_MESSAGES)
        text = {
            key: self._text(file, "messages", 0, raw, key, label)
            for key in _MESSAGE_KEYS
            if key in raw or key not in _OPTIONAL_MESSAGES
        }
        for key, placeholder in _TEMPLATES.items():
            if text.get(key):
                self._check_template(file, key, placeholder, text[key])
        if len(self.problems) > before:
            return None
        return Messages(**text)

    def _subject(self) -> Subject:
        """The optional [subject] table (an empty Subject when there is none)."""
        found = self.tables.get("subject")
        if found is None:
            return Subject()
        file, raw = found
        for key in raw:
            if key not in _SUBJECT_KEYS:
                self.report(
                    file.path,
                    file.source.key_line("subject", 0, key),
                    f"subject.{key}",
                    f'The [subject] table has an unknown key "{key}".'
                    f"{_suggest(key, _SUBJECT_KEYS)} Fix its spelling or remove it.",
                )
        if "name" not in raw:
            self.report(
                file.path,
                file.source.table_line("subject"),
                "subject.name",
                'The [subject] table has no name. Add a line like name = "immunology" to it: '
                "the FAQ's subject in a word or two.",
            )
        name = self._text(file, "subject", 0, raw, "name", "the [subject] table")
        lists = {key: self._subject_list(file, raw, key) for key in _SUBJECT_LISTS}
        for word in lists["other_subjects"]:
            if len(word.split()) != 1:
                self.report(
                    file.path,
                    file.source.value_line("subject", 0, "other_subjects", word),
                    "subject.other_subjects",
                    f'"{word}" in other_subjects is more than one word. List each word of it '
                    "on its own, like other_subjects = [\"blood\", \"pressure\"].",
                )
        tables = {key: self._subject_table(file, raw, key) for key in _SUBJECT_TABLES}
        return Subject(
            name=phrasing_key(name),
            aliases=lists["aliases"],
            generic_words=lists["generic_words"],
            other_subjects=lists["other_subjects"],
            background_phrases=lists["background_phrases"],
            synonyms=tables["synonyms"],
            sound_alikes=tables["sound_alikes"],
        )

    def _pronunciations(self) -> tuple[tuple[str, str], ...]:
        """The optional [pronunciations] table: "written word" = "how to say it"."""
        found = self.tables.get("pronunciations")
        if found is None:
            return ()
        file, raw = found
        pairs: list[tuple[str, str]] = []
        seen: dict[str, str] = {}
        for written, spoken in raw.items():
            line = file.source.key_line("pronunciations", 0, written)
            if not isinstance(spoken, str) or not spoken.strip() or not written.strip():
                self.report(
                    file.path,
                    line,
                    f"pronunciations.{written}",
                    'Each line of [pronunciations] must be "written word" = "how to say it", '
                    'with text on both sides, like "amlodipine" = "am LOD i peen".',
                )
                continue
            folded = written.strip().casefold()
            if folded in seen:
                self.report(
                    file.path,
                    line,
                    f"pronunciations.{written}",
                    f'"{written}" is in [pronunciations] twice (also as "{seen[folded]}"); '
                    "case does not matter. Keep one of them.",
                )
                continue
            seen[folded] = written
            for text in (written, spoken):
                self._check_size_and_characters(
                    file, line, f"pronunciations.{written}", f'"{text}" in [pronunciations]', text
                )
            pairs.append((written.strip(), " ".join(spoken.split())))
        return tuple(pairs)

    def _subject_list(self, file: _File, raw: dict[str, Any], key: str) -> tuple[str, ...]:
        """A list of lower-case words or phrases in [subject] (empty after a problem)."""
        value = raw.get(key, [])
        line = file.source.key_line("subject", 0, key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.report(
                file.path,
                line,
                f"subject.{key}",
                f'{key} in [subject] must be a list of texts, like {key} = ["...", "..."].',
            )
            return ()
        cleaned = tuple(phrasing_key(v) for v in value)
        if any(not v for v in cleaned):
            self.report(
                file.path,
                line,
                f"subject.{key}",
                f"{key} in [subject] has an empty text. Write a word between the quotes, "
                "or remove it.",
            )
            return ()
        return cleaned

    def _subject_table(
        self, file: _File, raw: dict[str, Any], key: str
    ) -> tuple[tuple[str, str], ...]:
        """A table of "what is said" = "what the FAQ uses" pairs (in the file's order)."""
        value = raw.get(key, {})
        line = file.source.table_line(f"subject.{key}") or file.source.key_line("subject", 0, key)
        if not isinstance(value, dict) or not all(
            isinstance(v, str) and phrasing_key(v) and phrasing_key(k) for k, v in value.items()
        ):
            self.report(
                file.path,
                line,
                f"subject.{key}",
                f"[subject.{key}] must be lines like \"what patients say\" = \"the FAQ's word\", "
                "each with text on both sides.",
            )
            return ()
        return tuple((phrasing_key(k), phrasing_key(v)) for k, v in value.items())

    def _check_template(self, file: _File, key: str, placeholder: str, template: str) -> None:
        line = file.source.key_line("messages", 0, key)
        slot = "{" + placeholder + "}"
        if slot not in template:
            self.report(file.path, line, f"messages.{key}", _TEMPLATE_MISSING[key])
            return
        try:
            template.format(**{placeholder: ""})
        except (KeyError, IndexError, ValueError):
            self.report(
                file.path,
                line,
                f"messages.{key}",
                f"The {key} has curly brackets the kiosk cannot fill in. "
                f"Use curly brackets only in {slot}.",
            )

    def _check_duplicates(self) -> None:
        ids: dict[str, tuple[_File, int]] = {}
        owners: dict[str, tuple[str, str, Path, int | None]] = {}
        for entry, file, index in self.placed:
            first = ids.setdefault(entry.id, (file, index))
            if first != (file, index):
                first_line = first[0].source.key_line("entry", first[1], "id")
                self.report(
                    file.path,
                    file.source.key_line("entry", index, "id"),
                    "entry.id",
                    f'The id "{entry.id}" is used twice: here and in '
                    f"{_where(first[0].path, first_line)}. "
                    "Give one of the two entries a different id.",
                )
            texts = [("question", entry.question)] + [("phrasings", p) for p in entry.phrasings]
            for key, text in texts:
                line = file.source.value_line("entry", index, key, text)
                place = (entry.id, text, file.path, line)
                owner = owners.setdefault(phrasing_key(text), place)
                if owner[0] != entry.id:
                    what = "question" if key == "question" else "phrasing"
                    self.report(
                        file.path,
                        line,
                        f"entry.{key}",
                        f'The {what} "{text}" of the entry "{entry.id}" is the same as '
                        f'"{owner[1]}" in the entry "{owner[0]}" ({_where(owner[2], owner[3])}). '
                        "Remove it from one of the two entries, so the kiosk knows which "
                        "answer to give.",
                    )
