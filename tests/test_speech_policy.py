"""Unit tests of the trust rules for spoken questions (pure logic: transcripts are made up)."""

from __future__ import annotations

import pytest

from voice.content.loader import default_content_dir, load_content
from voice.hearing.policy import RULES, SpeechPolicy, judge, judge_with_rule
from voice.hearing.transcript import Transcript, WordConfidence
from voice.matching.matcher import Matcher
from voice.matching.result import Action


def heard(text: str, conf: float = 1.0) -> Transcript:
    words = tuple(
        WordConfidence(w, conf, i * 0.3, i * 0.3 + 0.25) for i, w in enumerate(text.split())
    )
    return Transcript(text, words, 0.3 * len(words), 0.0)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_content(default_content_dir()))


def test_open_garble_of_the_topic_word_does_not_block_an_answer(matcher: Matcher) -> None:
    # Decoded from a synthetic voice (tests/speechgen.py): the open decoder's version.
    main = heard("what are the worst side effects on immunotherapy")
    garbled = heard("the west side effects on in you know family")
    result = judge(matcher, main, garbled)
    assert result.action is Action.ANSWER
    assert result.entry_id == "worst-side-effects"


def test_open_transcript_naming_another_subject_declines(matcher: Matcher) -> None:
    # The phrase list turned "radio therapy" into FAQ words; the open decoder heard it.
    main = heard("how do i know if my murray immunotherapy is working")
    assert judge(matcher, main).action is Action.ANSWER
    result = judge(matcher, main, heard("he can't do i know if my radio therapy is working"))
    assert result.action is Action.DECLINE
    assert result.reason == "other_subject"
    assert result.entry_id is None


def test_a_subject_both_transcripts_name_is_left_to_the_matcher(matcher: Matcher) -> None:
    # Not a second-witness veto: the matcher already saw the word and judged it.
    text = "can immunotherapy make my cancer worse"
    assert judge(matcher, heard(text), heard(text)).action is Action.ANSWER
    assert not matcher.names_other_subject(text, text, "make-cancer-worse")
    chemo = "will chemotherapy make my cancer worse"
    assert matcher.names_other_subject(chemo, text, "make-cancer-worse")
    # Both heard "chemotherapy": the phrase-list transcript did not leave it out.
    assert not matcher.names_other_subject(chemo, chemo, "make-cancer-worse")


def test_the_veto_can_be_turned_off(matcher: Matcher) -> None:
    main = heard("how do i know if my murray immunotherapy is working")
    other = heard("he can't do i know if my radio therapy is working")
    policy = SpeechPolicy(veto_other_subject=False)
    assert judge(matcher, main, other, policy).action is Action.ANSWER


def test_confirm_the_open_transcript_does_not_support_becomes_a_decline(
    matcher: Matcher,
) -> None:
    main = heard("is melanoma treatable")
    assert judge(matcher, main).action is Action.CONFIRM
    result = judge(matcher, main, heard("is my llama a tree table"))
    assert result.action is Action.DECLINE
    assert result.reason == "decoders_disagree"


def test_shaky_word_turns_an_answer_into_a_confirm(matcher: Matcher) -> None:
    main = heard("can immunotherapy make my cancer worse", conf=0.1)
    # The open decoder was no surer (a clear one would agree: see below).
    result = judge(matcher, main, heard("can immunotherapy make my cancer worse", conf=0.3))
    assert result.action is Action.CONFIRM
    assert result.reason == "unsure_hearing"


def test_mostly_unknown_words_decline(matcher: Matcher) -> None:
    result = judge(matcher, heard("[unk] [unk] immunotherapy [unk]"))
    assert result.action is Action.DECLINE
    assert result.reason == "unknown_words"


def test_silence_is_no_speech(matcher: Matcher) -> None:
    assert judge(matcher, heard("")).reason == "no_speech"


def test_a_yes_must_be_heard_clearly(matcher: Matcher) -> None:
    assert judge(matcher, heard("yes"), heard("yes")).action is Action.COMMAND
    assert judge(matcher, heard("yes", conf=0.4), heard("yes")).action is Action.DECLINE
    assert judge(matcher, heard("yes"), heard("yesterday")).action is Action.DECLINE


