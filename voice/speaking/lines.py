"""Every line the kiosk can say, and every rate it can say them at, known from the content alone.

The kiosk never speaks a patient's words: all it says are the content's messages and entries,
its own fixed prompts (voice/kiosk/dialogue.py) and lists of topic labels. So all of it can be
rendered before anyone asks. tests/test_prerender_lines.py drives the dialogue through every
kind of turn and checks that each sentence it says is in ``content_lines``.
"""

from __future__ import annotations

from voice.content.schema import Faq
from voice.kiosk import dialogue as d
from voice.speaking.disk_cache import line_key
from voice.text.sentences import split_sentences


def reachable_rates(rate_wpm: int, settings: d.DialogueSettings | None = None) -> list[int]:
    """The rates a patient can step to from rate_wpm with "slower" and "faster", nearest first."""
    s = settings or d.DialogueSettings()
    found = {rate_wpm}
    frontier = [rate_wpm]
    while frontier:
        rate = frontier.pop()
        for step in (-s.rate_step, s.rate_step):
            near = min(s.max_rate, max(s.min_rate, rate + step))
            if near not in found:
                found.add(near)
                frontier.append(near)
    return sorted(found, key=lambda rate: (abs(rate - rate_wpm), rate))


def _labels(faq: Faq) -> list[str]:
    labels: list[str] = []
    for entry in faq.entries:
        if entry.topic not in labels:
            labels.append(entry.topic)
    return labels


def content_texts(faq: Faq) -> list[str]:
    """One of each kind of text the kiosk says from its content, most urgent first.

    (benchmarks/bench_voice.py measures the voices on these; ``spoken_texts`` has them all.)
    """
    m = faq.messages
    topics = _labels(faq)[: d.DialogueSettings().topics_in_help]
    texts = [m.greeting, m.safety_notice, m.usage, m.not_heard, m.fallback, m.rephrase]
    texts += [m.help_intro, m.goodbye]
    if topics:
        texts.append(f"{m.topics_intro} {d.spoken_list(topics)}.")
    texts += [d.SLOWER_ACK, d.FASTER_ACK, d.SLOWEST, d.FASTEST]
    texts += [d.LOUDER_ACK, d.QUIETER_ACK, d.LOUDEST, d.QUIETEST, d.SELECT_WITHOUT_TOPIC]
    texts += [m.confirm_template.format(question=entry.question) for entry in faq.entries]
    texts += [entry.answer for entry in faq.entries]
    count = len(faq.entries)
    texts += [
        d.TOPIC_LINE.format(number=i + 1, count=count, topic=entry.topic)
        for i, entry in enumerate(faq.entries)
    ]
    return texts


def spoken_texts(faq: Faq, settings: d.DialogueSettings | None = None) -> list[str]:
    """Every whole text the dialogue can say (as one Say), most urgent first, with repeats."""
    s = settings or d.DialogueSettings()
    m = faq.messages
    texts = [m.greeting, m.safety_notice, m.push_to_talk, m.usage, d.KEYS_HINT]
    # An answer is said together with its source line (Dialogue._answer).
    for entry in faq.entries:
        source = d.spoken_source(entry.source)
        line = m.source_line.format(source=source) if source else None
        texts.append(f"{entry.answer} {line}" if line else entry.answer)
    texts += [m.confirm_template.format(question=entry.question) for entry in faq.entries]
    texts += [m.not_heard, m.not_understood, m.fallback, m.rephrase, m.goodbye]
    texts += [d.SLOWER_ACK, d.FASTER_ACK, d.SLOWEST, d.FASTEST]
    texts += [d.LOUDER_ACK, d.QUIETER_ACK, d.LOUDEST, d.QUIETEST, d.SELECT_WITHOUT_TOPIC]
    count = len(faq.entries)
    texts += [
        d.TOPIC_LINE.format(number=i + 1, count=count, topic=entry.topic)
        for i, entry in enumerate(faq.entries)
    ]
    texts += _topic_lists(faq, s)
    return texts


def _topic_lists(faq: Faq, s: d.DialogueSettings) -> list[str]:
    """Help and "here are some things you can ask about": the topic labels take turns, so any
    run of up to topics_in_help labels, starting at any label, can be said (Dialogue._help and
    Dialogue._miss)."""
    m = faq.messages
    labels = _labels(faq)
    texts = [m.help_intro, d.KEYS_HELP]
    longest = min(s.topics_in_help, len(labels))
    for start in range(len(labels)):
        for size in range(1, longest + 1):
            listed = d.spoken_list([labels[(start + i) % len(labels)] for i in range(size)])
            topics = f"{m.topics_intro} {listed}."
            texts.append(topics)
            for intro in (m.help_intro, d.KEYS_HELP):
                if intro.rstrip().endswith(":"):
                    texts.append(f"{intro} {listed}.")
                else:
                    texts.append(f"{intro} {topics}")
    return texts


def content_lines(faq: Faq, settings: d.DialogueSettings | None = None) -> list[str]:
    """Every sentence the kiosk can say, most urgent first, without repeats."""
    seen: dict[str, None] = {}
    for text in spoken_texts(faq, settings):
        for sentence in split_sentences(text):
            seen.setdefault(line_key(sentence), None)
    return list(seen)
