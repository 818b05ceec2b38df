"""Which knowledge-base articles answer this message, or honestly none.

A matcher is a :class:`~.classifier.TextClassifier` whose labels are article ids. It learns
from each article's title and example questions, in whatever languages they were written,
plus a set of messages no shop article answers ("hi", "tell me a joke", "明天天气怎么样")
as the out-of-scope label :data:`NO_MATCH`. The multilingual embedding is what lets
"¿Dónde está mi pedido?" find an article whose examples are English and Chinese only; messages
in a language the examples lack always go through it.

A team with labelled history (past messages tagged with the article or intent that answered
them) trains a matcher on that instead: ``supportflow triage train --task intent``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

from supportflow.triage.classifier import Messages, TextClassifier
from supportflow.triage.encoder import Encoder
from supportflow.triage.kb import KnowledgeBase, load_yaml
from supportflow.triage.training import TrainConfig, TrainProgress, train_classifier

NO_MATCH = "__no_match__"
"""The label of messages no article answers."""


@dataclass(frozen=True)
class IntentMatch:
    """The best articles (id and probability, best first), and whether none answers."""

    intents: list[tuple[str, float]]
    no_match: bool


def off_topic_messages() -> list[tuple[str, str]]:
    """``(language, text)`` of the shipped small-talk messages that no shop article answers."""
    text = (
        resources.files("supportflow.triage").joinpath("data", "off_topic.yaml").read_text("utf-8")
    )
    data = load_yaml(text)
    return [(lang, str(msg)) for lang, msgs in data["messages"].items() for msg in msgs]


def kb_training_data(kb: KnowledgeBase) -> tuple[list[str], list[str], list[str]]:
    """Texts, labels and languages a knowledge-base matcher learns from (with off-topic rows)."""
    texts: list[str] = []
    labels: list[str] = []
    languages: list[str] = []
    for article in kb.articles:
        for language, text in article.texts():
            texts.append(text)
            labels.append(article.id)
            languages.append(language)
    # off-topic rows only in the base's own languages: otherwise the n-gram head would learn
    # "German means no match" for a base written in English and Chinese
    own = set(languages)
    for language, text in off_topic_messages():
        if language not in own:
            continue
        texts.append(text)
        labels.append(NO_MATCH)
        languages.append(language)
    return texts, labels, languages


def train_kb_matcher(
    kb: KnowledgeBase,
    *,
    encoder: Encoder,
    config: TrainConfig | None = None,
    progress: TrainProgress | None = None,
) -> TextClassifier:
    """Learn a matcher for ``kb`` (a few seconds for a base of a few hundred examples).

    The fast path is off: a base's examples are too few to tell when the n-grams alone are
    sure, and a knowledge base must answer in languages its examples lack.
    """
    texts, labels, languages = kb_training_data(kb)
    config = config or TrainConfig(fast_path=False, oos_recall_target=0.8)
    return train_classifier(
        texts, labels, task="intent", encoder=encoder, oos_label=NO_MATCH,
        languages=languages, config=config, progress=progress,
    )  # fmt: skip


def match_intents(
    model: TextClassifier, messages: Messages, *, top_k: int = 3
) -> list[IntentMatch]:
    """The ``top_k`` labels of each message, and "no match" as the model decides it.

    The out-of-scope label itself is never suggested.
    """
    scored = model.score(messages)
    rejected = model.no_match(scored.probabilities)
    hidden = {NO_MATCH, model.oos_label}
    results = []
    for row, is_rejected in zip(scored.probabilities, rejected, strict=True):
        order = np.argsort(-row)
        best = [
            (model.labels[i], round(float(row[i]), 4))
            for i in order
            if model.labels[i] not in hidden
        ][:top_k]
        results.append(IntentMatch(best, bool(is_rejected)))
    return results