def test_an_answer_needs_some_support_from_the_open_transcript(matcher: Matcher) -> None:
    # Background talk: the phrase list heard an FAQ word the open decoder did not hear at all.
    main = heard("tell me feel")
    assert judge(matcher, main).action is Action.ANSWER
    result = judge(matcher, main, heard("tell me the film"))
    assert result.action is Action.CONFIRM
    assert result.reason == "decoders_disagree"
    relaxed = SpeechPolicy(answer_min_open_score=0.0)
    assert judge(matcher, main, heard("tell me the film"), relaxed).action is Action.ANSWER


# Decoded from a training voice: the phrase list misheard two words, the open decoder none.
MISHEARD = "whale how long i'm going too feel the side effects of this treatment for"
CLEAR = "how long do the side effects of immunotherapy last"


def test_an_offer_is_answered_when_a_clear_open_hearing_answers_the_same(
    matcher: Matcher,
) -> None:
    assert judge(matcher, heard(MISHEARD)).action is Action.CONFIRM
    result = judge(matcher, heard(MISHEARD), heard(CLEAR, conf=0.9))
    assert (result.action, result.entry_id) == (Action.ANSWER, "side-effects-duration")


def test_a_shaky_open_hearing_does_not_turn_an_offer_into_an_answer(matcher: Matcher) -> None:
    result = judge(matcher, heard(MISHEARD), heard(CLEAR, conf=0.3))
    assert (result.action, result.entry_id) == (Action.CONFIRM, "side-effects-duration")


def test_an_open_hearing_of_another_question_is_not_answered(matcher: Matcher) -> None:
    other = heard("can immunotherapy make my cancer worse")
    result = judge(matcher, heard(MISHEARD), other)
    assert result.action is not Action.ANSWER
    assert result.entry_id != "make-cancer-worse"


def test_a_decline_is_not_rescued_by_the_open_hearing(matcher: Matcher) -> None:
    garbled = heard("the my been getting had takes and a king joined since i started the drip")
    clear = heard("i've been getting headaches and aching joints since i started the drip")
    assert judge(matcher, garbled, clear).action is Action.DECLINE


def test_agreement_can_be_turned_off(matcher: Matcher) -> None:
    policy = SpeechPolicy(agree_min_open_confidence=1.01)
    result = judge(matcher, heard(MISHEARD), heard(CLEAR), policy)
    assert result.action is Action.CONFIRM


def test_in_noise_one_heard_word_is_only_offered(matcher: Matcher) -> None:
    # Decoded from a training voice at 10 dB: "are there foods I should avoid during
    # immunotherapy", heard by the phrase list as one FAQ word ("during") and little else.
    main = heard("than on the during immunotherapy")
    noisy = heard("oh and i thought that was shot and on the only in that", conf=0.5)
    result = judge(matcher, main, noisy)
    assert (result.action, result.reason) == (Action.CONFIRM, "unsure_hearing")


def test_in_clear_speech_one_word_question_is_still_answered(matcher: Matcher) -> None:
    result = judge(matcher, heard("pseudo progression"), heard("pseudo progression", conf=0.9))
    assert result.action is Action.ANSWER


def timed(text: str, start: float, end: float, conf: float = 1.0) -> Transcript:
    """A transcript whose words are spread evenly from ``start`` to ``end`` seconds."""
    names = text.split()
    step = (end - start) / len(names)
    words = tuple(
        WordConfidence(w, conf, start + i * step, start + (i + 1) * step)
        for i, w in enumerate(names)
    )
    return Transcript(text, words, end + 0.5, 0.0)


def test_a_fragment_of_what_was_said_is_only_offered(matcher: Matcher) -> None:
    # Decoded from a validation voice at 10 dB: "I've got a headache, can I take paracetamol",
    # heard by the phrase list as three FAQ words at the end, by the open decoder throughout.
    main = timed("research on lung", 2.85, 3.6, conf=0.6)
    witness = timed("aren't you going through our research or month", 0.4, 3.5, conf=0.7)
    assert judge(matcher, main, witness, SpeechPolicy(min_span_share=0.0)).action is Action.ANSWER
    result = judge(matcher, main, witness)
    assert (result.action, result.reason) == (Action.CONFIRM, "decoders_disagree")


def test_a_question_heard_over_the_same_time_by_both_is_answered(matcher: Matcher) -> None:
    main = timed("research on lung", 0.5, 3.4)
    witness = timed("aren't you going through our research or month", 0.4, 3.5)
    assert judge(matcher, main, witness).action is Action.ANSWER


