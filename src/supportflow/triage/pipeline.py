"""Triage a message end to end: clean it, tell its language, suggest articles, read the mood.

One :class:`Triage` holds the models a desk uses and answers for a batch of raw messages at
once, so that each message is embedded at most once, and only when a head needs the encoder.
The answer per message is a plain dict with the keys of ``supportflow triage`` (see
docs/triage.md): ``language``, ``intents`` (``[{id, score}]``), ``no_match``,
``sentiment`` (``{label, scores}``), ``urgent``, and the ticket ``fields`` when field models
were given.

An empty message (nothing left after clean-up: empty input, binary junk, only quoted
history) gets a defined answer: no language, no intents, ``no_match`` true, sentiment neutral
with certainty, not urgent, and ``note`` saying why.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from supportflow.triage.classifier import Messages, TextClassifier
from supportflow.triage.encoder import Encoder, shared_encoder
from supportflow.triage.intent import match_intents
from supportflow.triage.kb import KnowledgeBase
from supportflow.triage.language import DEFAULT_LANGUAGES, LanguageDetector
from supportflow.triage.modelfile import load_model
from supportflow.triage.sentiment import (
    SENTIMENT_LABELS,
    analyse_sentiment,
    default_model_path,
    load_default_models,
)
from supportflow.triage.text import clean

DEFAULT_KB_MODEL = "kb_ecommerce.sfm"


@dataclass
class Triage:
    """The models of one desk. Build with :meth:`default` or give each model."""

    intent_model: TextClassifier | None
    sentiment_model: TextClassifier | None
    urgency_model: TextClassifier | None
    encoder: Encoder
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    kb: KnowledgeBase | None = None
    field_models: dict[str, TextClassifier] = field(default_factory=dict)
    top_k: int = 3

    def __post_init__(self) -> None:
        self.detector = LanguageDetector(self.languages)

    @classmethod
    def default(
        cls,
        *,
        languages: Iterable[str] = DEFAULT_LANGUAGES,
        encoder: Encoder | None = None,
        top_k: int = 3,
        default_intents: bool = True,
    ) -> Triage:
        """The shipped models: the e-commerce knowledge base (unless ``default_intents`` is
        false, for a caller that brings its own) and the seed sentiment models."""
        from supportflow.triage.kb import default_kb

        if encoder is None:
            encoder = shared_encoder()
        preload = getattr(encoder, "preload", None)
        if callable(preload):  # the encoder loads while the other models do
            preload()
        sentiment, urgency = load_default_models(encoder.info())
        intent = (
            load_model(default_model_path(DEFAULT_KB_MODEL), encoder=encoder.info())
            if default_intents
            else None
        )
        return cls(
            intent_model=intent, sentiment_model=sentiment, urgency_model=urgency,
            encoder=encoder, languages=tuple(languages),
            kb=default_kb() if default_intents else None, top_k=top_k,
        )  # fmt: skip

    def run(self, raw_messages: Sequence[str | bytes]) -> list[dict[str, Any]]:
        """Triage a batch of raw messages; one answer dict per message, in order."""
        cleaned = [clean(raw) for raw in raw_messages]
        live = [i for i, c in enumerate(cleaned) if c.text]
        messages = Messages([cleaned[i].text for i in live], encoder=self.encoder)
        models = [self.intent_model, self.sentiment_model, *self.field_models.values()]
        if any(m is not None and m.encodes_every_message() for m in models):
            messages.prefetch()  # the encoder works while the languages are read
        guesses = [self.detector.detect(c.text) for c in cleaned]
        messages.languages = [guesses[i].code for i in live]
        intents = (
            match_intents(self.intent_model, messages, top_k=self.top_k)
            if self.intent_model is not None and live
            else []
        )
        moods = (
            analyse_sentiment(self.sentiment_model, self.urgency_model, messages)
            if self.sentiment_model is not None and live
            else []
        )
        fields = {
            name: model.score(messages).probabilities if live else None
            for name, model in self.field_models.items()
        }
        encoded = messages.encoded_rows()
        answers: list[dict[str, Any]] = []
        position = {row: k for k, row in enumerate(live)}
        for i, (message, guess) in enumerate(zip(cleaned, guesses, strict=True)):
            answer: dict[str, Any] = {
                "language": guess.code,
                "language_confidence": round(guess.confidence, 4),
                "intents": [],
                "no_match": True,
                "sentiment": {"label": "neutral", "scores": _certain_neutral()},
                "urgent": False,
                "cleaned": {
                    "was_html": message.was_html,
                    "removed_quote": message.removed_quote,
                    "truncated": message.truncated,
                },
            }
            if i not in position:
                answer["note"] = message.discarded or "empty message"
                answers.append(answer)
                continue
            k = position[i]
            if intents:
                answer["intents"] = [
                    self._intent_entry(label, score, guess.code)
                    for label, score in intents[k].intents
                ]
                answer["no_match"] = intents[k].no_match
            if moods:
                mood = moods[k]
                answer["sentiment"] = {"label": mood.label, "scores": mood.scores}
                answer["urgent"] = mood.urgent
                answer["urgency"] = mood.urgency
            if self.field_models:
                answer["fields"] = {
                    name: _field_entry(self.field_models[name], probabilities[k])
                    for name, probabilities in fields.items()
                    if probabilities is not None
                }
            answer["encoder_used"] = bool(encoded[k])
            answers.append(answer)
        return answers

    def _intent_entry(self, label: str, score: float, language: str | None) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": label, "score": score}
        if self.kb is not None:
            try:
                titles = self.kb.article(label).title
            except KeyError:
                return entry
            entry["title"] = titles.get(language or "", next(iter(titles.values())))
        return entry


def _certain_neutral() -> dict[str, float]:
    return {label: 1.0 if label == "neutral" else 0.0 for label in SENTIMENT_LABELS}


def _field_entry(model: TextClassifier, probabilities: Any) -> dict[str, Any]:
    best = int(probabilities.argmax())
    return {"label": model.labels[best], "confidence": round(float(probabilities[best]), 4)}
