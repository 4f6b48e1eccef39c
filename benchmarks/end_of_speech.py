"""Where the kiosk decides that a question has ended, measured offline (issue 14's reply time).

The reply time is counted from the end of the patient's speech. Most of it is the silence the
kiosk waits for (voice/kiosk/endpoint.py: 0.8 s after the last word of a clear question). This
benchmark feeds spoken questions to the kiosk's phrase-list decoder in the kiosk's 50 ms chunks,
and its hypotheses to the kiosk's own turn-taking (``Turns.partial``, with the real matcher
deciding whether the words are a clear question), and reports, on the stream's own clock:

- the acoustic end (the last 10 ms frame within 40 dB of the question's loudest frame);
- the end of the last word, as the decoder's finished segment gives it;
- when the decoder closes that segment: Vosk's endpoint rules in the model's conf/model.conf
  (0.5 s of trailing silence in a final state, 0.75 s, or 1.0 s); the kiosk only counts
  silence from a finished segment's last word, because a live partial's word times lag;
- when the kiosk's turn-taking (voice/kiosk/turns.py, wired as the kiosk wires it) ends the
  question, and when it would if the last word's end were known as soon as the word ended
  (an upper bound on what not waiting for the close could gain).

Questions: typed_eval.tsv's in-domain questions, spoken by the four flite voices bench_kiosk.py
uses. Pauses: "what are the side effects" + a pause + "of the treatment" (as
tests/test_kiosk_slow_speakers.py), by the same voices; a question ended before its acoustic end
is a reply started while the patient was still thinking (the kiosk stops it when they go on).

No audio devices; a minute or two on one core.

    .venv/bin/python benchmarks/end_of_speech.py [--questions 40] [--pauses 700,800,900,1000,1200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_kiosk import pct  # noqa: E402
from speechgen import AudioCache, VoiceSpec, add_pause, read_mono  # noqa: E402

from voice.audio.format import SAMPLE_RATE  # noqa: E402
from voice.audio.levels import frame_dbfs  # noqa: E402
from voice.audio.microphone import CHUNK_MS  # noqa: E402
from voice.audio.pcm import float_to_int16, pcm16_to_float  # noqa: E402
from voice.audio.speech_activity import SpeechActivity  # noqa: E402
from voice.content.loader import default_content_dir, load_content  # noqa: E402
from voice.hearing.decoder import Decoder  # noqa: E402
from voice.hearing.recognizer import SpeechRecognizer  # noqa: E402
from voice.kiosk.endpoint import EndpointSettings  # noqa: E402
from voice.kiosk.turns import TurnAction, Turns, UtteranceEnded  # noqa: E402
from voice.matching.evaluation import OUT_OF_DOMAIN, read_eval_file  # noqa: E402
from voice.matching.matcher import Matcher  # noqa: E402

VOICES = [VoiceSpec("flite", v, None, None) for v in ("slt", "kal16", "awb", "rms")]
PARTS = ("what are the side effects", "of the treatment")
TAIL_S = 2.0  # silence fed after the question
FRAME = SAMPLE_RATE // 100  # 10 ms


@dataclass(frozen=True)
class Ends:
    """Stream times, in seconds (None: never happened)."""

    acoustic: float
    word: float | None  # the end of the last word of the first finished segment
    closed: float | None  # when the decoder closed that segment
    kiosk: float | None  # when the kiosk's rule ended the question
    oracle: float | None  # the same rule, with the segment's last word end known at once


def acoustic_end(pcm: np.ndarray) -> float:
    """The end of the last 10 ms frame within 40 dB of the loudest."""
    level = frame_dbfs(pcm16_to_float(pcm.tobytes()), FRAME)
    loud = np.flatnonzero(level > level.max() - 40)
    return float(loud[-1] + 1) / 100


class Endpointer:
    """The kiosk's own turn-taking (voice/kiosk/turns.py) over one decoder, chunk by chunk."""

    def __init__(self, recognizer: SpeechRecognizer, matcher: Matcher) -> None:
        self.recognizer = recognizer
        self.matcher = matcher

    def _turns(self) -> Turns:
        """A fresh Turns wired as voice/kiosk/loop.py wires it."""
        return Turns(
            lambda text: self.matcher.match(text, heard=True),
            self.matcher.classify_command,
            EndpointSettings(),
            stop_over_echo=self.matcher.language.stop_over_echo,
        )

    def ends(self, pcm: np.ndarray) -> Ends:
        """Where each end falls for this audio. The kiosk's rule counts silence from a finished
        segment's last word; the oracle is told, at each chunk, the end of the last word the
        whole decoding heard that has ended by then (and that a word is going on)."""
        audio = np.concatenate([pcm, np.zeros(int(TAIL_S * SAMPLE_RATE), np.int16)]).tobytes()
        step = SAMPLE_RATE * CHUNK_MS // 1000 * 2
        whole = Decoder(self.recognizer.model, self.recognizer.phrases)
        for start in range(0, len(audio), step):
            whole.accept(audio[start : start + step])
        words = [(w.start, w.end) for w in whole.finish().words if w.word != "[unk]"]
        decoder = Decoder(self.recognizer.model, self.recognizer.phrases)
        activity = SpeechActivity()
        kiosk_turns, oracle_turns = self._turns(), self._turns()
        word = closed = kiosk = oracle = None
        for start in range(0, len(audio), step):
            chunk = audio[start : start + step]
            partial = decoder.accept(chunk)
            activity.feed(chunk)
            t = decoder.stream_time
            if partial.segment_ended and partial.last_word_end is not None and closed is None:
                closed, word = t, partial.last_word_end
            if kiosk is None and _ended(kiosk_turns.partial(
                partial.text, in_speech=partial.in_speech, segment_ended=partial.segment_ended,
                last_word_end=partial.last_word_end, stream_time=t, captured_at=t,
                sound=activity.runs, echo=False,
            )):
                kiosk = t
            known = [b for _, b in words if b <= t]
            talking = any(a <= t < b for a, b in words)
            if oracle is None and _ended(oracle_turns.partial(
                partial.text, in_speech=talking, segment_ended=bool(known) and not talking,
                last_word_end=max(known) if known else None, stream_time=t, captured_at=t,
                sound=activity.runs, echo=False,
            )):
                oracle = t
        return Ends(acoustic_end(pcm), word, closed, kiosk, oracle)


