"""Short answers through the kiosk's decoders: what each voice's "yes", "no", "help" is heard as.

Every word is spoken by each test voice (tests/speechgen.py), clean and in babble+noise at 10 dB
SNR, and decoded as the kiosk decodes it: the phrase-list decoder, the open-vocabulary decoder
and the short-answer grammar for the state (yes/no pending for yes/no words, the commands
otherwise; see voice/hearing/grammar.py). Prints, per voice and word, what the kiosk made of it
before (phrase list and open decoder, voice.hearing.policy.judge) and after (the grammar's
result where ``choose_short`` lets it stand), then the totals. Words that are no command
("hello", "thank you") must stay no command.

    .venv/bin/python benchmarks/bench_short_answers.py [--voices train|heldout|all] [--clean-only]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from speechgen import (  # noqa: E402
    AudioCache,
    Condition,
    NoiseKind,
    VoiceSpec,
    default_voices,
    heldout_voices,
    train_voices,
)

from voice.audio.files import read_pcm16  # noqa: E402
from voice.content.loader import default_content_dir, load_content  # noqa: E402
from voice.hearing.decoder import Decoder  # noqa: E402
from voice.hearing.grammar import Expecting, choose_short  # noqa: E402
from voice.hearing.model import load_model, locate_model  # noqa: E402
from voice.hearing.phrase_list import build_phrase_list  # noqa: E402
from voice.hearing.policy import judge  # noqa: E402
from voice.hearing.transcript import Transcript  # noqa: E402
from voice.hearing.vocabulary import load_vocabulary  # noqa: E402
from voice.kiosk.short_answers import ShortAnswerDecoder  # noqa: E402
from voice.matching.commands import Command, command_phrases  # noqa: E402
from voice.matching.matcher import Matcher  # noqa: E402
from voice.matching.result import Action, MatchResult  # noqa: E402

# (word as spoken, what the kiosk should make of it, what it expects then)
WORDS: tuple[tuple[str, str, Expecting], ...] = (
    ("Yes.", "yes", Expecting.YES_NO),
    ("No.", "no", Expecting.YES_NO),
    ("Yeah.", "yes", Expecting.YES_NO),
    ("Nope.", "no", Expecting.YES_NO),
    ("Help.", "help", Expecting.COMMAND),
    ("Stop.", "stop", Expecting.COMMAND),
    ("Repeat.", "repeat", Expecting.COMMAND),
    ("Louder.", "louder", Expecting.COMMAND),
    ("Quieter.", "quieter", Expecting.COMMAND),
    ("Slower.", "slower", Expecting.COMMAND),
    ("Faster.", "faster", Expecting.COMMAND),
    ("Goodbye.", "goodbye", Expecting.COMMAND),
    ("Hello.", "-", Expecting.YES_NO),
    ("Thank you.", "-", Expecting.YES_NO),
    ("Hello.", "-", Expecting.COMMAND),
    ("Does it hurt?", "-", Expecting.COMMAND),
)
CONDITIONS = (Condition("clean"), Condition("noise_10dB", NoiseKind.BABBLE_NOISE, 10.0))
CHUNK_BYTES = 1600  # 50 ms, as the kiosk's microphone delivers it


@dataclass(frozen=True)
class Heard:
    """One word through the decoders, and what the kiosk made of it before and after."""

    voice: str
    condition: str
    said: str
    expected: str
    main: str
    open: str
    short: str
    short_confidence: float | None
    before: str
    after: str


class Ears:
    """The kiosk's decoders over one model, for recorded audio."""

    def __init__(self) -> None:
        path = locate_model()
        self.model = load_model(path)
        faq = load_content(default_content_dir())
        self.matcher = Matcher(faq)
        self.phrases = build_phrase_list(faq, path).phrases
        commands = command_phrases(self.matcher.language)
        self.short = ShortAnswerDecoder(self.model, commands, load_vocabulary(path))

    def classify(self, text: str) -> Command | None:
        """The control phrase this whole text is, if any."""
        found = self.matcher.classify_command(text)
        return None if found is None else found[0]

    def hear(self, pcm: bytes, expecting: Expecting) -> tuple[Transcript, Transcript, Transcript]:
        """The phrase-list, open and short-answer transcripts of one utterance."""
        decoders = [Decoder(self.model, self.phrases), Decoder(self.model)]
        self.short.expect(expecting)
        self.short.reset()
        for i in range(0, len(pcm), CHUNK_BYTES):
            chunk = pcm[i : i + CHUNK_BYTES]
            for decoder in decoders:
                decoder.accept(chunk)
            self.short.accept(chunk)
        main, open_heard = (d.finish() for d in decoders)
        return main, open_heard, self.short.finish()

    def understood(self, main: Transcript, open_heard: Transcript | None) -> str:
        """What the kiosk makes of it: a command's name, or "-" for anything else."""
        return label(judge(self.matcher, main, open_heard))


