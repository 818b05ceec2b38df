"""``supportflow triage``: read customer messages, train and evaluate triage models.

``supportflow triage "TEXT"`` (or ``--file messages.csv``) answers with language, suggested
articles, sentiment and urgency; ``triage train`` learns an intent, sentiment or ticket-field
model from labelled rows; ``triage eval`` measures one on rows it did not learn from.
"""

from __future__ import annotations

import csv
import itertools
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from typer.core import TyperGroup

from supportflow.cli_options import UsageError, check_writable, err, fail, write_text

TRIAGE_EXAMPLE = (
    'Example: supportflow triage "¿Dónde está mi pedido?" | '
    "supportflow triage --file messages.csv --text-col text --json out.jsonl | "
    "supportflow triage train --task intent --data train.csv --text-col text --label-col intent "
    "--out intent.sfm | supportflow triage eval --model intent.sfm --data test.csv "
    "--text-col text --label-col intent --json metrics.json"
)
TASKS = ("intent", "sentiment", "field")
_BATCH = 64


class _DefaultToMessage(TyperGroup):
    """``triage TEXT`` and ``triage --file F`` run the ``message`` command; names run theirs."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["message", *args]
        elif not args:
            args = ["message"]
        return super().parse_args(ctx, args)


triage_app = typer.Typer(
    cls=_DefaultToMessage,
    help="Triage customer messages: language, articles, sentiment, urgency; train and evaluate models.",
    epilog=TRIAGE_EXAMPLE,
    add_completion=False,
)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _read_rows(path: Path, columns: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line, row)`` of a UTF-8 CSV; fails naming the missing columns and the ones there are."""
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    csv.field_size_limit(50_000_000)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in columns if c not in header]
            if missing:
                raise UsageError(
                    f"{path}: no column {', '.join(map(repr, missing))}; "
                    f"the columns are {', '.join(header) or '(none)'}"
                )
            for row in reader:
                yield reader.line_num, row
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise UsageError(f"{path}: malformed CSV ({exc})") from exc


def read_labelled(
    path: Path, text_cols: list[str], label_col: str
) -> tuple[list[str], list[str], list[str]]:
    """Texts (the text columns joined by a newline) and labels; rows lacking either are set
    apart, and returned as ``line N: reason`` notes."""
    texts: list[str] = []
    labels: list[str] = []
    skipped: list[str] = []
    for line, row in _read_rows(path, [*text_cols, label_col]):
        text = "\n".join((row.get(c) or "").strip() for c in text_cols).strip()
        label = (row.get(label_col) or "").strip()
        if not text or not label:
            skipped.append(f"line {line}: empty {'text' if not text else 'label'}")
            continue
        texts.append(text)
        labels.append(label)
    if not texts:
        raise UsageError(f"{path}: no row has both a text and a label")
    return texts, labels, skipped


def _report_skipped(path: Path, skipped: list[str]) -> None:
    if skipped:
        shown = "; ".join(skipped[:5]) + ("; ..." if len(skipped) > 5 else "")
        err.print(f"[yellow]{len(skipped)} row(s) of {path} set apart[/yellow]: {shown}")


def _parse_field_models(specs: list[str]) -> dict[str, Path]:
    models = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"--field-model takes NAME=MODEL.sfm, not {spec!r}")
        models[name] = Path(path)
    return models


def _build_triage(
    *,
    kb: Path | None,
    intent_model: Path | None,
    sentiment_model: Path | None,
    field_models: list[str],
    languages: str | None,
    top_k: int,
) -> Any:
    from supportflow.triage.intent import train_kb_matcher
    from supportflow.triage.kb import load_kb
    from supportflow.triage.language import DEFAULT_LANGUAGES
    from supportflow.triage.modelfile import load_model
    from supportflow.triage.pipeline import Triage

    if kb is not None and intent_model is not None:
        raise UsageError("give --kb or --intent-model, not both")
    codes = tuple(c.strip() for c in languages.split(",")) if languages else DEFAULT_LANGUAGES
    own_intents = kb is not None or intent_model is not None
    triage = Triage.default(languages=codes, top_k=top_k, default_intents=not own_intents)
    info = triage.encoder.info()
    if kb is not None:
        triage.kb = load_kb(kb)
        with _progress() as bar:
            task = bar.add_task(f"learning {kb.name}", total=None)
            triage.intent_model = train_kb_matcher(
                triage.kb,
                encoder=triage.encoder,
                progress=lambda stage, done, total: bar.update(
                    task, description=stage, completed=done, total=total
                ),
            )
    if intent_model is not None:
        triage.intent_model = _load_task_model(intent_model, "intent", info)
    if sentiment_model is not None:
        triage.sentiment_model = _load_task_model(sentiment_model, "sentiment", info)
    for name, path in _parse_field_models(field_models).items():
        triage.field_models[name] = load_model(path, encoder=info)
    return triage


