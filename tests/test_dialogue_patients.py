"""What patients hear and see (issue 15): source lines, new patients, not understood, volume,
keys, topics in turn, help length and the push-to-talk greeting. Pure dialogue, no audio."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import pytest
from test_dialogue import FAQ, MESSAGES, FakeMatcher, V, hear, make, press, said, texts

from voice.content.schema import Entry, Faq
from voice.kiosk.dialogue import (
    KEYS_HELP,
    KEYS_HINT,
    Dialogue,
    DialogueSettings,
    speech_seconds,
    spoken_source,
)
from voice.kiosk.events import (
    Caption,
    ClearScreen,
    EndSession,
    Key,
    Listen,
    NothingHeard,
    Role,
    Say,
    SayKind,
    Show,
    SpeechFinished,
    Started,
    Tick,
)
from voice.matching.result import Action, MatchResult


def _matcher(text: str, confidence: float) -> MatchResult:
    """The test FAQ's matcher, with greetings and fillers as the real matcher sees them."""
    if text in ("hello", "um"):
        return MatchResult(text, Action.DECLINE, reason="no_words")
    return FakeMatcher()(text, confidence)


def _started(settings: DialogueSettings | None = None) -> Dialogue:
    d = Dialogue(FAQ, _matcher, settings)
    d.handle(Started(at=0.0))
    d.handle(SpeechFinished(at=1.0))
    return d


def _close(d: Dialogue, at: float = 100.0) -> None:
    """Let "no one there" end the session."""
    d.handle(SpeechFinished(at=at - 40.0))
    assert EndSession() in d.handle(Tick(at=at))


def _shown(actions: Sequence[object]) -> list[str]:
    return [a.caption.text for a in actions if isinstance(a, Show) and a.caption.role is Role.KIOSK]


# --- safety and source --------------------------------------------------------------------


def test_every_answer_ends_with_its_source_and_the_care_team_line() -> None:
    out = hear(make(), "what is it")
    line = MESSAGES.source_line.format(source="leaflet")
    assert said(out) == [Say(f"Answer 1. {line}", 155, V, SayKind.ANSWER)]
    # Two captions: the answer, then the source line under it.
    assert _shown(out) == ["Answer 1.", line]


def test_the_source_line_is_repeated_with_the_answer() -> None:
    d = make()
    hear(d, "side effects")
    assert texts(hear(d, "repeat"))[0].endswith("ask your care team.")


@pytest.mark.parametrize(
    ("source", "spoken"),
    [
        ("Seed FAQ page", "Seed FAQ page"),
        ("Seed FAQ page; quote from a doctor", "Seed FAQ page"),
        ('Seed FAQ page (listed there under "How long")', "Seed FAQ page"),
        ("NHS leaflet. Reviewed 2024.", "NHS leaflet"),
        ("Dr. Smith's leaflet, page 3", "Dr. Smith's leaflet, page 3"),
    ],
)
def test_only_the_first_part_of_a_source_is_said(source: str, spoken: str) -> None:
    assert spoken_source(source) == spoken


def test_greeting_and_safety_notice_stay_on_screen_while_spoken() -> None:
    out = Dialogue(FAQ, FakeMatcher()).handle(Started(at=0.0))
    # The screen is cleared before the greeting is shown, never after.
    assert out[0] == ClearScreen()
    assert out.count(ClearScreen()) == 1
    assert _shown(out)[:2] == [MESSAGES.greeting, MESSAGES.safety_notice]


# --- a new patient ------------------------------------------------------------------------


def test_after_goodbye_the_next_question_is_answered_after_the_greeting() -> None:
    d = make()
    hear(d, "side effects", at=2.0)
    hear(d, "goodbye", at=5.0)
    out = hear(d, "what is it", at=60.0)
    assert out[out.index(ClearScreen()) + 1] == Show(Caption(Role.PATIENT, "what is it"))
    kinds = [s.kind for s in said(out)]
    assert kinds == [SayKind.GREETING, SayKind.GREETING, SayKind.ANSWER]
    assert texts(out)[:2] == [MESSAGES.greeting, MESSAGES.safety_notice]
    assert d.session_open


def test_after_no_one_there_the_next_person_is_greeted_first() -> None:
    d = _started()
    hear(d, "side effects", at=2.0)
    _close(d, at=100.0)
    out = hear(d, "hello", at=300.0)
    # "Hello" from a new person: the whole greeting, not "I didn't catch that".
    assert texts(out) == [MESSAGES.greeting, MESSAGES.safety_notice, MESSAGES.usage]
    assert out[-1] == Listen()
    # The same person's next words are a normal turn.
    assert texts(hear(d, "what is it", at=310.0)) == [texts(hear(make(), "what is it"))[0]]


