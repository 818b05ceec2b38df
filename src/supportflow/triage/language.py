"""Which language did the customer write in, among the languages the team serves?

A cross-border shop's support desk gets "where is my order?", "¿dónde está mi pedido?",
"我的订单还没到" and "注文した商品が届きません" in one queue, and routes each to agents who read
it. The writing system settles most cases at once: Hangul is Korean, kana is Japanese (even
among kanji), Thai script is Thai, Han alone is Chinese. Only Latin-script text (and a script
shared by several configured languages, such as Cyrillic for ru and uk) needs a statistical
model: py3langid's naive-Bayes model on byte n-grams, restricted to the configured languages.

Very short messages ("hola", "thanks!", "obrigado") carry too few n-grams for the model, so a
small lexicon of the words customers use most (greetings, order, refund, where, thanks) speaks
first, and the confidence says that the evidence was thin. A message with no letters at all
(emoji only, an order number) has no language: ``code`` is ``None``.

The detector answers only with configured languages. Latin text in another language (German
for a team serving en and es) gets the closest configured language with a confidence near 0
and a reason naming what it looked like; text in a script no configured language uses (Hebrew
for the default set) gets ``code=None``. A caller routes on ``confidence``.
"""

from __future__ import annotations

import copy
import lzma
import math
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
from py3langid.modelio import _to_array

from supportflow.triage.cache import cached_file

DEFAULT_LANGUAGES: tuple[str, ...] = (
    "en", "zh", "es", "pt", "de", "fr", "it", "ja", "ko", "th", "id", "vi", "ar", "ru",
)  # fmt: skip

# The script each supported language is written in. Han is special-cased: zh, or ja with kana.
_LANGUAGE_SCRIPT: dict[str, str] = {
    **dict.fromkeys(
        [
            "en",
            "es",
            "pt",
            "de",
            "fr",
            "it",
            "id",
            "vi",
            "nl",
            "pl",
            "tr",
            "sv",
            "da",
            "no",
            "fi",
            "cs",
            "ro",
            "hu",
            "ms",
            "tl",
            "ca",
        ],
        "latin",
    ),
    "zh": "han",
    "ja": "han",
    "ko": "hangul",
    "th": "thai",
    **dict.fromkeys(["ar", "fa", "ur"], "arabic"),
    "he": "hebrew",
    **dict.fromkeys(["ru", "uk", "bg", "sr", "mk", "be", "kk"], "cyrillic"),
    "el": "greek",
    **dict.fromkeys(["hi", "mr", "ne"], "devanagari"),
}
SUPPORTED_LANGUAGES: frozenset[str] = frozenset(_LANGUAGE_SCRIPT)

_SCRIPT_PATTERNS: dict[str, re.Pattern[str]] = {
    "latin": re.compile(r"[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff]"),
    "han": re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]"),
    "kana": re.compile(r"[\u3041-\u309f\u30a0-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9f]"),
    "hangul": re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\ud7b0-\ud7ff]"),
    "thai": re.compile(r"[\u0e01-\u0e4e]"),
    "arabic": re.compile(
        r"[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufefc]"
    ),
    "hebrew": re.compile(r"[\u05d0-\u05ea\ufb1d-\ufb4f]"),
    "cyrillic": re.compile(r"[\u0400-\u052f]"),
    "greek": re.compile(r"[\u0386-\u03ff\u1f00-\u1fff]"),
    "devanagari": re.compile(r"[\u0900-\u097f]"),
}
_LETTER = re.compile(r"[^\W\d_]")
# One ideograph, syllable block or kana says about as much as three Latin letters, so that
# "我的order还没到" counts as Chinese.
_SCRIPT_WEIGHT = {"han": 3.0, "kana": 3.0, "hangul": 2.0}
# Customers write Latin brand names, English terms and codes inside non-Latin messages far more
# often than the reverse, so a non-Latin script wins once it holds this weighted share.
_NON_LATIN_WINS_AT = 0.3
# Not language: links, e-mail addresses, @mentions, #hashtags and any token with a digit (order numbers).
_NOISE = re.compile(r"https?://\S+|www\.\S+|\S+@\S+|[@#]\w+|[\w-]*\d[\w-]*")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_SAMPLE_CHARS = 2_000  # the language of the first 2,000 characters is the message's
_SHORT_WORDS = 2
# Messages up to this many words also count common words; a listed word multiplies the odds
# of its language by e ** _LEXICON_WEIGHT (split among the languages sharing it).
_LEXICON_MAX_WORDS = 10
_LEXICON_WEIGHT = 1.5
# In one or two words the character model has almost nothing to go on; the words decide.
_LEXICON_WEIGHT_SHORT = 4.0
_SHORT_LETTERS = 12

