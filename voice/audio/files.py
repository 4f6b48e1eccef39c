"""Reading recorded questions from audio files as the 16 kHz mono 16-bit PCM that Vosk wants."""

from __future__ import annotations

import errno
import logging
import math
import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from voice.audio.format import SAMPLE_RATE
from voice.audio.pcm import float_to_pcm16
from voice.audio.resample import Resampler
from voice.errors import AudioError
from voice.native_stderr import NativeStderr

logger = logging.getLogger(__name__)

TARGET_RATE = SAMPLE_RATE
# Header sample rates outside this range are damage, not recordings: a rate of 1 Hz makes an
# 80 kB file last hours, and one of 2**31 Hz made the reader ask for gigabytes.
MIN_SAMPLE_RATE = 4_000
MAX_SAMPLE_RATE = 192_000
# Input read per step; bounds memory whatever the file length (0.5 s of 48 kHz stereo = 384 kB).
_READ_SECONDS = 0.5
# At most this many samples (all channels) per read, so many channels cannot blow up a block.
_MAX_BLOCK_SAMPLES = 1 << 18
# The resampler's filter table has 16000/gcd(rate, 16000) rows: about 1 GB for a rate such as
# 191,999 Hz. Rates are rounded to a multiple of 25 Hz (at most 640 rows); the 0.3% pitch change
# this can cause at 4 kHz is far below what speech recognition notices.
_RATE_STEP = 25
# Sizes at or above this in a WAV data chunk mean "unknown" (written while streaming), not a length.
_UNKNOWN_DATA_SIZE = 0x7FFF0000
# Chunks looked through to find the data chunk; real files have a handful.
_MAX_WAV_CHUNKS = 1000
_SNIFF_BYTES = 4096
_AGAIN = "Record it again as WAV or FLAC."
# Everything soundfile/libsndfile (or a damaged header) can throw while opening or reading.
_READ_ERRORS = (
    sf.SoundFileError,
    RuntimeError,
    OSError,
    ValueError,
    TypeError,
    struct.error,
    EOFError,
)

# WAV format codes libsndfile decodes; any other code means an encoding it cannot read.
_WAV_CODECS_READ = {0x0001, 0x0002, 0x0003, 0x0006, 0x0007, 0x0011, 0x0031, 0x0040, 0x0055}
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE


@dataclass(frozen=True)
class AudioInfo:
    """What an audio file holds, as its header describes it."""

    path: Path
    sample_rate: int
    channels: int
    frames: int
    duration_s: float
    format: str  # container, e.g. "WAV", "WAVEX", "FLAC"
    subtype: str  # sample encoding, e.g. "PCM_16", "PCM_24", "FLOAT"


def probe(path: Path | str) -> AudioInfo:
    """Describe an audio file without reading its samples; a file with no frames is not an error."""
    path = Path(path)
    _check_path(path)
    with _open(path) as sound:
        info = AudioInfo(
            path=path,
            sample_rate=int(sound.samplerate),
            channels=int(sound.channels),
            frames=int(sound.frames),
            duration_s=int(sound.frames) / int(sound.samplerate),
            format=str(sound.format),
            subtype=str(sound.subtype),
        )
    return info


