"""Tests for reading audio files as 16 kHz mono PCM, and for the PCM helpers."""

from __future__ import annotations

import math
import struct
import tracemalloc
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from voice.audio.files import AudioInfo, iter_pcm16, probe, read_pcm16
from voice.audio.levels import rms_dbfs
from voice.audio.pcm import float_to_int16, float_to_pcm16, pcm16_to_float
from voice.errors import AudioError

RATES = [8000, 16000, 22050, 44100, 48000]
WAV_SUBTYPES = ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"]
SINE_HALF_SCALE_DBFS = 20 * math.log10(0.5 / math.sqrt(2))  # about -9.03


def tone(rate: int, seconds: float, freq: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    """A sine tone as float64 samples."""
    return amplitude * np.sin(2 * np.pi * freq * np.arange(int(rate * seconds)) / rate)


def peak_hz(pcm: bytes) -> float:
    """Frequency of the strongest component of 16 kHz PCM."""
    samples = pcm16_to_float(pcm)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / 16000)[np.argmax(spectrum)])


def expected_bytes(frames: int, rate: int) -> int:
    """Length of the 16 kHz 16-bit output for ``frames`` input frames."""
    return math.ceil(frames * 16000 / rate) * 2


def write(path: Path, data: npt.ArrayLike, rate: int, subtype: str, fmt: str | None = None) -> Path:
    """Write ``data`` with soundfile and return the path."""
    sf.write(path, data, rate, subtype=subtype, format=fmt)
    return path


def wav_bytes(format_code: int, frames: int = 100, extra: bytes = b"\x00\x00") -> bytes:
    """A hand-made mono 8 kHz WAV with the given format code in its ``fmt `` chunk."""
    fmt = struct.pack("<HHIIHH", format_code, 1, 8000, 16000, 2, 16) + extra
    data = b"\x00\x00" * frames
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


# Reading every rate and sample format


@pytest.mark.parametrize("subtype", WAV_SUBTYPES)
@pytest.mark.parametrize("rate", RATES)
def test_wav_of_any_rate_and_subtype_becomes_16k_mono(
    tmp_path: Path, rate: int, subtype: str
) -> None:
    path = write(tmp_path / "question.wav", tone(rate, 0.5), rate, subtype)
    info = probe(path)
    assert (info.sample_rate, info.channels, info.subtype, info.format) == (rate, 1, subtype, "WAV")
    assert info.frames == rate // 2
    assert info.duration_s == pytest.approx(0.5)
    pcm = read_pcm16(path)
    assert len(pcm) == expected_bytes(info.frames, rate)
    assert peak_hz(pcm) == pytest.approx(440, abs=2)
    # Middle only: the resampler zero-pads the edges.
    middle = pcm[1600:-1600]
    assert rms_dbfs(middle) == pytest.approx(SINE_HALF_SCALE_DBFS, abs=0.1)


def test_16k_mono_16bit_file_passes_through_bit_exact(tmp_path: Path) -> None:
    samples = np.random.default_rng(3).integers(-32768, 32768, 8000).astype(np.int16)
    path = write(tmp_path / "exact.wav", samples, 16000, "PCM_16")
    assert read_pcm16(path) == samples.astype("<i2").tobytes()


def test_stereo_is_averaged_to_mono(tmp_path: Path) -> None:
    left = tone(44100, 0.5)
    same = write(tmp_path / "same.wav", np.stack([left, left], axis=1), 44100, "PCM_16")
    opposite = write(tmp_path / "opposite.wav", np.stack([left, -left], axis=1), 44100, "PCM_16")
    assert probe(same).channels == 2
    assert rms_dbfs(read_pcm16(same)[1600:-1600]) == pytest.approx(SINE_HALF_SCALE_DBFS, abs=0.1)
    # Averaging (not picking one channel) makes opposite-phase channels cancel out.
    assert rms_dbfs(read_pcm16(opposite)) < -80


def test_six_channels_are_averaged(tmp_path: Path) -> None:
    signal = tone(48000, 0.5)
    silent = np.zeros_like(signal)
    channels = np.stack([signal, signal, signal, silent, silent, silent], axis=1)
    path = write(tmp_path / "surround.wav", channels, 48000, "PCM_16")
    assert probe(path).channels == 6
    level = rms_dbfs(read_pcm16(path)[1600:-1600])
    assert level == pytest.approx(SINE_HALF_SCALE_DBFS - 20 * math.log10(2), abs=0.1)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24"])
def test_flac_stereo_44k(tmp_path: Path, subtype: str) -> None:
    signal = tone(44100, 0.5)
    path = write(tmp_path / "question.flac", np.stack([signal, signal], axis=1), 44100, subtype)
    info = probe(path)
    assert (info.format, info.subtype, info.channels) == ("FLAC", subtype, 2)
    pcm = read_pcm16(path)
    assert len(pcm) == 16000
    assert peak_hz(pcm) == pytest.approx(440, abs=2)


