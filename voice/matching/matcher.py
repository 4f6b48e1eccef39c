"""Matching a question to an FAQ entry: answer, confirm ("Did you mean …?") or decline.

Scoring has three parts, all over normalised, stemmed content words:
- a keyword signal: IDF-weighted cosine between the question and each phrasing, which lets a long,
  rambling question still meet the short phrasing it contains, and counts words the FAQ has never
  seen against the match (that is what keeps a question about another subject from being
  answered);
- rapidfuzz string similarity (token sort and token set ratios) against the best phrasings, which
  tolerates the speech recognizer's spellings and word-order changes;
- entry-level coverage: how much of the question the entry's words cover as a whole, so words
  from different phrasings and the answer add up ("are there side effects like a rash").
Question words the FAQ never uses are mapped to an FAQ word when the speech recognizer misspelt
one (rapidfuzz) or WordNet relates them (voice/matching/related_words.py: "swollen" to "swell").
The lexical decision uses the best entry's score and its margin over the runner-up; thresholds
come from ``benchmarks/calibrate.py`` run on the evaluation set, and the coverage weight from
``tests/data/dev_eval.tsv`` (see ``Thresholds``). With the sentence-embedding model installed
(voice/semantic/), the hybrid ranking (ranking.py) and the calibrated decision (decision.py) then
move that decision: see decision.py for what they may and may not change.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from rapidfuzz import fuzz, process

from voice.content.schema import Entry, Faq
from voice.matching.commands import Command, command_phrases
from voice.matching.decision import DecisionModel, QuestionFacts, decide, shipped_model
from voice.matching.keywords import content_words, idf_weights
from voice.matching.ranking import Ranking
from voice.matching.related_words import load_related
from voice.matching.result import Action, Candidate, MatchResult
from voice.semantic.index import SemanticIndex, load_index
from voice.text.language import Language, english
from voice.text.normalize import Normalizer
from voice.text.stemming import stem

log = logging.getLogger(__name__)

_COMPARISON_REACH = 5  # how many words before the subject the marker may be


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on the 0–1 score scale, calibrated on the evaluation set."""

    answer: float = 0.62
    answer_margin: float = 0.06
    confirm: float = 0.46
    # Per-word recognizer confidence below this turns an answer into a confirm.
    asr_confidence: float = 0.80
    # Weight of a question word the FAQ has never seen, relative to the mean known-word weight:
    # typed words are taken at their word ("... safe to take with my other pills" asks something
    # else); a heard word may be a mishearing, so it counts less. Set on the evaluation sets and
    # on near-miss questions that reuse an entry's words (.helpers, see the stop-9 note).
    unknown_word_weight: float = 1.8
    heard_unknown_word_weight: float = 1.2
    # How much the rapidfuzz similarity counts against the keyword cosine.
    fuzzy_share: float = 0.35
    # Down-weighting of words that appear in every entry, and of question words.
    generic_weight: float = 0.35
    question_word_weight: float = 0.5
    # An entry scores at least this times the share of the question its words cover (0: off).
    # Tuned on tests/data/dev_eval.tsv (0.9 answered more there, but also answered wrongly more).
    coverage_weight: float = 0.8
    # A word only the entry's answer uses covers this much of itself: answers use words in
    # passing ("Phoenix", "much the same thing") that do not make a question about the entry.
    answer_only_share: float = 0.5
    # Coverage counts only when the covered words weigh at least this many average words: a
    # few common words ("how much does it last", heard for "... cost") are not enough.
    coverage_min_words: float = 2.0