def iter_pcm16(
    path: Path | str, chunk_ms: int = 100, *, max_seconds: float | None = None
) -> Iterator[bytes]:
    """Yield the file as 16 kHz mono 16-bit LE PCM in ``chunk_ms`` chunks (the last may be shorter).

    The file is checked before this returns, so a bad file raises ``AudioError`` here rather than
    at the first ``next()``; reading is block by block, so memory does not grow with the length.
    A file longer than ``max_seconds`` (None: no limit) is refused; see voice/ask/limits.py.
    """
    if chunk_ms <= 0:
        raise ValueError(f"chunk_ms must be positive, got {chunk_ms}")
    if max_seconds is not None and not max_seconds > 0:
        raise ValueError(f"max_seconds must be positive, got {max_seconds}")
    info = probe(path)
    check_limits(info, max_seconds)
    _check_not_cut_off(info)
    if info.frames == 0:
        raise _no_frames(info.path)
    logger.debug(
        "Reading %s: %s/%s, %d Hz, %d channel(s), %.2f s",
        info.path.name,
        info.format,
        info.subtype,
        info.sample_rate,
        info.channels,
        info.duration_s,
    )
    return _stream(info, TARGET_RATE * chunk_ms // 1000 * 2, max_seconds)


def read_pcm16(path: Path | str, *, max_seconds: float | None = None) -> bytes:
    """Read a whole (short) file as 16 kHz mono 16-bit little-endian PCM."""
    return b"".join(iter_pcm16(path, chunk_ms=1000, max_seconds=max_seconds))


def check_limits(info: AudioInfo, max_seconds: float | None = None) -> None:
    """Refuse a sample rate no recording has, or audio longer than ``max_seconds``."""
    name = info.path.name
    if not MIN_SAMPLE_RATE <= info.sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"{name} has a damaged header: its sample rate of {info.sample_rate:,} Hz is outside "
            f"the {MIN_SAMPLE_RATE:,}-{MAX_SAMPLE_RATE:,} Hz of real recordings, so record it "
            "again as WAV or FLAC."
        )
    if max_seconds is not None and info.duration_s > max_seconds:
        raise _too_long(name, info.duration_s, max_seconds)


def _too_long(name: str, seconds: float, max_seconds: float) -> AudioError:
    """The error for a recording longer than one question may be."""
    return AudioError(
        f"{name} lasts {seconds:,.0f} s, longer than the {max_seconds:g} s allowed for one "
        "question, so trim it to the question (or raise --max-seconds)."
    )


def _stream(info: AudioInfo, chunk_bytes: int, max_seconds: float | None) -> Iterator[bytes]:
    """Decode, downmix, resample and re-chunk the file described by ``info``."""
    resampler = Resampler(_resampling_rate(info.sample_rate), TARGET_RATE)
    per_channel = _MAX_BLOCK_SAMPLES // info.channels
    block = max(256, min(int(info.sample_rate * _READ_SECONDS), per_channel))
    # The header's length is checked before reading; this also stops a stream that runs past it.
    max_frames = math.inf if max_seconds is None else max_seconds * info.sample_rate
    pending = bytearray()
    frames_read = 0
    with _open(info.path) as sound, NativeStderr() as native:
        while True:
            try:
                with native.redirected():
                    data = sound.read(block, dtype="float32", always_2d=True)
            except _READ_ERRORS as error:
                _log_native(info.path, native)
                raise AudioError(
                    f"{info.path.name} could not be read to the end ({_describe(error)}); "
                    f"it may be damaged. {_AGAIN}"
                ) from error
            if data.shape[0] == 0:
                break
            if not np.isfinite(data).all():
                raise AudioError(
                    f"{info.path.name} is damaged: some of its samples are not numbers (NaN or "
                    "infinite), so record it again as WAV or FLAC."
                )
            frames_read += data.shape[0]
            if frames_read > max_frames:
                assert max_seconds is not None
                raise _too_long(info.path.name, frames_read / info.sample_rate, max_seconds)
            # Averaging keeps the level of a mono recording copied to both channels unchanged.
            mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1, dtype=np.float32)
            pending += float_to_pcm16(resampler.process(mono))
            yield from _whole_chunks(pending, chunk_bytes)
        _log_native(info.path, native)
    if frames_read == 0:
        # The header promised frames but the data was missing (a file cut off after its header).
        raise _no_frames(info.path)
    if frames_read < info.frames:
        raise AudioError(
            f"{info.path.name} ended after {frames_read / info.sample_rate:.1f} s although its "
            f"header promises {info.duration_s:.1f} s, so it is damaged or cut off; record or "
            "copy it again."
        )
    pending += float_to_pcm16(resampler.flush())
    yield from _whole_chunks(pending, chunk_bytes)
    if pending:
        yield bytes(pending)


