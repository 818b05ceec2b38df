"""Triage of customer messages: clean-up, language, suggested knowledge-base articles,
sentiment and urgency, ticket fields, and reply checks.

A pure library: no web, no database, no other supportflow package. ``Triage.default().run``
(``supportflow.triage.pipeline``) does everything for a batch of raw messages; the parts can be
used alone. Clean a raw message first, then ask what language it is in; check an agent's reply
against the checklist::

    detector = LanguageDetector(languages=("en", "es", "zh"))
    message = clean("<p>¿Dónde está mi pedido?</p><blockquote>On Mon, Ana wrote: ...</blockquote>")
    guess = detector.detect(message.text)     # LanguageGuess(code="es", confidence=..., ...)
    ReplyChecker().check(reply, customer_name="Ana", customer_negative=True).score
"""

from supportflow.triage.kb import Article, KnowledgeBase, KnowledgeBaseError, default_kb, load_kb
from supportflow.triage.language import (
    DEFAULT_LANGUAGES,
    SUPPORTED_LANGUAGES,
    LanguageDetector,
    LanguageGuess,
)
from supportflow.triage.qa import Finding, QaConfig, QaResult, ReplyChecker, personal_data
from supportflow.triage.text import Cleaned, clean

__all__ = [
    "DEFAULT_LANGUAGES",
    "SUPPORTED_LANGUAGES",
    "Article",
    "Cleaned",
    "Finding",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "LanguageDetector",
    "LanguageGuess",
    "QaConfig",
    "QaResult",
    "ReplyChecker",
    "clean",
    "default_kb",
    "load_kb",
    "personal_data",
]
