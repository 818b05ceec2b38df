"""The triage classifier: its n-grams and heads against scikit-learn, thresholds, training,
and model files that refuse what they cannot read."""

from __future__ import annotations

import dataclasses
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from supportflow.triage.classifier import (
    NEVER,
    LinearHead,
    Messages,
    NearestExamples,
    TrainingError,
)
from supportflow.triage.encoder import EncoderInfo, shared_encoder
from supportflow.triage.evaluate import evaluate_classifier, label_metrics
from supportflow.triage.modelfile import ModelFileError, load_model, read_meta, save_model
from supportflow.triage.ngrams import NgramFeatures, char_grams, normalise, word_grams
from supportflow.triage.training import (
    TrainConfig,
    _fit_linear,
    _nearest,
    choose_no_match_threshold,
    train_classifier,
)

TEXTS = [
    "Where is my order?",
    "where is my parcel, it has not arrived",
    "I want my money back",
    "Refund please!! 退款",
    "Café crème, s'il vous plaît",
    "my order #4521 never came",
]


def test_character_ngrams_are_scikit_learns_char_wb() -> None:
    reference = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    for text in TEXTS:
        assert sorted(char_grams(normalise(text))) == sorted(reference(normalise(text)))


def test_tfidf_rows_equal_scikit_learns_sublinear_tfidf() -> None:
    features = NgramFeatures.fit(TEXTS)
    ours = features.transform(TEXTS).toarray()
    normalised = [normalise(t) for t in TEXTS]
    for block, start in zip(features.blocks, (0, len(features.blocks[0].vocabulary)), strict=True):
        analyser = char_grams if block.kind == "char" else word_grams
        reference = TfidfVectorizer(analyzer=analyser, sublinear_tf=True)
        expected = reference.fit_transform(normalised).toarray()
        assert list(reference.get_feature_names_out()) == block.vocabulary
        np.testing.assert_allclose(
            ours[:, start : start + len(block.vocabulary)], expected, atol=1e-6
        )


def test_a_binary_head_gives_scikit_learns_probabilities() -> None:
    rng = np.random.default_rng(1)
    features = rng.normal(size=(60, 5))
    y = (features[:, 0] + 0.3 * rng.normal(size=60) > 0).astype(np.int64)
    head = _fit_linear(features, y, 2, c=1.0)
    reference = LogisticRegression(C=1.0, max_iter=1000).fit(features, y)
    np.testing.assert_allclose(
        head.probabilities(features), reference.predict_proba(features), atol=1e-5
    )


def test_a_label_missing_from_training_gets_no_probability() -> None:
    rng = np.random.default_rng(2)
    features = rng.normal(size=(30, 3))
    y = np.where(features[:, 0] > 0, 2, 0).astype(np.int64)  # label 1 has no rows
    probabilities = _fit_linear(features, y, 3, c=1.0).probabilities(features)
    assert probabilities.shape == (30, 3)
    assert probabilities[:, 1].max() < 1e-6


def test_nearest_examples_score_each_labels_closest_example() -> None:
    embeddings = np.eye(4, dtype=np.float32)
    y = np.array([1, 0, 1, 2])
    nearest = _nearest(embeddings, y, 3, limit=100, seed=0)
    query = np.array([[0.0, 0.6, 0.0, 0.8]], dtype=np.float32)  # row 1 (label 0), row 3 (label 2)
    best = np.array([0.6, 0.0, 0.8])  # label 1's examples are rows 0 and 2: cosine 0
    logits = best / 0.02
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(nearest.probabilities(query)[0], expected, rtol=1e-5, atol=1e-9)
    assert nearest.nearest(query[0], 2) == pytest.approx(0.8)
    assert isinstance(nearest, NearestExamples)