def _check_not_cut_off(info: AudioInfo) -> None:
    """Refuse a WAV whose data chunk promises more than the file holds.

    libsndfile quietly reads what is there, and half a question can match another entry.
    """
    if not info.format.startswith("WAV"):
        return  # other formats fail or come up short while reading (see _stream)
    try:
        shortfall = _wav_data_shortfall(info.path)
    except OSError as error:
        raise AudioError(
            f"{info.path.name} cannot be opened ({_describe(error)}). "
            "Check that the file is readable."
        ) from error
    if shortfall is not None:
        declared, present, block_align = shortfall
        raise _cut_off(info, declared // block_align, present // block_align)


def _cut_off(info: AudioInfo, frames_promised: int, frames_there: int) -> AudioError:
    """The error for a file that holds only the start of what its header promises."""
    rate = info.sample_rate
    return AudioError(
        f"{info.path.name} is cut off: its header promises {frames_promised / rate:.1f} s of "
        f"sound but only {frames_there / rate:.1f} s is there, so part of the question may be "
        "missing; record or copy it again."
    )


def _wav_data_shortfall(path: Path) -> tuple[int, int, int] | None:
    """(bytes the data chunk declares, bytes present, block size) when the file is cut short."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None  # RF64 and others: not checked here
        offset, block_align = 12, 1
        for _ in range(_MAX_WAV_CHUNKS):
            handle.seek(offset)
            header = handle.read(8)
            if len(header) < 8:
                return None
            chunk_id, (chunk_size,) = header[:4], struct.unpack("<I", header[4:])
            if chunk_id == b"fmt ":
                body = handle.read(16)
                if len(body) >= 14:
                    block_align = max(1, struct.unpack_from("<H", body, 12)[0])
            elif chunk_id == b"data":
                if chunk_size == 0 or chunk_size >= _UNKNOWN_DATA_SIZE:
                    return None  # a recorder that streamed the file left a placeholder size
                present = size - (offset + 8)
                if chunk_size - present >= block_align:
                    return chunk_size, present, block_align
                return None
            offset += 8 + chunk_size + (chunk_size & 1)
    return None


def _resampling_rate(rate: int) -> int:
    """The rate to resample from: ``rate``, or the nearest one that keeps the filter small."""
    if TARGET_RATE // math.gcd(rate, TARGET_RATE) <= TARGET_RATE // _RATE_STEP:
        return rate
    rounded = max(_RATE_STEP, round(rate / _RATE_STEP) * _RATE_STEP)
    logger.debug("Resampling %d Hz as %d Hz to keep the filter small", rate, rounded)
    return rounded


def _whole_chunks(pending: bytearray, chunk_bytes: int) -> Iterator[bytes]:
    """Yield and remove every whole chunk at the front of ``pending``."""
    whole = len(pending) // chunk_bytes * chunk_bytes
    for start in range(0, whole, chunk_bytes):
        yield bytes(pending[start : start + chunk_bytes])
    del pending[:whole]


def _check_path(path: Path) -> None:
    """Reject paths that are missing, folders, not files or empty, before libsndfile sees them."""
    try:
        info = path.stat()
    except OSError as error:
        raise _stat_error(path, error) from error
    if stat.S_ISDIR(info.st_mode):
        raise AudioError(
            f"{path.name} is a folder, not an audio file. Give the path of a WAV or FLAC file."
        )
    if not stat.S_ISREG(info.st_mode):
        # Opening a FIFO would wait for a writer; a device may never end.
        raise AudioError(
            f"{path.name} is {_special_kind(info.st_mode)}, not a recording saved in a file, "
            "so save the recording as a WAV or FLAC file and give that file's path."
        )
    if info.st_size == 0:
        raise AudioError(f"{path.name} is empty (0 bytes), so there is nothing to hear. {_AGAIN}")


def _stat_error(path: Path, error: OSError) -> AudioError:
    """Say why ``path`` cannot be looked at: missing, a broken or looping link, or no access."""
    if error.errno == errno.ELOOP:
        return AudioError(
            f"{path.name} is a symbolic link that leads back to itself (a link loop), so there "
            "is no file behind it: point the link at the recording, or give the recording's path."
        )
    if error.errno == errno.ENOENT and path.is_symlink():
        return AudioError(
            f"{path.name} is a symbolic link to {os.readlink(path)}, which does not exist: "
            "point the link at the recording, or give the recording's path."
        )
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        where = path.parent.resolve()
        return AudioError(
            f"{path.name} was not found (looked in {where}). Check the file name and folder."
        )
    return AudioError(
        f"{path.name} cannot be opened ({_describe(error)}). Check that the file is readable."
    )


def _special_kind(mode: int) -> str:
    """Name a file type that is not a regular file or folder."""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def _open(path: Path) -> Any:
    """Open ``path`` with soundfile, turning every failure into an ``AudioError``."""
    with NativeStderr() as native:
        try:
            with native.redirected():
                sound = sf.SoundFile(os.fspath(path))
        except _READ_ERRORS as error:
            _log_native(path, native)
            raise _open_error(path, error) from error
        _log_native(path, native)
    if sound.samplerate <= 0 or sound.channels <= 0:
        sound.close()
        raise AudioError(
            f"{path.name} has a damaged header (sample rate {sound.samplerate}, "
            f"{sound.channels} channels). {_AGAIN}"
        )
    return sound


def _log_native(path: Path, native: NativeStderr) -> None:
    """Log what the decoder printed (shown with -v), instead of letting it reach the user."""
    text = native.text()
    if text:
        logger.info("The decoder said while reading %s:\n%s", path.name, text)


def _no_frames(path: Path) -> AudioError:
    """The error for a valid file that holds no audio samples."""
    return AudioError(
        f"{path.name} contains no sound: it is a valid audio file with no samples in it. {_AGAIN}"
    )


def _open_error(path: Path, error: Exception) -> AudioError:
    """Explain why libsndfile could not open ``path``, using the file's first bytes as a clue."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError as os_error:
        return AudioError(
            f"{path.name} cannot be opened ({_describe(os_error)}). "
            "Check that the file is readable."
        )
    detail = _describe(error)
    unsupported = _unsupported_kind(head)
    if unsupported is not None:
        return AudioError(
            f"{path.name} uses an audio format that cannot be read here ({unsupported}). "
            "Save or convert it as WAV or FLAC."
        )
    if isinstance(error, TypeError):
        # soundfile treats a .raw name as headerless PCM, whose rate and layout are unknown.
        return AudioError(
            f"{path.name} has no audio header, so its sample rate and format are unknown "
            f"({detail}). Save it as WAV or FLAC."
        )
    if _looks_like_audio(head):
        return AudioError(f"{path.name} is damaged or incomplete ({detail}). {_AGAIN}")
    return AudioError(f"{path.name} is not an audio file that can be read ({detail}). {_AGAIN}")


def _describe(error: Exception) -> str:
    """A short reason from an exception, without soundfile's "Error opening '...'" prefix."""
    if isinstance(error, sf.LibsndfileError):
        return str(error.error_string).strip().rstrip(".")
    if isinstance(error, OSError) and error.strerror:
        return str(error.strerror)
    return str(error).strip().rstrip(".") or type(error).__name__


def _looks_like_audio(head: bytes) -> bool:
    """Whether the first bytes are the start of a container libsndfile reads."""
    magic = (b"RIFF", b"RF64", b"fLaC", b"OggS", b"FORM", b"ID3", b".snd", b"caff")
    return head.startswith(magic) or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")


def _unsupported_kind(head: bytes) -> str | None:
    """Name the format if the first bytes are a known audio format libsndfile cannot decode."""
    if head[4:8] == b"ftyp":
        return "MP4/M4A, usually AAC"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return "WMA"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "WebM/Matroska"
    if head.startswith(b"#!AMR"):
        return "AMR"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        code = _wav_format_code(head)
        if code is not None and code not in _WAV_CODECS_READ:
            return f"WAV with encoding code 0x{code:04X}"
    return None


def _wav_format_code(head: bytes) -> int | None:
    """The encoding code in a WAV ``fmt `` chunk (the sub-format if EXTENSIBLE), if present."""
    offset = 12
    while offset + 8 <= len(head):
        chunk_id = head[offset : offset + 4]
        (size,) = struct.unpack_from("<I", head, offset + 4)
        body = head[offset + 8 : offset + 8 + size]
        if chunk_id == b"fmt ":
            if len(body) < 2:
                return None
            (code,) = struct.unpack_from("<H", body, 0)
            if code == _WAVE_FORMAT_EXTENSIBLE and len(body) >= 26:
                # The sub-format GUID starts with the plain format code.
                (code,) = struct.unpack_from("<H", body, 24)
            return int(code)
        offset += 8 + size + (size & 1)  # chunks are padded to even sizes
    return None
