"""Tests for decoding raw terminal input into kiosk keys (pure logic)."""

from __future__ import annotations

import pytest

from voice.kiosk.events import Key
from voice.kiosk.keys import KEY_MAP, PUSH_TO_TALK, decode_keys


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"\x1b[C", Key.NEXT),  # right arrow
        (b"\x1b[B", Key.NEXT),  # down arrow
        (b"\x1b[D", Key.PREVIOUS),  # left arrow
        (b"\x1b[A", Key.PREVIOUS),  # up arrow
        (b"n", Key.NEXT),
        (b"\t", Key.NEXT),
        (b"p", Key.PREVIOUS),
        (b"\r", Key.SELECT),
        (b"\n", Key.SELECT),
        (b"r", Key.REPEAT),
        (b"s", Key.STOP),
        (b"\x1b", Key.STOP),  # Esc on its own
        (b"h", Key.HELP),
        (b"?", Key.HELP),
        (b" ", PUSH_TO_TALK),
        (b"+", Key.LOUDER),
        (b"=", Key.LOUDER),
        (b"-", Key.QUIETER),
        (b"_", Key.QUIETER),
        (b"<", Key.SLOWER),
        (b",", Key.SLOWER),
        (b">", Key.FASTER),
        (b".", Key.FASTER),
    ],
)
def test_single_keys(data: bytes, key: Key | str) -> None:
    assert decode_keys(data) == [key]


def test_every_mapped_sequence_decodes_to_itself() -> None:
    for data, key in KEY_MAP.items():
        assert decode_keys(data) == [key], data


def test_several_keys_in_one_read_keep_their_order() -> None:
    data = b"n\x1b[Cp\x1b[D\rrs "
    assert decode_keys(data) == [
        Key.NEXT,
        Key.NEXT,
        Key.PREVIOUS,
        Key.PREVIOUS,
        Key.SELECT,
        Key.REPEAT,
        Key.STOP,
        PUSH_TO_TALK,
    ]


def test_arrow_is_not_read_as_esc_plus_letters() -> None:
    # "\x1b[A" must be one PREVIOUS, not STOP followed by junk.
    assert decode_keys(b"\x1b[A\x1b[A") == [Key.PREVIOUS, Key.PREVIOUS]


def test_esc_at_end_of_a_read_is_stop() -> None:
    assert decode_keys(b"n\x1b") == [Key.NEXT, Key.STOP]


@pytest.mark.parametrize("data", [b"", b"x", b"xyz", b"N", b"\x00", b"\xff\xfe", b"\x1b[", b"1"])
def test_unknown_bytes_are_ignored(data: bytes) -> None:
    assert decode_keys(data) == []


def test_unknown_bytes_between_known_keys_are_skipped() -> None:
    assert decode_keys(b"xnqzr9") == [Key.NEXT, Key.REPEAT]


@pytest.mark.parametrize(
    "data",
    [
        b"\x1b[5~",  # Page Up
        b"\x1b[6~",  # Page Down
        b"\x1b[1;5C",  # Ctrl+Right
        b"\x1b[3~",  # Delete
    ],
)
def test_other_escape_sequences_do_not_trigger_keys(data: bytes) -> None:
    # Their bytes after Esc ("[", digits, "~", ";", "C") are not kiosk keys on their own.
    assert decode_keys(data) == []


def test_a_patient_who_does_not_speak_has_every_key_a_speaking_patient_has() -> None:
    # EN 301 549 5.1.3.12: volume and speed, as well as topics, answers, repeat, stop and help.
    assert set(Key) <= set(KEY_MAP.values())


@pytest.mark.parametrize(
    ("words", "data", "key"),
    [
        ("Arrow keys", b"\x1b[C", Key.NEXT),
        ("Enter", b"\r", Key.SELECT),
        ("R repeats", b"r", Key.REPEAT),
        ("S stops", b"s", Key.STOP),
        ("Plus", b"+", Key.LOUDER),
        ("minus", b"-", Key.QUIETER),
        ("Less-than", b"<", Key.SLOWER),
        ("greater-than", b">", Key.FASTER),
    ],
)
def test_the_spoken_key_help_names_keys_that_do_what_it_says(
    words: str, data: bytes, key: Key
) -> None:
    from voice.kiosk.dialogue import KEYS_HELP, SELECT_WITHOUT_TOPIC, TOPIC_LINE

    assert words in KEYS_HELP
    assert decode_keys(data) == [key]
    assert "Enter" in TOPIC_LINE and decode_keys(b"\r") == [Key.SELECT]
    assert "right arrow" in SELECT_WITHOUT_TOPIC and decode_keys(b"\x1b[C") == [Key.NEXT]


def test_the_key_hint_names_the_help_key() -> None:
    from voice.kiosk.dialogue import KEYS_HINT

    assert "Press H" in KEYS_HINT and decode_keys(b"h") == [Key.HELP]
