"""Pure parts of the kiosk's speech: loudness, limiter, rate mapping, pronunciation, cache keys,
choosing the engine (with fakes; no audio device, no real engine)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from voice.errors import SpeechError
from voice.speaking.engine import FloatArray, SpeechEngine, Voice, open_engine
from voice.speaking.loudness import (
    CEILING_DBFS,
    TARGET_DBFS,
    limit_peaks,
    normalise,
    speech_level_dbfs,
)
from voice.speaking.natural import speed_for_rate, spoken_text, trim_silence
from voice.speaking.prerender import (
    CACHE_ENV_VAR,
    OUTPUT_RATE,
    DiskCache,
    PreparedSpeech,
    content_hash,
    default_cache_dir,
    disk_name,
)
from voice.speaking.pronunciation import Pronunciations
from voice.speaking.synthesis import DEFAULT_RATE

RATE = 22050


def tone(seconds: float, amplitude: float, rate: int = RATE) -> FloatArray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


class FakeEngine:
    """A tone whose length follows the words and whose loudness follows the text length."""

    version = "fake-1"
    sentence_pause_s = 0.0

    def __init__(self, voice: Voice = Voice.NATURAL, sample_rate: int = 24000) -> None:
        self.voice = voice
        self.sample_rate = sample_rate
        self.calls: list[tuple[str, int]] = []

    def render(self, text: str, rate_wpm: int) -> FloatArray:
        self.calls.append((text, rate_wpm))
        seconds = len(text.split()) * 60 / rate_wpm
        return tone(seconds, 0.01 * (1 + len(text) % 7), self.sample_rate)


# -- loudness --------------------------------------------------------------------------------


def test_a_sine_has_its_textbook_level() -> None:
    assert speech_level_dbfs(tone(1.0, 1.0), RATE) == pytest.approx(-3.01, abs=0.01)


def test_silence_has_no_level_and_is_left_alone() -> None:
    quiet = np.zeros(RATE, dtype=np.float32)
    assert speech_level_dbfs(quiet, RATE) is None
    assert np.array_equal(normalise(quiet, RATE), quiet)


def test_pauses_do_not_lower_the_measured_level() -> None:
    speech = tone(1.0, 0.1)
    with_pause = np.concatenate([speech, np.zeros(2 * RATE, dtype=np.float32), speech])
    assert speech_level_dbfs(with_pause, RATE) == pytest.approx(
        speech_level_dbfs(speech, RATE), abs=0.1
    )


@pytest.mark.parametrize("amplitude", [0.01, 0.05, 0.5, 1.0])
def test_every_line_is_brought_to_the_target_level(amplitude: float) -> None:
    out = normalise(tone(0.8, amplitude), RATE)
    assert speech_level_dbfs(out, RATE) == pytest.approx(TARGET_DBFS, abs=0.5)


def test_the_limiter_keeps_peaks_under_the_ceiling_and_leaves_the_rest() -> None:
    quiet = tone(0.5, 0.2)
    burst = tone(0.05, 3.0)
    audio = np.concatenate([quiet, burst, quiet])
    limited = limit_peaks(audio, RATE)
    assert float(np.max(np.abs(limited))) <= 10 ** (CEILING_DBFS / 20) + 1e-6
    # Far from the burst nothing changes.
    assert np.allclose(limited[: RATE // 4], audio[: RATE // 4])


def test_the_limiter_gain_changes_smoothly() -> None:
    audio = np.concatenate([tone(0.2, 0.5), tone(0.2, 2.0), tone(0.2, 0.5)])
    limited = limit_peaks(audio, RATE)
    gain = np.abs(limited) / np.maximum(np.abs(audio), 1e-9)
    steady = np.abs(audio) > 0.1
    # No jump of more than a few percent between neighbouring loud samples.
    jumps = np.abs(np.diff(gain[steady]))
    assert float(np.percentile(jumps, 99.9)) < 0.05


# -- rate ------------------------------------------------------------------------------------


def test_the_voice_s_own_pace_is_its_speed_one() -> None:
    assert speed_for_rate(167) == pytest.approx(1.0, abs=0.01)


def test_the_kiosk_s_default_rate_slows_the_voice_down() -> None:
    # The voice's own pace (167 wpm) is above the 140-160 wpm older listeners ask for.
    assert 0.8 < speed_for_rate(DEFAULT_RATE) < 0.9


def test_speed_rises_with_the_rate_and_is_clamped() -> None:
    rates = [115, 135, 155, 175, 195]
    speeds = [speed_for_rate(r) for r in rates]
    assert speeds == sorted(speeds)
    assert speed_for_rate(40) == 0.5
    assert speed_for_rate(400) == 1.33  # past this the voice jumps to about 225 wpm


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Please say yes or no.", "Please say yes or no ."),
        ("No. It is not catching.", "No . It is not catching."),
        ("Nos. one and two", "Nos . one and two"),
        ("There is no need to fast.", "There is no need to fast."),
        ("Call 911 now.", "Call 911 now."),
        ("It is not known.", "It is not known."),
    ],
)
def test_no_at_a_full_stop_is_not_read_as_number(text: str, spoken: str) -> None:
    assert spoken_text(text) == spoken


def test_trim_keeps_a_little_silence_at_each_end() -> None:
    audio = np.concatenate([np.zeros(8000), tone(0.5, 0.5, 24000), np.zeros(12000)])
    trimmed = trim_silence(audio.astype(np.float32), 24000, 0.03, 0.4)
    assert len(trimmed) == pytest.approx(0.03 * 24000 + 12000 + 0.4 * 24000, abs=3)
    assert trim_silence(np.zeros(100, dtype=np.float32), 24000, 0.03, 0.4).size == 0


# -- pronunciation ---------------------------------------------------------------------------

TABLE = Pronunciations.of(
    [("pembrolizumab", "pem bro liz oo mab"), ("COVID", "co vid"), ("COVID-19", "covid nineteen")]
)


def test_whole_words_are_respelled_in_any_case() -> None:
    assert TABLE.apply("Pembrolizumab helps.") == "pem bro liz oo mab helps."


def test_the_longest_entry_wins() -> None:
    assert TABLE.apply("After COVID-19 and covid.") == "After covid nineteen and co vid."


def test_words_inside_longer_words_are_left_alone() -> None:
    assert TABLE.apply("antipembrolizumabs and covids") == "antipembrolizumabs and covids"


def test_an_empty_table_changes_nothing() -> None:
    assert Pronunciations().apply("COVID-19") == "COVID-19"


# -- cache keys and the disk cache -----------------------------------------------------------


def test_cache_names_depend_on_rate_and_text_but_not_spacing() -> None:
    assert disk_name("Hello  there.", 155) == disk_name(" Hello there. ", 155)
    assert disk_name("Hello there.", 155) != disk_name("Hello there.", 175)
    assert disk_name("Hello there.", 155) != disk_name("Hello here.", 155)


def test_content_hash_changes_with_the_lines_and_the_table() -> None:
    base = content_hash(["One.", "Two."], Pronunciations())
    assert base == content_hash(["One.", "Two. "], Pronunciations())
    assert base != content_hash(["One.", "Three."], Pronunciations())
    assert base != content_hash(["One.", "Two."], TABLE)


def test_the_cache_folder_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(CACHE_ENV_VAR, "off")
    assert default_cache_dir() is None
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv(CACHE_ENV_VAR)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "clinic-voice-kiosk" / "speech"


def test_only_content_goes_to_disk_and_comes_back(tmp_path: Path) -> None:
    engine = FakeEngine()
    speech = PreparedSpeech(engine, cache_dir=tmp_path)
    speech.prepare(["Hello there.", "Ask me."], 155)
    assert speech.wait_prepared(10)
    speech.synthesize("What the patient said.", 155)
    # Each content line at each rate a patient can step to; the patient's words nowhere.
    names = {p.name for p in tmp_path.rglob("*.npy")}
    rates = (115, 135, 155, 175, 195)
    assert names == {disk_name(line, r) for line in ("Hello there.", "Ask me.") for r in rates}
    # A new kiosk with the same content reads them instead of rendering.
    again = FakeEngine()
    second = PreparedSpeech(again, cache_dir=tmp_path)
    second.prepare(["Hello there.", "Ask me."], 155)
    assert second.wait_prepared(10)
    assert again.calls == []
    assert np.array_equal(
        second.synthesize("Hello there.", 155).samples,
        speech.synthesize("Hello there.", 155).samples,
    )


def test_without_a_disk_cache_the_content_at_the_kiosk_s_rate_stays_in_memory() -> None:
    engine = FakeEngine()
    speech = PreparedSpeech(engine, cache_dir=None, memory_bytes=1)
    speech.prepare(["Hello there.", "Ask me."], 155)
    assert speech.wait_prepared(10)
    assert engine.calls == [("Hello there.", 155), ("Ask me.", 155)]  # no other rate
    for _ in range(3):
        speech.synthesize("Hello there.", 155)
        speech.synthesize("Something else.", 155)  # pushed out of memory again and again
        speech.synthesize("Ask me.", 135)
    assert engine.calls.count(("Hello there.", 155)) == 1
    assert engine.calls.count(("Something else.", 155)) == 3


def test_old_content_versions_are_pruned(tmp_path: Path) -> None:
    for n in range(5):
        DiskCache.open(tmp_path, "fake-1", f"content{n}")
    assert len(list((tmp_path / "fake-1").iterdir())) == 3


def test_an_unwritable_cache_only_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    speech = PreparedSpeech(FakeEngine(), cache_dir=blocker)
    with caplog.at_level(logging.WARNING):
        speech.prepare(["Hello there."], 155)
        assert speech.wait_prepared(10)
    assert speech.synthesize("Hello there.", 155).duration_s > 0
    assert "not cached on disk" in caplog.text


# -- prepared speech -------------------------------------------------------------------------


def test_lines_come_out_normalised_at_the_output_rate() -> None:
    speech = PreparedSpeech(FakeEngine(sample_rate=24000), cache_dir=None)
    levels = []
    for text in ["Hi.", "A somewhat longer line of text.", "Another one here, louder."]:
        audio = speech.synthesize(text, 155)
        assert audio.sample_rate == OUTPUT_RATE
        level = speech_level_dbfs(audio.samples / 32768.0, OUTPUT_RATE)
        assert level is not None
        levels.append(level)
    assert max(levels) - min(levels) < 0.5


def test_pronunciations_reach_the_engine() -> None:
    engine = FakeEngine()
    PreparedSpeech(engine, TABLE, cache_dir=None).synthesize("COVID-19 is a virus.", 155)
    assert engine.calls == [("covid nineteen is a virus.", 155)]


def test_a_repeated_line_is_rendered_once() -> None:
    engine = FakeEngine()
    speech = PreparedSpeech(engine, cache_dir=None)
    first = speech.synthesize("Hello there.", 155)
    assert speech.synthesize("Hello   there.", 155) is first
    speech.synthesize("Hello there.", 175)
    assert len(engine.calls) == 2


def test_a_line_asked_for_early_does_not_wait_for_the_queue() -> None:
    gate = threading.Event()

    class Slow(FakeEngine):
        def render(self, text: str, rate_wpm: int) -> FloatArray:
            if text.startswith("Slow"):
                gate.wait(5)
            return super().render(text, rate_wpm)

    engine = Slow()
    speech = PreparedSpeech(engine, cache_dir=None)
    stop = threading.Event()
    speech.prepare(["Quick.", "Slow one.", "Last."], 155, stop)
    # "Last." is queued behind the slow line; asking for it renders it once the engine is free.
    gate.set()
    assert speech.synthesize("Last.", 155).duration_s > 0
    assert speech.wait_prepared(5)
    assert [c[0] for c in engine.calls].count("Last.") == 1


def test_text_joins_sentences_with_the_engine_pause() -> None:
    engine = FakeEngine(voice=Voice.ESPEAK, sample_rate=OUTPUT_RATE)
    engine.sentence_pause_s = 0.15
    speech = PreparedSpeech(engine, cache_dir=None)
    one = speech.synthesize("One two.", 155).duration_s
    both = speech.text("One two. One two.", 155).duration_s
    assert both == pytest.approx(2 * one + 0.15, abs=0.001)


# -- choosing the engine ---------------------------------------------------------------------


def _broken() -> SpeechEngine:
    raise SpeechError("the hibari voice model could not be loaded (test)")


def test_the_natural_voice_is_used_when_it_loads() -> None:
    natural = FakeEngine(Voice.NATURAL)
    chosen = open_engine(Voice.NATURAL, {Voice.NATURAL: lambda: natural, Voice.ESPEAK: FakeEngine})
    assert chosen is natural


def test_espeak_takes_over_with_one_warning_when_the_natural_voice_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    espeak = FakeEngine(Voice.ESPEAK)
    with caplog.at_level(logging.WARNING):
        chosen = open_engine(Voice.NATURAL, {Voice.NATURAL: _broken, Voice.ESPEAK: lambda: espeak})
    assert chosen is espeak
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "espeak-ng" in warnings[0].getMessage()


def test_asking_for_espeak_never_loads_the_natural_voice() -> None:
    def natural() -> SpeechEngine:
        raise AssertionError("the natural voice was loaded")

    espeak = FakeEngine(Voice.ESPEAK)
    assert (
        open_engine(Voice.ESPEAK, {Voice.NATURAL: natural, Voice.ESPEAK: lambda: espeak}) is espeak
    )


def test_a_missing_espeak_is_an_error() -> None:
    def missing() -> SpeechEngine:
        raise SpeechError("Text-to-speech is not available")

    with pytest.raises(SpeechError):
        open_engine(Voice.NATURAL, {Voice.NATURAL: _broken, Voice.ESPEAK: missing})
