"""One clear sentence for each odd input, and no library output reaching the user: FIFOs,
link loops, devices, NaN samples, MP3 decoder notes and Kaldi's log (shown with -v instead)."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voice.audio.files import read_pcm16
from voice.errors import AudioError, ModelError
from voice.hearing.model import load_model, locate_model


def message_for(path: Path) -> str:
    with pytest.raises(AudioError) as caught:
        read_pcm16(path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_fifo_is_called_a_named_pipe_not_empty(tmp_path: Path) -> None:
    fifo = tmp_path / "question.wav"
    os.mkfifo(fifo)
    message = message_for(fifo)  # and it does not wait for a writer
    assert message.startswith("question.wav is a named pipe (FIFO), not a recording saved in")
    assert "empty" not in message


def test_a_character_device_is_named() -> None:
    assert message_for(Path("/dev/null")).startswith("null is a character device")


def test_a_symlink_loop_is_called_a_loop_not_missing(tmp_path: Path) -> None:
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    first.symlink_to(second)
    second.symlink_to(first)
    message = message_for(first)
    assert message.startswith("a.wav is a symbolic link that leads back to itself (a link loop)")
    assert "not found" not in message


def test_a_dangling_symlink_names_its_target(tmp_path: Path) -> None:
    link = tmp_path / "q.wav"
    link.symlink_to(tmp_path / "gone.wav")
    message = message_for(link)
    assert message.startswith(f"q.wav is a symbolic link to {tmp_path / 'gone.wav'}, which does")


def test_a_missing_file_is_still_not_found(tmp_path: Path) -> None:
    assert message_for(tmp_path / "none.wav").startswith("none.wav was not found")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_samples_are_one_sentence_and_no_numpy_warning(tmp_path: Path, bad: float) -> None:
    samples = np.full(8000, 0.1, dtype=np.float32)
    samples[4000:4010] = bad
    path = tmp_path / "nan.wav"
    sf.write(path, samples, 16000, subtype="FLOAT")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "invalid value encountered in cast"
        message = message_for(path)
    assert message == (
        "nan.wav is damaged: some of its samples are not numbers (NaN or infinite), so record "
        "it again as WAV or FLAC."
    )


def test_mp3_decoder_notes_do_not_reach_the_user(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "damaged.mp3"
    try:
        sf.write(path, 0.3 * np.sin(np.arange(32000) / 5), 16000, format="MP3")
    except (sf.LibsndfileError, TypeError, ValueError) as exc:
        pytest.skip(f"this libsndfile cannot write MP3: {exc}")
    raw = bytearray(path.read_bytes())
    rng = np.random.default_rng(1)
    for at in rng.integers(500, len(raw), 200):
        raw[at] = int(rng.integers(256))
    path.write_bytes(bytes(raw))
    capfd.readouterr()
    with caplog.at_level(logging.INFO, logger="voice.audio.files"):
        try:
            read_pcm16(path)
        except AudioError as exc:
            assert "\n" not in str(exc)
    assert capfd.readouterr().err == ""
    assert "The decoder said while reading damaged.mp3" in caplog.text


def test_kaldi_output_does_not_reach_the_user(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    try:
        official = locate_model()
    except ModelError as exc:
        pytest.skip(f"no speech model installed: {exc}")
    own = tmp_path / "our-own-model"  # not the official name: only the structure is checked
    for file in official.rglob("*"):
        if file.is_file():
            target = own / file.relative_to(official)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(file.resolve())
    (own / "conf" / "model.conf").unlink()
    (own / "conf" / "model.conf").write_text("this is not a Kaldi config\n--no-such-option=1\n")
    capfd.readouterr()
    with (
        caplog.at_level(logging.INFO, logger="voice.hearing.model"),
        pytest.raises(ModelError, match="Vosk could not load the speech model at"),
    ):
        load_model(own)
    assert capfd.readouterr().err == ""
    assert "ERROR (VoskAPI" in caplog.text  # kept for -v