def test_the_no_match_threshold_catches_the_asked_recall_with_the_best_accuracy() -> None:
    # labels 0, 1 in scope, 2 out of scope; rows: (probabilities, truth)
    probabilities = np.array(
        [[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.45, 0.35, 0.2], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8]]
    )
    y = np.array([0, 1, 0, 2, 2])
    t, figures = choose_no_match_threshold(probabilities, y, oos=2, recall_target=1.0, margin_se=0)
    # row 3 (oos, top 0.5) must be rejected: t > 0.5; the first such grid value is 0.51
    assert t == pytest.approx(0.51)
    assert figures == {"oos_recall": 1.0, "in_scope_accuracy": pytest.approx(2 / 3)}
    t_half, _ = choose_no_match_threshold(probabilities, y, oos=2, recall_target=0.5, margin_se=0)
    assert t_half == 0.0  # the oos label alone already catches half
    # two out-of-scope rows are too few to trust half: one standard error more asks for both
    t_margin, figures = choose_no_match_threshold(probabilities, y, oos=2, recall_target=0.5)
    assert t_margin == pytest.approx(0.51) and figures["oos_recall"] == 1.0


def test_macro_f1_matches_scikit_learn() -> None:
    truth = ["a", "a", "b", "c", "c", "c"]
    predicted = ["a", "b", "b", "c", "a", "c"]
    accuracy, macro_f1, per_label = label_metrics(truth, predicted, ["a", "b", "c"])
    assert accuracy == pytest.approx(4 / 6)
    assert macro_f1 == pytest.approx(f1_score(truth, predicted, average="macro"))
    assert per_label["b"] == {
        "precision": 0.5,
        "recall": 1.0,
        "f1": pytest.approx(2 / 3),
        "support": 1,
    }


