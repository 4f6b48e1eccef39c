"""How far a heard question is trusted: answer, "Did you mean …?", or decline.

The main transcript comes from the phrase-list decoder (voice/hearing/phrase_list.py): FAQ phrasings
plus a background vocabulary of everyday words. Its word confidences and "[unk]" words say how
clearly it heard. When the open-vocabulary decoder heard the same speech too, it acts as a
second witness with the model's whole vocabulary: it can catch a subject the FAQ does not cover
("radio therapy") that the phrase list turned into FAQ words; an answer it hardly supports
becomes "Did you mean …?" ("tell me a joke", heard as "tell me feel" by the phrase list and
"tell me the film" by the open decoder); and a "Did you mean …?" the matcher offered that it
does not support becomes a decline.
Unlike an agreement rule, it need not spell the FAQ's medical words, which it rarely can.

In noise the phrase list can pull a few words out of unrelated speech and make a clear-looking
FAQ question of them. So an answer is only offered when, in a noisy room (voice/audio/levels.py),
the phrase-list hearing is shaky and the open transcript hardly supports it; when the
phrase-list words cover only a fragment of the time in which the open decoder heard speech; or
when neither hearing is as like the entry in meaning as a typed answer must be (rule 15).

How it is decided: the evidence is gathered once (voice/hearing/evidence.py), then the rules
below are tried in this order and the first that decides is the judgement; no later rule runs.

 1. no_speech           nothing heard                                   decline "no_speech"
 2. unclear_yes         a "yes" not heard as clearly as an answer needs decline "unsure_hearing"
 3. command             any other control phrase                        command "command"
 4. mostly_unknown      too many "[unk]" words                          decline "unknown_words"
 5. other_subject       the open transcript names another subject       decline "other_subject"
 6. offer_unsupported   an offer the open transcript does not support   decline "decoders_disagree"
 7. matcher_declined    the matcher declined                            decline (the matcher's)
 8. answer_unsupported  an answer the open transcript hardly supports   confirm "decoders_disagree"
 9. matcher_offered     the matcher offered "Did you mean …?"           confirm (the matcher's)
10. shaky_word          an answer with a shaky word                     confirm "unsure_hearing"
11. some_unknown        an answer with some "[unk]" words               confirm "unknown_words"
12. thin_open_hearing   unclear open hearing, under two topic words     confirm "unsure_hearing"
13. shaky_in_noise      noisy room, shaky words, weak open support      confirm "decoders_disagree"
14. fragment            main words span a fragment of the open speech   confirm "decoders_disagree"
15. unlike_entry        neither hearing is as like the entry as a typed
                        answer must be                                  confirm "semantic_doubt"
16. open_agrees         a doubt (8–11) a clear open hearing answers     answer "confident"
17. answer              the matcher's answer stands                     answer (the matcher's)

Rules 8–11 are doubts about the phrase-list hearing alone: each yields (does not decide) when the
open transcript, heard clearly, is on its own a confident answer with the same entry; such a
question goes on to the answer checks 12–15 and, if they pass, is answered by rule 16.

Rule 15 holds a heard answer to the floor a typed one has (the calibrated decision's
``answer_min_semantic``, voice/matching/decision.py), measured on whichever hearing is closer to
the entry. The phrase list can turn a question the FAQ does not cover into FAQ words that the
words alone answer, while the open hearing, which heard the question as it was, is no more
like the entry than the question is. The phrase-list hearing is measured first; the open one
(an embedding, about 6 ms) only when the first falls short.

The hard safety rules, nothing heard (1) and another subject heard (5), come before every rule
that can answer, offer or lift, so nothing can override them; the rules before 5 only decline
or take a control phrase, which never has an entry to veto.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from voice.hearing.evidence import Evidence
from voice.hearing.transcript import Transcript
from voice.matching.commands import Command
from voice.matching.matcher import Matcher
from voice.matching.result import Action, MatchResult


@dataclass(frozen=True)
class SpeechPolicy:
    """How much a heard question must be trusted before it is answered.

    Calibrated by benchmarks/calibrate_speech.py on the training voices (clean, 20 dB and
    10 dB babble+noise), and checked on the validation voices (bench_speech.py --voices
    valid); the held-out voices are only used to report the figures.
    """

    # The weakest recognised word's confidence below this turns an answer into a confirm.
    min_word_confidence: float = 0.2
    # More than this share of "[unk]" words: the speech was mostly not words the list knows.
    confirm_unknown_share: float = 0.2
    decline_unknown_share: float = 0.34
    # An answer is declined when the open transcript names a subject the entry does not cover.
    veto_other_subject: bool = True
    # The open transcript's own score (0–1) for the same entry: an answer needs some support
    # from it (below this it becomes "Did you mean …?"), ...
    answer_min_open_score: float = 0.1
    # ... and "Did you mean …?" needs this much (below it, decline).
    confirm_min_open_score: float = 0.4
    # A "Did you mean …?" becomes an answer when the open transcript, with no word below this
    # confidence, is on its own a confident answer for the same entry: two hearings agree, and
    # the one without the FAQ's bias heard clearly (above 1: never).
    agree_min_open_confidence: float = 0.4
    # Below this mean word confidence the open decoder heard noise or unclear speech; then an
    # answer must rest on at least two topical words (one heard word is too little to go on).
    noisy_open_confidence: float = 0.6
    # When the phrase-list decoder's weakest word is below this confidence, the open transcript
    # must support the answer at least this much (0–1), or it becomes "Did you mean …?": a
    # shaky hearing that only the FAQ's own phrasings hold together is not trusted alone.
    # Only in a noisy room: speech less than this many dB above the background (or not known).
    shaky_main_confidence: float = 0.6
    shaky_min_open_score: float = 0.35
    noisy_room_db: float = 22.0
    # An answer whose phrase-list words span less than this share of the time the open
    # decoder heard words in becomes "Did you mean …?": the FAQ's phrasings explained only a
    # fragment of what was said ("I've got a headache, can I take X" heard in babble as
    # "research on lung").
    min_span_share: float = 0.5
    # Hold a heard answer to the typed answers' semantic floor (rule 15).
    semantic_floor: bool = True


DEFAULT_POLICY = SpeechPolicy()

# A rule: the judgement for this evidence, or None to leave it to the next rule.
RuleFn = Callable[[Evidence, SpeechPolicy], MatchResult | None]


@dataclass(frozen=True)
class Rule:
    """One named step of the policy."""

    name: str
    decide: RuleFn


@dataclass(frozen=True)
class Judgement:
    """The policy's decision for one heard question and the rule that made it."""

    result: MatchResult
    rule: str


