"""How far a heard question is trusted: answer, "Did you mean …?", or decline.

Two decodings of the same speech are compared. The phrase-list decoder hears FAQ words well but
forces other speech into FAQ words (or "[unk]"); the open-vocabulary decoder hears everything but
misspells medical words. An answer needs both to point at the same entry.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace

from voice.commands import Command
from voice.match_result import Action, MatchResult
from voice.matching import Matcher
from voice.transcript import Transcript


@dataclass(frozen=True)
class SpeechPolicy:
    """How much a heard question must be trusted before it is answered.

    Calibrated by benchmarks/calibrate_speech.py on the training voices (clean, 20 dB and
    10 dB babble+noise); the held-out voices are only used to report the figures.
    """

    # The weakest recognised word's confidence below this turns an answer into a confirm.
    min_word_confidence: float = 0.3
    # More than this share of "[unk]" words: the speech was mostly not FAQ words.
    confirm_unknown_share: float = 0.2
    decline_unknown_share: float = 0.34
    # With both decodings, answer only if the open transcript points the same way: its own
    # score for the same entry must reach this (0–1) ...
    require_agreement: bool = True
    agreement_min_score: float = 0.5
    # ... or this, once the topic word the open decoder cannot spell is taken from the
    # phrase-list transcript (see topic_witness) ...
    topic_agreement_min_score: float = 0.55
    # ... and offer "Did you mean …?" only if it reaches this; below it, decline.
    confirm_min_open_score: float = 0.3


DEFAULT_POLICY = SpeechPolicy()


def topic_words(topic_name: str) -> frozenset[str]:
    """The words of the FAQ's subject ("immunotherapy"), as the recognizer spells them."""
    return frozenset(re.findall(r"[a-z']+", topic_name.lower()))


def topic_witness(open_text: str, main_text: str, topic: frozenset[str]) -> str:
    """The open transcript, with the topic word taken from the phrase-list transcript.

    The small model's open vocabulary rarely produces "immunotherapy": it hears "you know
    family" or "a new therapy". Where the two transcripts differ only in that the phrase-list
    one has topic words, the open one is given them, so the rest of the sentence decides
    whether the decoders agree. Every other difference is kept.
    """
    main_words, open_words = main_text.split(), open_text.split()
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=main_words, b=open_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal" and i2 > i1 and all(w in topic for w in main_words[i1:i2]):
            out.extend(main_words[i1:i2])
        else:
            out.extend(open_words[j1:j2])
    return " ".join(out)


def judge(
    matcher: Matcher,
    main: Transcript,
    open_transcript: Transcript | None = None,
    policy: SpeechPolicy = DEFAULT_POLICY,
    topic: frozenset[str] = frozenset(),
) -> MatchResult:
    """Match a heard question, answering only what was heard clearly enough.

    A shaky word, a transcript made mostly of "[unk]", or an open transcript that points
    elsewhere turns an answer into "Did you mean …?" (or a decline). ``topic`` holds the FAQ's
    subject words, which the open decoder is not asked to have heard.
    """
    text = main.clean_text
    if not text.strip():
        return MatchResult(text, Action.DECLINE, reason="no_speech")
    result = matcher.match(text)
    words = main.text.split()
    if result.action is Action.COMMAND:
        if result.command is Command.YES and not _heard_clearly(main, open_transcript, policy):
            # A "yes" answers a pending "Did you mean …?": it must be heard as clearly as an
            # answer would need to be, or it is not taken as a yes.
            return replace(result, action=Action.DECLINE, command=None, reason="unsure_hearing")
        return result
    unknown_share = main.unknown_words / len(words) if words else 0.0
    if unknown_share > policy.decline_unknown_share:
        return replace(result, action=Action.DECLINE, entry_id=None, reason="unknown_words")
    open_text = open_transcript.clean_text if open_transcript is not None else None
    open_score = _score_for(matcher, open_text, result.entry_id)
    open_disagrees = open_score is not None and open_score < policy.confirm_min_open_score
    if result.action is Action.CONFIRM and open_disagrees:
        return replace(result, action=Action.DECLINE, entry_id=None, reason="decoders_disagree")
    if result.action is not Action.ANSWER:
        return result
    confidence = main.confidence
    if confidence is not None and confidence < policy.min_word_confidence:
        return replace(result, action=Action.CONFIRM, reason="unsure_hearing")
    if unknown_share > policy.confirm_unknown_share:
        return replace(result, action=Action.CONFIRM, reason="unknown_words")
    weak_open = open_score is not None and open_score < policy.agreement_min_score
    if policy.require_agreement and weak_open and not _agrees_on_topic(
        matcher, open_text, text, result.entry_id, topic, policy
    ):
        return replace(result, action=Action.CONFIRM, reason="decoders_disagree")
    return result


def _agrees_on_topic(
    matcher: Matcher,
    open_text: str | None,
    main_text: str,
    entry_id: str | None,
    topic: frozenset[str],
    policy: SpeechPolicy,
) -> bool:
    """The open transcript agrees once it is given the topic word it could not spell."""
    if not topic or open_text is None:
        return False
    witness = topic_witness(open_text, main_text, topic)
    if witness == open_text:
        return False
    score = _score_for(matcher, witness, entry_id)
    return score is not None and score >= policy.topic_agreement_min_score


def _heard_clearly(
    main: Transcript, open_transcript: Transcript | None, policy: SpeechPolicy
) -> bool:
    """No "[unk]", no shaky word, and the open decoder heard the same words."""
    if main.unknown_words:
        return False
    confidence = main.confidence
    if confidence is not None and confidence < max(policy.min_word_confidence, 0.5):
        return False
    if open_transcript is None:
        return True
    return open_transcript.clean_text.split() == main.clean_text.split()


def _score_for(matcher: Matcher, text: str | None, entry_id: str | None) -> float | None:
    """How well ``text`` matches the entry (None: no text to compare, or no entry)."""
    if text is None or entry_id is None:
        return None
    for candidate in matcher.score_entries(text):
        if candidate.entry_id == entry_id:
            return candidate.score
    return 0.0
