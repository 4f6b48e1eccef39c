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
the phrase-list hearing is shaky and the open transcript hardly supports it; or when the
phrase-list words cover only a fragment of the time in which the open decoder heard speech.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from voice.hearing.transcript import UNKNOWN_WORD, Transcript
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
    # fragment of what was said ("I've got a headache, can I take paracetamol" heard in
    # babble as "research on lung").
    min_span_share: float = 0.5


DEFAULT_POLICY = SpeechPolicy()


def judge(
    matcher: Matcher,
    main: Transcript,
    open_transcript: Transcript | None = None,
    policy: SpeechPolicy = DEFAULT_POLICY,
    *,
    speech_to_background_db: float | None = None,
) -> MatchResult:
    """Match a heard question, answering only what was heard clearly enough.

    A shaky word, a transcript made mostly of "[unk]" or an open transcript that hardly
    supports the entry turns an answer into "Did you mean …?"; an open transcript that names
    another subject turns it into a decline. A "Did you mean …?" that a clear open transcript
    answers on its own, with the same entry, is answered.
    """
    result, open_support = _judge_main(matcher, main, open_transcript, policy)
    if open_transcript is None:
        return result
    if result.action is Action.CONFIRM and _open_agrees(
        matcher, open_transcript, result.entry_id, policy
    ):
        result = replace(result, action=Action.ANSWER, reason="confident")
    if (
        result.action is Action.ANSWER
        and _mean_confidence(open_transcript) < policy.noisy_open_confidence
        and len(matcher.topical_words(main.clean_text)) < 2
    ):
        result = replace(result, action=Action.CONFIRM, reason="unsure_hearing")
    if (
        result.action is Action.ANSWER
        and open_support is not None  # scored for this entry by _judge_main
        and (speech_to_background_db is None or speech_to_background_db < policy.noisy_room_db)
        and main.confidence is not None
        and main.confidence < policy.shaky_main_confidence
        and open_support < policy.shaky_min_open_score
    ):
        result = replace(result, action=Action.CONFIRM, reason="decoders_disagree")
    if (
        result.action is Action.ANSWER
        and _span_share(main, open_transcript) < policy.min_span_share
    ):
        result = replace(result, action=Action.CONFIRM, reason="decoders_disagree")
    return result


def _span(transcript: Transcript) -> float | None:
    """Seconds from the first recognised word's start to the last one's end (None: no times)."""
    words = [w for w in transcript.words if w.word != UNKNOWN_WORD]
    return words[-1].end - words[0].start if words else None


def _span_share(main: Transcript, open_transcript: Transcript) -> float:
    """How much of the open decoder's speech the phrase-list words cover (1 when unknown)."""
    heard, witness = _span(main), _span(open_transcript)
    if heard is None or witness is None or witness <= 0:
        return 1.0
    return heard / witness


def _mean_confidence(transcript: Transcript) -> float:
    """The average word confidence (0 with no words)."""
    words = transcript.words
    return sum(w.conf for w in words) / len(words) if words else 0.0


def _open_agrees(
    matcher: Matcher, open_transcript: Transcript, entry_id: str | None, policy: SpeechPolicy
) -> bool:
    """The open transcript, heard clearly, is a confident answer for ``entry_id`` by itself."""
    confidence = open_transcript.confidence
    if confidence is None or confidence < policy.agree_min_open_confidence:
        return False
    heard = matcher.match(open_transcript.clean_text, heard=True)
    return (
        heard.action is Action.ANSWER and heard.reason == "confident" and heard.entry_id == entry_id
    )


def _judge_main(
    matcher: Matcher, main: Transcript, open_transcript: Transcript | None, policy: SpeechPolicy
) -> tuple[MatchResult, float | None]:
    """The phrase-list transcript's match, trusted as far as the hearing allows, and how well
    the open transcript supports its entry (None when that was not scored)."""
    text = main.clean_text
    if not text.strip():
        return MatchResult(text, Action.DECLINE, reason="no_speech"), None
    result = matcher.match(text, heard=True)
    words = main.text.split()
    if result.action is Action.COMMAND:
        if result.command is Command.YES and not _heard_clearly(main, open_transcript, policy):
            # A "yes" answers a pending "Did you mean …?": it must be heard as clearly as an
            # answer would need to be, or it is not taken as a yes.
            return (
                replace(result, action=Action.DECLINE, command=None, reason="unsure_hearing"),
                None,
            )
        return result, None
    unknown_share = main.unknown_words / len(words) if words else 0.0
    if unknown_share > policy.decline_unknown_share:
        return replace(result, action=Action.DECLINE, entry_id=None, reason="unknown_words"), None
    open_score: float | None = None
    open_text = open_transcript.clean_text if open_transcript is not None else None
    if result.entry_id is not None and open_text is not None:
        if policy.veto_other_subject and matcher.names_other_subject(
            open_text, text, result.entry_id
        ):
            declined = replace(result, action=Action.DECLINE, entry_id=None, reason="other_subject")
            return declined, None
        open_score = _score_for(matcher, open_text, result.entry_id)
        if result.action is Action.CONFIRM and open_score < policy.confirm_min_open_score:
            declined = replace(
                result, action=Action.DECLINE, entry_id=None, reason="decoders_disagree"
            )
            return declined, open_score
        if result.action is Action.ANSWER and open_score < policy.answer_min_open_score:
            return replace(result, action=Action.CONFIRM, reason="decoders_disagree"), open_score
    if result.action is not Action.ANSWER:
        return result, open_score
    confidence = main.confidence
    if confidence is not None and confidence < policy.min_word_confidence:
        return replace(result, action=Action.CONFIRM, reason="unsure_hearing"), open_score
    if unknown_share > policy.confirm_unknown_share:
        return replace(result, action=Action.CONFIRM, reason="unknown_words"), open_score
    return result, open_score


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


def _score_for(matcher: Matcher, text: str, entry_id: str) -> float:
    """How well ``text`` matches the entry (0 when it is not a candidate at all)."""
    for candidate in matcher.score_entries(text, heard=True):
        if candidate.entry_id == entry_id:
            return candidate.score
    return 0.0
