"""The kiosk's decoders make their next recognizer in the background (voice.hearing.decoder).

The open-vocabulary recognizer takes 0.1–0.9 s to make; made on the loop right after an
utterance, it left the kiosk that far behind its microphone just as the reply started, when a
slow speaker going on must stop the reply within 0.3 s. Audio that comes meanwhile is kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from voice.audio.files import read_pcm16
from voice.errors import ModelError
from voice.hearing.decoder import Decoder
from voice.hearing.model import load_model, locate_model

FIXTURES = Path(__file__).parent / "fixtures"
CHUNK = 1600  # 50 ms


@pytest.fixture(scope="module")
def model() -> Any:
    try:
        return load_model(locate_model())
    except ModelError as exc:
        pytest.skip(f"no speech model installed: {exc}")


def _decode(decoder: Decoder, pcm: bytes) -> str:
    for i in range(0, len(pcm), CHUNK):
        decoder.accept(pcm[i : i + CHUNK])
    return decoder.finish().text


def test_a_background_decoder_hears_what_a_plain_one_hears(model: Any) -> None:
    pcm = read_pcm16(FIXTURES / "question_treatment_length.wav")
    plain = Decoder(model)
    background = Decoder(model, background=True)
    expected = _decode(plain, pcm)
    assert expected
    # Twice: the second utterance starts on a recognizer made in the worker after the first.
    assert _decode(background, pcm) == expected
    assert _decode(background, pcm) == expected


def test_audio_fed_while_the_recognizer_is_made_is_kept(model: Any) -> None:
    pcm = read_pcm16(FIXTURES / "question_treatment_length.wav")
    decoder = Decoder(model, background=True)
    decoder.reset()
    first = decoder.accept(pcm[:CHUNK])  # most likely kept until the worker is done
    assert first.text == ""  # no words in 50 ms, decoded or not
    assert decoder.stream_time == pytest.approx(CHUNK / 2 / 16000)
    rest = pcm[CHUNK:]
    for i in range(0, len(rest), CHUNK):
        decoder.accept(rest[i : i + CHUNK])
    assert decoder.finish().text == _decode(Decoder(model), pcm)


def test_finishing_before_the_recognizer_is_made_waits_for_it(model: Any) -> None:
    pcm = read_pcm16(FIXTURES / "command_stop.wav")
    decoder = Decoder(model, background=True)
    decoder.reset()
    for i in range(0, len(pcm), CHUNK):
        decoder.accept(pcm[i : i + CHUNK])
    assert decoder.finish().text == _decode(Decoder(model), pcm)
    assert decoder.finish().text == ""  # nothing fed since
