"""Tests for the spoken-test-question generator, with the real engines and sox."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from speechgen import (
    LIBRIVOX_DIR,
    AudioCache,
    NoiseKind,
    Samples,
    VoiceSpec,
    active_speech_power,
    add_pause,
    convert,
    default_voices,
    heldout_voices,
    is_installed,
    librivox_samples,
    mix_noise,
    noise_only,
    read_mono,
    silence,
    standard_conditions,
    synthesize,
    train_voices,
    validation_voices,
)

from voice.errors import AudioError, SpeechError

QUESTION = "how long will I have to stay on immunotherapy"
ESPEAK = VoiceSpec("espeak-ng", "en-us+m3", 160, 50)
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def espeak_question(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return one espeak-ng question shared by the tests that only need some speech."""
    return synthesize(QUESTION, ESPEAK, tmp_path_factory.mktemp("speech") / "q.wav")


def _db(power: float) -> float:
    return float(10 * np.log10(power))


def _frame_rms(samples: Samples, rate: int, seconds: float = 0.05) -> Samples:
    frame = int(rate * seconds)
    count = len(samples) // frame
    return np.asarray(
        np.sqrt(np.mean(samples[: count * frame].reshape(count, frame) ** 2, axis=1)),
        dtype=np.float64,
    )


def test_train_and_heldout_voices_are_disjoint_and_cover_every_engine() -> None:
    train, heldout = train_voices(), heldout_voices()
    assert not {v.name for v in validation_voices()} & {v.name for v in train + heldout}
    assert not set(train) & set(heldout)
    assert default_voices() == train + heldout
    assert {v.engine for v in default_voices()} == {"espeak-ng", "flite", "festival"}
    assert len({v.name for v in default_voices()}) == len(default_voices())


@pytest.mark.parametrize("voice", default_voices(), ids=lambda v: v.name)
def test_every_default_voice_speaks_a_question_at_a_plausible_length(
    voice: VoiceSpec, tmp_path: Path
) -> None:
    assert is_installed(voice)
    samples, rate = read_mono(synthesize(QUESTION, voice, tmp_path / "q.wav"))
    # Nine words at 130-175 wpm plus the engine's own silences.
    assert 1.8 < len(samples) / rate < 5.5
    assert rate in (16000, 22050)
    loud = _frame_rms(samples, rate) > 0.02
    assert 1.2 < loud.sum() * 0.05 < 5.0  # seconds of clearly audible speech


def test_rate_setting_changes_duration_on_every_engine(tmp_path: Path) -> None:
    for engine, voice in (("espeak-ng", "en-us+m3"), ("flite", "slt"), ("festival", "kal_diphone")):
        fast = synthesize(QUESTION, VoiceSpec(engine, voice, 200, None), tmp_path / "fast.wav")
        slow = synthesize(QUESTION, VoiceSpec(engine, voice, 120, None), tmp_path / "slow.wav")
        assert sf.info(str(slow)).duration > 1.3 * sf.info(str(fast)).duration, engine


@pytest.mark.parametrize(
    "voice",
    [ESPEAK, VoiceSpec("flite", "awb", 150, None), VoiceSpec("festival", "kal_diphone", 150, None)],
    ids=lambda v: v.engine,
)
def test_synthesis_is_byte_for_byte_deterministic(voice: VoiceSpec, tmp_path: Path) -> None:
    first = synthesize(QUESTION, voice, tmp_path / "a.wav").read_bytes()
    assert synthesize(QUESTION, voice, tmp_path / "b.wav").read_bytes() == first


def test_a_question_starting_with_a_dash_is_spoken_not_taken_as_an_option(tmp_path: Path) -> None:
    for voice in (ESPEAK, VoiceSpec("flite", "slt", None, None)):
        samples, rate = read_mono(synthesize("-v what is this", voice, tmp_path / "d.wav"))
        assert len(samples) / rate > 0.8


@pytest.mark.parametrize(
    "voice",
    [
        VoiceSpec("espeak-ng", "nosuchvoice", None, None),
        VoiceSpec("flite", "no_such_voice", None, None),
        VoiceSpec("festival", "no_such_voice", None, None),
    ],
    ids=lambda v: v.engine,
)
def test_unknown_voices_raise_speech_error(voice: VoiceSpec, tmp_path: Path) -> None:
    assert not is_installed(voice)
    with pytest.raises(SpeechError):
        synthesize("hello", voice, tmp_path / "x.wav")


