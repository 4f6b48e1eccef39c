"""Unit tests of the dialogue state machine, with a small FAQ in code and a fake matcher."""

from __future__ import annotations

import pytest

from voice.content.schema import Entry, Faq, Messages
from voice.errors import UsageError
from voice.kiosk.dialogue import KEYS_HELP, Dialogue, DialogueSettings, spoken_list
from voice.kiosk.events import (
    Caption,
    ClearScreen,
    DialogueAction,
    EndSession,
    Event,
    Heard,
    Key,
    KeyPressed,
    Listen,
    NothingHeard,
    Role,
    Say,
    SayKind,
    Show,
    SpeechFinished,
    SpeechStarted,
    Started,
    StopSpeaking,
    Tick,
)
from voice.matching.commands import Command
from voice.matching.result import Action, MatchResult

MESSAGES = Messages(
    greeting="Hello, I answer questions about immunotherapy.",
    safety_notice="In an emergency, tell a member of staff.",
    usage="Ask me a question about immunotherapy, or say help.",
    fallback="Sorry, I don't know that. Please ask a member of staff.",
    help_intro="I can answer common questions.",
    confirm_template="Did you mean: {question}?",
    rephrase="Please ask your question again, in other words.",
    not_heard="Sorry, I did not catch that.",
    goodbye="Goodbye, take care.",
    topics_intro="You can ask about",
)


def _entry(n: int, topic: str) -> Entry:
    return Entry(
        id=f"e{n}",
        question=f"Question {n}?",
        answer=f"Answer {n}.",
        phrasings=(f"question {n}",),
        source="leaflet",
        topic=topic,
    )


ENTRIES = (
    _entry(1, "what it is"),
    _entry(2, "side effects"),
    _entry(3, "side effects"),  # a repeated label is offered once in topic lists
    _entry(4, "appointments"),
    _entry(5, "costs"),
)
FAQ = Faq(title="Immunotherapy", topic_name="immunotherapy", messages=MESSAGES, entries=ENTRIES)
V = DialogueSettings().default_volume
LOUDER = round(V * 10 ** (4 / 20), 3)  # one 4 dB step up


def ans(n: int) -> str:
    """What the kiosk says for entry n: its answer, then its source and the care-team line."""
    return f"Answer {n}. " + MESSAGES.source_line.format(source="leaflet")


RESULTS = {
    "what is it": MatchResult("what is it", Action.ANSWER, entry_id="e1", score=95),
    "side effects": MatchResult("side effects", Action.ANSWER, entry_id="e2", score=92),
    "rash thing": MatchResult("rash thing", Action.CONFIRM, entry_id="e3", score=70),
    "ghost": MatchResult("ghost", Action.ANSWER, entry_id="nope", score=95),
    **{c.value: MatchResult(c.value, Action.COMMAND, command=c) for c in Command},
}