def _load_task_model(path: Path, task: str, info: Any) -> Any:
    from supportflow.triage.modelfile import load_model

    model = load_model(path, encoder=info)
    if model.task != task:
        raise UsageError(f"{path} is a {model.task} model, not a {task} model")
    return model


@triage_app.command("message", epilog=TRIAGE_EXAMPLE)
def message_command(
    text: Annotated[str | None, typer.Argument(help="One message (or use --file).")] = None,
    file: Annotated[Path | None, typer.Option(help="A CSV of messages, one per row.")] = None,
    text_col: Annotated[str, typer.Option(help="The CSV column holding the message.")] = "text",
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write JSON lines here (default: standard output)."),
    ] = None,
    kb: Annotated[
        Path | None, typer.Option(help="A knowledge base (YAML or CSV) to match.")
    ] = None,
    intent_model: Annotated[
        Path | None, typer.Option(help="An intent model from 'triage train --task intent'.")
    ] = None,
    sentiment_model: Annotated[
        Path | None, typer.Option(help="A sentiment model from 'triage train --task sentiment'.")
    ] = None,
    field_model: Annotated[
        list[str] | None, typer.Option(help="NAME=MODEL.sfm: predict a ticket field (repeatable).")
    ] = None,
    languages: Annotated[
        str | None, typer.Option(help="The languages the team serves, e.g. en,es,zh.")
    ] = None,
    top_k: Annotated[int, typer.Option(help="How many articles to suggest.")] = 3,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output.")] = False,
) -> None:
    """Triage one message (JSON on standard output) or a CSV file of them (JSON lines)."""
    try:
        if (text is None) == (file is None):
            raise UsageError('give one message as TEXT or a CSV with --file, e.g. triage "hello"')
        if top_k < 1:
            raise UsageError(f"--top-k must be at least 1, not {top_k}")
        check_writable(json_out, overwrite=overwrite)
        triage = _build_triage(
            kb=kb, intent_model=intent_model, sentiment_model=sentiment_model,
            field_models=field_model or [], languages=languages, top_k=top_k,
        )  # fmt: skip
        if text is not None:
            answer = json.dumps(triage.run([text])[0], ensure_ascii=False, indent=1)
            if json_out is None:
                typer.echo(answer)
            else:
                write_text(json_out, answer + "\n")
            return
        assert file is not None
        _triage_file(triage, file, text_col, json_out)
    except (UsageError, ValueError, OSError) as exc:
        fail(str(exc))


def _triage_file(triage: Any, path: Path, text_col: str, json_out: Path | None) -> None:
    """Stream the CSV through triage in batches, writing one JSON line per row as it goes."""
    rows = _read_rows(path, [text_col])
    target = sys.stdout
    try:
        if json_out is not None:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            target = json_out.open("w", encoding="utf-8")
        with _progress() as bar:
            task = bar.add_task("triage", total=None)
            while chunk := list(itertools.islice(rows, _BATCH)):
                answers = triage.run([row.get(text_col) or "" for _, row in chunk])
                for (line, _), answer in zip(chunk, answers, strict=True):
                    target.write(json.dumps({"line": line, **answer}, ensure_ascii=False) + "\n")
                bar.update(task, advance=len(chunk))
    finally:
        if target is not sys.stdout:
            target.close()
    if json_out is not None:
        typer.echo(str(json_out))


