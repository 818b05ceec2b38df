"""Language detection: scripts, short messages, mixed text, bad input, configured subsets."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from py3langid.langid import MODEL_FILE, LanguageIdentifier

import supportflow.triage.language as language_module
from supportflow.triage import DEFAULT_LANGUAGES, LanguageDetector, LanguageGuess, clean

SHORT_MESSAGES = Path(__file__).with_name("short_messages.yaml")


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def _short_messages() -> list[tuple[str, str]]:
    by_language = yaml.safe_load(SHORT_MESSAGES.read_text(encoding="utf-8"))
    return [(language, text) for language, texts in by_language.items() for text in texts]


def test_the_yaml_set_covers_every_default_language_missing_from_the_shared_data() -> None:
    counts: dict[str, int] = {}
    for language, _ in _short_messages():
        counts[language] = counts.get(language, 0) + 1
    assert set(counts) == set(DEFAULT_LANGUAGES)
    assert all(counts[language] >= 30 for language in ("zh", "ja", "ko", "th", "id", "vi", "ru"))


def test_every_short_message_gets_its_language(detector: LanguageDetector) -> None:
    wrong = [
        (language, text, detector.detect(text).code)
        for language, text in _short_messages()
        if detector.detect(text).code != language
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("hola", "es"),
        ("obrigado", "pt"),
        ("merci", "fr"),
        ("danke", "de"),
        ("grazie", "it"),
        ("thanks", "en"),
        ("terima kasih", "id"),
        ("cảm ơn", "vi"),
    ],
)
def test_one_or_two_words_are_read_with_the_lexicon_and_low_confidence(
    detector: LanguageDetector, text: str, code: str
) -> None:
    guess = detector.detect(text)
    assert guess.code == code
    assert guess.confidence <= 0.75
    assert guess.reason.startswith("short text")


def test_kana_among_kanji_is_japanese_and_kanji_alone_is_chinese(
    detector: LanguageDetector,
) -> None:
    assert detector.detect("注文した商品が届きません").code == "ja"
    assert detector.detect("注文確認").code == "zh"


def test_mostly_han_with_an_english_word_is_chinese_with_lower_confidence(
    detector: LanguageDetector,
) -> None:
    mixed = detector.detect("订单 order 12345")
    pure = detector.detect("我的订单还没到")
    assert mixed.code == "zh"
    assert pure.code == "zh"
    assert mixed.confidence < pure.confidence


def test_mostly_english_with_one_chinese_word_is_english(detector: LanguageDetector) -> None:
    guess = detector.detect("Hello, my order has not arrived yet, can you check 订单")
    assert guess.code == "en"


@pytest.mark.parametrize("text", ["", "   ", "😀😀🎉👍", "12345 #!?", "ORD-2024-99812", "🇯🇵🇨🇳"])
def test_text_without_letters_has_no_language(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) == LanguageGuess(None, 0.0, "no letters")


def test_emoji_around_words_do_not_change_the_language(detector: LanguageDetector) -> None:
    assert detector.detect("😡😡 where is my order?? 😡").code == "en"


def test_arabic_right_to_left_is_arabic(detector: LanguageDetector) -> None:
    guess = detector.detect("مرحبا، أين طلبي؟ رقم الطلب 12345")
    assert guess.code == "ar"
    assert guess.confidence == 0.99


def test_hebrew_is_not_configured_so_there_is_no_language(detector: LanguageDetector) -> None:
    guess = detector.detect("שלום, איפה ההזמנה שלי?")
    assert guess.code is None
    assert guess.reason == "script: hebrew, used by no configured language"


def test_hebrew_is_found_when_configured() -> None:
    assert LanguageDetector(["en", "he"]).detect("שלום, איפה ההזמנה שלי?").code == "he"


def test_a_language_outside_the_configured_subset_gets_the_closest_with_low_confidence() -> None:
    # Documented choice: Latin text always gets a configured language (someone must read it),
    # and the confidence says it is probably none of them.
    guess = LanguageDetector(["en", "es"]).detect(
        "Wo ist meine Bestellung? Ich warte seit zwei Wochen darauf."
    )
    assert guess.code in ("en", "es")
    assert guess.confidence < 0.1
    assert "looks like 'de'" in guess.reason


def test_a_configured_language_in_the_subset_keeps_high_confidence() -> None:
    guess = LanguageDetector(["en", "es"]).detect("Hola, mi pedido todavía no ha llegado a casa")
    assert guess.code == "es"
    assert guess.confidence > 0.9


def test_cyrillic_shared_by_two_configured_languages_uses_the_model() -> None:
    detector = LanguageDetector(["ru", "uk"])
    assert detector.detect("Здравствуйте, где мой заказ? Я жду уже две недели").code == "ru"
    assert detector.detect("Добрий день, де моє замовлення? Я чекаю вже два тижні").code == "uk"


def test_detectors_with_different_languages_do_not_share_settings() -> None:
    narrow = LanguageDetector(["en", "es"])
    wide = LanguageDetector()
    text = "Bonjour, ma commande n'est pas encore arrivée chez moi"
    assert wide.detect(text).code == "fr"
    assert narrow.detect(text).code in ("en", "es")
    assert wide.detect(text).code == "fr"


@pytest.mark.parametrize("languages", [["en", "xx"], ["klingon"], []])
def test_unknown_or_no_languages_are_rejected(languages: list[str]) -> None:
    with pytest.raises(ValueError):
        LanguageDetector(languages)


def test_shouting_reads_like_lower_case(detector: LanguageDetector) -> None:
    assert detector.detect("MEU PEDIDO AINDA NAO CHEGOU").code == "pt"


def test_one_megabyte_of_text_is_read_in_under_50_ms(detector: LanguageDetector) -> None:
    text = "Hello, my parcel is late and I would like a refund. " * 20_000
    assert len(text) > 1_000_000
    detector.detect("warm up")
    start = time.perf_counter()
    guess = detector.detect(clean(text).text)
    elapsed = time.perf_counter() - start
    assert guess.code == "en"
    assert elapsed < 0.05


def test_binary_junk_has_no_language(detector: LanguageDetector) -> None:
    cleaned = clean(bytes(range(256)) * 10)
    assert detector.detect(cleaned.text).code is None


def test_html_email_with_quoted_history_is_read_as_its_new_part(
    detector: LanguageDetector,
) -> None:
    body = (
        "<html><body><p>我的订单还没有到，请帮我查一下。</p>"
        '<div class="gmail_quote">On Mon, 1 Jan 2024, Shop &lt;help@shop.example&gt; wrote:'
        "<blockquote>Thank you for your order. It will ship soon.</blockquote></div>"
        "</body></html>"
    )
    assert detector.detect(clean(body).text).code == "zh"


def test_detection_takes_about_a_millisecond(detector: LanguageDetector) -> None:
    messages = [text for _, text in _short_messages()]
    for text in messages:
        detector.detect(text)
    start = time.perf_counter()
    for text in messages:
        detector.detect(text)
    per_message_ms = (time.perf_counter() - start) * 1000 / len(messages)
    assert per_message_ms < 2.0


def test_the_decompressed_model_in_the_cache_is_py3langid_s_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORTFLOW_CACHE_DIR", str(tmp_path / "cache"))
    cached = language_module._decompressed_model()
    assert cached is not None and cached.parent == tmp_path / "cache"
    assert language_module._decompressed_model() == cached  # written once, then read
    assert not list(cached.parent.glob("*.part"))
    language_module._full_identifier.cache_clear()
    try:
        from_cache = language_module._full_identifier()
    finally:
        language_module._full_identifier.cache_clear()
    reference = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    for text in ["¿Dónde está mi pedido?", "Wo ist meine Bestellung", "onde está meu pedido"]:
        assert from_cache.classify(text) == reference.classify(text)


def test_an_unwritable_cache_warns_and_the_detector_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SUPPORTFLOW_CACHE_DIR", str(blocker / "cache"))
    with pytest.warns(UserWarning, match="cannot cache the language model"):
        assert language_module._decompressed_model() is None
