"""Kiosk loop benchmark on virtual PulseAudio devices: response latency and memory over a soak.

For each question (in-domain questions from tests/data/typed_eval.tsv, spoken by flite voices):
play it into the virtual microphone, wait for the kiosk's reply to start, say "stop", and wait
until it is quiet. Measured per question:

- latency: end of the patient's speech -> first audio of the reply, from one recording of the
  microphone and the speaker on the same clock (the harness's two-channel bus);
- the kiosk's own breakdown (its --status-file): end-of-speech wait, final recognition,
  matching + dialogue, and time to first audio after the decision;
- the kiosk's resident memory (VmRSS), to show whether it grows over the soak.

The kiosk's speech is prepared in the disk cache --speech-cache (default .cache/speech in the
repository, kept between runs; the first run renders it, in a child process whose peak memory
the kiosk logs) and the questions start once it is ready, so the figures are a kiosk's steady
state. --breakdown prints instead the resident memory after each part of the kiosk is loaded,
in this process (no audio devices).

    .venv/bin/python benchmarks/bench_kiosk.py [--questions 200] [--clear-silence MS]
        [--unclear-silence MS] [--end-silence MS] [--speech-cache DIR] [--breakdown]
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from kiosk_driver import SPEECH_CACHE, KioskProcess, record, spoken  # noqa: E402
from pulse_harness import Timeline, VirtualAudio  # noqa: E402
from speechgen import VoiceSpec  # noqa: E402

from voice.matching.evaluation import OUT_OF_DOMAIN, read_eval_file  # noqa: E402

VOICES = [VoiceSpec("flite", v, None, None) for v in ("slt", "kal16", "awb", "rms")]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rollup_mb(pid: int | str = "self") -> dict[str, float]:
    """Rss, and its anonymous and file-backed parts, from /proc/PID/smaps_rollup."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value) / 1024
    return {"rss": fields["Rss"], "anon": fields["Anonymous"],
            "file": fields["Rss"] - fields["Anonymous"]}