def label(result: MatchResult) -> str:
    """A command's name, "-" for no command."""
    if result.action is Action.COMMAND and result.command is not None:
        return result.command.value
    return "-"


def run(ears: Ears, voices: Sequence[VoiceSpec], conditions: Iterable[Condition]) -> list[Heard]:
    """Every word in every voice and condition."""
    cache = AudioCache()
    rows = []
    for condition in conditions:
        for voice in voices:
            for said, expected, expecting in WORDS:
                pcm = read_pcm16(cache.render(said, voice, condition))
                main, open_heard, short = ears.hear(pcm, expecting)
                chosen, chosen_open = choose_short(main, open_heard, short, ears.classify)
                rows.append(
                    Heard(
                        voice.name,
                        condition.name,
                        f"{said} ({expecting.value})",
                        expected,
                        main.clean_text,
                        open_heard.clean_text,
                        short.text,
                        short.confidence,
                        ears.understood(main, open_heard),
                        ears.understood(chosen, chosen_open),
                    )
                )
    return rows


def print_table(rows: list[Heard], which: str) -> None:
    """Voice × word: what it was heard as (``before`` or ``after``), "ok" when right."""
    words = list(dict.fromkeys(r.said for r in rows))
    voices = list(dict.fromkeys(r.voice for r in rows))
    short_names = [w.split(" (")[0].rstrip(".?") + ("?" if "yes_no" in w else "") for w in words]
    print(f"\n{which}: " + " | ".join(short_names) + "   (a '?' word: yes/no pending)")
    for condition in dict.fromkeys(r.condition for r in rows):
        for voice in voices:
            cells = []
            for word in words:
                found = [
                    r
                    for r in rows
                    if (r.voice, r.condition, r.said) == (voice, condition, word)
                ]
                cells.append(_cell(found[0], which) if found else "")
            print(f"  {condition:<10} {voice:<28} " + " | ".join(cells))


def _cell(row: Heard, which: str) -> str:
    got = row.before if which == "before" else row.after
    return "ok" if got == row.expected else f"{got}[{row.main or '…'}]"


def totals(rows: list[Heard]) -> str:
    """Right answers before and after, and commands made of words that are none."""
    lines = []
    for condition in dict.fromkeys(r.condition for r in rows):
        sub = [r for r in rows if r.condition == condition]
        commands = [r for r in sub if r.expected != "-"]
        others = [r for r in sub if r.expected == "-"]
        for which in ("before", "after"):
            right = sum(getattr(r, which) == r.expected for r in commands)
            wrong = sum(getattr(r, which) not in ("-", r.expected) for r in commands)
            false = sum(getattr(r, which) != "-" for r in others)
            lines.append(
                f"{condition:<10} {which:<6} commands right {right}/{len(commands)}, "
                f"taken as another command {wrong}, non-commands taken as one {false}/{len(others)}"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", choices=("train", "heldout", "all"), default="all")
    parser.add_argument("--clean-only", action="store_true")
    parser.add_argument("--raw", action="store_true", help="print every decoding")
    args = parser.parse_args(argv)
    voices = {"train": train_voices, "heldout": heldout_voices, "all": default_voices}[
        args.voices
    ]()
    started = time.perf_counter()
    rows = run(Ears(), voices, CONDITIONS[:1] if args.clean_only else CONDITIONS)
    if args.raw:
        for r in rows:
            print(r)
    print_table(rows, "before")
    print_table(rows, "after")
    print()
    print(totals(rows))
    print(f"({len(rows)} utterances in {time.perf_counter() - started:.0f} s)")
    return 0




if __name__ == "__main__":
    raise SystemExit(main())
