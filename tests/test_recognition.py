"""Tests for streaming recognition with the real Vosk model and the committed audio fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from voice.audio.files import read_pcm16
from voice.audio.format import SAMPLE_RATE
from voice.audio.speech_activity import SpeechActivity
from voice.content.loader import default_content_dir, load_content
from voice.errors import ModelError
from voice.hearing.decoder import Decoder, Partial, decode_chunks
from voice.hearing.model import load_model, locate_model
from voice.hearing.phrase_list import build_phrase_list
from voice.hearing.transcript import UNKNOWN_WORD, Transcript, WordConfidence
from voice.kiosk.endpoint import EndpointSettings, assess
from voice.matching.matcher import Matcher
from voice.matching.result import Action

FIXTURES = Path(__file__).parent / "fixtures"
BYTES_PER_S = SAMPLE_RATE * 2
KIOSK_CHUNK_MS = 50  # voice.audio.microphone.CHUNK_MS


def chunks(pcm: bytes, ms: int) -> Iterator[bytes]:
    step = BYTES_PER_S * ms // 1000
    for i in range(0, len(pcm), step):
        yield pcm[i : i + step]


def feed(decoder: Decoder, pcm: bytes, ms: int) -> list[Partial]:
    return [decoder.accept(chunk) for chunk in chunks(pcm, ms)]


@pytest.fixture(scope="module")
def model() -> Any:
    try:
        return load_model(locate_model())
    except ModelError as exc:
        pytest.skip(f"no speech model installed: {exc}")


@pytest.fixture(scope="module")
def phrases() -> tuple[str, ...]:
    return build_phrase_list(load_content(default_content_dir()), locate_model()).phrases


@pytest.fixture(scope="module")
def question() -> bytes:
    return read_pcm16(FIXTURES / "question_treatment_length.wav")


@pytest.fixture(scope="module")
def stop() -> bytes:
    return read_pcm16(FIXTURES / "command_stop.wav")


@pytest.fixture(scope="module")
def silence() -> bytes:
    return read_pcm16(FIXTURES / "silence_1s.wav")


@pytest.fixture(scope="module")
def question_100ms(model: Any, question: bytes) -> tuple[list[Partial], Transcript]:
    decoder = Decoder(model)
    partials = feed(decoder, question, 100)
    return partials, decoder.finish()


# -- pure parts of the transcript ------------------------------------------------------------


def _word(word: str, conf: float) -> WordConfidence:
    return WordConfidence(word=word, conf=conf, start=0.0, end=0.1)


def test_transcript_confidence_is_the_weakest_known_word() -> None:
    transcript = Transcript(
        text="how [unk] long",
        words=(_word("how", 0.9), _word(UNKNOWN_WORD, 0.1), _word("long", 0.6)),
        audio_s=1.0,
        decode_ms=1.0,
    )
    assert transcript.confidence == 0.6
    assert transcript.unknown_words == 1
    assert transcript.clean_text == "how long"


def test_transcript_without_words_has_no_confidence() -> None:
    empty = Transcript(text="", words=(), audio_s=1.0, decode_ms=1.0)
    assert empty.confidence is None
    assert empty.clean_text == ""
    only_unk = Transcript(
        text="[unk] [unk]", words=(_word(UNKNOWN_WORD, 1.0),) * 2, audio_s=1.0, decode_ms=1.0
    )
    assert only_unk.confidence is None
    assert only_unk.clean_text == ""
    assert only_unk.unknown_words == 2


# -- the real decoder ------------------------------------------------------------------------


def test_chunk_size_does_not_change_the_final_text(
    model: Any, question: bytes, question_100ms: tuple[list[Partial], Transcript]
) -> None:
    _, small = question_100ms
    decoder = Decoder(model)
    feed(decoder, question, 500)
    large = decoder.finish()
    assert small.text
    assert large.text == small.text
    assert [w.word for w in large.words] == [w.word for w in small.words]
    assert small.text.startswith("how long")
    assert small.text.split()[-1] != "how"


def test_decode_chunks_matches_the_streaming_decoder(
    model: Any, question: bytes, question_100ms: tuple[list[Partial], Transcript]
) -> None:
    transcript = decode_chunks(model, chunks(question, 250))
    assert transcript.text == question_100ms[1].text


def test_transcript_words_times_and_confidence(
    question: bytes, question_100ms: tuple[list[Partial], Transcript]
) -> None:
    _, transcript = question_100ms
    assert [w.word for w in transcript.words] == transcript.text.split()
    assert transcript.confidence == min(w.conf for w in transcript.words)
    assert all(0.0 <= w.conf <= 1.0 for w in transcript.words)
    assert all(w.start <= w.end for w in transcript.words)
    assert all(
        a.end <= b.start + 1e-6
        for a, b in zip(transcript.words, transcript.words[1:], strict=False)
    )
    assert transcript.words[-1].end <= transcript.audio_s
    assert transcript.audio_s == pytest.approx(len(question) / BYTES_PER_S)
    assert transcript.decode_ms > 0
    assert transcript.clean_text == transcript.text  # open vocabulary: no "[unk]"


def test_stream_time_advances_and_finish_resets_it(model: Any, stop: bytes) -> None:
    decoder = Decoder(model)
    assert decoder.stream_time == 0.0
    decoder.accept(stop[: BYTES_PER_S // 10])
    assert decoder.stream_time == pytest.approx(0.1)
    decoder.accept(stop[BYTES_PER_S // 10 : BYTES_PER_S // 4])
    assert decoder.stream_time == pytest.approx(0.25)
    decoder.finish()
    assert decoder.stream_time == 0.0


def test_last_word_end_comes_only_from_finished_segments(
    model: Any, question: bytes, silence: bytes
) -> None:
    # Trailing silence lets Vosk's own endpoint rule finish the segment.
    decoder = Decoder(model)
    partials = feed(decoder, question + silence * 2, 100)
    transcript = decoder.finish()
    assert partials[0] == Partial("", None, segment_ended=False, in_speech=False)
    done = [index for index, p in enumerate(partials) if p.segment_ended and p.text]
    assert len(done) == 1, [partials[i] for i in done]
    first_done = done[0]
    talking = [p for p in partials[:first_done] if p.text]
    assert talking, "no partial hypothesis at all"
    # While talking: no word time at all (Vosk's partial times lag the audio), and in speech.
    assert all(p.last_word_end is None for p in partials[:first_done])
    assert all(p.in_speech for p in talking)
    # The finished segment carries the accurate end of the last word, on the stream clock.
    finished = partials[first_done]
    assert finished.text == transcript.text
    assert not finished.in_speech
    assert finished.last_word_end == pytest.approx(transcript.words[-1].end)
    assert finished.last_word_end is not None
    finished_at = (first_done + 1) * 0.1
    assert finished.last_word_end <= len(question) / BYTES_PER_S
    # Vosk's endpoint needs at least 0.5 s of trailing silence before it finishes a segment.
    assert finished_at - finished.last_word_end >= 0.5
    # Afterwards the hypothesis and its time are kept, and nobody is speaking.
    for p in partials[first_done + 1 :]:
        assert p.text == transcript.text
        assert p.last_word_end == finished.last_word_end
        assert not p.in_speech and not p.segment_ended


def test_reset_forgets_the_utterance(model: Any, question: bytes, stop: bytes) -> None:
    decoder = Decoder(model)
    feed(decoder, question[: len(question) * 2 // 3], 100)
    decoder.reset()
    assert decoder.stream_time == 0.0
    feed(decoder, stop, 100)
    transcript = decoder.finish()
    # The open model hears "stop" as "top": what matters is that nothing of the abandoned
    # question comes back, so the result is the same as from a decoder that never heard it.
    assert transcript.text == decode_chunks(model, chunks(stop, 100)).text
    assert not {"how", "long", "will", "we", "like"} & set(transcript.text.split())
    assert transcript.audio_s == pytest.approx(len(stop) / BYTES_PER_S)


def test_reset_mid_speech_forgets_earlier_audio_with_a_phrase_list(
    model: Any, phrases: tuple[str, ...], question: bytes, stop: bytes, silence: bytes
) -> None:
    decoder = Decoder(model, phrases)
    feed(decoder, question[: len(question) * 2 // 3], 100)  # cut off mid-word
    decoder.reset()
    after_reset = feed(decoder, stop + silence, 100)
    transcript = decoder.finish()
    fresh = Decoder(model, phrases)
    fresh_partials = feed(fresh, stop + silence, 100)
    reference = fresh.finish()
    assert transcript.clean_text == "stop"
    # Word times restart at 0 with stream_time: the same as a decoder that never heard the question.
    assert transcript.words[0].start == pytest.approx(reference.words[0].start, abs=0.05)
    assert transcript.words[-1].end == pytest.approx(reference.words[-1].end, abs=0.05)
    assert transcript.words[-1].end <= len(stop) / BYTES_PER_S
    assert after_reset[-1].last_word_end == pytest.approx(
        fresh_partials[-1].last_word_end, abs=0.05
    )


def test_finish_starts_a_fresh_utterance(model: Any, question: bytes, stop: bytes) -> None:
    decoder = Decoder(model)
    feed(decoder, question, 100)
    first = decoder.finish()
    feed(decoder, stop, 100)
    again = decoder.finish()
    assert again.text == decode_chunks(model, chunks(stop, 100)).text
    assert not set(first.text.split()) & set(again.text.split()) - {"stop", "top"}
    assert again.audio_s == pytest.approx(len(stop) / BYTES_PER_S)


def test_word_times_after_finish_use_the_same_clock_as_stream_time(
    model: Any, stop: bytes, silence: bytes
) -> None:
    # Trailing silence lets the segment finish, so the partials carry a word time.
    audio = stop + silence * 2
    decoder = Decoder(model)
    first_partials = feed(decoder, audio, 100)
    first = decoder.finish()
    second_partials = feed(decoder, audio, 100)
    second = decoder.finish()
    assert first.words and second.words
    # The same audio after a fresh start must get the same times (stream seconds).
    assert second.words[0].start == pytest.approx(first.words[0].start, abs=0.05)
    assert second.words[-1].end == pytest.approx(first.words[-1].end, abs=0.05)
    assert second.words[-1].end <= len(stop) / BYTES_PER_S
    assert first_partials[-1].last_word_end is not None
    assert second_partials[-1].last_word_end == pytest.approx(
        first_partials[-1].last_word_end, abs=0.05
    )


def test_silence_alone_gives_no_words(model: Any) -> None:
    silence = read_pcm16(FIXTURES / "silence_1s.wav")
    decoder = Decoder(model)
    partials = feed(decoder, silence, 100)
    assert all(p.text == "" and p.last_word_end is None and not p.in_speech for p in partials)
    transcript = decoder.finish()
    assert transcript.text == ""
    assert transcript.confidence is None


def test_phrase_list_decoding_returns_only_phrase_list_words(
    model: Any, phrases: tuple[str, ...]
) -> None:
    allowed = {w for p in phrases for w in p.split()}
    texts = {}
    for name in ("question_make_worse_flite_slt.wav", "room_babble_2s.wav", "command_repeat.wav"):
        transcript = decode_chunks(model, chunks(read_pcm16(FIXTURES / name), 100), phrases)
        assert set(transcript.text.split()) <= allowed, (name, transcript.text)
        assert UNKNOWN_WORD not in transcript.clean_text.split()
        texts[name] = transcript.clean_text
    assert texts["question_make_worse_flite_slt.wav"] == "can immunotherapy make my cancer worse"
    assert texts["command_repeat.wav"] == "say that again"


def test_phrase_list_decoder_is_reusable_after_finish(
    model: Any, phrases: tuple[str, ...], stop: bytes
) -> None:
    decoder = Decoder(model, phrases)
    feed(decoder, stop, 100)
    assert decoder.finish().clean_text == "stop"
    feed(decoder, stop, 100)
    assert decoder.finish().clean_text == "stop"


# -- the kiosk's end-of-speech rule on real audio -------------------------------------------


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_content(default_content_dir()))


def _manifest() -> dict[str, tuple[str, str]]:
    """File name -> (spoken text, expected FAQ id) from fixtures/manifest.tsv."""
    lines = (FIXTURES / "manifest.tsv").read_text(encoding="utf-8").splitlines()[1:]
    rows = [line.split("\t") for line in lines if line.strip()]
    return {row[0]: (row[1], row[2]) for row in rows}


def kiosk_endpoint(decoder: Decoder, matcher: Matcher, pcm: bytes) -> tuple[float, str] | None:
    """Feed ``pcm`` as the kiosk does (kiosk._on_partial); return (stream time, text) at the end."""
    first_word: float | None = None
    segment_end: float | None = None
    heard = ""
    complete = is_command = False
    activity = SpeechActivity()
    for chunk in chunks(pcm, KIOSK_CHUNK_MS):
        partial = decoder.accept(chunk)
        activity.feed(chunk)
        words = [w for w in partial.text.split() if w != UNKNOWN_WORD]
        if words and first_word is None:
            first_word = decoder.stream_time
        if partial.in_speech:
            segment_end = None
        elif partial.segment_ended and words:
            segment_end = partial.last_word_end
        if not words:
            continue
        text = " ".join(words)
        if text != heard:
            heard = text
            action = matcher.match(text).action
            complete = action in (Action.ANSWER, Action.COMMAND)
            is_command = action is Action.COMMAND
        state = assess(
            text=text,
            stream_time_s=decoder.stream_time,
            segment_end_s=segment_end,
            first_word_s=first_word,
            complete=complete,
            is_command=is_command,
            sound=activity.runs,
            settings=EndpointSettings(),
        )
        if state.ended:
            return decoder.stream_time, text
    return None


@pytest.mark.parametrize("padded", [False, True], ids=["as_recorded", "3s_before_2s_after"])
@pytest.mark.parametrize(
    "name",
    [
        "question_pause_700ms.wav",  # 700 ms of silence between "spread" and "during"
        "question_treatment_length.wav",
        "question_make_worse_flite_slt.wav",
    ],
)
def test_kiosk_endpoint_ends_a_question_after_its_last_word(
    model: Any,
    phrases: tuple[str, ...],
    matcher: Matcher,
    silence: bytes,
    name: str,
    padded: bool,
) -> None:
    spoken, expected_id = _manifest()[name]
    question = read_pcm16(FIXTURES / name)
    pcm = silence * 3 + question + silence * 2 if padded else question
    decoder = Decoder(model, phrases)
    cut = kiosk_endpoint(decoder, matcher, pcm)
    transcript = decoder.finish()  # what the kiosk does when the utterance ends
    assert transcript.words
    last_word_end = transcript.words[-1].end
    expected = spoken.lower().split()
    heard = transcript.clean_text.split()
    # The whole question, not a piece of it: every word, the right last words, the right answer.
    assert len(heard) == len(expected), transcript.clean_text
    assert heard[-2:] == expected[-2:], transcript.clean_text
    assert matcher.match(transcript.clean_text).entry_id == expected_id
    if not padded:
        # Under 0.3 s of audio follows the last word: too little for any endpoint.
        assert cut is None, f"ended at {cut}, last word ends at {last_word_end} s"
        return
    assert cut is not None, "the question never ended"
    ended_at, text = cut
    assert text == transcript.clean_text
    assert ended_at >= last_word_end + EndpointSettings().complete_silence_s
    assert ended_at <= len(pcm) / BYTES_PER_S


def test_a_file_decodes_the_same_whatever_was_decoded_before(model: Any, stop: bytes) -> None:
    # Kaldi dithers the audio with the C library's rand(); unseeded, this 8 kHz recording gave
    # four different transcripts in four decodes in one process (vosk-api issue #868).
    pcm = read_pcm16(FIXTURES / "question_treatment_length_8k.wav")
    texts = []
    for _ in range(4):
        texts.append(decode_chunks(model, chunks(pcm, 100)).text)
        decode_chunks(model, chunks(stop, 100))  # something else in between
    assert len(set(texts)) == 1, texts


def test_a_reset_decoder_makes_its_next_recognizer_only_when_audio_comes(
    model: Any, stop: bytes
) -> None:
    decoder = Decoder(model)
    decoder.accept(stop)
    first = decoder.finish()
    assert first.text
    # Nothing fed since: an empty result, without making (and flushing) a recognizer.
    empty = decoder.finish()
    assert empty.text == "" and empty.words == () and empty.audio_s == 0.0
    decoder.reset()
    assert decoder.stream_time == 0.0
    decoder.accept(stop)
    again = decoder.finish()
    assert again.text == first.text and again.words == first.words


def test_so_far_gives_word_confidences_once_the_segment_has_closed(
    model: Any, question: bytes, silence: bytes
) -> None:
    decoder = Decoder(model)
    feed(decoder, question[: len(question) // 2], 100)
    talking = decoder.so_far()
    assert talking.text, "nothing heard half-way through the question"
    assert talking.words == ()  # a live partial: Vosk gives no word confidences yet
    feed(decoder, question[len(question) // 2 :] + silence * 2, 100)
    closed = decoder.so_far()
    assert closed.words, "Vosk's endpoint did not close the segment in 2 s of silence"
    assert closed.text == " ".join(w.word for w in closed.words)
    # It does not flush the decoder: finish() still returns the same utterance.
    final = decoder.finish()
    assert final.text == closed.text
    assert [w.conf for w in final.words] == [w.conf for w in closed.words]


def test_hear_file_measures_how_far_the_speech_is_above_the_background() -> None:
    from voice.hearing.policy import DEFAULT_POLICY
    from voice.hearing.recognizer import SpeechRecognizer

    try:
        recognizer = SpeechRecognizer(load_content(default_content_dir()), None, "auto")
    except ModelError as exc:
        pytest.skip(f"no speech model installed: {exc}")
    clean = recognizer.hear_file(FIXTURES / "question_treatment_length.wav")
    noisy = recognizer.hear_file(FIXTURES / "question_treatment_length_babble_noise_10dB.wav")
    assert clean.speech_to_background_db is not None
    assert noisy.speech_to_background_db is not None
    # The speech policy's noisy-room rule applies to the 10 dB recording only.
    assert clean.speech_to_background_db > DEFAULT_POLICY.noisy_room_db
    assert noisy.speech_to_background_db < DEFAULT_POLICY.noisy_room_db