# Languages so close to a configured one that the model's mass on them is not "foreign".
_RELATIVES: dict[str, tuple[str, ...]] = {
    "id": ("ms", "jv"),
    "ms": ("id", "jv"),
    "pt": ("gl",),
    "es": ("gl", "ca", "an", "ext"),
    "it": ("vec", "lij"),
    "fr": ("oc", "wa"),
    "en": ("pcm",),
    "de": ("lb",),
}

# The words customers of an online shop use most, and each language's commonest function
# words, per language; accents optional. A word listed for several languages is split among them.
_LEXICON_WORDS: dict[str, str] = {
    "en": "hi hello hey dear thanks thank you please where is my order refund money back "
    "shipping delivery delivered package parcel tracking payment paid cancel return help when "
    "still not arrived yet received wrong item the and what why how can i need want good "
    "morning a an of to in on for with at from by this that it are was be have has do does "
    "no yes your our we me it's i'm could would will there been just idea",
    "es": "hola gracias por favor dónde donde está esta mi pedido reembolso envío envio "
    "entrega paquete pago pagado cancelar devolución devolucion ayuda cuándo cuando todavía "
    "todavia llegado recibido buenos buenas días dias tardes quiero necesito qué porque el "
    "mis compra muchas la los las un una de del en y que para con es son estoy su tu no sí "
    "muy pero como ya tan ser lo al estimado estimada soporte cliente me se te le les soy "
    "esto eso fue",
    "pt": "olá ola oi obrigado obrigada onde está meu minha pedido reembolso envio entrega "
    "pacote encomenda pagamento pago cancelar devolução devolucao ajuda quando ainda não nao "
    "chegou recebi bom dia boa tarde quero preciso obg vocês você voce compra o a os as um "
    "uma de do da dos das em no na nos nas e que por para com é são estou seu sua sim muito "
    "mas como já eu pra agora também prezado prezada caro cara equipe suporte ao aos à às "
    "mensagem isso isto esse essa tá tô pode posso",
    "de": "hallo guten tag morgen danke bitte wo ist meine mein bestellung rückerstattung "
    "erstattung versand lieferung paket sendungsverfolgung zahlung bezahlt stornieren "
    "rücksendung hilfe wann noch nicht angekommen erhalten falsche ich möchte brauche und "
    "warum vielen dank geld zurück der die das den dem des ein eine einen sind du wir sie es "
    "mit von zu auf für bei aus auch aber wie was schon sehr liebe lieber sehr geehrte",
    "fr": "bonjour bonsoir salut merci s'il vous plaît plait où est ma mon commande "
    "remboursement livraison colis suivi paiement payé annuler retour aide quand toujours "
    "pas reçu arrivée arrivé je veux besoin pourquoi beaucoup svp le la les un une des de du "
    "et sont tu nous il elle ce cette avec pour dans sur au aux mais que qui mes très cher "
    "chère équipe service client",
    "it": "ciao buongiorno buonasera grazie per favore dove è il mio mia ordine rimborso "
    "spedizione consegna pacco pagamento pagato annullare reso aiuto quando ancora non "
    "arrivato ricevuto voglio ho bisogno perché perche mille lo la i gli le un una di del "
    "della e sono io mi ti ci con in su che ma come molto anche sempre caro cara gentile ne "
    "si cosa più",
    "id": "halo hai terima kasih tolong mohon di mana dimana pesanan saya pengembalian dana "
    "pengiriman paket pembayaran bayar batalkan bantuan kapan belum sampai sudah diterima "
    "barang salah mau ingin kenapa selamat pagi siang makasih min kak yang dan ke dari ini itu "
    "kami kamu anda tidak ada dengan untuk pada akan bisa apa bagaimana",
    "vi": "xin chào cảm ơn vui lòng đâu đơn hàng của tôi hoàn tiền giao gói thanh toán hủy "
    "trả giúp khi nào vẫn chưa nhận được sai muốn tại sao bạn shop ạ nhé và là có không đã "
    "này đó với cho",
}