def wait_prepared(output: Path, timeout: float) -> str | None:
    """The kiosk's "Speech prepared" log line, once it is there (None after timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"Speech prepared: .*", output.read_text(errors="replace"))
        if found:
            return found.group(0)
        time.sleep(0.5)
    return None


def breakdown() -> None:
    """Resident memory after each part of the kiosk is loaded, the way voice run loads them."""
    last = [0.0]

    def step(name: str) -> None:
        gc.collect()
        r = rollup_mb()
        print(f"  {name:44s} {r['rss']:6.1f} MB ({r['rss'] - last[0]:+6.1f}; anonymous "
              f"{r['anon']:6.1f}, files {r['file']:5.1f})", flush=True)
        last[0] = r["rss"]

    import numpy as np

    step("python + numpy")
    from voice.content.loader import default_content_dir, load_content
    from voice.hearing.decoder import Decoder
    from voice.hearing.model import locate_model
    from voice.hearing.recognizer import SpeechRecognizer
    from voice.hearing.vocabulary import load_vocabulary
    from voice.kiosk import loop  # noqa: F401  (the kiosk's own imports)
    from voice.kiosk.short_answers import ShortAnswerDecoder
    from voice.matching.commands import command_phrases
    from voice.matching.matcher import Matcher
    from voice.speaking.prerender import content_lines, open_speech

    step("imports of voice run")
    faq = load_content(default_content_dir())
    matcher = Matcher(faq)
    step("matcher (with the embedding model)")
    matcher.match("what are the side effects")
    step("one question matched")
    recognizer = SpeechRecognizer(faq, None, decoding="phrases")
    step("speech model and phrase list")
    decoders = [Decoder(recognizer.model, recognizer.phrases, background=True),
                Decoder(recognizer.model, background=True)]
    short = ShortAnswerDecoder(recognizer.model, command_phrases(matcher.language),
                               load_vocabulary(locate_model(None)), background=True)
    step("phrase-list, open and short-answer decoders")
    noise = np.random.default_rng(0).normal(0, 300, 16000 * 3).astype(np.int16).tobytes()
    for _ in range(3):
        for each in decoders:
            for i in range(0, len(noise), 3200):
                each.accept(noise[i:i + 3200])
            each.finish()
        for i in range(0, len(noise), 3200):
            short.accept(noise[i:i + 3200])
        short.finish()
    time.sleep(2)  # their next recognizers are made in the background
    step("each decoder used three times")
    speech = open_speech(pronunciations=faq.pronunciations)
    speech.prepare(content_lines(faq), 155)
    speech.wait_prepared()
    step(f"speech prepared ({speech.memory_bytes() / 1e6:.1f} MB of audio in memory)")
    for line in content_lines(faq)[:60]:
        speech.synthesize(line, 155)
    step(f"60 lines said ({speech.memory_bytes() / 1e6:.1f} MB of audio in memory)")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=200)
    for option in ("clear", "unclear", "end"):
        parser.add_argument(
            f"--{option}-silence", type=int, default=None, metavar="MS",
            help=f"pass this --{option}-silence to the kiosk (default: the kiosk's own)",
        )
    parser.add_argument("--speech-cache", type=Path, default=SPEECH_CACHE,
                        help="the kiosk's VOICE_SPEECH_CACHE (kept between runs)")
    parser.add_argument("--breakdown", action="store_true",
                        help="only print the memory of each part of the kiosk as it loads")
    args = parser.parse_args()
    os.environ["VOICE_SPEECH_CACHE"] = str(args.speech_cache)
    if args.breakdown:
        print("resident memory as the kiosk's parts load (VOICE_SPEECH_CACHE="
              f"{args.speech_cache}):")
        breakdown()
        return
    extra = []
    for option in ("clear", "unclear", "end"):
        value = getattr(args, f"{option}_silence")
        if value is not None:
            extra += [f"--{option}-silence", str(value)]
    items = [i for i in read_eval_file(REPO / "tests/data/typed_eval.tsv")
             if i.expected != OUT_OF_DOMAIN]
    stop = spoken("stop")
    latencies: list[float] = []
    parts: dict[str, list[float]] = {"endpoint_wait": [], "final": [], "decide": [],
                                     "synth": [], "first_audio": []}
    memory: list[tuple[int, float]] = []
    rules: dict[int, list[float]] = {}  # silence the kiosk waited for -> latencies
    missed = 0
    with VirtualAudio() as audio, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        kiosk = KioskProcess.start(audio, tmp, ["--idle-timeout", "36000", *extra])
        print(f"RSS once the greeting was said: {rss_mb(kiosk.proc.pid):.1f} MB")
        prepared = wait_prepared(kiosk.output, timeout=900)
        print(prepared or "the kiosk did not say its speech was prepared within 900 s")
        r = rollup_mb(kiosk.proc.pid)
        print(f"RSS with its speech prepared: {r['rss']:.1f} MB (anonymous {r['anon']:.1f}, "
              f"files {r['file']:.1f})", flush=True)
        memory.append((0, rss_mb(kiosk.proc.pid)))
        started = time.monotonic()
        for n in range(args.questions):
            item = items[n % len(items)]
            question = spoken(item.question, VOICES[n % len(VOICES)])
            wav = tmp / "both.wav"
            rec = record(audio, wav)
            asked = time.monotonic()
            kiosk.say_into_mic(question)
            try:
                say = kiosk.wait_for(lambda e: e["event"] == "say", timeout=20, after=asked)
                first = kiosk.wait_for(lambda e: e["event"] == "first_audio", 5, after=say["t"])
                utt = [e for e in kiosk.events() if e["event"] == "utterance" and e["t"] >= asked]
            except AssertionError:
                missed += 1
                rec.stop()
                continue
            time.sleep(0.4)
            kiosk.say_into_mic(stop)
            kiosk.wait_quiet(after=say["t"], timeout=60)
            time.sleep(0.6)
            rec.stop()
            latency = Timeline.read(wav, rec.started_at).response_latency()
            if latency is not None:
                latencies.append(latency)
            if utt:
                u = utt[-1]
                if latency is not None:
                    rules.setdefault(u.get("silence_needed_ms", 0), []).append(latency)
                parts["endpoint_wait"].append(u["endpoint_wait_ms"])
                parts["final"].append(u["final_ms"])
                parts["decide"].append((say["t"] - u["t"]) * 1000)
                parts["synth"].append(say["synth_ms"])
                parts["first_audio"].append((first["at"] - say["t"]) * 1000)
            if (n + 1) % 10 == 0:
                memory.append((n + 1, rss_mb(kiosk.proc.pid)))
                print(f"  {n + 1} questions, {time.monotonic() - started:.0f} s, "
                      f"RSS {memory[-1][1]:.1f} MB", flush=True)
        r = rollup_mb(kiosk.proc.pid)
        print(f"RSS at the end: {r['rss']:.1f} MB (anonymous {r['anon']:.1f}, "
              f"files {r['file']:.1f})")
        kiosk.stop()
    print(f"\n{len(latencies)} replies measured ({missed} questions got no reply in 20 s)")
    print(f"end of speech -> first reply audio: p50 {statistics.median(latencies) * 1000:.0f} ms,"
          f" p95 {pct(latencies, 95) * 1000:.0f} ms (targets 1000 / 1200 ms)")
    for name, values in parts.items():
        if values:
            print(f"  {name:14s} p50 {statistics.median(values):7.1f} ms   "
                  f"p95 {pct(values, 95):7.1f} ms")
    print("by the silence the kiosk waited for (its end-of-speech rule):")
    for needed, values in sorted(rules.items()):
        print(f"  {needed:5d} ms: {len(values):4d} questions, latency p50 "
              f"{statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms")
    print("memory (VmRSS of the kiosk process):")
    for count, mb in memory:
        print(f"  after {count:4d} questions: {mb:6.1f} MB")
    print_memory_trend(memory)


def print_memory_trend(memory: list[tuple[int, float]]) -> None:
    """Whether memory grows once the kiosk has settled (after its first 10 questions).

    The allocator hands memory back now and then, so the first and last sample alone can show
    a dip as growth: compare the highest level in each half, and fit a line through all.
    """
    settled = [(n, mb) for n, mb in memory if n >= 10]
    if len(settled) < 4:
        return
    half = len(settled) // 2
    first, second = settled[:half], settled[half:]
    print(f"  from question {settled[0][0]} on: {min(mb for _, mb in settled):.1f} to "
          f"{max(mb for _, mb in settled):.1f} MB; highest in the first half "
          f"{max(mb for _, mb in first):.1f} MB, in the second half "
          f"{max(mb for _, mb in second):.1f} MB")
    slope = statistics.linear_regression([n for n, _ in settled], [mb for _, mb in settled])[0]
    print(f"  fitted trend from question {settled[0][0]} on: "
          f"{slope * 100:+.2f} MB per 100 questions")


if __name__ == "__main__":
    main()
