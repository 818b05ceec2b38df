"""Rebuild the files shipped in ``triage/data``: ``python -m supportflow.triage.defaults``.

The encoder's files come first, since the models are learned on its embeddings: the smoothing
factors of its int8 products (``e5_smoothing.npz``), calibrated on the messages below, and its
graph (``e5_int8.onnx``, structure only); both need the ``onnx`` package of the dev extra.
The models are learned only from data we wrote ourselves: the default knowledge base with the
off-topic messages, and the sentiment seed messages. A test checks that each shipped file
records the SHA-256 of the data it was learned from, so an edited seed file without rebuilt
models fails the test suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

from supportflow.triage.e5runtime import (
    GRAPH_FILE,
    SMOOTHING_FILE,
    E5Weights,
    build_graph,
    calibrate,
    graph_digest,
    save_smoothing,
    shipped_smoothing,
    weights_path,
)
from supportflow.triage.encoder import shared_encoder
from supportflow.triage.intent import off_topic_messages, train_kb_matcher
from supportflow.triage.kb import default_kb
from supportflow.triage.modelfile import save_model
from supportflow.triage.pipeline import DEFAULT_KB_MODEL
from supportflow.triage.sentiment import (
    DEFAULT_SENTIMENT_MODEL,
    DEFAULT_URGENCY_MODEL,
    seed_messages,
    train_default_models,
)


def calibration_texts() -> list[str]:
    """Every message we wrote: the knowledge base's titles and examples, the off-topic
    messages and the sentiment seed, in all their languages."""
    texts = [text for article in default_kb().articles for _, text in article.texts()]
    texts += [text for _, text in off_topic_messages()]
    texts += [str(message["text"]) for message in seed_messages()]
    return texts


def build(out_dir: Path) -> list[Path]:
    """Write the encoder graph, then train and write the default knowledge-base matcher,
    polarity and urgency models."""
    weights = E5Weights(weights_path())
    smoothing = out_dir / SMOOTHING_FILE
    save_smoothing(calibrate(weights, calibration_texts()), smoothing)
    graph = out_dir / GRAPH_FILE
    graph.write_bytes(build_graph(weights))
    shipped_smoothing.cache_clear()  # the encoder below reads the files just written
    graph_digest.cache_clear()
    encoder = shared_encoder()
    matcher = train_kb_matcher(default_kb(), encoder=encoder)
    polarity, urgency = train_default_models(encoder=encoder)
    return [
        smoothing,
        graph,
        save_model(matcher, out_dir / DEFAULT_KB_MODEL),
        save_model(polarity, out_dir / DEFAULT_SENTIMENT_MODEL),
        save_model(urgency, out_dir / DEFAULT_URGENCY_MODEL),
    ]


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "data"
    for written in build(target):
        print(f"{written} ({written.stat().st_size:,} bytes)")