# Word endings only one of the close Latin languages spells that way (checked for words the
# lexicon does not list): Portuguese -dade/-ção/-ão against Spanish -dad/-ción/-ón.
_ENDINGS: tuple[tuple[str, str], ...] = (
    ("dade", "pt"), ("dades", "pt"), ("ção", "pt"), ("ções", "pt"), ("ão", "pt"), ("ões", "pt"),
    ("ável", "pt"), ("ível", "pt"), ("agem", "pt"),
    ("dad", "es"), ("dades", "es"), ("ción", "es"), ("ciones", "es"), ("ñ", "es"),
    ("ñol", "es"),
    ("ité", "fr"), ("eux", "fr"), ("euse", "fr"), ("ées", "fr"),
    ("ità", "it"), ("zione", "it"), ("zioni", "it"),
    ("ung", "de"), ("ungen", "de"), ("keit", "de"), ("heit", "de"), ("lich", "de"),
)  # fmt: skip


@dataclass(frozen=True)
class LanguageGuess:
    """The detected language (``None`` when there is none), how sure, and why.

    ``confidence`` is in [0, 1]; ``alternatives`` are the next configured languages with their
    probabilities, best first (empty when the script decided).
    """

    code: str | None
    confidence: float
    reason: str
    alternatives: tuple[tuple[str, float], ...] = ()


@cache
def _full_identifier() -> Any:
    # Loading the model happens once per process, on first use (never at import). Detectors
    # copy it before restricting it, so settings never leak.
    cached = _decompressed_model()
    if cached is None:
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    with np.load(cached, allow_pickle=False) as data:
        return LanguageIdentifier(
            np.asarray(data["ptc"]),
            np.asarray(data["pc"]),
            data["classes"].tolist(),
            _to_array(data["nextmove"]),
            data["out_feat"].tolist(),
            norm_probs=True,
            tk_row=_to_array(data["nextmove_row"]),
        )


def _decompressed_model() -> Path | None:
    """py3langid's model without its LZMA wrapping, written once into the cache folder.

    Decompressing the 4.6 MB ``.xz`` costs 0.54 s in every process, reading the 68 MB
    ``.npz`` 0.09 s. ``None`` (with a warning) where the cache cannot be written."""
    source = MODEL_DIR / MODEL_FILE
    stat = source.stat()

    def write(path: Path) -> None:
        with lzma.open(source) as compressed, path.open("wb") as out:
            shutil.copyfileobj(compressed, out, length=1 << 20)

    name = f"py3langid-{stat.st_size}-{int(stat.st_mtime)}.npz"
    return cached_file(name, write, what="the language model")


def _restricted_identifier(languages: Iterable[str]) -> Any:
    identifier = copy.copy(_full_identifier())
    identifier.set_languages(sorted(languages))
    return identifier


