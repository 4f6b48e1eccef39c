"""Every sentence the dialogue says, at every rate it says it, is one the kiosk prepares.

The kiosk does not load its voice when all its lines are on disk, so a line the dialogue can
say but voice/speaking/lines.py does not list would load the voice (about 1 s, 150 MB) in the
middle of a conversation. The dialogue is driven here through long seeded random walks of
every event, and through each topic list at each rate, with a fake matcher.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from voice.content.loader import default_content_dir, load_content
from voice.content.schema import Faq
from voice.kiosk.dialogue import Dialogue, DialogueSettings
from voice.kiosk.events import (
    Event,
    Heard,
    Key,
    KeyPressed,
    NothingHeard,
    Say,
    SpeechFinished,
    SpeechStarted,
    Started,
    Tick,
)
from voice.matching.commands import Command
from voice.matching.result import Action, MatchResult
from voice.speaking.disk_cache import line_key
from voice.speaking.lines import content_lines, reachable_rates
from voice.text.sentences import split_sentences

FAQS = Path(__file__).parent / "data" / "faqs"
CONTENTS = [default_content_dir(), *sorted(p for p in FAQS.iterdir() if p.is_dir())]


def fake_matcher(faq: Faq):  # type: ignore[no-untyped-def]
    """Heard text "answer e1", "confirm e1", "command help", "nothing" or anything else."""

    def match(text: str, confidence: float) -> MatchResult:
        kind, _, value = text.partition(" ")
        if kind == "answer":
            return MatchResult(text, Action.ANSWER, entry_id=value, score=95)
        if kind == "confirm":
            return MatchResult(text, Action.CONFIRM, entry_id=value, score=70)
        if kind == "command":
            return MatchResult(text, Action.COMMAND, command=Command(value))
        if kind == "nothing":
            return MatchResult(text, Action.DECLINE, reason="no_words")
        return MatchResult(text, Action.DECLINE, reason="no_good_match")

    return match


def random_events(faq: Faq, seed: int, count: int) -> list[Event]:
    rng = random.Random(seed)
    ids = [entry.id for entry in faq.entries]
    texts = [
        *(f"answer {i}" for i in ids),
        *(f"confirm {i}" for i in ids),
        *(f"command {c.value}" for c in Command),
        "nothing",
        "something else",
        "",
    ]
    events: list[Event] = [Started(at=0.0)]
    now = 0.0
    for _ in range(count):
        now += rng.choice((0.5, 2.0, 10.0, 40.0))  # now and then long enough to end a session
        pick = rng.random()
        if pick < 0.55:
            events.append(Heard(at=now, text=rng.choice(texts)))
        elif pick < 0.8:
            events.append(KeyPressed(at=now, key=rng.choice(list(Key))))
        elif pick < 0.85:
            events.append(NothingHeard(at=now))
        elif pick < 0.9:
            events.append(SpeechStarted(at=now))
        elif pick < 0.95:
            events.append(SpeechFinished(at=now))
        else:
            events.append(Tick(at=now))
    return events


def topic_lists_at_every_rate(faq: Faq) -> list[Event]:
    """At each rate: spoken help, key help and misses, each once per topic label and more."""
    events: list[Event] = [Started(at=0.0)]
    now = 0.0
    labels = len({entry.topic for entry in faq.entries})
    steps = [*(["command slower"] * 3), *(["command faster"] * 5)]
    for step in ["", *steps]:
        now += 1
        if step:
            events.append(Heard(at=now, text=step))
        for _ in range(labels + 2):
            for event in ("command help", "key help", "miss", "miss"):
                now += 1
                if event == "key help":
                    events.append(KeyPressed(at=now, key=Key.HELP))
                elif event == "miss":
                    events.append(Heard(at=now, text="something else"))
                else:
                    events.append(Heard(at=now, text=event))
    return events


def said(faq: Faq, settings: DialogueSettings, events: list[Event]) -> list[Say]:
    dialogue = Dialogue(faq, fake_matcher(faq), settings)
    out: list[Say] = []
    for event in events:
        out += [a for a in dialogue.handle(event) if isinstance(a, Say)]
    return out


@pytest.mark.parametrize("content", CONTENTS, ids=lambda p: p.name)
@pytest.mark.parametrize("push_to_talk", [False, True])
def test_everything_the_dialogue_says_is_prepared(content: Path, push_to_talk: bool) -> None:
    faq = load_content(content)
    settings = DialogueSettings(push_to_talk=push_to_talk)
    prepared = set(content_lines(faq, settings))
    rates = set(reachable_rates(settings.default_rate_wpm, settings))
    says = said(faq, settings, topic_lists_at_every_rate(faq))
    for seed in range(3):
        says += said(faq, settings, random_events(faq, seed, 3000))
    assert len({s.rate_wpm for s in says}) == len(rates)  # every rate was reached
    unprepared = {
        (line_key(sentence), s.rate_wpm)
        for s in says
        for sentence in split_sentences(s.text)
        if line_key(sentence) not in prepared or s.rate_wpm not in rates
    }
    assert not unprepared


def test_the_rates_a_patient_can_reach() -> None:
    settings = DialogueSettings()
    assert reachable_rates(155, settings) == [155, 135, 175, 115, 195]
    # From a rate off the grid, the limits are reached too, and the grid from each of them.
    assert set(reachable_rates(150, settings)) == {115, 130, 135, 150, 155, 170, 175, 190, 195}