def test_the_screen_is_cleared_at_goodbye_and_shows_only_the_kiosk() -> None:
    d = make()
    hear(d, "side effects")
    out = hear(d, "goodbye")
    after_clear = out[out.index(ClearScreen()) :]
    assert not [a for a in after_clear if isinstance(a, Show) and a.caption.role is Role.PATIENT]
    assert MESSAGES.goodbye in _shown(after_clear)
    assert "Answer 2." not in _shown(after_clear)


def test_the_previous_patients_answer_is_forgotten_at_goodbye() -> None:
    d = _started()
    hear(d, "side effects")
    hear(d, "goodbye")
    hear(d, "hello", at=50.0)
    assert texts(hear(d, "repeat", at=55.0)) == [MESSAGES.not_understood]


def test_noise_in_an_empty_room_greets_no_one() -> None:
    d = make()
    _close(d)
    assert d.handle(NothingHeard(at=200.0)) == []
    assert hear(d, "   ", at=201.0) == []
    assert not d.session_open


def test_a_key_press_after_goodbye_greets_then_acts() -> None:
    d = make()
    hear(d, "goodbye")
    out = press(d, Key.NEXT, at=50.0)
    assert ClearScreen() in out
    assert texts(out)[:2] == [MESSAGES.greeting, MESSAGES.safety_notice]
    assert texts(out)[2].startswith("Topic 1 of 5:")


def test_a_new_patient_saying_louder_is_greeted_louder() -> None:
    d = make()
    hear(d, "goodbye")
    out = hear(d, "louder", at=50.0)
    assert said(out)[0].kind is SayKind.GREETING
    assert said(out)[0].volume > V


def test_the_no_one_there_timeout_defaults_to_30_seconds() -> None:
    assert DialogueSettings().absent_timeout_s == 30.0


# --- not understood -----------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["no_words", "no_speech"])
def test_nothing_worth_looking_up_is_not_understood_not_unanswered(reason: str) -> None:
    d = Dialogue(FAQ, lambda text, c: MatchResult(text, Action.DECLINE, reason=reason))
    d.handle(Started(at=0.0))
    out = hear(d, "hello")
    assert said(out) == [Say(MESSAGES.not_understood, 155, V, SayKind.DECLINE)]
    assert out[-1] == Listen()


def test_a_real_question_without_an_answer_still_gets_the_fallback() -> None:
    d = Dialogue(FAQ, lambda t, c: MatchResult(t, Action.DECLINE, reason="no_good_match"))
    d.handle(Started(at=0.0))
    assert texts(hear(d, "where is the car park")) == [MESSAGES.fallback]


def test_what_with_nothing_to_repeat_is_not_understood() -> None:
    assert texts(hear(make(), "repeat")) == [MESSAGES.not_understood]


# --- volume -------------------------------------------------------------------------------


def _db(gain: float) -> float:
    return 20 * math.log10(gain / V)


def test_volume_steps_are_at_least_4_db_with_at_least_12_db_up() -> None:
    d = make()
    levels = [0.0]
    for _ in range(5):
        hear(d, "louder")
        levels.append(_db(d.volume))
    steps = [b - a for a, b in itertools.pairwise(levels) if b != a]
    assert all(step >= 3.99 for step in steps), levels
    assert max(levels) >= 11.99


@pytest.mark.parametrize("word", ["louder", "quieter"])
def test_louder_and_quieter_repeat_the_current_answer_at_the_new_level(word: str) -> None:
    d = make()
    first = said(hear(d, "side effects"))[0]
    again = said(hear(d, word))
    assert [s.text for s in again] == [first.text]
    assert again[0].volume != first.volume


def test_volume_resets_for_the_next_patient() -> None:
    d = make()
    hear(d, "louder")
    _close(d)
    assert d.volume == V


# --- keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "word"),
    [
        (Key.LOUDER, "louder"),
        (Key.QUIETER, "quieter"),
        (Key.SLOWER, "slower"),
        (Key.FASTER, "faster"),
    ],
)
def test_volume_and_speed_keys_do_what_the_spoken_commands_do(key: Key, word: str) -> None:
    spoken, keyed = make(), make()
    hear(spoken, "side effects")
    press(keyed, Key.NEXT)
    press(keyed, Key.NEXT)
    press(keyed, Key.SELECT)
    by_voice = said(hear(spoken, word))
    by_key = said(press(keyed, key))
    assert [(s.text, s.rate_wpm, s.volume) for s in by_key] == [
        (s.text, s.rate_wpm, s.volume) for s in by_voice
    ]