def _as(ev: Evidence, action: Action, reason: str) -> MatchResult:
    """The matcher's result for the main transcript, turned into ``action`` for ``reason``."""
    if action is Action.DECLINE:
        return replace(ev.match, action=action, entry_id=None, command=None, reason=reason)
    return replace(ev.match, action=action, reason=reason)


def _no_speech(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """Nothing was heard: decline without asking the matcher."""
    if ev.text.strip():
        return None
    return MatchResult(ev.text, Action.DECLINE, reason="no_speech")


def _heard_clearly(ev: Evidence, policy: SpeechPolicy) -> bool:
    """No "[unk]", no shaky word, and the open decoder (if any) heard the same words."""
    if ev.unknown_words:
        return False
    confidence = ev.weakest_confidence
    if confidence is not None and confidence < max(policy.min_word_confidence, 0.5):
        return False
    return ev.same_words is not False


def _unclear_yes(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """A "yes" answers a pending "Did you mean …?": it must be heard as clearly as an answer
    would need to be, or it is not taken as a yes."""
    if ev.match.command is not Command.YES or _heard_clearly(ev, policy):
        return None
    return _as(ev, Action.DECLINE, "unsure_hearing")


def _command(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """A control phrase is taken as the matcher heard it."""
    return ev.match if ev.match.action is Action.COMMAND else None


def _mostly_unknown(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """The speech was mostly not words the phrase list knows."""
    if ev.unknown_share <= policy.decline_unknown_share:
        return None
    return _as(ev, Action.DECLINE, "unknown_words")


def _other_subject(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """The open transcript names a subject the entry does not cover ("radio therapy")."""
    if not (policy.veto_other_subject and ev.names_other_subject):
        return None
    return _as(ev, Action.DECLINE, "other_subject")


def _offer_unsupported(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """A "Did you mean …?" the open transcript does not support is not worth offering."""
    if ev.match.action is not Action.CONFIRM:
        return None
    score = ev.open_score
    if score is None or score >= policy.confirm_min_open_score:
        return None
    return _as(ev, Action.DECLINE, "decoders_disagree")


def _matcher_declined(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """The matcher found no entry good enough: its decline stands."""
    return ev.match if ev.match.action is Action.DECLINE else None


def _answer_unsupported(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """An answer the open transcript hardly supports ("tell me the film") is only offered."""
    if ev.match.action is not Action.ANSWER:
        return None
    score = ev.open_score
    if score is None or score >= policy.answer_min_open_score:
        return None
    return _as(ev, Action.CONFIRM, "decoders_disagree")


def _matcher_offered(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """The matcher offered "Did you mean …?": its offer stands."""
    return ev.match if ev.match.action is Action.CONFIRM else None


def _shaky_word(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """An answer with a word the phrase-list decoder hardly heard is only offered."""
    if ev.match.action is not Action.ANSWER:
        return None
    confidence = ev.weakest_confidence
    if confidence is None or confidence >= policy.min_word_confidence:
        return None
    return _as(ev, Action.CONFIRM, "unsure_hearing")


def _some_unknown(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """An answer heard with more than a few "[unk]" words is only offered."""
    if ev.match.action is not Action.ANSWER or ev.unknown_share <= policy.confirm_unknown_share:
        return None
    return _as(ev, Action.CONFIRM, "unknown_words")


# The doubts about the phrase-list hearing alone (rules 8–11), which a clear open hearing of
# the same entry overrules.
_DOUBTS: tuple[RuleFn, ...] = (_answer_unsupported, _matcher_offered, _shaky_word, _some_unknown)


def _open_agrees_clearly(ev: Evidence, policy: SpeechPolicy) -> bool:
    """The open transcript, with no word below the agreement confidence, answers the entry
    on its own: two hearings agree, and the one without the FAQ's bias heard clearly."""
    confidence = ev.open_weakest_confidence
    if confidence is None or confidence < policy.agree_min_open_confidence:
        return False
    return ev.open_answers_alone


def _unless_open_agrees(doubt: RuleFn) -> RuleFn:
    """``doubt``, except that it leaves the question to later rules when the open hearing
    clearly answers the same entry."""

    def decide(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
        result = doubt(ev, policy)
        if result is None or _open_agrees_clearly(ev, policy):
            return None
        return result

    decide.__doc__ = doubt.__doc__
    return decide


def _thin_open_hearing(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """The open decoder heard noise or unclear speech, and the answer rests on fewer than two
    topical words: one heard word is too little to go on."""
    mean = ev.mean_open_confidence
    if mean is None or mean >= policy.noisy_open_confidence or ev.topical_word_count >= 2:
        return None
    return _as(ev, Action.CONFIRM, "unsure_hearing")


def _shaky_in_noise(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """In a noisy room (or one not measured), a shaky phrase-list hearing that the open
    transcript hardly supports: only the FAQ's own phrasings hold it together."""
    db = ev.speech_to_background_db
    confidence = ev.weakest_confidence
    score = ev.open_score
    if (
        score is None
        or (db is not None and db >= policy.noisy_room_db)
        or confidence is None
        or confidence >= policy.shaky_main_confidence
        or score >= policy.shaky_min_open_score
    ):
        return None
    return _as(ev, Action.CONFIRM, "decoders_disagree")


def _fragment(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """The phrase-list words span only a fragment of the time the open decoder heard speech."""
    share = ev.span_share
    if share is None or share >= policy.min_span_share:
        return None
    return _as(ev, Action.CONFIRM, "decoders_disagree")


def _unlike_entry(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """Neither hearing is as like the entry as a typed answer must be: only offer it."""
    floor = ev.matcher.answer_floor
    if not policy.semantic_floor or floor is None or ev.like_entry(floor) is not False:
        return None
    return _as(ev, Action.CONFIRM, "semantic_doubt")


def _open_agrees(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """A doubt about the phrase-list hearing (rules 8–11) yielded to a clear open hearing
    that answers the same entry on its own: answer it."""
    if not any(doubt(ev, policy) is not None for doubt in _DOUBTS):
        return None
    if not _open_agrees_clearly(ev, policy):
        return None
    return _as(ev, Action.ANSWER, "confident")


def _answer(ev: Evidence, policy: SpeechPolicy) -> MatchResult | None:
    """Nothing above doubted it: the matcher's answer stands."""
    return ev.match


RULES: tuple[Rule, ...] = (
    Rule("no_speech", _no_speech),
    Rule("unclear_yes", _unclear_yes),
    Rule("command", _command),
    Rule("mostly_unknown", _mostly_unknown),
    Rule("other_subject", _other_subject),
    Rule("offer_unsupported", _offer_unsupported),
    Rule("matcher_declined", _matcher_declined),
    Rule("answer_unsupported", _unless_open_agrees(_answer_unsupported)),
    Rule("matcher_offered", _unless_open_agrees(_matcher_offered)),
    Rule("shaky_word", _unless_open_agrees(_shaky_word)),
    Rule("some_unknown", _unless_open_agrees(_some_unknown)),
    Rule("thin_open_hearing", _thin_open_hearing),
    Rule("shaky_in_noise", _shaky_in_noise),
    Rule("fragment", _fragment),
    Rule("unlike_entry", _unlike_entry),
    Rule("open_agrees", _open_agrees),
    Rule("answer", _answer),
)


def apply_rules(ev: Evidence, policy: SpeechPolicy = DEFAULT_POLICY) -> Judgement:
    """The first rule in ``RULES`` that decides."""
    for rule in RULES:
        result = rule.decide(ev, policy)
        if result is not None:
            return Judgement(result, rule.name)
    # Unreachable: the last rule always decides.
    raise AssertionError("no speech policy rule decided")


def judge_with_rule(
    matcher: Matcher,
    main: Transcript,
    open_transcript: Transcript | None = None,
    policy: SpeechPolicy = DEFAULT_POLICY,
    *,
    speech_to_background_db: float | None = None,
) -> Judgement:
    """Like ``judge``, and which rule decided."""
    ev = Evidence.gather(
        matcher, main, open_transcript, speech_to_background_db=speech_to_background_db
    )
    return apply_rules(ev, policy)


def judge(
    matcher: Matcher,
    main: Transcript,
    open_transcript: Transcript | None = None,
    policy: SpeechPolicy = DEFAULT_POLICY,
    *,
    speech_to_background_db: float | None = None,
) -> MatchResult:
    """Match a heard question, answering only what was heard clearly enough.

    A shaky word, a transcript made mostly of "[unk]", an open transcript that hardly
    supports the entry, or two hearings both less like the entry in meaning than a typed answer
    must be, turns an answer into "Did you mean …?"; an open transcript that names
    another subject turns it into a decline. A "Did you mean …?" that a clear open transcript
    answers on its own, with the same entry, is answered.
    """
    return judge_with_rule(
        matcher, main, open_transcript, policy, speech_to_background_db=speech_to_background_db
    ).result
