"""How does the customer feel, and should an agent answer them first?

Two classifiers read every message: polarity (negative / neutral / positive, with
probabilities) and urgency (an angry customer threatening a chargeback, an outage blocking
work, a safety problem, a deadline today). ``urgent`` is true when the urgency classifier
gives at least :data:`URGENT_THRESHOLD`.

The default models ship inside the package, trained on ``data/sentiment_seed.yaml``: 1,184
short support messages in en, zh, es, pt, de and fr that we wrote ourselves (Apache-2.0), since
the public sentiment sets may not be redistributed. A team with its own labelled messages
trains better ones with ``supportflow triage train --task sentiment`` (docs/models.md has
what each scores).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from supportflow.triage.classifier import Messages, TextClassifier
from supportflow.triage.encoder import Encoder, EncoderInfo
from supportflow.triage.kb import load_yaml
from supportflow.triage.modelfile import load_model
from supportflow.triage.training import TrainConfig, TrainProgress, train_classifier

SENTIMENT_LABELS = ("negative", "neutral", "positive")
URGENT_THRESHOLD = 0.5
DEFAULT_SENTIMENT_MODEL = "sentiment_default.sfm"
DEFAULT_URGENCY_MODEL = "urgency_default.sfm"


@dataclass(frozen=True)
class Sentiment:
    """Polarity with its probabilities, and whether to handle the message first."""

    label: str
    scores: dict[str, float]
    urgent: bool
    urgency: float


def seed_messages() -> list[dict[str, object]]:
    """The shipped seed messages: ``text``, ``language``, ``sentiment``, ``urgent``."""
    text = (
        resources.files("supportflow.triage")
        .joinpath("data", "sentiment_seed.yaml")
        .read_text("utf-8")
    )
    messages: list[dict[str, object]] = load_yaml(text)["messages"]
    return messages


def train_default_models(
    *, encoder: Encoder, progress: TrainProgress | None = None
) -> tuple[TextClassifier, TextClassifier]:
    """Polarity and urgency classifiers learned from the seed messages."""
    seed = seed_messages()
    texts = [str(m["text"]) for m in seed]
    languages = [str(m["language"]) for m in seed]
    polarity = train_classifier(
        texts, [str(m["sentiment"]) for m in seed], task="sentiment", encoder=encoder,
        languages=languages, progress=progress,
    )  # fmt: skip
    urgency = train_classifier(
        texts, ["urgent" if m["urgent"] else "not_urgent" for m in seed], task="urgency",
        encoder=encoder, languages=languages, config=TrainConfig(fast_path=False),
        progress=progress,
    )  # fmt: skip
    return polarity, urgency


def default_model_path(name: str) -> Path:
    """Where a shipped model file lies inside the installed package."""
    return Path(str(resources.files("supportflow.triage").joinpath("data", name)))


def load_default_models(encoder: EncoderInfo) -> tuple[TextClassifier, TextClassifier]:
    """The shipped polarity and urgency models."""
    return (
        load_model(default_model_path(DEFAULT_SENTIMENT_MODEL), encoder=encoder),
        load_model(default_model_path(DEFAULT_URGENCY_MODEL), encoder=encoder),
    )


def analyse_sentiment(
    polarity: TextClassifier, urgency: TextClassifier | None, messages: Messages
) -> list[Sentiment]:
    """Polarity (and urgency, when a model is given) of every message.

    Urgency is read only where the polarity is negative (urgent messages are a kind of negative
    ones, as the seed labels them), so a message the polarity model answered on its fast path
    as neutral or positive is not sent to the encoder for urgency; its ``urgency`` is 0.
    """
    scored = polarity.score(messages).probabilities
    labels = [polarity.labels[i] for i in scored.argmax(axis=1)]
    urgent_p = [0.0] * len(messages.texts)
    if urgency is not None:
        rows = [
            i
            for i, label in enumerate(labels)
            if label == "negative" or "negative" not in polarity.labels
        ]
        if rows:
            negative = messages.subset(rows)
            column = urgency.labels.index("urgent") if "urgent" in urgency.labels else 1
            for i, p in zip(rows, urgency.score(negative).probabilities[:, column], strict=True):
                urgent_p[i] = float(p)
    results = []
    for row, label, u in zip(scored, labels, urgent_p, strict=True):
        scores = {name: round(float(p), 4) for name, p in zip(polarity.labels, row, strict=True)}
        results.append(Sentiment(label, scores, u >= URGENT_THRESHOLD, round(u, 4)))
    return results