def test_active_speech_power_ignores_silence() -> None:
    rate = 16000
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(rate) / rate)
    bursts = np.concatenate([np.zeros(rate), tone, np.zeros(2 * rate), tone])
    assert _db(active_speech_power(bursts, rate)) == pytest.approx(_db(0.125), abs=0.1)


@pytest.mark.parametrize(
    ("kind", "snr_db"),
    [("babble+noise", 10.0), ("babble+noise", 20.0), ("babble", 0.0), ("noise", 5.0)],
)
def test_mix_noise_hits_the_requested_snr(
    kind: str, snr_db: float, espeak_question: Path, tmp_path: Path
) -> None:
    out = mix_noise(espeak_question, tmp_path / "mix.wav", snr_db, kind, seed=3)
    mixed, rate = read_mono(out)
    speech, speech_rate = read_mono(espeak_question)
    pad = np.zeros(rate // 2)
    padded = np.concatenate([pad, speech, pad])
    assert rate == speech_rate and len(mixed) == len(padded)
    # The mix may have been scaled down as a whole to avoid clipping; recover that scale.
    scale = float(padded @ mixed / (padded @ padded))
    noise = mixed - scale * padded
    measured = _db(scale**2 * active_speech_power(speech, rate) / float(np.mean(noise**2)))
    assert measured == pytest.approx(snr_db, abs=0.5)
    # The room is audible before the patient starts speaking.
    assert float(np.sqrt(np.mean(mixed[: rate // 2] ** 2))) > 1e-3


def test_mix_noise_is_deterministic_per_seed(espeak_question: Path, tmp_path: Path) -> None:
    a = mix_noise(espeak_question, tmp_path / "a.wav", 10, NoiseKind.BABBLE_NOISE, seed=5)
    b = mix_noise(espeak_question, tmp_path / "b.wav", 10, NoiseKind.BABBLE_NOISE, seed=5)
    c = mix_noise(espeak_question, tmp_path / "c.wav", 10, NoiseKind.BABBLE_NOISE, seed=6)
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()


def test_babble_fluctuates_like_speech_and_hum_is_steady(tmp_path: Path) -> None:
    def fluctuation(kind: NoiseKind) -> float:
        samples, rate = read_mono(noise_only(tmp_path / f"{kind}.wav", 4.0, seed=1, kind=kind))
        rms = _frame_rms(samples, rate)
        return float(np.std(rms) / np.mean(rms))

    assert fluctuation(NoiseKind.BABBLE) > 0.25
    assert fluctuation(NoiseKind.NOISE) < 0.15


def test_noise_only_and_silence_have_the_requested_length_and_level(tmp_path: Path) -> None:
    samples, rate = read_mono(noise_only(tmp_path / "n.wav", 1.5, seed=2, rate=8000))
    assert (rate, len(samples)) == (8000, 12000)
    assert 20 * np.log10(np.sqrt(np.mean(samples**2))) == pytest.approx(-35.0, abs=0.2)
    quiet, rate = read_mono(silence(tmp_path / "s.wav", 0.25, rate=22050))
    assert (rate, len(quiet), int(np.count_nonzero(quiet))) == (22050, 5512, 0)


@pytest.mark.parametrize(
    ("rate", "channels", "subtype"),
    [(44100, 2, "PCM_16"), (8000, 1, "PCM_16"), (8000, 1, "ULAW"), (48000, 1, "FLOAT")],
)
def test_convert_produces_the_requested_format(
    rate: int, channels: int, subtype: str, espeak_question: Path, tmp_path: Path
) -> None:
    out = convert(espeak_question, tmp_path / "c.wav", rate, channels, subtype)
    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.subtype) == (rate, channels, subtype)
    assert info.duration == pytest.approx(sf.info(str(espeak_question)).duration, abs=0.01)
    data, _ = sf.read(str(out), always_2d=True)
    assert np.sqrt(np.mean(data**2)) > 0.02
    if channels == 2:
        assert np.array_equal(data[:, 0], data[:, 1])
    again = convert(espeak_question, tmp_path / "again.wav", rate, channels, subtype)
    assert again.read_bytes() == out.read_bytes()


def test_convert_of_a_missing_file_raises_audio_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError):
        convert(tmp_path / "missing.wav", tmp_path / "out.wav", 16000, 1)


@pytest.mark.parametrize("voice", [ESPEAK, VoiceSpec("flite", "slt", None, None)], ids=str)
def test_add_pause_leaves_exactly_the_requested_silent_gap(
    voice: VoiceSpec, tmp_path: Path
) -> None:
    out = add_pause(["can cancer spread", "during immunotherapy"], 700, voice, tmp_path / "p.wav")
    samples, rate = read_mono(out)
    audible = np.flatnonzero(np.abs(samples) > 10 ** (-50 / 20))
    gaps = np.diff(audible)
    longest_gap_ms = 1000 * (gaps.max() - 1) / rate
    assert 700 <= longest_gap_ms < 720
    # The gap sits between the two parts, not at either end.
    where = audible[int(np.argmax(gaps))] / len(samples)
    assert 0.2 < where < 0.8


def test_cache_builds_once_and_keys_on_every_input(tmp_path: Path) -> None:
    cache = AudioCache(tmp_path)
    calls: list[Path] = []

    def build(path: Path) -> Path:
        calls.append(path)
        return silence(path, 0.1)

    first = cache.get(("x", ESPEAK, 1), build)
    assert cache.get(("x", ESPEAK, 1), build) == first
    assert len(calls) == 1 and first.exists() and first.is_relative_to(tmp_path)
    assert cache.get(("x", ESPEAK, 2), build) != first
    assert len(calls) == 2
    assert not list(tmp_path.rglob("*.tmp.wav"))


def test_cache_renders_every_standard_condition(tmp_path: Path) -> None:
    cache = AudioCache(tmp_path)
    clean = cache.speech("stop", ESPEAK)
    clean_seconds = sf.info(str(clean)).duration
    expected = {
        "clean": (22050, 1, clean_seconds),
        "babble+noise_20dB": (22050, 1, clean_seconds + 1.0),
        "babble+noise_10dB": (22050, 1, clean_seconds + 1.0),
        "44k1_stereo": (44100, 2, clean_seconds),
        "8k_mono": (8000, 1, clean_seconds),
        "far_slow": (22050, 1, clean_seconds / 0.8),  # 20% slower
    }
    for condition in standard_conditions():
        path = cache.render("stop", ESPEAK, condition)
        info = sf.info(str(path))
        rate, channels, seconds = expected[condition.name]
        assert (info.samplerate, info.channels) == (rate, channels), condition.name
        assert info.duration == pytest.approx(seconds, abs=0.01), condition.name
        assert cache.render("stop", ESPEAK, condition) == path


@pytest.mark.skipif(not LIBRIVOX_DIR.exists(), reason="pocketsphinx-testdata is not installed")
def test_librivox_samples_pair_each_recording_with_its_transcript() -> None:
    samples = librivox_samples()
    assert len(samples) == 5
    by_name = {path.stem: text for path, text in samples}
    assert by_name["sense_and_sensibility_01_austen_64kb-0880"] == (
        "he was not an ill disposed young man"
    )
    for path, text in samples:
        info = sf.info(str(path))
        assert (info.samplerate, info.channels) == (16000, 1)
        assert "<s>" not in text and "(" not in text and text == text.strip()


def test_librivox_samples_reports_a_malformed_transcription(tmp_path: Path) -> None:
    (tmp_path / "transcription").write_text("<s> hello </s> no id here\n", encoding="utf-8")
    with pytest.raises(AudioError, match=r"transcription:1"):
        librivox_samples(tmp_path)


def test_committed_fixtures_match_their_manifest() -> None:
    with (FIXTURES / "manifest.tsv").open(encoding="utf-8", newline="") as listing:
        rows = list(csv.DictReader(listing, delimiter="\t"))
    assert {row["path"] for row in rows} == {p.name for p in FIXTURES.glob("*.wav")}
    assert sum(p.stat().st_size for p in FIXTURES.iterdir()) < 1_000_000
    for row in rows:
        samples, rate = read_mono(FIXTURES / row["path"])
        assert rate == (8000 if row["condition"] == "8k_mono" else 16000)
        assert (np.count_nonzero(samples) == 0) == (row["condition"] == "silence")
