"""Reply quality checks ("smart QA"): a configurable checklist run on an agent's reply.

Each check passes or fails with the evidence for it (the spans of the reply it rests on), and
the reply gets a score: the weighted share of the applicable checks it passes, 0-100. A check
that cannot apply (no customer name given; the customer was not upset) is left out of the score
rather than passed for free.

The checks and their defaults (every list is extended or replaced in a :class:`QaConfig`):

- ``greeting``: the reply opens with a greeting (its first 80 characters);
- ``sign_off``: it closes with a sign-off (its last 160 characters);
- ``customer_name``: it uses the customer's name (when the caller knows it);
- ``empathy``: an apology or words of empathy, when the customer is negative;
- ``next_step``: a concrete next step or resolution ("I have refunded", "within 3 days",
  "you can track it here", "已为您退款"...);
- ``no_forbidden_promise``: none of the promises the policy forbids ("guarantee", "100 %",
  "will never happen again", "保证"...);
- ``no_personal_data``: no card number (13-19 digits passing the Luhn check), e-mail address
  (other than the desk's own) or phone number;
- ``length``: between ``min_words`` and ``max_words`` words (a CJK character counts as half a
  word, about how a reader takes it in).

Phrases are matched case-insensitively, in English, Chinese, Spanish, Portuguese, German, French
and Italian. ``docs/triage.md`` describes the configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

Span = tuple[int, int, str]
"""``(start, end, text)`` of evidence in the reply."""

_GREETINGS = [
    "hi", "hello", "hey", "dear", "good morning", "good afternoon", "good evening", "greetings",
    "您好", "你好", "尊敬的", "亲爱的", "早上好", "下午好",
    "hola", "estimado", "estimada", "buenos días", "buenas tardes",
    "olá", "ola", "prezado", "prezada", "bom dia", "boa tarde",
    "hallo", "guten tag", "guten morgen", "sehr geehrte", "sehr geehrter", "liebe", "lieber",
    "bonjour", "bonsoir", "cher", "chère", "salut",
    "ciao", "buongiorno", "buonasera", "gentile", "salve",
]  # fmt: skip
_SIGN_OFFS = [
    "regards", "best", "kind regards", "best wishes", "sincerely", "thanks", "thank you",
    "cheers", "yours", "have a nice day", "have a great day",
    "祝好", "此致", "敬礼", "谢谢", "感谢", "顺祝", "祝您", "客服",
    "saludos", "atentamente", "un saludo", "gracias", "cordialmente",
    "atenciosamente", "abraços", "obrigado", "obrigada", "cumprimentos",
    "grüße", "grüßen", "mit freundlichen", "danke", "viele grüße", "beste grüße",
    "cordialement", "bien à vous", "merci", "salutations",
    "cordiali saluti", "saluti", "grazie", "distinti saluti",
]  # fmt: skip
_EMPATHY = [
    "sorry", "apologise", "apologize", "apologies", "i understand", "we understand",
    "understand your frustration", "regret", "unfortunately",
    "抱歉", "对不起", "不好意思", "理解您", "给您带来", "非常遗憾", "深表歉意",
    "lo siento", "lamentamos", "disculpa", "disculpe", "disculpas", "entendemos",
    "desculpe", "lamentamos", "pedimos desculpa", "sentimos muito", "compreendemos",
    "entschuldigung", "entschuldigen", "tut uns leid", "tut mir leid", "bedauern", "verstehe",
    "désolé", "désolée", "excuses", "nous comprenons", "regrettons",
    "mi dispiace", "ci scusiamo", "scuse", "comprendiamo",
]  # fmt: skip
_NEXT_STEPS = [
    r"\bi(?:'ve| have)\s+(?:refunded|issued|sent|arranged|cancelled|canceled|updated|changed|"
    r"escalated|forwarded|reset|processed|created|booked|shipped|resent|re-sent|credited)",
    r"\bwe(?:'ve| have)\s+(?:refunded|issued|sent|arranged|cancelled|canceled|updated|changed|"
    r"escalated|forwarded|reset|processed|created|booked|shipped|resent|credited)",
    r"\b(?:we|i)(?:'ll| will)\s+\w+", r"\byou (?:can|will|should)\b", r"\bplease\s+\w+",
    r"\bwithin\s+\d+\s*(?:hours?|days?|working days?|business days?)",
    r"\btracking (?:number|link)\b", r"\bclick\b", r"\bnext step",
    r"已(?:为您|经|帮您)", r"我们(?:会|将)", r"您可以", r"请您?", r"\d+\s*个?(?:工作日|小时|天)内",
    r"\bhemos\s+\w+", r"\b(?:le|te)\s+(?:enviaremos|enviamos|reembolsaremos)", r"\bpuede\b",
    r"\bpor favor\b", r"\ben\s+\d+\s*días",
    r"\b(?:já|vamos)\s+\w+", r"\bpode\b", r"\bpor favor\b",
    r"\bwir\s+(?:haben|werden)\b", r"\bsie können\b", r"\bbitte\b", r"\binnerhalb von\s+\d+",
    r"\bnous\s+(?:avons|allons)\b", r"\bvous pouvez\b", r"\bveuillez\b", r"\bsous\s+\d+\s*jours",
    r"\babbiamo\s+\w+", r"\bpuò\b", r"\bper favore\b", r"\bentro\s+\d+\s*giorni",
]  # fmt: skip
_FORBIDDEN = [
    r"\bguarantee[ds]?\b", r"\b100\s?%", r"\bnever happen again\b", r"\bpromise\b",
    r"\bfree of charge forever\b", r"\bcompensat\w* (?:you )?(?:double|twice)\b",
    r"保证", r"绝对", r"承诺", r"百分之百",
    r"\bgarantizamos\b", r"\bgarantimos\b", r"\bgarantieren\b", r"\bgarantissons\b",
    r"\bgarantiamo\b",
]  # fmt: skip

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_PHONE = re.compile(r"(?<![\w+])\+?\d[\d ()./-]{7,}\d(?!\d)")
_DATE = re.compile(r"^\s*(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})\s*$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|\d+", re.UNICODE)


class QaConfig(BaseModel):
    """Which checks run, their weights, and the phrases they look for."""

    model_config = ConfigDict(extra="forbid")

    weights: dict[str, float] = Field(
        default_factory=lambda: {
            "greeting": 1.0,
            "sign_off": 1.0,
            "customer_name": 1.0,
            "empathy": 2.0,
            "next_step": 2.0,
            "no_forbidden_promise": 3.0,
            "no_personal_data": 3.0,
            "length": 1.0,
        }
    )
    greetings: list[str] = Field(default_factory=lambda: list(_GREETINGS))
    sign_offs: list[str] = Field(default_factory=lambda: list(_SIGN_OFFS))
    empathy: list[str] = Field(default_factory=lambda: list(_EMPATHY))
    next_steps: list[str] = Field(default_factory=lambda: list(_NEXT_STEPS))
    """Regular expressions."""
    forbidden_promises: list[str] = Field(default_factory=lambda: list(_FORBIDDEN))
    """Regular expressions."""
    allowed_emails: list[str] = Field(default_factory=list)
    """The desk's own addresses, which a reply may give."""
    min_words: int = Field(default=15, ge=0)
    max_words: int = Field(default=300, ge=1)