class FakeMatcher:
    """Looks the transcript up in RESULTS; anything else is declined."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    def __call__(self, text: str, confidence: float) -> MatchResult:
        self.calls.append((text, confidence))
        return RESULTS.get(text, MatchResult(text, Action.DECLINE))


def make(settings: DialogueSettings | None = None) -> Dialogue:
    """A started dialogue whose greeting has been spoken."""
    d = Dialogue(FAQ, FakeMatcher(), settings or DialogueSettings())
    d.handle(Started(at=0.0))
    d.handle(SpeechFinished(at=1.0))
    return d


def said(actions: list[DialogueAction]) -> list[Say]:
    return [a for a in actions if isinstance(a, Say)]


def texts(actions: list[DialogueAction]) -> list[str]:
    return [s.text for s in said(actions)]


def hear(d: Dialogue, text: str, at: float = 2.0) -> list[DialogueAction]:
    return d.handle(Heard(at=at, text=text, confidence=0.9))


def press(d: Dialogue, key: Key, at: float = 2.0) -> list[DialogueAction]:
    return d.handle(KeyPressed(at=at, key=key))


# --- greeting and captions ------------------------------------------------------------------


def test_started_greets_with_safety_notice_and_usage_then_listens() -> None:
    d = Dialogue(FAQ, FakeMatcher(), DialogueSettings())
    out = d.handle(Started(at=0.0))
    assert texts(out) == [MESSAGES.greeting, MESSAGES.safety_notice, MESSAGES.usage]
    assert [s.kind for s in said(out)] == [SayKind.GREETING, SayKind.GREETING, SayKind.PROMPT]
    assert out[-1] == Listen()
    assert d.is_speaking_expected


def test_every_say_is_preceded_by_its_kiosk_caption() -> None:
    d = Dialogue(FAQ, FakeMatcher(), DialogueSettings())
    script: list[Event] = [
        Started(at=0.0),
        Heard(1, "rash thing"),
        Heard(2, "yes"),
        Heard(3, "help"),
        NothingHeard(4),
        KeyPressed(5, Key.NEXT),
        Heard(6, "slower"),
        Heard(7, "goodbye"),
    ]
    for event in script:
        out = d.handle(event)
        for i, action in enumerate(out):
            if isinstance(action, Say):
                shown: list[str] = []
                for before in reversed(out[:i]):
                    if not (isinstance(before, Show) and before.caption.role is Role.KIOSK):
                        break
                    shown.insert(0, before.caption.text)
                assert action.text.endswith(" ".join(shown)) and shown


def test_heard_text_is_captioned_for_the_patient_before_the_reply() -> None:
    out = hear(make(), "  what is it ")
    assert out[0] == Show(Caption(Role.PATIENT, "what is it"))
    assert out[0].caption.role == "patient"


def test_matcher_gets_the_transcript_and_confidence() -> None:
    matcher = FakeMatcher()
    d = Dialogue(FAQ, matcher, DialogueSettings())
    d.handle(Heard(at=1.0, text="what is it", confidence=0.42))
    assert matcher.calls == [("what is it", 0.42)]


# --- answer, confirm, decline ---------------------------------------------------------------


def test_answer_is_said_at_the_default_rate_and_volume() -> None:
    out = hear(make(), "what is it")
    assert said(out) == [Say(ans(1), 155, V, SayKind.ANSWER)]
    assert Listen() not in out


def test_confirm_asks_the_entry_question_then_listens() -> None:
    out = hear(make(), "rash thing")
    assert said(out) == [Say("Did you mean: Question 3??", 155, V, SayKind.CONFIRM)]
    assert out[-1] == Listen()


def test_yes_after_confirm_answers_the_pending_entry() -> None:
    d = make()
    hear(d, "rash thing")
    out = hear(d, "yes")
    assert said(out) == [Say(ans(3), 155, V, SayKind.ANSWER)]


def test_a_yes_long_after_the_confirm_does_not_answer_it() -> None:
    # Medical safety: "Did you mean …?" expires; a late "yes" may be someone else's.
    d = make()
    hear(d, "rash thing", at=2.0)
    out = hear(d, "yes", at=2.0 + DialogueSettings().confirm_timeout_s + 1)
    assert SayKind.ANSWER not in [a.kind for a in said(out)]
    assert texts(out) == [MESSAGES.usage]


def test_no_after_confirm_asks_to_rephrase_and_forgets_the_question() -> None:
    d = make()
    hear(d, "rash thing")
    out = hear(d, "no")
    assert texts(out) == [MESSAGES.rephrase]
    assert out[-1] == Listen()
    assert texts(hear(d, "yes")) == [MESSAGES.usage]


def test_new_question_instead_of_yes_is_handled_as_a_new_question() -> None:
    d = make()
    hear(d, "rash thing")
    assert texts(hear(d, "side effects")) == [ans(2)]
    assert texts(hear(d, "yes")) == [MESSAGES.usage]


def test_decline_says_the_fallback_and_listens() -> None:
    out = hear(make(), "mumble")
    assert said(out) == [Say(MESSAGES.fallback, 155, V, SayKind.DECLINE)]
    assert out[-1] == Listen()


def test_unknown_entry_from_the_matcher_is_declined_not_guessed() -> None:
    assert texts(hear(make(), "ghost")) == [MESSAGES.fallback]


def test_two_misses_in_a_row_offer_the_topic_list() -> None:
    d = make()
    assert texts(hear(d, "mumble")) == [MESSAGES.fallback]
    out = hear(d, "mumble again")
    topics = "You can ask about what it is, side effects, or appointments."
    assert texts(out) == [MESSAGES.fallback, topics]
    assert out[-1] == Listen()


def test_nothing_heard_counts_as_a_miss() -> None:
    d = make()
    out = d.handle(NothingHeard(at=2.0))
    assert said(out) == [Say(MESSAGES.not_heard, 155, V, SayKind.DECLINE)]
    assert out[-1] == Listen()
    assert len(texts(hear(d, "mumble"))) == 2


def test_blank_transcript_is_treated_as_nothing_heard() -> None:
    out = hear(make(), "   ")
    assert texts(out) == [MESSAGES.not_heard]
    assert not any(isinstance(a, Show) and a.caption.role is Role.PATIENT for a in out)


def test_an_answer_resets_the_miss_count() -> None:
    d = make()
    hear(d, "mumble")
    hear(d, "what is it")
    assert texts(hear(d, "mumble")) == [MESSAGES.fallback]


def test_topics_are_not_read_after_every_later_miss() -> None:
    d = make()
    hear(d, "a")
    hear(d, "b")
    assert len(texts(hear(d, "c"))) == 1
    assert len(texts(hear(d, "d"))) == 2


def test_yes_or_no_with_nothing_pending_gives_the_usage_prompt() -> None:
    d = make()
    for word in ("yes", "no"):
        out = hear(d, word)
        assert said(out) == [Say(MESSAGES.usage, 155, V, SayKind.PROMPT)]
        assert out[-1] == Listen()


def test_help_gives_intro_topics_and_usage() -> None:
    out = hear(make(), "help")
    assert texts(out) == [
        f"{MESSAGES.help_intro} You can ask about what it is, side effects, or appointments.",
        MESSAGES.usage,
    ]
    assert out[-1] == Listen()


def test_topics_in_help_is_configurable() -> None:
    out = hear(make(DialogueSettings(topics_in_help=2)), "help")
    assert texts(out)[0].endswith("You can ask about what it is or side effects.")


# --- repeat ---------------------------------------------------------------------------------


def test_repeat_says_the_last_answer_again() -> None:
    d = make()
    hear(d, "side effects")
    hear(d, "mumble")
    assert said(hear(d, "repeat")) == [Say(ans(2), 155, V, SayKind.ANSWER)]


def test_repeat_with_nothing_said_yet_says_it_did_not_catch_that() -> None:
    # "What?" is heard as "repeat": with nothing to repeat, the question was not caught.
    out = hear(make(), "repeat")
    assert texts(out) == [MESSAGES.not_understood]
    assert out[-1] == Listen()


def test_repeat_key_with_nothing_said_yet_gives_the_usage_line() -> None:
    assert texts(press(make(), Key.REPEAT)) == [MESSAGES.usage]


def test_repeat_of_a_pending_confirm_asks_again_and_yes_still_answers() -> None:
    d = make()
    hear(d, "what is it")
    hear(d, "rash thing")
    out = hear(d, "repeat")
    assert texts(out) == ["Did you mean: Question 3??"]
    assert out[-1] == Listen()
    assert texts(hear(d, "yes")) == [ans(3)]


# --- interrupt ------------------------------------------------------------------------------


def test_stop_command_stops_speaking_and_says_nothing() -> None:
    d = make()
    hear(d, "what is it")
    out = hear(d, "stop")
    assert out == [StopSpeaking(), Show(Caption(Role.PATIENT, "stop"))]
    assert not d.is_speaking_expected


def test_stop_command_when_silent_still_only_stops() -> None:
    d = make()
    out = hear(d, "stop")
    assert said(out) == []
    assert out.count(StopSpeaking()) == 1


def test_barge_in_stops_speech_then_the_question_is_handled_normally() -> None:
    d = make()
    hear(d, "what is it")
    assert d.is_speaking_expected
    assert d.handle(SpeechStarted(at=3.0)) == [StopSpeaking()]
    out = hear(d, "side effects", at=4.0)
    assert StopSpeaking() not in out
    assert texts(out) == [ans(2)]


def test_speech_started_while_silent_does_nothing() -> None:
    assert make().handle(SpeechStarted(at=3.0)) == []


def test_heard_while_speaking_stops_the_speech_first() -> None:
    d = make()
    hear(d, "what is it")
    out = hear(d, "side effects")
    assert out[0] == StopSpeaking()
    assert texts(out) == [ans(2)]


def test_speech_finished_clears_speaking_expected() -> None:
    d = make()
    hear(d, "what is it")
    d.handle(SpeechFinished(at=5.0))
    assert not d.is_speaking_expected


# --- speed and volume -----------------------------------------------------------------------


def test_slower_repeats_the_last_answer_at_the_lower_rate() -> None:
    d = make()
    hear(d, "side effects")
    assert said(hear(d, "slower")) == [Say(ans(2), 135, V, SayKind.ANSWER)]
    assert d.rate_wpm == 135
    assert said(hear(d, "what is it"))[0].rate_wpm == 135


def test_slower_with_no_answer_acknowledges_at_the_new_rate() -> None:
    out = hear(make(), "slower")
    assert said(out) == [Say("I will speak more slowly.", 135, V, SayKind.ACK)]


def test_faster_with_a_pending_confirm_asks_it_again_faster() -> None:
    d = make()
    hear(d, "rash thing")
    assert said(hear(d, "faster")) == [Say("Did you mean: Question 3??", 175, V, SayKind.CONFIRM)]


def test_rate_stops_at_its_limits_and_says_so() -> None:
    d = make()
    hear(d, "slower")
    hear(d, "slower")
    assert d.rate_wpm == 115
    assert said(hear(d, "slower")) == [Say("This is my slowest speed.", 115, V, SayKind.ACK)]
    assert d.rate_wpm == 115
    for _ in range(4):
        hear(d, "faster")
    assert d.rate_wpm == 195
    assert texts(hear(d, "faster")) == ["This is my fastest speed."]
    assert d.rate_wpm == 195


def test_louder_steps_4_db_up_to_12_db_and_says_so_at_the_limit() -> None:
    d = make()
    assert said(hear(d, "louder")) == [Say("I will speak louder.", 155, LOUDER, SayKind.ACK)]
    hear(d, "louder")
    hear(d, "louder")
    assert d.volume == round(V * 10 ** (12 / 20), 3)
    out = said(hear(d, "louder"))
    assert out == [Say("This is my loudest volume.", 155, d.volume, SayKind.ACK)]


def test_quieter_steps_down_to_the_limit_and_says_so() -> None:
    d = make()
    volumes = []
    for _ in range(2):
        out = hear(d, "quieter")
        assert texts(out) == ["I will speak more quietly."]
        volumes.append(d.volume)
    assert volumes == [round(V * 10 ** (-4 / 20), 3), round(V * 10 ** (-8 / 20), 3)]
    assert texts(hear(d, "quieter")) == ["This is my quietest volume."]
    assert d.volume == volumes[-1]


def test_answers_use_the_chosen_volume() -> None:
    d = make()
    hear(d, "louder")
    assert said(hear(d, "what is it"))[0].volume == LOUDER


# --- goodbye and idle reset -----------------------------------------------------------------


def test_goodbye_clears_the_screen_says_goodbye_ends_the_session_and_resets() -> None:
    d = make()
    hear(d, "louder")
    hear(d, "slower")
    hear(d, "what is it")
    hear(d, "mumble")
    out = hear(d, "goodbye")
    assert out.index(ClearScreen()) < out.index(Show(Caption(Role.KIOSK, MESSAGES.goodbye)))
    assert said(out) == [Say(MESSAGES.goodbye, 135, LOUDER, SayKind.GOODBYE)]
    assert out[-1] == EndSession()
    assert (d.rate_wpm, d.volume) == (155, V)
    assert not d.session_open


def test_no_one_there_ends_the_session_quietly_and_resets() -> None:
    d = make()
    hear(d, "louder", at=10.0)
    hear(d, "slower", at=11.0)
    hear(d, "rash thing", at=12.0)
    d.handle(SpeechFinished(at=14.0))
    assert d.handle(Tick(at=43.0)) == []
    out = d.handle(Tick(at=44.0))
    assert out[0] == ClearScreen() and out[-1] == EndSession()
    assert said(out) == []  # nothing is said to a room that may be empty
    assert (d.rate_wpm, d.volume) == (155, V)
    assert d.handle(Tick(at=500.0)) == []


def test_started_greeting_is_not_repeated_by_the_idle_clock() -> None:
    d = make()
    assert said(d.handle(Tick(at=1000.0))) == []
    assert d.handle(Tick(at=2000.0)) == []


def test_idle_clock_runs_from_the_end_of_the_reply() -> None:
    d = make()
    hear(d, "what is it", at=10.0)
    d.handle(SpeechFinished(at=40.0))
    assert d.handle(Tick(at=69.0)) == []
    assert EndSession() in d.handle(Tick(at=70.0))


def test_no_session_ends_while_the_kiosk_is_still_speaking() -> None:
    d = make()
    hear(d, "what is it", at=10.0)
    assert d.handle(Tick(at=60.0)) == []
    d.handle(SpeechFinished(at=65.0))
    assert EndSession() in d.handle(Tick(at=95.0))


def test_noise_does_not_hold_off_the_end_of_the_session() -> None:
    d = make()
    hear(d, "louder", at=10.0)
    d.handle(SpeechFinished(at=11.0))
    d.handle(NothingHeard(at=30.0))
    d.handle(SpeechFinished(at=32.0))
    assert EndSession() in d.handle(Tick(at=41.0))
    assert d.volume == V


def test_the_shorter_of_idle_and_absent_timeouts_ends_the_session() -> None:
    d = make(DialogueSettings(idle_timeout_s=20.0))
    hear(d, "what is it", at=10.0)
    d.handle(SpeechFinished(at=12.0))
    assert EndSession() in d.handle(Tick(at=32.0))
    d = make(DialogueSettings(absent_timeout_s=60.0))
    hear(d, "what is it", at=10.0)
    d.handle(SpeechFinished(at=12.0))
    assert d.handle(Tick(at=71.0)) == []
    assert EndSession() in d.handle(Tick(at=72.0))


# --- keypad mode ----------------------------------------------------------------------------


def test_next_reads_topics_in_order_and_wraps() -> None:
    d = make()
    lines = [texts(press(d, Key.NEXT))[0] for _ in range(6)]
    assert lines[0] == "Topic 1 of 5: what it is. Press Enter to hear the answer."
    assert lines[4] == "Topic 5 of 5: costs. Press Enter to hear the answer."
    assert lines[5] == lines[0]
    assert said(press(d, Key.NEXT))[0].kind is SayKind.TOPIC


def test_previous_starts_at_the_end_and_wraps() -> None:
    d = make()
    assert texts(press(d, Key.PREVIOUS))[0].startswith("Topic 5 of 5: costs.")
    assert texts(press(d, Key.PREVIOUS))[0].startswith("Topic 4 of 5: appointments.")
    d2 = make()
    press(d2, Key.NEXT)
    assert texts(press(d2, Key.PREVIOUS))[0].startswith("Topic 5 of 5:")


def test_select_says_the_answer_and_repeat_key_repeats_it() -> None:
    d = make()
    press(d, Key.NEXT)
    press(d, Key.NEXT)
    assert said(press(d, Key.SELECT)) == [Say(ans(2), 155, V, SayKind.ANSWER)]
    assert texts(press(d, Key.REPEAT)) == [ans(2)]
    assert texts(hear(d, "slower")) == [ans(2)]


def test_repeat_key_after_a_topic_repeats_the_topic() -> None:
    d = make()
    press(d, Key.NEXT)
    assert texts(press(d, Key.REPEAT))[0].startswith("Topic 1 of 5:")


def test_select_before_any_topic_explains_the_keys() -> None:
    out = press(make(), Key.SELECT)
    assert said(out)[0].kind is SayKind.PROMPT
    assert "Press the right arrow key" in texts(out)[0]


def test_stop_key_stops_speaking_and_says_nothing() -> None:
    d = make()
    press(d, Key.NEXT)
    assert press(d, Key.STOP) == [StopSpeaking()]


def test_key_press_while_speaking_stops_the_speech_first() -> None:
    d = make()
    press(d, Key.NEXT)
    out = press(d, Key.NEXT)
    assert out[0] == StopSpeaking()
    assert texts(out)[0].startswith("Topic 2 of 5:")


def test_help_key_gives_help() -> None:
    assert texts(press(make(), Key.HELP))[0] == KEYS_HELP


def test_key_press_counts_as_activity() -> None:
    d = make()
    hear(d, "what is it", at=10.0)
    d.handle(SpeechFinished(at=12.0))
    press(d, Key.NEXT, at=40.0)
    assert d.handle(Tick(at=41.0)) == []
    d.handle(SpeechFinished(at=42.0))
    assert d.handle(Tick(at=71.0)) == []
    assert EndSession() in d.handle(Tick(at=72.0))


# --- settings and helpers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"default_rate_wpm": 100},
        {"default_volume": 1.5},
        {"rate_step": 0},
        {"volume_step_db": -1.0},
        {"idle_timeout_s": 0},
        {"max_misses_before_topics": 0},
    ],
)
def test_impossible_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        DialogueSettings(**kwargs)  # type: ignore[arg-type]


def test_spoken_list_joins_like_speech() -> None:
    assert spoken_list(["a"]) == "a"
    assert spoken_list(["a", "b"]) == "a or b"
    assert spoken_list(["a", "b", "c"]) == "a, b, or c"