def test_ogg_vorbis(tmp_path: Path) -> None:
    path = write(tmp_path / "question.ogg", tone(48000, 0.5), 48000, "VORBIS")
    assert probe(path).format == "OGG"
    assert peak_hz(read_pcm16(path)) == pytest.approx(440, abs=2)


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT"])
def test_wave_format_extensible(tmp_path: Path, subtype: str) -> None:
    path = write(tmp_path / "extensible.wav", tone(48000, 0.5), 48000, subtype, fmt="WAVEX")
    header = path.read_bytes()[:22]
    assert struct.unpack("<H", header[20:22])[0] == 0xFFFE  # really WAVE_FORMAT_EXTENSIBLE
    assert probe(path).format == "WAVEX"
    assert peak_hz(read_pcm16(path)) == pytest.approx(440, abs=2)


def test_24_bit_wav_from_the_wave_module(tmp_path: Path) -> None:
    # Python's wave module writes plain 3-byte PCM (format code 1), as some recorders do.
    values = np.array([0, 256, -256, 8_388_607, -8_388_608, 4096 * 256], dtype=np.int32)
    path = tmp_path / "w24.wav"
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(3)
        handle.setframerate(16000)
        handle.writeframes(b"".join(struct.pack("<i", int(v))[:3] for v in values))
    assert probe(path).subtype == "PCM_24"
    got = np.frombuffer(read_pcm16(path), dtype="<i2")
    # 24-bit to 16-bit keeps the top 16 bits, rounding the rest.
    assert got.tolist() == [0, 1, -1, 32767, -32768, 4096]


# Streaming


def test_chunks_are_the_requested_size_and_join_to_the_whole(tmp_path: Path) -> None:
    path = write(tmp_path / "question.wav", tone(44100, 1.23), 44100, "PCM_16")
    chunks = list(iter_pcm16(path, chunk_ms=30))
    assert all(len(chunk) == 30 * 16 * 2 for chunk in chunks[:-1])
    assert 0 < len(chunks[-1]) <= 30 * 16 * 2
    assert b"".join(chunks) == read_pcm16(path)
    assert b"".join(iter_pcm16(path, chunk_ms=1000)) == read_pcm16(path)


