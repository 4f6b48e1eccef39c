"""Settings of the hands-free kiosk (``voice run``), built once from the command line."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from voice.errors import UsageError
from voice.kiosk.captions import CaptionStyle
from voice.kiosk.dialogue import DialogueSettings
from voice.kiosk.endpoint import EndpointSettings
from voice.speaking.engine import DEFAULT_VOICE, Voice

# The dialogue holds the idle, rate and volume defaults; the limits of the patient's own rate
# and volume controls bound the staff's choices too.
_LIMITS = DialogueSettings()
# The silences that end a question have their defaults, in seconds, in the end-pointer.
_ENDPOINT = EndpointSettings()
# The shortest values ``voice run`` accepts.
MIN_SILENCE_MS = 300
MIN_QUESTION_S = 3
MIN_IDLE_TIMEOUT_S = 10
MIN_ABSENT_TIMEOUT_S = 10


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


class EchoCancel(str, Enum):
    """Whether the kiosk sets up the sound server's acoustic echo canceller."""

    AUTO = "auto"  # when the default devices are PulseAudio's and it can be loaded
    WEBRTC = "webrtc"  # required: the kiosk does not listen without it
    OFF = "off"  # the echo gate alone (a headset, or a canceller set up outside the kiosk)


class Activation(str, Enum):
    """How the kiosk decides that someone is talking to it."""

    ALWAYS = "always"
    WAKE = "wake"
    PUSH_TO_TALK = "push-to-talk"


@dataclass(frozen=True)
class KioskSettings:
    """Everything ``voice run`` needs; nothing below the CLI sees argparse."""

    content_dir: Path | None = None
    model_path: Path | None = None
    input_device: str | None = None
    output_device: str | None = None
    captions: bool = True
    caption_style: CaptionStyle = CaptionStyle.DOUBLE
    log_file: Path | None = None  # where logs go while captions hold the terminal
    activation: Activation = Activation.ALWAYS
    wake_phrase: str = "hello kiosk"
    keys: bool = True
    rate_wpm: int = _LIMITS.default_rate_wpm
    volume: float = _LIMITS.default_volume
    voice: Voice = DEFAULT_VOICE
    idle_timeout_s: float = _LIMITS.idle_timeout_s
    absent_timeout_s: float = _LIMITS.absent_timeout_s
    # All longer than the ~700 ms pauses older speakers make inside a sentence.
    end_silence_ms: int = _ms(_ENDPOINT.incomplete_silence_s)
    unclear_silence_ms: int = _ms(_ENDPOINT.unclear_silence_s)
    clear_silence_ms: int = _ms(_ENDPOINT.complete_silence_s)
    max_question_s: float = _ENDPOINT.max_utterance_s
    log_transcripts: bool = False
    status_file: Path | None = None
    health_file: Path | None = None
    # The sound server's canceller wherever it loads, else the echo gate alone (see
    # voice/audio/echo_cancel.py for what it removes).
    echo_cancel: EchoCancel = EchoCancel.AUTO

    def dialogue(self) -> DialogueSettings:
        """The dialogue's settings: the staff's defaults, the patient's limits."""
        return DialogueSettings(
            idle_timeout_s=self.idle_timeout_s,
            absent_timeout_s=self.absent_timeout_s,
            default_rate_wpm=self.rate_wpm,
            default_volume=self.volume,
            push_to_talk=self.activation is Activation.PUSH_TO_TALK,
        )

    def endpoint(self) -> EndpointSettings:
        """The end-pointer's settings, in seconds."""
        return EndpointSettings(
            complete_silence_s=self.clear_silence_ms / 1000,
            unclear_silence_s=self.unclear_silence_ms / 1000,
            incomplete_silence_s=self.end_silence_ms / 1000,
            max_utterance_s=self.max_question_s,
        )


# The defaults of ``voice run``, written once above.
_DEFAULTS = KioskSettings()