def test_the_help_key_names_the_keys() -> None:
    out = press(make(), Key.HELP)
    assert texts(out)[0] == KEYS_HELP
    assert out[-1] == Listen()


def test_a_new_patient_pressing_a_volume_key_is_told_the_help_key() -> None:
    d = make()
    hear(d, "goodbye")
    out = press(d, Key.LOUDER, at=50.0)
    assert texts(out)[-1] == KEYS_HINT
    assert said(out)[0].volume > V


# --- topics in turn and the length of help ------------------------------------------------


def _many_topics(count: int) -> Faq:
    entries = tuple(
        Entry(f"e{n}", f"Q{n}?", f"A{n}.", (f"q{n}",), "leaflet", f"topic {n}")
        for n in range(count)
    )
    return Faq("T", "t", MESSAGES, entries)


def test_help_takes_turns_through_all_topics() -> None:
    d = Dialogue(_many_topics(7), FakeMatcher())
    d.handle(Started(at=0.0))
    heard: list[str] = []
    for n in range(3):
        line = texts(hear(d, "help", at=1.0 + n))[0]
        heard += [f"topic {i}" for i in range(7) if f"topic {i}," in line or f"topic {i}." in line]
    assert set(heard) == {f"topic {i}" for i in range(7)}


def test_topic_lists_after_misses_take_turns_too() -> None:
    d = Dialogue(_many_topics(6), FakeMatcher())
    d.handle(Started(at=0.0))
    lists = []
    for n in range(4):
        out = texts(hear(d, f"mumble {n}", at=1.0 + n))
        if len(out) == 2:
            lists.append(out[1])
    assert len(lists) == 2 and lists[0] != lists[1]
    assert "topic 0" in lists[0] and "topic 3" in lists[1]


@pytest.mark.parametrize("rate", [115, 155, 195])
def test_spoken_help_lasts_at_most_about_12_seconds(rate: int) -> None:
    long_intro = MESSAGES.help_intro + " " + " ".join(["word"] * 12)
    faq = Faq(
        "T",
        "t",
        MESSAGES.__class__(**{**MESSAGES.__dict__, "help_intro": long_intro}),
        _many_topics(9).entries,
    )
    d = Dialogue(faq, FakeMatcher(), DialogueSettings(default_rate_wpm=rate))
    d.handle(Started(at=0.0))
    lines = texts(hear(d, "help"))
    assert sum(speech_seconds(line, rate) for line in lines) <= 12.0 or len(lines) == 1
    assert "topic 0" in lines[0]  # at least one topic, whatever the budget


def test_key_help_lasts_at_most_about_12_seconds() -> None:
    d = make()
    lines = texts(press(d, Key.HELP))
    assert sum(speech_seconds(line, 155) for line in lines) <= 12.0


def test_the_bundled_help_fits_with_three_topics_at_the_default_rate() -> None:
    from voice.content.loader import default_content_dir, load_content

    faq = load_content(default_content_dir())
    from voice.matching.commands import Command

    d2 = Dialogue(faq, lambda t, c: MatchResult(t, Action.COMMAND, command=Command.HELP))
    d2.handle(Started(at=0.0))
    lines = texts(hear(d2, "help"))
    assert lines[0].count(",") >= 2, lines  # three topics
    assert sum(speech_seconds(line, 155) for line in lines) <= 12.0


# --- push-to-talk -------------------------------------------------------------------------


def test_push_to_talk_greeting_says_to_hold_the_space_bar() -> None:
    d = Dialogue(FAQ, FakeMatcher(), DialogueSettings(push_to_talk=True))
    out = d.handle(Started(at=0.0))
    assert texts(out) == [
        MESSAGES.greeting,
        MESSAGES.safety_notice,
        MESSAGES.push_to_talk,
        MESSAGES.usage,
    ]
    assert "space bar" in MESSAGES.push_to_talk


def test_always_listening_greeting_does_not_mention_the_space_bar() -> None:
    out = Dialogue(FAQ, FakeMatcher()).handle(Started(at=0.0))
    assert MESSAGES.push_to_talk not in texts(out)
