"""Rebuild the files shipped in ``triage/data``: ``python -m supportflow.triage.defaults``.

The encoder's graph (``e5_int8.onnx``, structure only; needs the ``onnx`` package of the dev
extra) is written first, since the models are learned on its embeddings. The models are learned only from data we wrote ourselves: the default knowledge base with the
off-topic messages, and the sentiment seed messages. A test checks that each shipped file
records the SHA-256 of the data it was learned from, so an edited seed file without rebuilt
models fails the test suite.
"""

from __future__ import annotations

import sys
from pathlib import Path

from supportflow.triage.e5runtime import GRAPH_FILE, E5Weights, build_graph, weights_path
from supportflow.triage.encoder import shared_encoder
from supportflow.triage.intent import train_kb_matcher
from supportflow.triage.kb import default_kb
from supportflow.triage.modelfile import save_model
from supportflow.triage.pipeline import DEFAULT_KB_MODEL
from supportflow.triage.sentiment import (
    DEFAULT_SENTIMENT_MODEL,
    DEFAULT_URGENCY_MODEL,
    train_default_models,
)


def build(out_dir: Path) -> list[Path]:
    """Write the encoder graph, then train and write the default knowledge-base matcher,
    polarity and urgency models."""
    graph = out_dir / GRAPH_FILE
    graph.write_bytes(build_graph(E5Weights(weights_path())))
    encoder = shared_encoder()
    matcher = train_kb_matcher(default_kb(), encoder=encoder)
    polarity, urgency = train_default_models(encoder=encoder)
    return [
        graph,
        save_model(matcher, out_dir / DEFAULT_KB_MODEL),
        save_model(polarity, out_dir / DEFAULT_SENTIMENT_MODEL),
        save_model(urgency, out_dir / DEFAULT_URGENCY_MODEL),
    ]


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "data"
    for written in build(target):
        print(f"{written} ({written.stat().st_size:,} bytes)")
