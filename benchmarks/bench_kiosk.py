"""Kiosk loop benchmark on virtual PulseAudio devices: response latency and memory over a soak.

For each question (in-domain questions from tests/data/typed_eval.tsv, spoken by flite voices):
play it into the virtual microphone, wait for the kiosk's reply to start, say "stop", and wait
until it is quiet. Measured per question:

- latency: end of the patient's speech -> first audio of the reply, from one recording of the
  microphone and the speaker on the same clock (the harness's two-channel bus);
- the kiosk's own breakdown (its --status-file): end-of-speech wait, final recognition,
  matching + dialogue, and time to first audio after the decision;
- the kiosk's resident memory (VmRSS), to show whether it grows over the soak.

    .venv/bin/python benchmarks/bench_kiosk.py [--questions 200] [--clear-silence MS]
        [--unclear-silence MS] [--end-silence MS]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from kiosk_driver import KioskProcess, record, spoken  # noqa: E402
from pulse_harness import Timeline, VirtualAudio  # noqa: E402
from speechgen import VoiceSpec  # noqa: E402

from voice.matching.evaluation import OUT_OF_DOMAIN, read_eval_file  # noqa: E402

VOICES = [VoiceSpec("flite", v, None, None) for v in ("slt", "kal16", "awb", "rms")]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


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
    args = parser.parse_args()
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
                                     "first_audio": []}
    memory: list[tuple[int, float]] = []
    rules: dict[int, list[float]] = {}  # silence the kiosk waited for -> latencies
    missed = 0
    with VirtualAudio() as audio, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        kiosk = KioskProcess.start(audio, tmp, ["--idle-timeout", "36000", *extra])
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
                parts["first_audio"].append((first["at"] - say["t"]) * 1000)
            if (n + 1) % 10 == 0:
                memory.append((n + 1, rss_mb(kiosk.proc.pid)))
                print(f"  {n + 1} questions, {time.monotonic() - started:.0f} s, "
                      f"RSS {memory[-1][1]:.1f} MB", flush=True)
        kiosk.stop()
    print(f"\n{len(latencies)} replies measured ({missed} questions got no reply in 20 s)")
    print(f"end of speech -> first reply audio: p50 {statistics.median(latencies) * 1000:.0f} ms,"
          f" p95 {pct(latencies, 95) * 1000:.0f} ms (targets 800 / 1200 ms)")
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