def test_open_hearing_without_word_times_leaves_the_span_rule_out(matcher: Matcher) -> None:
    main = timed("research on lung", 2.85, 3.6)
    witness = Transcript("aren't you going through our research or month", (), 4.0, 0.0)
    assert judge(matcher, main, witness).action is Action.ANSWER


def test_a_shaky_hearing_needs_the_open_decoder_to_support_it(matcher: Matcher) -> None:
    # Decoded from a validation voice at 10 dB: an out-of-domain question ("how many hours
    # does each session take") pulled into FAQ words by the phrase list, weakest word 0.37.
    text = "how many how does immunotherapy session a good thing good can"
    garble = "the how many hours in our future new reputation a sitting in the pan"
    off = SpeechPolicy(shaky_min_open_score=0.0)
    assert judge(matcher, heard(text, 0.37), heard(garble, 0.8), off).action is Action.ANSWER
    result = judge(matcher, heard(text, 0.37), heard(garble, 0.8))
    assert (result.action, result.reason) == (Action.CONFIRM, "decoders_disagree")
    # The same words heard clearly by the phrase list are answered.
    assert judge(matcher, heard(text, 0.9), heard(garble, 0.8)).action is Action.ANSWER


def test_a_shaky_hearing_in_a_quiet_room_is_still_answered(matcher: Matcher) -> None:
    # Unusual voices give weak words in a quiet room too: the open decoder's support is only
    # demanded when the speech was not far above the background (or that is not known).
    text = "how many how does immunotherapy session a good thing good can"
    garble = "the how many hours in our future new reputation a sitting in the pan"
    main, witness = heard(text, 0.37), heard(garble, 0.8)
    quiet = judge(matcher, main, witness, speech_to_background_db=60.0)
    assert quiet.action is Action.ANSWER
    noisy = judge(matcher, main, witness, speech_to_background_db=15.0)
    assert noisy.action is Action.CONFIRM
    assert judge(matcher, main, witness, speech_to_background_db=None).action is Action.CONFIRM


# One question per rule, each decided by that rule: (rule, main, open, speech-to-background dB,
# action, reason). The transcripts are the ones the tests above explain.
RULE_CASES = [
    ("no_speech", heard(""), None, None, Action.DECLINE, "no_speech"),
    ("unclear_yes", heard("yes", conf=0.4), heard("yes"), None, Action.DECLINE, "unsure_hearing"),
    ("command", heard("yes"), heard("yes"), None, Action.COMMAND, "command"),
    (
        "mostly_unknown",
        heard("[unk] [unk] immunotherapy [unk]"),
        None,
        None,
        Action.DECLINE,
        "unknown_words",
    ),
    (
        "other_subject",
        heard("how do i know if my murray immunotherapy is working"),
        heard("he can't do i know if my radio therapy is working"),
        None,
        Action.DECLINE,
        "other_subject",
    ),
    (
        "offer_unsupported",
        heard("is melanoma treatable"),
        heard("is my llama a tree table"),
        None,
        Action.DECLINE,
        "decoders_disagree",
    ),
    (
        "matcher_declined",
        heard("what time does the car park open"),
        None,
        None,
        Action.DECLINE,
        "no_good_match",
    ),
    (
        "answer_unsupported",
        heard("tell me feel"),
        heard("tell me the film"),
        None,
        Action.CONFIRM,
        "decoders_disagree",
    ),
    ("matcher_offered", heard("is melanoma treatable"), None, None, Action.CONFIRM, "weak_match"),
    (
        "shaky_word",
        heard("can immunotherapy make my cancer worse", conf=0.1),
        heard("can immunotherapy make my cancer worse", conf=0.3),
        None,
        Action.CONFIRM,
        "unsure_hearing",
    ),
    (
        "some_unknown",
        heard("can immunotherapy make my cancer worse [unk] [unk]"),
        None,
        None,
        Action.CONFIRM,
        "unknown_words",
    ),
    (
        "thin_open_hearing",
        heard("than on the during immunotherapy"),
        heard("oh and i thought that was shot and on the only in that", conf=0.5),
        None,
        Action.CONFIRM,
        "unsure_hearing",
    ),
    (
        "shaky_in_noise",
        heard("how many how does immunotherapy session a good thing good can", 0.37),
        heard("the how many hours in our future new reputation a sitting in the pan", 0.8),
        15.0,
        Action.CONFIRM,
        "decoders_disagree",
    ),
    (
        "fragment",
        timed("research on lung", 2.85, 3.6, conf=0.6),
        timed("aren't you going through our research or month", 0.4, 3.5, conf=0.7),
        None,
        Action.CONFIRM,
        "decoders_disagree",
    ),
    (
        # "What time is that" in 10 dB babble: the phrase list made "more time" of it, which
        # the words alone answer with how long it extends life; neither hearing is like it.
        "unlike_entry",
        heard("more time is that", conf=0.71),
        heard("what time is that"),
        None,
        Action.CONFIRM,
        "semantic_doubt",
    ),
    ("open_agrees", heard(MISHEARD), heard(CLEAR, conf=0.9), None, Action.ANSWER, "confident"),
    (
        "answer",
        heard("can immunotherapy make my cancer worse"),
        heard("can immunotherapy make my cancer worse"),
        None,
        Action.ANSWER,
        "confident",
    ),
]