class LanguageDetector:
    """Detects the language of customer messages among ``languages``.

    Raises:
        ValueError: ``languages`` is empty or holds a code outside
            :data:`SUPPORTED_LANGUAGES`.
    """

    def __init__(self, languages: Iterable[str] = DEFAULT_LANGUAGES) -> None:
        self.languages: tuple[str, ...] = tuple(dict.fromkeys(languages))
        unknown = sorted(set(self.languages) - SUPPORTED_LANGUAGES)
        if unknown:
            raise ValueError(
                f"unsupported language code(s) {unknown}; "
                f"supported: {', '.join(sorted(SUPPORTED_LANGUAGES))}"
            )
        if not self.languages:
            raise ValueError("configure at least one language")
        by_script: dict[str, list[str]] = {}
        for language in self.languages:
            by_script.setdefault(_LANGUAGE_SCRIPT[language], []).append(language)
        self._by_script = by_script
        # Han is decided by kana, never by the model; every other shared script needs it.
        self._models = {
            script: _restricted_identifier(candidates)
            for script, candidates in by_script.items()
            if len(candidates) > 1 and script != "han"
        }
        latin = set(by_script.get("latin", ()))
        self._lexicon: dict[str, frozenset[str]] = {}
        for language, words in _LEXICON_WORDS.items():
            if language in latin:
                for word in words.split():
                    self._lexicon[word] = self._lexicon.get(word, frozenset()) | {language}

    def detect(self, text: str) -> LanguageGuess:
        """Guess the language of ``text`` (ideally :func:`supportflow.triage.text.clean`-ed).

        Never raises on content: text without letters gives ``code=None`` and reason
        "no letters"; only the first 2,000 characters are read.
        """
        sample = _NOISE.sub(" ", text[:_SAMPLE_CHARS])
        weights = {
            script: len(pattern.findall(sample)) * _SCRIPT_WEIGHT.get(script, 1.0)
            for script, pattern in _SCRIPT_PATTERNS.items()
        }
        known = sum(weights.values())
        letters = len(_LETTER.findall(sample))
        counted = sum(len(pattern.findall(sample)) for pattern in _SCRIPT_PATTERNS.values())
        other = max(0, letters - counted)
        if known <= 0 and other <= 0:
            return LanguageGuess(None, 0.0, "no letters")
        total = known + other
        script = _dominant_script(weights, total)
        if script == "han":
            share = (weights["han"] + weights["kana"]) / total
            return self._decide_han(share, has_kana=weights["kana"] > 0)
        if script == "latin" and weights["latin"] >= other:
            return self._decide_latin(sample, weights["latin"] / total)
        if script == "latin":
            return LanguageGuess(None, 0.0, "script: none a configured language uses")
        return self._decide_script(script, sample, weights[script] / total)

    def _decide_han(self, share: float, *, has_kana: bool) -> LanguageGuess:
        preferred = ("ja", "zh") if has_kana else ("zh", "ja")
        script_reason = "kana" if has_kana else "Han characters without kana"
        for rank, code in enumerate(preferred):
            if code in self.languages:
                base = 0.99 if has_kana else 0.95
                confidence = _scaled(base if rank == 0 else 0.5, share)
                return LanguageGuess(code, confidence, f"script: {script_reason}")
        return LanguageGuess(None, 0.0, "script: Han, but neither zh nor ja is configured")

    def _decide_script(self, script: str, sample: str, share: float) -> LanguageGuess:
        candidates = self._by_script.get(script, [])
        if not candidates:
            return LanguageGuess(None, 0.0, f"script: {script}, used by no configured language")
        if len(candidates) == 1:
            return LanguageGuess(candidates[0], _scaled(0.99, share), f"script: {script}")
        ranked = self._models[script].rank(sample)
        code, probability = ranked[0]
        return LanguageGuess(
            code,
            _scaled(probability, share),
            f"script: {script}; character model among {', '.join(candidates)}",
            _alternatives(ranked, code),
        )

    def _decide_latin(self, sample: str, share: float) -> LanguageGuess:
        candidates = self._by_script.get("latin", [])
        if not candidates:
            return LanguageGuess(None, 0.0, "script: latin, used by no configured language")
        if len(candidates) == 1:
            return LanguageGuess(
                candidates[0], _scaled(0.9, share), "only Latin language configured"
            )
        if _mostly_upper(sample):
            # Shouting ("MEU PEDIDO NAO CHEGOU MasterChefBR") reads like the lower-case text.
            sample = sample.lower()
        words = _WORD.findall(sample.lower())
        short = len(words) <= _SHORT_WORDS or sum(map(len, words)) < _SHORT_LETTERS
        ranked: list[tuple[str, float]] = self._models["latin"].rank(sample)
        hits = False
        if len(words) <= _LEXICON_MAX_WORDS:
            weight = _LEXICON_WEIGHT_SHORT if short else _LEXICON_WEIGHT
            ranked, hits = self._with_lexicon(words, ranked, weight)
        code, probability = ranked[0]
        alternatives = _alternatives(ranked, code)
        if short:
            if hits:
                cap, reason = 0.75, "short text: common words and character model"
            else:
                cap, reason = 0.5, "short text: character model only"
            return LanguageGuess(code, _scaled(min(cap, probability), share), reason, alternatives)
        foreign, lookalike = self._foreign_mass(sample, code)
        reason = "character model and common words" if hits else "character model"
        if lookalike is not None:
            reason = (
                f"closest configured language; the text looks like '{lookalike}', not configured"
            )
        confidence = _scaled(probability * (1.0 - foreign), share)
        return LanguageGuess(code, confidence, reason, alternatives)

    def _with_lexicon(
        self, words: list[str], ranked: list[tuple[str, float]], weight: float
    ) -> tuple[list[tuple[str, float]], bool]:
        """Add the common-word votes to the model's log-probabilities; renormalise."""
        votes: dict[str, float] = {}
        for word in words:
            languages = self._lexicon.get(word, frozenset())
            if not languages:
                # spelling that only one language has: "conectividade", "conexión", "coração"
                languages = frozenset(
                    language
                    for ending, language in _ENDINGS
                    if word.endswith(ending) and language in self.languages
                )
            for language in languages:
                votes[language] = votes.get(language, 0.0) + 1.0 / len(languages)
        if not votes:
            return ranked, False
        scores = {
            code: math.log(max(p, 1e-12)) + weight * votes.get(code, 0.0) for code, p in ranked
        }
        top = max(scores.values())
        odds = {code: math.exp(score - top) for code, score in scores.items()}
        total = sum(odds.values())
        combined = sorted(((code, o / total) for code, o in odds.items()), key=lambda x: -x[1])
        return combined, True

    def _foreign_mass(self, sample: str, code: str) -> tuple[float, str | None]:
        """The model's probability on unconfigured languages, and the top one if it leads."""
        at_home = set(self.languages) | set(_RELATIVES.get(code, ()))
        ranked: list[tuple[str, float]] = _full_identifier().rank(sample)
        foreign = sum(p for language, p in ranked if language not in at_home)
        top = ranked[0][0]
        return foreign, (top if top not in at_home else None)


def _dominant_script(weights: dict[str, float], known: float) -> str:
    non_latin = {script: weight for script, weight in weights.items() if script != "latin"}
    # Kana and Han together are one writing system (Japanese); judge them as one.
    non_latin["han"] = non_latin["han"] + non_latin.pop("kana")
    best = max(non_latin, key=lambda script: non_latin[script])
    if non_latin[best] / known >= _NON_LATIN_WINS_AT:
        return best
    return "latin"


def _scaled(confidence: float, share: float) -> float:
    """Lower a confidence when the deciding script holds only part of the letters."""
    return round(confidence * (1.0 if share >= 0.95 else share), 4)


def _alternatives(ranked: list[tuple[str, float]], chosen: str) -> tuple[tuple[str, float], ...]:
    return tuple((code, round(p, 4)) for code, p in ranked if code != chosen)[:3]


def _mostly_upper(sample: str) -> bool:
    upper = sum(1 for char in sample if char.isupper())
    lower = sum(1 for char in sample if char.islower())
    return upper > lower