INTENTS = {
    "order_status": [
        "where is my order", "my package has not arrived yet", "when will my parcel come",
        "has my order shipped", "I am still waiting for my delivery", "order not received",
        "where's my stuff", "tracking shows nothing, where is the package",
    ],
    "refund": [
        "I want my money back", "when do I get my refund", "please refund me",
        "the refund has not reached my account", "how long does a refund take",
        "give me back my money", "refund status please", "I returned it, where is the refund",
    ],
    "password": [
        "I forgot my password", "cannot log in to my account", "reset my password please",
        "my login does not work", "how do I change my password", "locked out of my account",
        "password reset email never came", "I can't sign in",
    ],
    "oos": [
        "what's the weather tomorrow", "tell me a joke", "who won the game last night",
        "recommend a good movie", "how tall is everest", "what time is it in tokyo",
        "play some music", "I like turtles",
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def intent_model():  # type: ignore[no-untyped-def]
    texts = [t for ts in INTENTS.values() for t in ts]
    labels = [label for label, ts in INTENTS.items() for _ in ts]
    return train_classifier(
        texts, labels, task="intent", encoder=shared_encoder(), oos_label="oos",
        languages=["en"] * len(texts), config=TrainConfig(oos_recall_target=0.8),
    )  # fmt: skip


def test_a_trained_model_finds_new_wordings_and_other_languages(intent_model) -> None:  # type: ignore[no-untyped-def]
    tests = {
        "my parcel still hasn't shown up": "order_status",
        "¿dónde está mi pedido?": "order_status",
        "je veux être remboursé": "refund",
        "Ich habe mein Passwort vergessen": "password",
        "忘记密码了": "password",
    }
    messages = Messages(
        list(tests), encoder=shared_encoder(), languages=["en", "es", "fr", "de", "zh"]
    )
    scored = intent_model.score(messages)
    predicted = [intent_model.labels[i] for i in scored.probabilities.argmax(axis=1)]
    assert predicted == list(tests.values())
    # languages the data lacked always go to the encoder
    assert scored.encoded[1:].all()
    np.testing.assert_allclose(scored.probabilities.sum(axis=1), 1.0, atol=1e-9)


def test_out_of_scope_messages_are_no_match(intent_model) -> None:  # type: ignore[no-untyped-def]
    texts = ["what's the capital of France", "tell me something funny", "where is my order"]
    messages = Messages(texts, encoder=shared_encoder(), languages=["en"] * 3)
    rejected = intent_model.no_match(intent_model.score(messages).probabilities)
    assert rejected.tolist() == [True, True, False]


def test_evaluation_reports_the_contract_keys(intent_model) -> None:  # type: ignore[no-untyped-def]
    texts = ["where is my parcel", "refund me now", "reset password", "sing me a song"]
    labels = ["order_status", "refund", "password", "oos"]
    ticks = iter(np.arange(0, 100, 0.005))  # each message takes 5 ms on this clock
    metrics = evaluate_classifier(
        intent_model, texts, labels, encoder=shared_encoder(), oos_label="oos",
        clock=lambda: float(next(ticks)),
    )  # fmt: skip
    for key in ("n", "accuracy", "macro_f1", "top3_accuracy", "per_label", "latency_ms_p50",
                "latency_ms_p95", "in_scope_accuracy", "oos_recall"):  # fmt: skip
        assert key in metrics
    assert metrics["n"] == 4
    assert metrics["accuracy"] == 1.0
    assert metrics["oos_recall"] == 1.0
    assert metrics["latency_ms_p95"] == pytest.approx(5.0)


def test_a_model_file_round_trips_and_refuses_another_encoder(intent_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = save_model(intent_model, tmp_path / "intent.sfm")
    info = shared_encoder().info()
    loaded = load_model(path, encoder=info)
    texts = ["where is my order", "¿dónde está mi reembolso?", "hello there"]
    a = intent_model.score(Messages(texts, encoder=shared_encoder(), languages=["en", "es", "en"]))
    b = loaded.score(Messages(texts, encoder=shared_encoder(), languages=["en", "es", "en"]))
    np.testing.assert_allclose(a.probabilities, b.probabilities, atol=2e-3)  # float16 on disk
    assert loaded.labels == intent_model.labels
    assert loaded.no_match_threshold == intent_model.no_match_threshold
    meta = read_meta(path)
    assert meta["encoder"]["name"] == info.name and meta["encoder"]["version"] == info.version
    assert meta["training"]["rows"] == 32 and len(meta["training"]["data_sha256"]) == 64
    other = EncoderInfo(info.name, "9.9.9", info.dim)
    with pytest.raises(ModelFileError, match=r"trained with encoder .* retrain"):
        load_model(path, encoder=other)
    with pytest.raises(ModelFileError, match="needs the encoder"):
        load_model(path, encoder=None)


def test_damaged_or_foreign_files_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sfm"
    junk.write_bytes(b"\x00not a zip")
    with pytest.raises(ModelFileError, match="not a supportflow model file"):
        read_meta(junk)
    newer = tmp_path / "newer.sfm"
    with zipfile.ZipFile(newer, "w") as archive:
        archive.writestr("meta.json", '{"format": "supportflow-model", "format_version": 99}')
    with pytest.raises(ModelFileError, match="newer than this supportflow reads"):
        read_meta(newer)


def test_ngram_only_models_need_no_encoder(tmp_path: Path) -> None:
    texts = [t for ts in INTENTS.values() for t in ts]
    labels = [label for label, ts in INTENTS.items() for _ in ts]
    model = train_classifier(texts, labels, task="field", encoder=None)
    assert model.embedding_head is None and model.encoder is None
    assert model.fast_threshold == NEVER
    loaded = load_model(save_model(model, tmp_path / "f.sfm"), encoder=None)
    scored = loaded.score(Messages(["reset my password please"], encoder=None))
    assert loaded.labels[int(scored.probabilities.argmax())] == "password"
    assert not scored.encoded.any()


def test_training_data_that_cannot_make_a_model_is_refused() -> None:
    with pytest.raises(TrainingError, match="at least two labels"):
        train_classifier(["a", "b"], ["x", "x"], task="intent", encoder=None)
    with pytest.raises(TrainingError, match="out-of-scope label 'oos' is not among"):
        train_classifier(["a", "b"], ["x", "y"], task="intent", encoder=None, oos_label="oos")
    with pytest.raises(TrainingError, match="2 texts but 1 labels"):
        train_classifier(["a", "b"], ["x"], task="intent", encoder=None)


def test_linear_head_accepts_sparse_and_dense_rows() -> None:
    head = LinearHead(
        np.array([[1.0, -1.0], [0.0, 2.0]], dtype=np.float32), np.zeros(2, np.float32)
    )
    from scipy.sparse import csr_matrix

    dense = head.probabilities(np.array([[1.0, 1.0]]))
    sparse = head.probabilities(csr_matrix(np.array([[1.0, 1.0]])))
    np.testing.assert_allclose(dense, sparse)
    np.testing.assert_allclose(dense[0], [np.exp(1) / (np.exp(1) + np.exp(1)), 0.5])


class CountingEncoder:
    """A fake encoder that records what it was asked to embed."""

    name, version, dim = "counting", "1", 3

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def embed(self, texts, *, progress=None):  # type: ignore[no-untyped-def]
        self.embedded.extend(texts)
        return np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)

    def info(self) -> EncoderInfo:
        return EncoderInfo(self.name, self.version, self.dim)


def test_a_subset_of_messages_shares_their_embeddings() -> None:
    encoder = CountingEncoder()
    messages = Messages(["a", "bb", "ccc"], encoder=encoder, languages=["en", "de", "fr"])
    negative = messages.subset([2, 0])
    assert negative.texts == ["ccc", "a"] and negative.languages == ["fr", "en"]
    np.testing.assert_array_equal(negative.embeddings(np.array([0, 1]))[:, 0], [3.0, 1.0])
    np.testing.assert_array_equal(messages.embeddings(np.array([0, 2]))[:, 0], [1.0, 3.0])
    assert encoder.embedded == ["ccc", "a"]  # each text embedded once, for both views
    assert messages.encoded_rows().tolist() == [True, False, True]


def test_only_a_known_foreign_language_forces_the_encoder() -> None:
    texts = [t for label, ts in INTENTS.items() if label != "oos" for t in ts]
    labels = [label for label, ts in INTENTS.items() if label != "oos" for _ in ts]
    languages = ["en"] * (len(texts) - 1) + ["pt"]  # one detector miss is not a language
    model = train_classifier(
        texts, labels, task="intent", encoder=CountingEncoder(), languages=languages
    )
    assert model.train_languages == ("en",)
    always_fast = dataclasses.replace(model, fast_threshold=0.0)
    for language, encoded in ((None, False), ("en", False), ("de", True)):
        messages = Messages(["where is my order"], encoder=CountingEncoder(), languages=[language])
        assert always_fast.score(messages).encoded.tolist() == [encoded], language


class _BrokenEncoder:
    name, version, dim = "broken", "0", 384

    def embed(self, texts: Sequence[str], *, progress: object = None) -> NDArray[np.float32]:
        raise RuntimeError("the engine died")

    def info(self) -> EncoderInfo:
        return EncoderInfo(self.name, self.version, self.dim)


def test_an_error_in_the_background_embedding_reaches_the_caller() -> None:
    messages = Messages(["where is my order", "refund"], encoder=_BrokenEncoder())
    messages.prefetch()
    with pytest.raises(RuntimeError, match="the engine died"):
        messages.embeddings(np.arange(2))


def test_prefetched_embeddings_are_the_ones_computed_on_demand() -> None:
    texts = ["where is my order", "¿dónde está mi pedido?", "refund please", "danke"]
    ahead = Messages(texts, encoder=shared_encoder())
    ahead.prefetch()
    assert ahead.encoded_rows().all()  # waits for the background work
    on_demand = Messages(texts, encoder=shared_encoder()).embeddings(np.arange(4))
    assert np.array_equal(ahead.embeddings(np.arange(4)), on_demand)