def _ended(actions: list[TurnAction]) -> bool:
    return any(isinstance(action, UtteranceEnded) for action in actions)


def ms(values: list[float]) -> str:
    if not values:
        return "-"
    return (f"median {statistics.median(values) * 1000:4.0f} ms, "
            f"p95 {pct(values, 95) * 1000:4.0f} ms")


def questions_report(endpointer: Endpointer, count: int) -> None:
    items = [i for i in read_eval_file(REPO / "tests/data/typed_eval.tsv")
             if i.expected != OUT_OF_DOMAIN][:count]
    cache = AudioCache()
    ends = []
    for n, item in enumerate(items):
        samples, rate = read_mono(cache.speech(item.question, VOICES[n % len(VOICES)]))
        assert rate == SAMPLE_RATE, rate
        ends.append(endpointer.ends(float_to_int16(samples)))
    closes = [(e, e.word, e.closed) for e in ends if e.word is not None and e.closed is not None]
    print(f"{len(items)} questions ({len(closes)} with a finished segment), times after the "
          "acoustic end unless said:")
    print(f"  end of the segment's last word {ms([w - e.acoustic for e, w, _ in closes])}")
    print(f"  segment closed, after its word {ms([c - w for _, w, c in closes])}")
    limit = EndpointSettings().complete_silence_s
    late = sum(1 for _, w, c in closes if c - w > limit)
    print(f"  closed later than {limit:.1f} s after the word: {late} of {len(closes)}")
    print(f"  kiosk's rule ends it           "
          f"{ms([e.kiosk - e.acoustic for e in ends if e.kiosk is not None])}")
    print(f"  ... with the word end at once  "
          f"{ms([e.oracle - e.acoustic for e in ends if e.oracle is not None])}")


def pauses_report(endpointer: Endpointer, pauses: list[int]) -> None:
    cache = AudioCache()
    print(f"\n'{PARTS[0]}' + pause + '{PARTS[1]}' ({len(VOICES)} voices): ended before the "
          "question did (a reply started while the patient was thinking)")
    print(f"  {'pause':>6s}  {'kiosk rule':>10s}  {'word end at once':>16s}")
    for pause in pauses:
        cut = cut_oracle = 0
        for voice in VOICES:
            path = paused(cache, pause, voice)
            samples, rate = read_mono(path)
            assert rate == SAMPLE_RATE, rate
            pcm = float_to_int16(samples)
            e = endpointer.ends(pcm)
            # Ended before the whole question did: a reply started while the patient paused.
            cut += e.kiosk is not None and e.kiosk < e.acoustic
            cut_oracle += e.oracle is not None and e.oracle < e.acoustic
        print(f"  {pause:4d} ms  {cut:4d} of {len(VOICES)}  {cut_oracle:10d} of {len(VOICES)}")


def paused(cache: AudioCache, pause_ms: int, voice: VoiceSpec) -> Path:
    """The paused question (cached under the same key as the slow-speaker test's)."""
    return cache.get(("pause", PARTS, pause_ms, voice),
                     lambda out: add_pause(PARTS, pause_ms, voice, out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--pauses", default="700,800,900,1000,1200",
                        help="comma-separated pause lengths in ms")
    args = parser.parse_args()
    faq = load_content(default_content_dir())
    endpointer = Endpointer(SpeechRecognizer(faq, None, decoding="phrases"), Matcher(faq))
    questions_report(endpointer, args.questions)
    pauses_report(endpointer, [int(p) for p in args.pauses.split(",")])


if __name__ == "__main__":
    main()
