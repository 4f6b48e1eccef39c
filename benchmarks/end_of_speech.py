"""Where the kiosk decides that a question has ended, measured offline (issue 14's reply time).

The reply time is counted from the end of the patient's speech. Most of it is the silence the
kiosk waits for (voice/kiosk/endpoint.py: 0.8 s after the last word of a clear question). This
benchmark feeds spoken questions to the kiosk's phrase-list decoder in the kiosk's 50 ms chunks,
with the kiosk's end-of-speech rule (``endpoint.assess``, the real matcher deciding whether the
words are a clear question), and reports, on the stream's own clock:

- the acoustic end (the last 10 ms frame within 40 dB of the question's loudest frame);
- the end of the last word, as the decoder's finished segment gives it;
- when the decoder closes that segment: Vosk's endpoint rules in the model's conf/model.conf
  (0.5 s of trailing silence in a final state, 0.75 s, or 1.0 s); the kiosk only counts
  silence from a finished segment's last word, because a live partial's word times lag;
- when the kiosk's rule ends the question, and when it would if the segment's last word end
  were known at once (an upper bound on what not waiting for the close could gain).

Questions: typed_eval.tsv's in-domain questions, spoken by the four flite voices bench_kiosk.py
uses. Pauses: "what are the side effects" + a pause + "of the treatment" (as
tests/test_kiosk_slow_speakers.py), by the same voices; a question ended inside its pause is a
reply started while the patient was still thinking (the kiosk then stops it when they go on).

No audio devices; a minute or two on one core.

    .venv/bin/python benchmarks/end_of_speech.py [--questions 60] [--pauses 700,800,900,1000,1200]
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

from speechgen import AudioCache, VoiceSpec, add_pause, read_mono  # noqa: E402

from voice.audio.format import SAMPLE_RATE  # noqa: E402
from voice.audio.microphone import CHUNK_MS  # noqa: E402
from voice.audio.speech_activity import SpeechActivity  # noqa: E402
from voice.content.loader import default_content_dir, load_content  # noqa: E402
from voice.hearing.decoder import Decoder  # noqa: E402
from voice.hearing.recognizer import SpeechRecognizer  # noqa: E402
from voice.kiosk.endpoint import EndpointSettings, assess  # noqa: E402
from voice.matching.evaluation import OUT_OF_DOMAIN, read_eval_file  # noqa: E402
from voice.matching.matcher import Matcher  # noqa: E402
from voice.matching.result import Action  # noqa: E402

VOICES = [VoiceSpec("flite", v, None, None) for v in ("slt", "kal16", "awb", "rms")]
PARTS = ("what are the side effects", "of the treatment")
TAIL_S = 2.0  # silence fed after the question
FRAME = SAMPLE_RATE // 100  # 10 ms


@dataclass(frozen=True)
class Ends:
    """Stream times, in seconds (None: never happened)."""

    acoustic: float
    word: float | None  # the last word of the first finished segment
    closed: float | None  # when the decoder closed that segment
    kiosk: float | None  # when the kiosk's rule ended the question
    oracle: float | None  # the same rule, with the segment's last word end known at once


def acoustic_end(samples: np.ndarray, after_s: float = 0.0) -> float:
    """The end of the last 10 ms frame within 40 dB of the loudest, from ``after_s`` on."""
    frames = samples[: len(samples) // FRAME * FRAME].astype(np.float64).reshape(-1, FRAME)
    level = 10 * np.log10((frames**2).mean(axis=1) + 1e-9)
    loud = np.flatnonzero(level > level.max() - 40)
    loud = loud[loud >= int(after_s * 100)]
    return float(loud[-1] + 1) / 100 if len(loud) else after_s


class Endpointer:
    """The kiosk's end-of-speech rule over one decoder, chunk by chunk."""

    def __init__(self, recognizer: SpeechRecognizer, matcher: Matcher) -> None:
        self.recognizer = recognizer
        self.matcher = matcher
        self.settings = EndpointSettings()
        self._complete: dict[str, bool] = {}

    def complete(self, text: str) -> bool:
        """A clear question or a command, as the kiosk's turn-taking asks the matcher."""
        if text not in self._complete:
            action = self.matcher.match(text, heard=True).action
            self._complete[text] = action in (Action.ANSWER, Action.COMMAND)
        return self._complete[text]

    def ends(self, pcm: np.ndarray) -> Ends:
        """Where each end falls for this audio, with the kiosk's rule as voice/kiosk/turns.py
        uses it: silence counts from a finished segment's last word, and sound that comes back
        later restarts it. The oracle takes the last word end from the whole decoding instead,
        as soon as that word has ended."""
        audio = np.concatenate([pcm, np.zeros(int(TAIL_S * SAMPLE_RATE), np.int16)]).tobytes()
        step = SAMPLE_RATE * CHUNK_MS // 1000 * 2
        whole = Decoder(self.recognizer.model, self.recognizer.phrases)
        for start in range(0, len(audio), step):
            whole.accept(audio[start : start + step])
        words = [(w.start, w.end) for w in whole.finish().words if w.word != "[unk]"]
        decoder = Decoder(self.recognizer.model, self.recognizer.phrases)
        activity = SpeechActivity()
        word = closed = kiosk = oracle = None
        segment_end: float | None = None
        first_word: float | None = None
        for start in range(0, len(audio), step):
            chunk = audio[start : start + step]
            partial = decoder.accept(chunk)
            activity.feed(chunk)
            t = decoder.stream_time
            heard = " ".join(w for w in partial.text.split() if w != "[unk]")
            if not heard:
                continue
            first_word = t if first_word is None else first_word
            if partial.segment_ended and partial.last_word_end is not None:
                segment_end = partial.last_word_end
                if closed is None:
                    closed, word = t, partial.last_word_end
            complete = self.complete(heard)
            if kiosk is None and self._ended(heard, t, segment_end, first_word, complete,
                                             activity):
                kiosk = t
            talking = any(a <= t < b for a, b in words)
            known = [b for _, b in words if b <= t]
            if oracle is None and not talking and known and self._ended(
                heard, t, max(known), first_word, complete, activity
            ):
                oracle = t
        return Ends(acoustic_end(pcm), word, closed, kiosk, oracle)

    def _ended(self, heard: str, t: float, segment_end: float | None, first_word: float,
               complete: bool, activity: SpeechActivity) -> bool:
        state = assess(text=heard, stream_time_s=t, segment_end_s=segment_end,
                       first_word_s=first_word, complete=complete, sound=activity.runs,
                       settings=self.settings)
        return state.ended


