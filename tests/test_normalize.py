"""Text normalisation: the one canonical form typed questions and transcripts are matched in."""

from __future__ import annotations

import pytest

from voice.content.loader import default_content_dir, load_content
from voice.text.normalize import Normalizer

# The matcher's normaliser for the bundled content: its subject brings the synonyms.
normalize = Normalizer(rewrites=load_content(default_content_dir()).subject.rewrites())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("What Is The Success Rate", "what is the success rate"),
        ("SUCCESS RATE?", "success rate"),
        ("success rate?!...", "success rate"),
        ("side effects, how long?", "side effects how long"),
        ("  how   long\tdoes it\nlast  ", "how long does it last"),
        ("non-small cell", "non small cell"),
        ("flu\u2013like", "flu like"),  # en dash
        ("diarrh\u00e9e caf\u00e9", "diarrhee cafe"),  # accents folded
    ],
)
def test_case_punctuation_and_spacing(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what's the success rate", "what is the success rate"),
        ("what\u2019s the success rate", "what is the success rate"),  # curly apostrophe
        ("what\u2018s", "what is"),
        ("won't it work", "will not it work"),
        ("I'm scared", "i am scared"),
        ("I\u2019m scared", "i am scared"),
        ("can't", "cannot"),
        ("isn't it working", "is not it working"),
        ("doesn't", "does not"),
        ("they're", "they are"),
        ("I've", "i have"),
        ("I'll", "i will"),
        ("I'd", "i would"),
        ("it's normal", "it is normal"),
        ("my dad's cancer", "my dad cancer"),  # possessive dropped
    ],
)
def test_apostrophes_and_contractions(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fifteen", "15"),
        ("twenty five", "25"),
        ("twenty-five", "25"),
        ("twenty", "20"),
        ("ninety nine", "99"),
        ("two hundred", "200"),
        ("fifteen to twenty percent", "15 to 20 percent"),
        ("up to two years", "up to 2 years"),
        # "one" stays a word: "the one with the drip" is not a number.
        ("the one with the drip", "the one with the drip"),
    ],
)
def test_number_words(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15%", "15 percent"),
        ("15 %", "15 percent"),
        ("20 per cent", "20 percent"),
        ("fifteen percent", "15 percent"),
        ("what % respond", "what percent respond"),
    ],
)
def test_percent(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("immune therapy", "immunotherapy"),
        ("immuno therapy", "immunotherapy"),
        ("immune o therapy", "immunotherapy"),
        ("does immune therapy work", "does immunotherapy work"),
        ("Immuno-therapy", "immunotherapy"),
        ("pseudo progression", "pseudoprogression"),
        ("pseudo-progression", "pseudoprogression"),
        ("what is pseudo progression", "what is pseudoprogression"),
        ("side affects", "side effects"),
        ("side effect", "side effects"),
        ("tumour", "tumor"),
        ("will it be with me for good", "will it be with me permanently"),
        ("is it forever", "is it permanently"),
        ("can i keep working", "can i keep my employment"),
        ("is it working", "is it working"),
    ],
)
def test_speech_recognizer_spellings(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("chemo", "chemotherapy"),
        ("is it better than chemo", "is it better than chemotherapy"),
        ("chemotherapy", "chemotherapy"),
        ("coronavirus", "covid"),
        ("corona virus", "covid"),
        ("covid 19", "covid"),
        ("COVID-19", "covid"),
        ("covid19", "covid"),
        ("covid nineteen", "covid"),
        ("does immunotherapy help with covid nineteen", "does immunotherapy help with covid"),
        ("radiation", "radiotherapy"),
        ("oncologist", "doctor"),
    ],
)
def test_synonyms(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("um what is the success rate", "what is the success rate"),
        ("uh how long", "how long"),
        ("what is um the uh success rate", "what is the success rate"),
        ("Um, what's the success rate, uh?", "what is the success rate"),
        ("well how long does it last", "how long does it last"),
        ("Well, um, how long does it last", "how long does it last"),
        ("so well how long", "how long"),
        # A lone leading filler is the whole utterance and is kept.
        ("well", "well"),
        # Only leading: "well" inside a question is a word ("how well does it work").
        ("how well does it work", "how well does it work"),
    ],
)
def test_fillers(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize("text", ["", " ", "\t\n", "?!", "um", "uh um er"])
def test_empty_after_normalising(text: str) -> None:
    assert normalize(text) == ""


@pytest.mark.parametrize(
    "text",
    [
        "Um, what\u2019s the SUCCESS-rate of immune therapy? Fifteen %?",
        "covid nineteen and immunotherapy?",
        "Well, I'm worried it won't work",
    ],
)
def test_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