@pytest.mark.parametrize(
    ("rule", "main", "witness", "db", "action", "reason"),
    RULE_CASES,
    ids=[case[0] for case in RULE_CASES],
)
def test_each_rule_decides_its_case(
    matcher: Matcher,
    rule: str,
    main: Transcript,
    witness: Transcript | None,
    db: float | None,
    action: Action,
    reason: str,
) -> None:
    judgement = judge_with_rule(matcher, main, witness, speech_to_background_db=db)
    assert judgement.rule == rule
    assert (judgement.result.action, judgement.result.reason) == (action, reason)
    assert judge(matcher, main, witness, speech_to_background_db=db) == judgement.result


def test_every_rule_has_a_case() -> None:
    assert [case[0] for case in RULE_CASES] == [rule.name for rule in RULES]


def test_rule_order() -> None:
    names = [rule.name for rule in RULES]
    assert names == [
        "no_speech",
        "unclear_yes",
        "command",
        "mostly_unknown",
        "other_subject",
        "offer_unsupported",
        "matcher_declined",
        "answer_unsupported",
        "matcher_offered",
        "shaky_word",
        "some_unknown",
        "thin_open_hearing",
        "shaky_in_noise",
        "fragment",
        "unlike_entry",
        "open_agrees",
        "answer",
    ]
    # The hard safety rules come before every rule that can answer, offer or lift an offer.
    can_pass = {"answer_unsupported", "matcher_offered", "shaky_word", "some_unknown"}
    can_pass |= {"unlike_entry", "thin_open_hearing", "shaky_in_noise", "fragment"}
    can_pass |= {"open_agrees", "answer"}
    assert names[0] == "no_speech"
    assert names.index("other_subject") < min(names.index(name) for name in can_pass)
    # The answer checks see a lifted offer before it is answered; the answer comes last.
    assert names.index("fragment") < names.index("open_agrees") < names.index("answer")
    assert names.index("fragment") < names.index("unlike_entry") < names.index("open_agrees")
    assert names[-1] == "answer"


def test_a_doubt_yields_to_a_clear_open_hearing_of_the_same_entry(matcher: Matcher) -> None:
    # A shaky word alone is only offered; the open decoder clearly heard the same question.
    main = heard(CLEAR, conf=0.1)
    assert judge_with_rule(matcher, main).rule == "shaky_word"
    judgement = judge_with_rule(matcher, main, heard(CLEAR, conf=0.9))
    assert judgement.rule == "open_agrees"
    assert (judgement.result.action, judgement.result.entry_id) == (
        Action.ANSWER,
        "side-effects-duration",
    )


def test_a_lifted_offer_still_meets_the_answer_checks(matcher: Matcher) -> None:
    # The open hearing agrees, but the phrase-list words span a fragment of its speech.
    main = timed(MISHEARD, 2.0, 3.0)
    witness = timed(CLEAR, 0.0, 3.0, conf=0.9)
    assert judge_with_rule(matcher, main, witness).rule == "fragment"


def test_the_semantic_floor_can_be_switched_off(matcher: Matcher) -> None:
    main, witness = heard("more time is that", conf=0.71), heard("what time is that")
    assert judge_with_rule(matcher, main, witness).rule == "unlike_entry"
    off = SpeechPolicy(semantic_floor=False)
    assert judge_with_rule(matcher, main, witness, off).rule != "unlike_entry"