@dataclass(frozen=True)
class Finding:
    """One check's verdict and its evidence."""

    check: str
    passed: bool
    weight: float
    message: str
    evidence: list[Span] = field(default_factory=list)


@dataclass(frozen=True)
class QaResult:
    score: float
    """Weighted share of the applicable checks passed, 0-100."""
    findings: list[Finding]

    def failed(self) -> list[Finding]:
        return [f for f in self.findings if not f.passed]


def _phrase_pattern(phrases: list[str]) -> re.Pattern[str]:
    parts = []
    for phrase in sorted(phrases, key=len, reverse=True):
        escaped = re.escape(phrase)
        # whole words for alphabetic scripts; CJK phrases match anywhere
        parts.append(escaped if _CJK.search(phrase) else rf"(?<!\w){escaped}(?!\w)")
    return re.compile("|".join(parts), re.IGNORECASE)


def _spans(pattern: re.Pattern[str], text: str, offset: int = 0) -> list[Span]:
    return [(m.start() + offset, m.end() + offset, m.group(0)) for m in pattern.finditer(text)]


def _luhn(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for index, char in enumerate(digits):
        value = int(char)
        if index % 2 == parity:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def personal_data(text: str, *, allowed_emails: list[str] | None = None) -> list[Span]:
    """Card numbers (Luhn-valid), e-mail addresses (other than ``allowed_emails``) and phone
    numbers in ``text``."""
    allowed = {a.lower() for a in allowed_emails or []}
    found: list[Span] = []
    cards: list[tuple[int, int]] = []
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and _luhn(digits):
            found.append((match.start(), match.end(), match.group(0)))
            cards.append((match.start(), match.end()))
    for match in _EMAIL.finditer(text):
        if match.group(0).lower() not in allowed:
            found.append((match.start(), match.end(), match.group(0)))
    for match in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        inside_card = any(a <= match.start() < b for a, b in cards)
        if 8 <= len(digits) <= 15 and not inside_card and not _DATE.match(match.group(0)):
            found.append((match.start(), match.end(), match.group(0)))
    return sorted(found)


def word_count(text: str) -> float:
    """Words, with a CJK character counting as half a word."""
    cjk = len(_CJK.findall(text))
    other = len(_WORD.findall(_CJK.sub(" ", text)))
    return other + cjk / 2


class ReplyChecker:
    """The checklist of a :class:`QaConfig`, compiled once."""

    def __init__(self, config: QaConfig | None = None) -> None:
        self.config = config or QaConfig()
        self._greeting = _phrase_pattern(self.config.greetings)
        self._sign_off = _phrase_pattern(self.config.sign_offs)
        self._empathy = _phrase_pattern(self.config.empathy)
        self._next = re.compile("|".join(self.config.next_steps), re.IGNORECASE)
        self._forbidden = re.compile("|".join(self.config.forbidden_promises), re.IGNORECASE)

    def check(
        self,
        reply: str,
        *,
        customer_name: str | None = None,
        customer_negative: bool | None = None,
    ) -> QaResult:
        """Run the checklist on ``reply`` (``customer_negative``: from sentiment, or ``None``
        when unknown, which leaves the empathy check out)."""
        text = reply or ""
        config, findings = self.config, []

        def add(check: str, passed: bool, message: str, evidence: list[Span]) -> None:
            weight = config.weights.get(check, 0.0)
            if weight > 0:
                findings.append(Finding(check, passed, weight, message, evidence))

        def expect(
            check: str, evidence: list[Span], found: str, missing: str, *, want: bool
        ) -> None:
            """The check passes when evidence is ``want``-ed and found, or unwanted and absent."""
            add(check, bool(evidence) == want, found if evidence else missing, evidence)

        tail_start = max(0, len(text) - 160)
        expect(
            "greeting", _spans(self._greeting, text[:80]), "opens with a greeting", "no greeting",
            want=True,
        )  # fmt: skip
        expect(
            "sign_off", _spans(self._sign_off, text[tail_start:], tail_start),
            "closes with a sign-off", "no sign-off", want=True,
        )  # fmt: skip
        if customer_name and customer_name.strip():
            names = [customer_name.strip(), customer_name.strip().split()[0]]
            expect(
                "customer_name", _spans(_phrase_pattern(names), text),
                "uses the customer's name", f"does not use the name {names[0]!r}", want=True,
            )  # fmt: skip
        if customer_negative:
            expect(
                "empathy", _spans(self._empathy, text),
                "apologises or shows empathy", "no apology for an upset customer", want=True,
            )  # fmt: skip
        expect(
            "next_step", _spans(self._next, text),
            "gives a next step or resolution", "no concrete next step", want=True,
        )  # fmt: skip
        expect(
            "no_forbidden_promise", _spans(self._forbidden, text),
            "makes a promise the policy forbids", "no forbidden promise", want=False,
        )  # fmt: skip
        expect(
            "no_personal_data", personal_data(text, allowed_emails=config.allowed_emails),
            "contains personal data", "no personal data", want=False,
        )  # fmt: skip
        words = word_count(text)
        fits = config.min_words <= words <= config.max_words
        add(
            "length",
            fits,
            f"{words:g} words (allowed {config.min_words}-{config.max_words})",
            [],
        )
        total = sum(f.weight for f in findings)
        score = 100.0 * sum(f.weight for f in findings if f.passed) / total if total else 100.0
        return QaResult(score=round(score, 1), findings=findings)