def test_streaming_a_long_file_uses_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    rate, seconds = 44100, 60
    with sf.SoundFile(path, "w", rate, 2, "PCM_16") as sound:
        for second in range(seconds):
            block = tone(rate, 1.0) * (1 if second % 2 else 0.5)
            sound.write(np.stack([block, block], axis=1))
    tracemalloc.start()
    try:
        total = sum(len(chunk) for chunk in iter_pcm16(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == seconds * 16000 * 2
    # Decoding the whole file at once would need over 20 MB (float32 stereo); blocks need far less.
    assert peak < 3_000_000


def test_bad_file_is_reported_when_iter_pcm16_is_called(tmp_path: Path) -> None:
    with pytest.raises(AudioError):
        iter_pcm16(tmp_path / "missing.wav")  # no next(): the check is not deferred


def test_chunk_ms_must_be_positive(tmp_path: Path) -> None:
    path = write(tmp_path / "question.wav", tone(16000, 0.1), 16000, "PCM_16")
    with pytest.raises(ValueError, match="chunk_ms"):
        iter_pcm16(path, chunk_ms=0)


def test_data_cut_short_is_reported_not_read(tmp_path: Path) -> None:
    # Reading what is there answered half a question as if it were whole (issue 16).
    whole = write(tmp_path / "whole.wav", tone(16000, 1.0), 16000, "PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: 44 + 2 * 4000])  # header still claims 16000 frames
    with pytest.raises(AudioError, match=r"cut\.wav is cut off: .* 1\.0 s .* only 0\.2 s"):
        iter_pcm16(cut)


def test_probe_returns_a_frozen_audio_info(tmp_path: Path) -> None:
    path = write(tmp_path / "question.wav", tone(22050, 0.2), 22050, "PCM_16")
    info = probe(str(path))
    assert info == AudioInfo(path, 22050, 1, 4410, 0.2, "WAV", "PCM_16")
    with pytest.raises(AttributeError):
        info.frames = 1  # type: ignore[misc]


# Bad input: every case is an AudioError whose message starts with the file name


def assert_audio_error(path: Path, *phrases: str, call_probe: bool = True) -> None:
    """Every entry point raises AudioError for ``path`` with a message naming it first."""
    calls: list[Callable[[Path], object]] = [read_pcm16, iter_pcm16]
    if call_probe:
        calls.append(probe)
    for call in calls:
        with pytest.raises(AudioError) as caught:
            call(path)
        message = str(caught.value)
        assert message.startswith(path.name + " "), message
        for phrase in phrases:
            assert phrase in message, message
        assert message.endswith("."), message


def test_missing_file(tmp_path: Path) -> None:
    assert_audio_error(tmp_path / "question.wav", "was not found", str(tmp_path), "Check")


def test_directory(tmp_path: Path) -> None:
    folder = tmp_path / "question.wav"
    folder.mkdir()
    assert_audio_error(folder, "is a folder", "WAV or FLAC")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "question.wav"
    path.write_bytes(b"")
    assert_audio_error(path, "is empty (0 bytes)", "Record it again as WAV or FLAC")


@pytest.mark.parametrize("keep", [10, 30, 40])
def test_truncated_header(tmp_path: Path, keep: int) -> None:
    whole = write(tmp_path / "whole.wav", tone(16000, 0.1), 16000, "PCM_16")
    path = tmp_path / "question.wav"
    path.write_bytes(whole.read_bytes()[:keep])
    assert_audio_error(path, "is damaged or incomplete", "Record it again as WAV or FLAC")


def test_text_file_renamed_wav(tmp_path: Path) -> None:
    path = tmp_path / "question.wav"
    path.write_text("Where is the pharmacy?\n" * 20, encoding="utf-8")
    assert_audio_error(
        path, "is not an audio file that can be read (", "). Record it again as WAV or FLAC."
    )


def test_valid_header_without_frames(tmp_path: Path) -> None:
    # (libsndfile writes nothing at all for an empty FLAC, so only WAV can have this shape.)
    path = write(tmp_path / "question.wav", np.zeros(0), 16000, "PCM_16")
    assert path.stat().st_size == 44
    assert probe(path).frames == 0  # probe describes; reading refuses
    assert_audio_error(path, "contains no sound", "Record it again", call_probe=False)


def test_wav_with_an_encoding_libsndfile_cannot_decode(tmp_path: Path) -> None:
    path = tmp_path / "question.wav"
    path.write_bytes(wav_bytes(0x1234))
    assert_audio_error(path, "uses an audio format that cannot be read", "0x1234", "WAV or FLAC")


def test_extensible_wav_with_an_unknown_sub_format(tmp_path: Path) -> None:
    guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    extra = struct.pack("<HHI", 22, 16, 4) + struct.pack("<H", 0x4321) + guid_tail
    path = tmp_path / "question.wav"
    path.write_bytes(wav_bytes(0xFFFE, extra=extra))
    assert_audio_error(path, "uses an audio format that cannot be read", "0x4321")


def test_m4a_file(tmp_path: Path) -> None:
    path = tmp_path / "question.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00" + b"\x00" * 500)
    assert_audio_error(path, "uses an audio format that cannot be read", "M4A", "WAV or FLAC")


def test_headerless_raw_pcm(tmp_path: Path) -> None:
    path = tmp_path / "question.raw"
    path.write_bytes(b"\x00\x01" * 1000)
    assert_audio_error(path, "has no audio header", "WAV or FLAC")


def test_damaged_header_fields(tmp_path: Path) -> None:
    path = tmp_path / "question.wav"
    raw = bytearray(wav_bytes(1))
    raw[22:24] = struct.pack("<H", 0)  # zero channels
    path.write_bytes(bytes(raw))
    assert_audio_error(path, "is damaged or incomplete")


# PCM helpers


def test_int16_float_round_trip_is_exact() -> None:
    ints = np.arange(-32768, 32768, dtype=np.int16)
    samples = pcm16_to_float(ints.tobytes())
    assert samples.dtype == np.float32
    assert samples.min() == -1.0 and samples.max() < 1.0
    assert np.array_equal(float_to_int16(samples), ints)
    assert float_to_pcm16(samples) == ints.astype("<i2").tobytes()


def test_float_to_int16_rounds_and_clips() -> None:
    values = [0.0, 1.4 / 32768, 1.6 / 32768, -1.6 / 32768, 1.0, 2.5, -1.0, -7.0]
    assert float_to_int16(values).tolist() == [0, 1, 2, -2, 32767, 32767, -32768, -32768]


def test_pcm16_to_float_rejects_an_odd_byte_count() -> None:
    with pytest.raises(AudioError, match="odd number of bytes"):
        pcm16_to_float(b"\x00\x01\x02")


def test_rms_dbfs_levels() -> None:
    full = float_to_pcm16(tone(16000, 1.0, amplitude=1.0) * (32767 / 32768))
    assert rms_dbfs(full) == pytest.approx(-3.01, abs=0.01)
    assert rms_dbfs(float_to_pcm16(tone(16000, 1.0, amplitude=0.1))) == pytest.approx(
        -23.01, abs=0.01
    )
    assert rms_dbfs(float_to_pcm16(np.full(100, -1.0))) == pytest.approx(0.0)
    assert rms_dbfs(bytes(3200)) == -math.inf
    assert rms_dbfs(b"") == -math.inf
