"""``supportflow triage``: one message, a file of them, train and eval, as a user runs them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

CONTRACT = {"language", "intents", "no_match", "sentiment", "urgent"}
METRICS = {
    "n",
    "accuracy",
    "macro_f1",
    "top3_accuracy",
    "per_label",
    "latency_ms_p50",
    "latency_ms_p95",
}


def supportflow(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "supportflow.cli", *args],
        capture_output=True, text=True, cwd=cwd, timeout=600,
    )  # fmt: skip


def test_one_message_answers_with_the_contract_keys() -> None:
    result = supportflow("triage", "¿Dónde está mi pedido?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) >= CONTRACT
    assert answer["language"] == "es"
    assert answer["intents"][0]["id"] == "order_status"
    assert set(answer["intents"][0]) >= {"id", "score"}
    assert answer["no_match"] is False
    assert set(answer["sentiment"]) == {"label", "scores"}
    assert isinstance(answer["urgent"], bool)


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_a_file_of_messages_gives_json_lines_in_order(tmp_path: Path) -> None:
    messages = _write_csv(
        tmp_path / "messages.csv",
        ["id", "body"],
        [
            ["1", "Where is my order? It has not arrived"],
            ["2", ""],
            ["3", "退款什么时候到账"],
            ["4", "😡"],
        ],
    )
    out = tmp_path / "out.jsonl"
    result = supportflow(
        "triage", "--file", str(messages), "--text-col", "body", "--json", str(out)
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["line"] for line in lines] == [2, 3, 4, 5]
    assert all(set(line) >= CONTRACT for line in lines)
    assert lines[0]["intents"][0]["id"] == "order_status"
    assert lines[1]["note"] == "empty message"
    assert lines[2]["language"] == "zh" and lines[2]["intents"][0]["id"] == "refund_status"
    again = supportflow("triage", "--file", str(messages), "--text-col", "body", "--json", str(out))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_mistakes_fail_with_one_line(tmp_path: Path) -> None:
    messages = _write_csv(tmp_path / "m.csv", ["body"], [["hello"]])
    missing = supportflow("triage", "--file", str(messages), "--text-col", "text")
    assert missing.returncode == 2
    assert "no column 'text'; the columns are body" in missing.stderr
    neither = supportflow("triage")
    assert neither.returncode == 2 and "give one message" in neither.stderr
    bad_task = supportflow(
        "triage", "train", "--task", "mood", "--data", str(messages), "--out", "x.sfm"
    )
    assert (
        bad_task.returncode == 2
        and "--task must be one of intent, sentiment, field" in bad_task.stderr
    )
    junk = tmp_path / "junk.sfm"
    junk.write_bytes(b"junk")
    not_model = supportflow("triage", "hello", "--intent-model", str(junk))
    assert not_model.returncode == 2 and "not a supportflow model file" in not_model.stderr
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("text\ncaf\xe9\n".encode("latin-1"))
    encoding = supportflow("triage", "--file", str(latin1))
    assert encoding.returncode == 2 and "not UTF-8 text" in encoding.stderr


ROWS = [
    ("where is my order", "order"), ("my parcel has not arrived", "order"),
    ("when will my package come", "order"), ("order still not delivered", "order"),
    ("has my order shipped yet", "order"), ("I am waiting for my delivery", "order"),
    ("I want my money back", "refund"), ("refund my payment please", "refund"),
    ("when do I get the refund", "refund"), ("the refund never arrived", "refund"),
    ("give me back my money", "refund"), ("how long does a refund take", "refund"),
    ("I forgot my password", "login"), ("cannot log in", "login"),
    ("reset my password", "login"), ("my account is locked", "login"),
    ("login page gives an error", "login"), ("I can't sign in", "login"),
    ("", "order"), ("a row without a label", ""),
]  # fmt: skip


def test_train_then_eval_a_model_and_use_it(tmp_path: Path) -> None:
    data = _write_csv(tmp_path / "train.csv", ["text", "intent"], [list(r) for r in ROWS])
    model = tmp_path / "intent.sfm"
    trained = supportflow(
        "triage", "train", "--task", "intent", "--data", str(data),
        "--text-col", "text", "--label-col", "intent", "--out", str(model),
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    assert "2 row(s)" in trained.stderr and "line 20: empty text" in trained.stderr
    test = _write_csv(
        tmp_path / "test.csv",
        ["text", "intent"],
        [["my package is late", "order"], ["refund please", "refund"], ["password reset", "login"]],
    )
    metrics_path = tmp_path / "metrics.json"
    evaluated = supportflow(
        "triage", "eval", "--model", str(model), "--data", str(test),
        "--text-col", "text", "--label-col", "intent", "--json", str(metrics_path),
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    assert set(metrics) >= METRICS
    assert metrics["n"] == 3 and metrics["accuracy"] == 1.0
    used = supportflow("triage", "¿dónde está mi paquete?", "--intent-model", str(model))
    assert used.returncode == 0, used.stderr
    assert json.loads(used.stdout)["intents"][0]["id"] == "order"
    wrong_task = supportflow("triage", "hello", "--sentiment-model", str(model))
    assert (
        wrong_task.returncode == 2
        and "is a intent model, not a sentiment model" in wrong_task.stderr
    )


@pytest.mark.parametrize("flag", ["--help"])
def test_help_shows_an_example(flag: str) -> None:
    result = supportflow("triage", flag)
    assert result.returncode == 0 and "Example: supportflow triage" in result.stdout
