"""Tests for text-to-speech with the real espeak-ng engine (through pyttsx3)."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from voice.errors import SpeechError, UsageError
from voice.speaking import synthesis as speech
from voice.speaking.synthesis import (
    DEFAULT_RATE,
    DEFAULT_VOLUME,
    MAX_RATE,
    MAX_VOLUME,
    MIN_RATE,
    SENTENCE_PAUSE_S,
    Pyttsx3Synthesizer,
    SpeechAudio,
    SpeechSettings,
    apply_gain,
    join_audio,
    synthesize_text,
    synthesize_to_wav,
    write_wav,
)
from voice.text.sentences import split_sentences

SENTENCE = "Please take a seat and a member of staff will call your name."


def _peak(audio: SpeechAudio) -> int:
    return int(np.abs(audio.samples.astype(np.int32)).max())


def test_synthesis_gives_audible_mono_16_bit_audio_at_22050_hz() -> None:
    audio = Pyttsx3Synthesizer().synthesize(SENTENCE, DEFAULT_RATE)
    assert audio.sample_rate == 22050
    assert audio.samples.dtype == np.int16
    assert audio.samples.ndim == 1
    assert 2.0 < audio.duration_s < 8.0
    assert _peak(audio) > 5000


def test_slower_rate_gives_longer_audio() -> None:
    synth = Pyttsx3Synthesizer()
    slow = synth.synthesize(SENTENCE, MIN_RATE)
    fast = synth.synthesize(SENTENCE, MAX_RATE)
    assert slow.duration_s > 1.4 * fast.duration_s


def test_every_rate_change_takes_effect_when_rates_alternate() -> None:
    # espeak-ng applies rate changes on its own thread, and pyttsx3's runAndWait cancels any
    # still pending, so without waiting for it some syntheses silently keep the old rate.
    synth = Pyttsx3Synthesizer()
    for number in range(12):
        text = f"Sentence number {number} is read out at two different speeds."
        fast = synth.synthesize(text, MAX_RATE)
        slow = synth.synthesize(text, MIN_RATE)
        assert slow.duration_s > 1.4 * fast.duration_s, number


def test_repeated_text_comes_from_the_cache_at_once() -> None:
    synth = Pyttsx3Synthesizer()
    started = time.perf_counter()
    first = synth.synthesize("Your appointment is on the second floor.", DEFAULT_RATE)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    again = synth.synthesize("Your  appointment is on the second floor. ", DEFAULT_RATE)
    again_s = time.perf_counter() - started
    assert again is first
    assert again_s < first_s / 3


def test_cache_is_bounded_and_keyed_by_rate() -> None:
    synth = Pyttsx3Synthesizer(cache_size=2)
    a = synth.synthesize("Alpha.", DEFAULT_RATE)
    a_fast = synth.synthesize("Alpha.", MAX_RATE)
    assert a_fast is not a
    synth.synthesize("Bravo.", DEFAULT_RATE)  # evicts the least recently used: Alpha at 155
    assert synth.synthesize("Alpha.", MAX_RATE) is a_fast
    assert synth.synthesize("Alpha.", DEFAULT_RATE) is not a


def test_cached_samples_are_read_only() -> None:
    audio = Pyttsx3Synthesizer().synthesize("Read only.", DEFAULT_RATE)
    with pytest.raises(ValueError):
        audio.samples[0] = 1


def test_empty_text_gives_empty_audio() -> None:
    audio = Pyttsx3Synthesizer().synthesize("  \n ", DEFAULT_RATE)
    assert len(audio.samples) == 0
    assert audio.duration_s == 0


def test_synthesis_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    # pyttsx3's espeak driver prints "Audio saved to ..." for every file it writes.
    Pyttsx3Synthesizer().synthesize("Nothing on standard output.", DEFAULT_RATE)
    assert capfd.readouterr().out == ""


def test_named_voice_is_used_and_none_means_the_default_voice() -> None:
    # espeak-ng's output varies by a few hundred samples from run to run, so compare lengths;
    # this text differs by ~4,500 samples between the British and American voices.
    text = "Can I ask about the schedule for the laboratory? Tomato, water, either, vitamin."
    default = Pyttsx3Synthesizer(cache_size=0)
    british = default.synthesize(text, DEFAULT_RATE)
    american = Pyttsx3Synthesizer(voice="en-us").synthesize(text, DEFAULT_RATE)
    # voice=None must mean espeak-ng's default, not whatever voice was used last.
    british_again = default.synthesize(text, DEFAULT_RATE)
    assert abs(len(american.samples) - len(british.samples)) > 2000
    assert abs(len(british_again.samples) - len(british.samples)) < 1000


def test_unknown_voice_is_refused_with_the_choices() -> None:
    with pytest.raises(SpeechError, match=r"'no-such-voice' is not installed.*en-us"):
        Pyttsx3Synthesizer(voice="no-such-voice").synthesize("Hello.", DEFAULT_RATE)


def test_concurrent_callers_each_get_their_own_rate() -> None:
    synth = Pyttsx3Synthesizer(cache_size=0)
    reference = {
        rate: Pyttsx3Synthesizer(cache_size=0).synthesize(SENTENCE, rate).duration_s
        for rate in (MIN_RATE, MAX_RATE)
    }
    results: list[tuple[int, float]] = []
    errors: list[BaseException] = []

    def work(rate: int) -> None:
        try:
            for _ in range(5):
                results.append((rate, synth.synthesize(SENTENCE, rate).duration_s))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(rate,)) for rate in (MIN_RATE, MAX_RATE) * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert len(results) == 20
    for rate, duration in results:
        assert duration == pytest.approx(reference[rate], abs=0.05)


def test_missing_engine_gives_install_advice(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyttsx3

    def broken_init(driver_name: str | None = None) -> None:
        raise RuntimeError("This means you probably do not have eSpeak or eSpeak-ng installed!")

    monkeypatch.setattr(speech, "_engine", None)
    monkeypatch.setattr(pyttsx3, "init", broken_init)
    with pytest.raises(SpeechError, match=r"not available.*sudo apt-get install espeak-ng"):
        Pyttsx3Synthesizer().synthesize("Hello.", DEFAULT_RATE)


def test_write_wav_round_trips(tmp_path: Path) -> None:
    audio = Pyttsx3Synthesizer().synthesize("Round trip.", DEFAULT_RATE)
    path = tmp_path / "speech.wav"
    write_wav(audio, path)
    info = soundfile.info(str(path))
    assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
    samples, rate = soundfile.read(str(path), dtype="int16")
    assert rate == audio.sample_rate
    assert np.array_equal(samples, audio.samples)


def test_write_wav_to_missing_folder_names_the_file(tmp_path: Path) -> None:
    audio = SpeechAudio(samples=np.zeros(10, dtype=np.int16), sample_rate=22050)
    target = tmp_path / "missing" / "speech.wav"
    with pytest.raises(SpeechError, match=re.escape(str(target))):
        write_wav(audio, target)


def test_synthesize_to_wav_joins_sentences_with_pauses_and_applies_volume(
    tmp_path: Path,
) -> None:
    text = "The pharmacy is on the ground floor. It opens at nine. Ask at reception for help."
    settings = SpeechSettings(volume=0.5)
    synth = Pyttsx3Synthesizer()
    parts = [synth.synthesize(s, settings.rate_wpm) for s in split_sentences(text)]
    path = tmp_path / "answer.wav"
    audio = synthesize_to_wav(text, settings, path, synth)
    expected_s = sum(p.duration_s for p in parts) + 2 * SENTENCE_PAUSE_S
    assert audio.duration_s == pytest.approx(expected_s, abs=0.001)
    written, rate = soundfile.read(str(path), dtype="int16")
    assert rate == 22050
    assert len(written) == len(audio.samples)
    assert int(np.abs(written.astype(np.int32)).max()) == pytest.approx(_peak(audio) * 0.5, abs=2)


def test_synthesize_text_of_nothing_is_empty() -> None:
    assert synthesize_text("", SpeechSettings()).duration_s == 0


def test_join_audio_puts_silence_between_parts() -> None:
    one = SpeechAudio(samples=np.full(100, 7, dtype=np.int16), sample_rate=1000)
    two = SpeechAudio(samples=np.full(50, 9, dtype=np.int16), sample_rate=1000)
    joined = join_audio([one, two], pause_s=0.02)
    assert joined.sample_rate == 1000
    assert list(joined.samples[98:124]) == [7, 7] + [0] * 20 + [9, 9, 9, 9]
    assert len(joined.samples) == 170


def test_join_audio_refuses_mixed_sample_rates() -> None:
    one = SpeechAudio(samples=np.zeros(10, dtype=np.int16), sample_rate=1000)
    two = SpeechAudio(samples=np.zeros(10, dtype=np.int16), sample_rate=2000)
    with pytest.raises(SpeechError):
        join_audio([one, two], pause_s=0.1)


def test_apply_gain_scales_and_clips() -> None:
    audio = SpeechAudio(samples=np.array([1000, -1000, 30000], dtype=np.int16), sample_rate=8000)
    assert list(apply_gain(audio, 0.5).samples) == [500, -500, 15000]
    assert list(apply_gain(audio, 2.0).samples) == [2000, -2000, 32767]
    assert apply_gain(audio, 1.0) is audio


def test_default_settings_are_slow_enough_for_older_listeners() -> None:
    settings = SpeechSettings()
    assert 150 <= settings.rate_wpm <= 160
    assert settings.volume == DEFAULT_VOLUME
    assert settings.voice is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (lambda: SpeechSettings(rate_wpm=MAX_RATE + 1), "speech rate"),
        (lambda: SpeechSettings(rate_wpm=MIN_RATE - 1), "speech rate"),
        (lambda: SpeechSettings(volume=MAX_VOLUME + 0.01), "volume"),
        (lambda: SpeechSettings(volume=0.0), "volume"),
    ],
)
def test_settings_out_of_range_are_refused(settings: object, message: str) -> None:
    assert callable(settings)
    with pytest.raises(UsageError, match=message):
        settings()