def add_run_parser(sub: Any) -> None:
    """Add the ``run`` sub-command with its options."""
    run = sub.add_parser(
        "run",
        help="start the hands-free kiosk",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Start the kiosk: listen on the microphone, answer aloud and show large captions.

Patients can say: a question, "repeat", "slower", "faster", "louder", "quieter",
"stop", "help", "goodbye". Without speaking, keys work too:
  right/left arrow or n/p  move through the topics (read aloud)
  Enter                    hear the answer to the chosen topic
  r                        repeat        s or Esc   stop speaking
  + and -                  louder and quieter (= and _ work too)
  < and >                  slower and faster  (, and . work too)
  h or ?                   which keys to use
Stop the kiosk with Ctrl-C (or SIGTERM). Nothing is recorded or stored unless
--log-transcripts is given.""",
    )
    run.add_argument("--content", type=Path, metavar="DIR", help="FAQ content folder")
    run.add_argument("--model", type=Path, metavar="PATH", help="Vosk model folder")
    run.add_argument(
        "--input-device", metavar="DEVICE", help="microphone index or name (see `voice devices`)"
    )
    run.add_argument(
        "--output-device", metavar="DEVICE", help="speaker index or name (see `voice devices`)"
    )
    captions = run.add_mutually_exclusive_group()
    captions.add_argument(
        "--captions",
        action="store_true",
        help="show captions even when the output is not a terminal (they contain what patients "
        "said, so they would be stored wherever the output goes)",
    )
    captions.add_argument(
        "--no-captions", action="store_true", help="don't show captions on screen"
    )
    run.add_argument(
        "--caption-style",
        choices=[s.value for s in CaptionStyle],
        default=_DEFAULTS.caption_style.value,
        help="double: double-height lines where the terminal draws them (default); plain: "
        "normal lines in bright colours (set a large terminal font)",
    )
    run.add_argument(
        "--log-file",
        type=Path,
        metavar="FILE",
        help="while captions are on a terminal, warnings go to this file instead of the screen "
        "(default ~/.local/state/voice/kiosk.log; under systemd they go to the journal)",
    )
    run.add_argument(
        "--activation",
        choices=[a.value for a in Activation],
        default=_DEFAULTS.activation.value,
        help="always listening (default), a wake phrase, or push-to-talk on a key",
    )
    run.add_argument(
        "--wake-phrase",
        default=_DEFAULTS.wake_phrase,
        metavar="WORDS",
        help="for --activation wake",
    )
    run.add_argument(
        "--rate",
        type=int,
        default=_DEFAULTS.rate_wpm,
        metavar="WPM",
        help=f"speech rate, {_LIMITS.min_rate} to {_LIMITS.max_rate} words per minute "
        f"(default {_DEFAULTS.rate_wpm})",
    )
    run.add_argument(
        "--volume",
        type=float,
        default=_DEFAULTS.volume,
        metavar=f"{_LIMITS.min_volume:g}-{_LIMITS.max_volume:g}",
        help=f"default volume (default {_DEFAULTS.volume:g})",
    )
    run.add_argument(
        "--voice",
        choices=[v.value for v in Voice],
        default=_DEFAULTS.voice.value,
        help="natural (default; espeak-ng takes over if it cannot load) or espeak",
    )
    run.add_argument(
        "--idle-timeout",
        type=float,
        default=_DEFAULTS.idle_timeout_s,
        metavar="SECONDS",
        help="reset rate, volume and conversation after this long idle "
        f"(default {_DEFAULTS.idle_timeout_s:g})",
    )
    run.add_argument(
        "--absent-timeout",
        type=float,
        default=_DEFAULTS.absent_timeout_s,
        metavar="SECONDS",
        help="no one there: after this long without a word since the kiosk last spoke, the "
        "screen is cleared, rate and volume reset, and the next person is greeted first "
        f"(default {_DEFAULTS.absent_timeout_s:g})",
    )
    run.add_argument(
        "--end-silence",
        type=int,
        default=_DEFAULTS.end_silence_ms,
        metavar="MS",
        help="silence that ends a question whose last word needs more after it, such as "
        f"'the' or 'um' (default {_DEFAULTS.end_silence_ms} ms; raise it for slow speakers)",
    )
    run.add_argument(
        "--unclear-silence",
        type=int,
        default=_DEFAULTS.unclear_silence_ms,
        metavar="MS",
        help="silence that ends a question that ends on a whole word but is not yet clear "
        f"(default {_DEFAULTS.unclear_silence_ms} ms, or --end-silence if less)",
    )
    run.add_argument(
        "--clear-silence",
        type=int,
        default=_DEFAULTS.clear_silence_ms,
        metavar="MS",
        help="silence that ends a question that is already clear, or a command (default "
        f"{_DEFAULTS.clear_silence_ms} ms, or --unclear-silence if less). Lower answers sooner, "
        "but below about 750 ms a patient who pauses after a complete-sounding phrase may be "
        "answered before finishing",
    )
    run.add_argument(
        "--max-question",
        type=float,
        default=_DEFAULTS.max_question_s,
        metavar="SECONDS",
        help="longest question: after this the kiosk stops listening and handles what it "
        f"heard (default {_DEFAULTS.max_question_s:g})",
    )
    run.add_argument(
        "--echo-cancel",
        choices=[e.value for e in EchoCancel],
        default=_DEFAULTS.echo_cancel.value,
        help="acoustic echo cancellation in the sound server (PulseAudio module-echo-cancel, "
        "WebRTC): 'auto' (default) uses it when the default devices are in use and it loads, "
        "'webrtc' insists on it, 'off' relies on the kiosk's own echo gate alone",
    )
    run.add_argument("--no-keys", action="store_true", help="don't read the keyboard")
    run.add_argument(
        "--log-transcripts",
        action="store_true",
        help="log what patients said (health data: off by default)",
    )
    run.add_argument(
        "--status-file",
        type=Path,
        metavar="FILE",
        help="write kiosk events (timings, actions; no words) as JSON lines, for tests and "
        "benchmarks (the file is replaced)",
    )
    run.add_argument(
        "--health-file",
        type=Path,
        metavar="FILE",
        help="keep one JSON line in FILE saying whether the microphone, speaker and speech "
        "work, for the clinic's monitoring (rewritten on every change and every 30 s)",
    )


def settings_from_args(args: argparse.Namespace) -> KioskSettings:
    """Build the kiosk settings from parsed arguments (UsageError for impossible values)."""
    checks = [
        (
            _LIMITS.min_rate <= args.rate <= _LIMITS.max_rate,
            f"--rate must be between {_LIMITS.min_rate} and {_LIMITS.max_rate} words per minute",
        ),
        (
            _LIMITS.min_volume <= args.volume <= _LIMITS.max_volume,
            f"--volume must be between {_LIMITS.min_volume:g} and {_LIMITS.max_volume:g}",
        ),
        (
            args.end_silence >= MIN_SILENCE_MS,
            f"--end-silence must be at least {MIN_SILENCE_MS} ms",
        ),
        (
            args.unclear_silence >= MIN_SILENCE_MS,
            f"--unclear-silence must be at least {MIN_SILENCE_MS} ms",
        ),
        (
            args.clear_silence >= MIN_SILENCE_MS,
            f"--clear-silence must be at least {MIN_SILENCE_MS} ms",
        ),
        (
            args.max_question >= MIN_QUESTION_S,
            f"--max-question must be at least {MIN_QUESTION_S} seconds",
        ),
        (
            args.idle_timeout >= MIN_IDLE_TIMEOUT_S,
            f"--idle-timeout must be at least {MIN_IDLE_TIMEOUT_S} seconds",
        ),
        (
            args.absent_timeout >= MIN_ABSENT_TIMEOUT_S,
            f"--absent-timeout must be at least {MIN_ABSENT_TIMEOUT_S} seconds",
        ),
    ]
    if args.activation == Activation.PUSH_TO_TALK.value and (
        args.no_keys or not sys.stdin.isatty()
    ):
        checks.append(
            (False, "--activation push-to-talk needs the keyboard (a terminal, without --no-keys)")
        )
    for ok, message in checks:
        if not ok:
            raise UsageError(f"{message}.")
    return KioskSettings(
        content_dir=args.content,
        model_path=args.model,
        input_device=args.input_device,
        output_device=args.output_device,
        captions=args.captions or (not args.no_captions and sys.stdout.isatty()),
        caption_style=CaptionStyle(args.caption_style),
        log_file=args.log_file,
        activation=Activation(args.activation),
        wake_phrase=args.wake_phrase,
        keys=not args.no_keys,
        rate_wpm=args.rate,
        volume=args.volume,
        voice=Voice(args.voice),
        idle_timeout_s=args.idle_timeout,
        absent_timeout_s=args.absent_timeout,
        end_silence_ms=args.end_silence,
        unclear_silence_ms=min(args.unclear_silence, args.end_silence),
        clear_silence_ms=min(args.clear_silence, args.unclear_silence, args.end_silence),
        max_question_s=args.max_question,
        log_transcripts=args.log_transcripts,
        status_file=args.status_file,
        health_file=args.health_file,
        echo_cancel=EchoCancel(args.echo_cancel),
    )
