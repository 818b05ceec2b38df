"""Reply quality checks: each check's verdict with its evidence, in several languages."""

from __future__ import annotations

import pytest

from supportflow.triage.qa import QaConfig, ReplyChecker, personal_data, word_count

CHECKER = ReplyChecker()

GOOD = (
    "Hi Maria,\n\nI'm sorry your parcel arrived damaged. I have refunded the full amount to your "
    "card today; it will show within 5 working days. You don't need to send the item back.\n\n"
    "Kind regards,\nTom"
)


def verdicts(result) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    return {f.check: f.passed for f in result.findings}


def test_a_good_reply_passes_every_check_with_its_evidence() -> None:
    result = CHECKER.check(GOOD, customer_name="Maria Rossi", customer_negative=True)
    assert verdicts(result) == {
        "greeting": True,
        "sign_off": True,
        "customer_name": True,
        "empathy": True,
        "next_step": True,
        "no_forbidden_promise": True,
        "no_personal_data": True,
        "length": True,
    }
    assert result.score == 100.0
    empathy = next(f for f in result.findings if f.check == "empathy")
    start, end, text = empathy.evidence[0]
    assert text.lower() == "sorry" and GOOD[start:end] == text


def test_a_curt_reply_fails_what_it_lacks_and_scores_by_weight() -> None:
    result = CHECKER.check("ok", customer_name="Maria", customer_negative=True)
    failed = {f.check for f in result.failed()}
    assert failed == {"greeting", "sign_off", "customer_name", "empathy", "next_step", "length"}
    # passed: no forbidden promise (3) and no personal data (3) of 1+1+1+2+2+3+3+1 = 14
    assert result.score == pytest.approx(100 * 6 / 14, abs=0.1)


def test_checks_that_cannot_apply_are_left_out_of_the_score() -> None:
    result = CHECKER.check(GOOD)  # no name, sentiment unknown
    assert {f.check for f in result.findings} == {
        "greeting", "sign_off", "next_step", "no_forbidden_promise", "no_personal_data", "length",
    }  # fmt: skip


def test_a_forbidden_promise_is_found_with_its_span() -> None:
    reply = "Hello, we guarantee this will never happen again. Best regards, Ana"
    result = CHECKER.check(reply)
    promise = next(f for f in result.findings if f.check == "no_forbidden_promise")
    assert not promise.passed
    assert [e[2].lower() for e in promise.evidence] == ["guarantee", "never happen again"]


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("Your card 4111 1111 1111 1111 was charged", ["4111 1111 1111 1111"]),
        ("Card 4111 1111 1111 1112 (not a real number)", []),  # fails the Luhn check
        ("Write to maria.rossi@example.com", ["maria.rossi@example.com"]),
        ("Call me on +39 06 1234 5678", ["+39 06 1234 5678"]),
        ("Order 12345 ships in 3 days", []),
        ("It left on 2024-06-03 and arrives 05.06.2024", []),  # dates are not phone numbers
        ("Write to support@shop.example", []),  # the desk's own address is allowed
    ],
)
def test_personal_data(text: str, leaked: list[str]) -> None:
    found = personal_data(text, allowed_emails=["support@shop.example"])
    assert [span[2] for span in found] == leaked
    for start, end, value in found:
        assert text[start:end] == value


def test_chinese_german_and_spanish_replies() -> None:
    zh = "王先生您好，非常抱歉给您带来不便。我们已为您办理退款，预计3个工作日内到账。祝好！客服小李"
    result = CHECKER.check(zh, customer_name="王", customer_negative=True)
    assert all(verdicts(result).values()), verdicts(result)
    de = (
        "Hallo Herr Weber, es tut uns leid, dass die Lieferung verspätet ist. Wir haben das "
        "Paket heute neu verschickt; die Sendungsnummer kommt per E-Mail. Viele Grüße, Anna"
    )
    assert all(verdicts(CHECKER.check(de, customer_name="Weber", customer_negative=True)).values())
    es = (
        "Hola Lucía, lamentamos mucho el retraso. Hemos enviado un nuevo paquete y le "
        "enviaremos el número de seguimiento por correo. Un saludo, Pablo"
    )
    assert all(verdicts(CHECKER.check(es, customer_name="Lucía", customer_negative=True)).values())


def test_length_counts_chinese_characters_as_half_words() -> None:
    assert word_count("我们已为您退款") == pytest.approx(3.5)
    assert word_count("We have refunded you, Maria.") == 5
    long = "word " * 400
    length = next(f for f in CHECKER.check(long).findings if f.check == "length")
    assert not length.passed and "400 words" in length.message


def test_the_checklist_is_configurable() -> None:
    checker = ReplyChecker(
        QaConfig(
            weights={"greeting": 1.0, "no_forbidden_promise": 1.0},
            forbidden_promises=[r"\bfree upgrade\b"],
        )
    )
    result = checker.check("Hello! You get a free upgrade.")
    assert verdicts(result) == {"greeting": True, "no_forbidden_promise": False}
    assert result.score == 50.0


@pytest.mark.parametrize(
    "hostile", ["", "\x00\x01\x02", "😀" * 50, "مرحبا، شكرا لك", "a" * 1_000_000]
)
def test_hostile_replies_get_a_verdict_not_a_crash(hostile: str) -> None:
    result = CHECKER.check(hostile)
    assert 0 <= result.score <= 100