@triage_app.command("train", epilog=TRIAGE_EXAMPLE)
def train_command(
    task: Annotated[str, typer.Option(help="intent, sentiment or field.")],
    out: Annotated[Path, typer.Option(help="Write the model (.sfm) here.")],
    data: Annotated[Path | None, typer.Option(help="A CSV of labelled rows.")] = None,
    text_col: Annotated[
        list[str] | None,
        typer.Option(help="Text column (repeat to join several, e.g. subject and body)."),
    ] = None,
    label_col: Annotated[str, typer.Option(help="The column holding the label.")] = "label",
    kb: Annotated[
        Path | None, typer.Option(help="--task intent: learn from a knowledge base instead.")
    ] = None,
    oos_label: Annotated[
        str | None, typer.Option(help="The label of out-of-scope rows (they become 'no match').")
    ] = None,
    no_encoder: Annotated[
        bool, typer.Option(help="n-grams only: much faster on long e-mails, less accurate.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output.")] = False,
) -> None:
    """Learn an intent, sentiment or ticket-field model from labelled rows."""
    from supportflow.triage.classifier import TrainingError
    from supportflow.triage.encoder import shared_encoder
    from supportflow.triage.intent import train_kb_matcher
    from supportflow.triage.kb import KnowledgeBaseError, load_kb
    from supportflow.triage.language import LanguageDetector
    from supportflow.triage.modelfile import save_model
    from supportflow.triage.training import TrainConfig, train_classifier

    try:
        if task not in TASKS:
            raise UsageError(f"--task must be one of {', '.join(TASKS)}, not {task!r}")
        if (data is None) == (kb is None):
            raise UsageError("give the examples as --data FILE, or --kb FILE for --task intent")
        if kb is not None and task != "intent":
            raise UsageError("--kb trains intent models only")
        check_writable(out, overwrite=overwrite)
        encoder = shared_encoder()
        with _progress() as bar:
            progress_task = bar.add_task("reading", total=None)

            def report(stage: str, done: int, total: int) -> None:
                bar.update(progress_task, description=stage, completed=done, total=total)

            if kb is not None:
                model = train_kb_matcher(load_kb(kb), encoder=encoder, progress=report)
            else:
                assert data is not None
                texts, labels, skipped = read_labelled(data, text_col or ["text"], label_col)
                _report_skipped(data, skipped)
                detector = LanguageDetector()
                languages = [detector.detect(t).code for t in texts]
                model = train_classifier(
                    texts, labels, task=task, encoder=encoder, oos_label=oos_label,
                    languages=languages, config=TrainConfig(use_encoder=not no_encoder),
                    progress=report,
                )  # fmt: skip
        save_model(model, out)
    except (UsageError, TrainingError, KnowledgeBaseError, ValueError, OSError) as exc:
        fail(str(exc))
    holdout = model.training.get("holdout", {})
    err.print(
        f"{task} model: {len(model.labels)} labels from {model.training['rows']:,} rows; "
        f"held-out accuracy of the n-gram head {holdout.get('ngram_accuracy', float('nan')):.1%}"
        + (f", of the blend {holdout['blend_accuracy']:.1%}" if "blend_accuracy" in holdout else "")
    )
    typer.echo(str(out))


@triage_app.command("eval", epilog=TRIAGE_EXAMPLE)
def eval_command(
    model: Annotated[Path, typer.Option(help="A model from 'triage train'.")],
    data: Annotated[
        Path, typer.Option(help="A CSV of labelled rows the model did not learn from.")
    ],
    text_col: Annotated[
        list[str] | None, typer.Option(help="Text column (repeat to join several).")
    ] = None,
    label_col: Annotated[str, typer.Option(help="The column holding the true label.")] = "label",
    oos_label: Annotated[
        str | None, typer.Option(help="The label of out-of-scope rows: reports their recall.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the metrics here.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output.")] = False,
) -> None:
    """Measure a model on labelled rows: accuracy, macro-F1, top-3, per label, latency."""
    from supportflow.triage.encoder import shared_encoder
    from supportflow.triage.evaluate import evaluate_classifier
    from supportflow.triage.language import LanguageDetector
    from supportflow.triage.modelfile import load_model

    try:
        check_writable(json_out, overwrite=overwrite)
        encoder = shared_encoder()
        classifier = load_model(model, encoder=encoder.info())
        texts, labels, skipped = read_labelled(data, text_col or ["text"], label_col)
        _report_skipped(data, skipped)
        detector = LanguageDetector()
        languages = [detector.detect(t).code for t in texts]
        metrics = evaluate_classifier(
            classifier, texts, labels, encoder=encoder, oos_label=oos_label, languages=languages
        )
        metrics["skipped_rows"] = len(skipped)
        if json_out is not None:
            write_text(json_out, json.dumps(metrics, indent=1, ensure_ascii=False))
    except (UsageError, ValueError, OSError) as exc:
        fail(str(exc))
    summary = (
        f"n={metrics['n']:,} accuracy={metrics['accuracy']:.1%} macro_f1={metrics['macro_f1']:.1%} "
        f"top3={metrics['top3_accuracy']:.1%} p95={metrics['latency_ms_p95']:.1f} ms"
    )
    if oos_label is not None:
        summary += (
            f" in_scope_accuracy={metrics['in_scope_accuracy']:.1%} "
            f"oos_recall={metrics['oos_recall']:.1%}"
        )
    err.print(summary)
    if json_out is not None:
        typer.echo(str(json_out))