@dataclass(frozen=True)
class _Phrasing:
    entry_index: int
    text: str  # content words joined by spaces
    words: tuple[str, ...]


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first (ties by index); no full sort, no zeros."""
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) > k:
        part = np.argpartition(-scores[candidates], k - 1)[:k]
        candidates = np.sort(candidates[part])
    order = np.argsort(-scores[candidates], kind="stable")
    return candidates[order]


@dataclass(frozen=True)
class _MappedQuestion:
    """A question's content words (stems, in order), split into the FAQ words they were
    mapped to and the words the FAQ does not know."""

    words: list[str]
    known: list[str]
    unknown: list[str]
    used_related: bool  # a WordNet relation gave one of the known words


class Matcher:
    """Scores questions against every entry's question and alternative phrasings.

    The language (stop words, question words, command phrases …) and the FAQ's subject (its
    name and aliases, generic words, synonyms, the subjects it does not cover) are data: the
    language file and the content's [subject] table.
    """

    def __init__(
        self,
        faq: Faq,
        thresholds: Thresholds | None = None,
        language: Language | None = None,
        semantic: SemanticIndex | Literal["auto"] | None = "auto",
        decision: DecisionModel | None = None,
    ) -> None:
        """``semantic``: the FAQ's sentence-embedding index; "auto" loads the installed model
        (words alone, with one warning, when it is missing); None: words alone.
        ``decision``: the calibrated decision's weights (default: the shipped ones)."""
        self.faq = faq
        self.semantic = load_index(faq) if semantic == "auto" else semantic
        self.decision = decision
        if decision is None and self.semantic is not None:
            self.decision = shipped_model()
        self._entry_ids = tuple(e.id for e in faq.entries)
        self.thresholds = thresholds or Thresholds()
        self.language = language if language is not None else english()
        subject = faq.subject
        self.normalize = Normalizer(self.language, subject.rewrites())
        self._stop_words = self.language.stop_words
        self._question_words = self.language.question_words
        # Everyday words for the subject, and its own name, add nothing to tell entries apart.
        # They are kept as words (so "does it work" still has content) but weigh little.
        self._generic_words = frozenset((*subject.generic_words, *subject.name.split()))
        self._generic_stems = frozenset(stem(w) for w in self._generic_words)
        self._subject_stems = tuple(self._tokens(subject.name))
        self._entries: tuple[Entry, ...] = faq.entries
        self._phrasings: list[_Phrasing] = []
        faq_words: dict[str, str] = {}  # every word the FAQ uses, as written -> its stem
        for index, entry in enumerate(self._entries):
            seen: set[str] = set()
            # The answer's own words count as a (long, hence weak) phrasing: a question that
            # names a symptom the answer lists ("aching joints") is then not "unknown" talk.
            for raw in (entry.question, *entry.phrasings, entry.answer, entry.more or ""):
                faq_words.update(
                    (word, stem(word))
                    for word in self.normalize(raw).split()
                    if word not in self._stop_words
                )
                words = tuple(self._tokens(raw))
                text = " ".join(words)
                if words and text not in seen:
                    seen.add(text)
                    self._phrasings.append(_Phrasing(index, text, words))
        entry_words: list[set[str]] = [set() for _ in self._entries]
        for p in self._phrasings:
            entry_words[p.entry_index].update(p.words)
        self._entry_words = entry_words
        # The words an entry is asked with (question, topic, phrasings), as against words that
        # only its answer happens to use ("much the same thing"); see Thresholds.
        self._asked_words = [
            set(self._tokens(" ".join((e.question, e.topic, *e.phrasings))))
            for e in self._entries
        ]
        self._index_of = {e.id: i for i, e in enumerate(self._entries)}
        # The words an entry is really about: its question, topic and answer (not phrasings).
        self._core_words = [
            set(self._tokens(f"{e.question} {e.topic} {e.answer} {e.more or ''}"))
            for e in self._entries
        ]
        self._idf = idf_weights(entry_words)
        for word in self._generic_words:
            if word in self._idf:
                self._idf[word] *= self.thresholds.generic_weight
        for word in self._question_words:
            if word in self._idf:
                self._idf[word] *= self.thresholds.question_word_weight
        self._vocabulary = sorted(self._idf)
        self._mean_idf = float(np.mean(list(self._idf.values()))) if self._idf else 1.0
        self._build_postings()
        self._foreign = frozenset(self._tokens(" ".join(sorted(subject.other_subjects))))
        # Everyday words for FAQ words; never for a subject the FAQ does not cover.
        # (Only words the scoring knows: "likely" is written, but its stem is a stop word.)
        faq_words = {word: s for word, s in faq_words.items() if s in self._idf}
        self._related = load_related(faq_words, stem, exclude=self._foreign)
        self._command_choices = {
            self._strip_politeness(phrase): command
            for command, phrases in command_phrases(self.language).items()
            for phrase in phrases
        }
        self._command_list = list(self._command_choices)

    # -- text -------------------------------------------------------------------------------

    def _tokens(self, text: str) -> list[str]:
        """Stemmed content words of a text, in order."""
        return content_words(self.normalize(text), self._stop_words)

    def _spoken_and_stemmed(self, text: str) -> dict[str, str]:
        """The question's content words as stems, each with the word it was first said as."""
        pairs: dict[str, str] = {}
        for word in self.normalize(text).split():
            stemmed = stem(word)
            if word not in self._stop_words and stemmed not in self._stop_words:
                pairs.setdefault(stemmed, word)
        return pairs

    def _strip_politeness(self, norm: str) -> str:
        """ "could you say that again please" -> "say that again": the command is the same."""
        openings, endings = self.language.polite_openings, self.language.polite_endings
        changed = True
        while changed:
            changed = False
            for opening in openings:
                if norm.startswith(opening) and len(norm) > len(opening):
                    norm, changed = norm[len(opening) :], True
            for ending in endings:
                if norm.endswith(ending) and len(norm) > len(ending):
                    norm, changed = norm[: -len(ending)], True
        return norm

    def _topical(self, known: list[str]) -> list[str]:
        """FAQ words that say what a question is about: not generic, not question words."""
        return [
            w for w in known if w not in self._generic_stems and w not in self._question_words
        ]

    def _names_own_subject(self, words: list[str]) -> bool:
        """The question names the FAQ's own subject (every word of its name)."""
        return bool(self._subject_stems) and all(s in words for s in self._subject_stems)

    def _compared_subjects(self, text: str, subjects: frozenset[str]) -> set[str]:
        """The subjects (stems) this question only compares with: "is it easier than X"."""
        before_markers = self.language.comparison_before
        after_markers = self.language.comparison_after
        said = self.normalize(text).split()
        found: set[str] = set()
        for i, word in enumerate(said):
            stemmed = stem(word)
            if stemmed not in subjects:
                continue
            start = max(0, i - _COMPARISON_REACH)
            before = [
                w
                for j, w in enumerate(said[start:i], start)
                if not (w == "like" and said[j + 1] == "to")  # "I'd like to know about X"
            ]
            after = said[i + 1 : i + 2]
            if before_markers.intersection(before) or after_markers.intersection(after):
                found.add(stemmed)
        return found

    def _build_postings(self) -> None:
        """Inverted index word -> (phrasing indices, weights) for a vectorised cosine."""
        postings: dict[str, list[int]] = {}
        norms = np.zeros(len(self._phrasings), dtype=np.float64)
        for i, p in enumerate(self._phrasings):
            for w in set(p.words):
                postings.setdefault(w, []).append(i)
                norms[i] += self._idf[w] ** 2
        self._postings = {w: np.asarray(ix, dtype=np.int64) for w, ix in postings.items()}
        self._norms = np.sqrt(np.maximum(norms, 1e-9))
        self._phrasing_entry = np.asarray(
            [p.entry_index for p in self._phrasings], dtype=np.int64
        )

    # -- commands ---------------------------------------------------------------------------

    def classify_command(self, text: str) -> tuple[Command, float] | None:
        """Return the control phrase this whole utterance is, with its score, or None."""
        norm = self._strip_politeness(self.normalize(text))
        if not norm:
            return None
        if norm in self._command_choices:
            return self._command_choices[norm], 100.0
        if len(norm) < 6:  # short words are too easy to confuse by spelling alone
            return None
        best = process.extractOne(
            norm, self._command_list, scorer=fuzz.ratio, score_cutoff=90
        )
        if best is None:
            return None
        return self._command_choices[best[0]], float(best[1])

    # -- questions --------------------------------------------------------------------------

    def _map_word(self, word: str) -> str | None:
        """The FAQ word this question word is, allowing for recognizer misspellings."""
        if word in self._idf:
            return word
        if len(word) < 5:
            return None
        best = process.extractOne(word, self._vocabulary, scorer=fuzz.ratio, score_cutoff=86)
        return None if best is None else str(best[0])

    def likeness(self, text: str, entry_id: str) -> float | None:
        """The entry's best cosine with ``text`` (None without the embedding model)."""
        if self.semantic is None:
            return None
        return float(self.semantic.scores(text)[self._index_of[entry_id]])

    @property
    def answer_floor(self) -> float | None:
        """The cosine below which a typed answer is only offered (the calibrated decision's
        ``answer_min_semantic``; None without the embedding model)."""
        if self.semantic is None or self.decision is None:
            return None
        return self.decision.answer_min_semantic

    def score_entries(self, text: str, heard: bool = False) -> list[Candidate]:
        """Score every entry for this question, best first (scores 0–1).

        ``heard``: the text is a speech transcript (see Thresholds.heard_unknown_word_weight).
        """
        return self._rank(text, heard=heard)[0]

    def _rank(
        self, text: str, related: bool = True, heard: bool = False
    ) -> tuple[list[Candidate], _MappedQuestion]:
        """The scored entries, best first, and the question's words as mapped to FAQ words
        (``related=False``: no WordNet relation may map one)."""
        question = self._map_question(text, related)
        words, known, unknown = question.words, question.known, question.unknown
        if not words or not self._phrasings:
            return [], question
        t = self.thresholds
        q_weights = {w: self._idf[w] for w in known}
        unknown_weight = (
            t.heard_unknown_word_weight if heard else t.unknown_word_weight
        ) * self._mean_idf
        known_sq = sum(v * v for v in q_weights.values())
        q_norm = math.sqrt(known_sq + len(unknown) * unknown_weight**2)
        dots = np.zeros(len(self._phrasings), dtype=np.float64)
        for w, weight in q_weights.items():
            ix = self._postings.get(w)
            if ix is not None:
                dots[ix] += weight * weight
        cosine = dots / (self._norms * q_norm)
        best_per_entry = np.full(len(self._entries), -1.0)
        # rapidfuzz refines only the strongest phrasings: enough for the top entries.
        order = _top_k(cosine, 3 * len(self._entries) if len(self._entries) < 50 else 40)
        query_text = " ".join(known + unknown)
        # Subjects the FAQ does not cover, found once per question (see _foreign_conflict).
        foreign = [w for w in words if w in self._foreign]
        # A subject the question only compares with ("better than X") is not what it asks
        # about, as long as the entry mentions it.
        asked_about = (
            [w for w in foreign if w not in self._compared_subjects(text, self._foreign)]
            if foreign
            else []
        )
        # The question is about the FAQ's own subject, not the other subject it names.
        ours = self._names_own_subject(words) or not asked_about
        for pi in order:
            ei = int(self._phrasing_entry[pi])
            p = self._phrasings[int(pi)]
            fuzzy = max(
                fuzz.token_sort_ratio(query_text, p.text),
                0.9 * fuzz.token_set_ratio(query_text, p.text) if len(p.words) > 1 else 0.0,
            ) / 100.0
            score = (1 - t.fuzzy_share) * float(cosine[pi]) + t.fuzzy_share * fuzzy
            if foreign and self._foreign_conflict(foreign, ours, ei):
                score *= 0.5
            if score > best_per_entry[ei]:
                best_per_entry[ei] = score
        if t.coverage_weight > 0 and len(self._topical(known)) >= 2:
            # Entry-level evidence: how much of the question the entry's words cover at all,
            # across phrasings and answer ("rash" from one, "side effects" from another).
            # One topical word is too little to go on ("what's your name" -> "call").
            total = known_sq + len(unknown) * unknown_weight**2
            enough = t.coverage_min_words * self._mean_idf**2
            for ei, entry_words in enumerate(self._entry_words):
                asked = self._asked_words[ei]
                covered = sum(
                    v * v * (1.0 if w in asked else t.answer_only_share)
                    for w, v in q_weights.items()
                    if w in entry_words
                )
                if covered < enough:
                    continue
                score = t.coverage_weight * covered / total
                if foreign and self._foreign_conflict(foreign, ours, ei):
                    score *= 0.5
                if score > best_per_entry[ei]:
                    best_per_entry[ei] = score
        scored = np.flatnonzero(best_per_entry >= 0)
        ranked = scored[np.argsort(-best_per_entry[scored], kind="stable")]
        candidates = [
            Candidate(self._entries[int(ei)].id, round(float(best_per_entry[ei]), 4))
            for ei in ranked
        ]
        return candidates, question

    def _map_question(self, text: str, related: bool = True) -> _MappedQuestion:
        """The question's content words, mapped to FAQ words where they can be."""
        said = self._spoken_and_stemmed(text)
        words = list(said)  # unique stems, in order
        direct = [self._map_word(w) for w in words]
        # A word the FAQ does not use may still be an everyday word for one it does
        # ("swollen" for "swell"; see voice/matching/related_words.py).
        mapped = [
            d if d is not None or not related else self._related.get(said[w])
            for w, d in zip(words, direct, strict=True)
        ]
        return _MappedQuestion(
            words=words,
            # Unique: two words for one FAQ word ("job, an occupation") are still one word.
            known=list(dict.fromkeys(m for m in mapped if m is not None)),
            unknown=[w for w, m in zip(words, mapped, strict=True) if m is None],
            used_related=any(
                d is None and m is not None for d, m in zip(direct, mapped, strict=True)
            ),
        )

    def topical_words(self, text: str) -> list[str]:
        """The FAQ words the question was mapped to, without generic and question words."""
        return self._topical(self._map_question(text).known)

    def _clears_answer_bar(self, candidates: list[Candidate]) -> bool:
        """The best entry scores high enough, and far enough above the runner-up, to answer."""
        if not candidates:
            return False
        best = candidates[0].score
        runner_up = candidates[1].score if len(candidates) > 1 else 0.0
        t = self.thresholds
        return best >= t.answer and best - runner_up >= t.answer_margin

    def _answers_without_related(self, text: str, entry_id: str, heard: bool) -> bool:
        """The question answers ``entry_id`` on its own words, without WordNet's help."""
        candidates = self._rank(text, related=False, heard=heard)[0]
        return self._clears_answer_bar(candidates) and candidates[0].entry_id == entry_id

    def _rests_on_one_stray_word(self, known: list[str], entry_id: str) -> bool:
        """The question's only content word is one the entry uses just in a phrasing.

        ``known`` are the question's words mapped to FAQ words. "Tell me a job" matches "what
        shows the drip is doing its job" on "job" alone; one such word is not enough to answer
        with.
        """
        content = [
            w for w in known if w not in self._generic_words and w not in self._question_words
        ]
        if len(content) != 1:
            return False
        word = content[0]
        index = self._index_of[entry_id]
        # A shared stem of five letters or more counts ("successful" and "success").
        stem_length = min(len(word), 5)
        return not any(
            core == word or (len(core) >= 5 and core[:stem_length] == word[:stem_length])
            for core in self._core_words[index]
        )

    def names_other_subject(self, heard: str, chosen: str, entry_id: str) -> bool:
        """``heard`` names a subject the entry does not cover, which ``chosen`` left out.

        A second hearing of the same question (the open decoder's, with the whole vocabulary)
        can catch a subject the first one turned into FAQ words (the FAQ's own subject).
        """
        subjects = {w for w in self._tokens(heard) if w in self._foreign}
        subjects -= set(self._tokens(chosen))
        return self._names_uncovered(subjects, self._index_of[entry_id])

    def _names_uncovered(self, subjects: Iterable[str], entry_index: int) -> bool:
        """One of these subjects is never mentioned by the entry."""
        entry_words = self._entry_words[entry_index]
        return any(w not in entry_words for w in subjects)

    def _foreign_conflict(self, foreign: list[str], ours: bool, entry_index: int) -> bool:
        """The question is about a subject this entry does not cover.

        Either it names a subject (``foreign``, the content's other subjects) the entry never
        mentions, or it names one the entry mentions only in passing (as a comparison) and is
        not about the FAQ's own subject (``ours``: it names the FAQ's subject, or names the
        other subject only to compare with it). "Does X make you feel better" is a question
        about X; "is it easier than X" is not.
        """
        if self._names_uncovered(foreign, entry_index):
            return True
        return not ours

    def match(
        self, text: str, asr_confidence: float | None = None, heard: bool = False
    ) -> MatchResult:
        """Decide what to do with one question or control phrase.

        ``heard``: the text is a speech transcript, not typed (``asr_confidence`` implies it).
        """
        heard = heard or asr_confidence is not None
        command = self.classify_command(text)
        if command is not None:
            return MatchResult(
                transcript=text,
                action=Action.COMMAND,
                command=command[0],
                score=round(command[1] / 100.0, 4),
            )
        result, evidence = self.weigh(text, asr_confidence, heard)
        if evidence is None or self.decision is None:
            return result
        return decide(result, *evidence, self.decision)

    def weigh(
        self, text: str, asr_confidence: float | None = None, heard: bool = False
    ) -> tuple[MatchResult, tuple[Ranking, QuestionFacts] | None]:
        """The decision on words alone, and the hybrid ranking's evidence for the calibrated
        decision (None without the semantic model, or with no content words)."""
        heard = heard or asr_confidence is not None
        candidates, question = self._rank(text, heard=heard)
        result = self._lexical_decision(text, candidates, question, asr_confidence, heard)
        if self.semantic is None or result.reason == "no_words":
            return result, None
        ranking = Ranking.combine(self._entry_ids, self.semantic.scores(text), candidates)
        words = question.words
        facts = QuestionFacts(
            content_words=len(words),
            unknown_share=len(question.unknown) / len(words) if words else 1.0,
            other_subject=self._other_subject(text, words, ranking.top),
            # A heard question is not lifted here: the speech policy weighs the hearing (its
            # open_agrees rule lifts an offer two hearings agree on).
            heard=heard,
            liftable=(
                not heard
                and result.action is Action.CONFIRM
                and result.reason == "weak_match"
                and bool(candidates)
                and candidates[0].score < self.thresholds.answer <= 1.0
                and self._enough_words(question.known)
            ),
        )
        return result, (ranking, facts)

    def _enough_words(self, known: list[str]) -> bool:
        """The question's topical words weigh enough to answer on (as for coverage: a few
        common words, "how much does it last", are not enough; Thresholds.coverage_min_words)."""
        topical = self._topical(known)
        weight = sum(self._idf[w] ** 2 for w in topical)
        enough = self.thresholds.coverage_min_words * self._mean_idf**2
        return len(topical) >= 2 and weight >= enough

    def _other_subject(self, text: str, words: list[str], entry_index: int) -> bool:
        """The question is about a subject the FAQ does not cover, as far as this entry goes."""
        foreign = [w for w in words if w in self._foreign]
        if not foreign:
            return False
        asked_about = [w for w in foreign if w not in self._compared_subjects(text, self._foreign)]
        ours = self._names_own_subject(words) or not asked_about
        return self._foreign_conflict(foreign, ours, entry_index)

    def _lexical_decision(
        self,
        text: str,
        candidates: list[Candidate],
        question: _MappedQuestion,
        asr_confidence: float | None,
        heard: bool,
    ) -> MatchResult:
        """Answer, confirm or decline on the lexical scores and the named rules."""
        known, used_related = question.known, question.used_related
        top = tuple(candidates[:3])
        if not candidates:
            reason = "no_good_match" if self._tokens(text) else "no_words"
            return MatchResult(text, Action.DECLINE, alternatives=top, reason=reason)
        best = candidates[0]
        t = self.thresholds
        if self._clears_answer_bar(candidates):
            if asr_confidence is not None and asr_confidence < t.asr_confidence:
                action, reason = Action.CONFIRM, "unsure_hearing"
            elif self._rests_on_one_stray_word(known, best.entry_id):
                action, reason = Action.CONFIRM, "weak_match"
            elif used_related and not self._answers_without_related(text, best.entry_id, heard):
                # A WordNet relation may lead to the right entry, but it is not the patient's
                # own word: "quit" is not always "stop". Ask first.
                action, reason = Action.CONFIRM, "weak_match"
            else:
                action, reason = Action.ANSWER, "confident"
        elif best.score >= t.confirm:
            action = Action.CONFIRM
            reason = "close_call" if best.score >= t.answer else "weak_match"
        else:
            action, reason = Action.DECLINE, "no_good_match"
        return MatchResult(
            transcript=text,
            action=action,
            entry_id=None if action is Action.DECLINE else best.entry_id,
            score=best.score,
            alternatives=top,
            reason=reason,
        )