def ms(values: list[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(values) * 1000:4.0f} ms, p95 {p95 * 1000:4.0f} ms"


def questions_report(endpointer: Endpointer, count: int) -> None:
    items = [i for i in read_eval_file(REPO / "tests/data/typed_eval.tsv")
             if i.expected != OUT_OF_DOMAIN][:count]
    cache = AudioCache()
    ends = []
    for n, item in enumerate(items):
        samples, rate = read_mono(cache.speech(item.question, VOICES[n % len(VOICES)]))
        assert rate == SAMPLE_RATE, rate
        ends.append(endpointer.ends(pcm16(samples)))
    closes = [(e, e.word, e.closed) for e in ends if e.word is not None and e.closed is not None]
    print(f"{len(items)} questions ({len(closes)} with a finished segment), times after the "
          "acoustic end unless said:")
    print(f"  last word end                  {ms([w - e.acoustic for e, w, _ in closes])}")
    print(f"  segment closed, after the word {ms([c - w for _, w, c in closes])}")
    limit = EndpointSettings().complete_silence_s
    late = sum(1 for _, w, c in closes if c - w > limit)
    print(f"  closed later than {limit:.1f} s after the word: {late} of {len(closes)}")
    print(f"  kiosk's rule ends it           "
          f"{ms([e.kiosk - e.acoustic for e in ends if e.kiosk is not None])}")
    print(f"  ... with the word end at once  "
          f"{ms([e.oracle - e.acoustic for e in ends if e.oracle is not None])}")


def pauses_report(endpointer: Endpointer, pauses: list[int]) -> None:
    cache = AudioCache()
    print(f"\n'{PARTS[0]}' + pause + '{PARTS[1]}' ({len(VOICES)} voices): ended inside the "
          "pause (a reply started while the patient was thinking)")
    print(f"  {'pause':>6s}  {'kiosk rule':>10s}  {'word end at once':>16s}")
    for pause in pauses:
        cut = cut_oracle = 0
        for voice in VOICES:
            path = paused(cache, pause, voice)
            samples, rate = read_mono(path)
            assert rate == SAMPLE_RATE, rate
            pcm = pcm16(samples)
            first_end = first_part_end(pcm, pause)
            e = endpointer.ends(pcm)
            resumed = first_end + pause / 1000
            cut += e.kiosk is not None and e.kiosk < resumed
            cut_oracle += e.oracle is not None and e.oracle < resumed
        print(f"  {pause:4d} ms  {cut:4d} of {len(VOICES)}  {cut_oracle:10d} of {len(VOICES)}")


def pcm16(samples: np.ndarray) -> np.ndarray:
    """speechgen's float samples (-1 to 1) as the 16-bit PCM the microphone gives."""
    return np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16)


def paused(cache: AudioCache, pause_ms: int, voice: VoiceSpec) -> Path:
    """The paused question (cached under the same key as the slow-speaker test's)."""
    return cache.get(("pause", PARTS, pause_ms, voice),
                     lambda out: add_pause(PARTS, pause_ms, voice, out))


def first_part_end(pcm: np.ndarray, pause_ms: int) -> float:
    """Where the first part ends: the start of the one run of digital silence ``pause_ms`` long."""
    silent = np.abs(pcm) == 0
    need = int(pause_ms * SAMPLE_RATE / 1000)
    run = 0
    for i, quiet in enumerate(silent):
        run = run + 1 if quiet else 0
        if run == need:
            return (i - need + 1) / SAMPLE_RATE
    raise ValueError("no pause of that length in the audio")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=60)
    parser.add_argument("--pauses", default="700,800,900,1000,1200",
                        help="comma-separated pause lengths in ms")
    args = parser.parse_args()
    faq = load_content(default_content_dir())
    endpointer = Endpointer(SpeechRecognizer(faq, None, decoding="phrases"), Matcher(faq))
    questions_report(endpointer, args.questions)
    pauses_report(endpointer, [int(p) for p in args.pauses.split(",")])


if __name__ == "__main__":
    main()
