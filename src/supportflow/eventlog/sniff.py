"""Looking at a file's first bytes to tell its format and text encoding.

A help-desk export arrives as whatever the tool or the analyst saved: CSV in UTF-8 or in a
Windows code page, gzipped or not, Parquet, XES, JSON lines. We read a small head of the file,
refuse what is empty or binary with a clear message, and otherwise say what it is.
"""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path
from typing import Literal

from charset_normalizer import from_bytes

from supportflow.eventlog.errors import BinaryFileError, EmptyFileError, EncodingError

SourceFormat = Literal["csv", "parquet", "xes", "jsonl", "json"]
HEAD_BYTES = 1 << 20

_BINARY_MAGIC: dict[bytes, str] = {
    b"PK\x03\x04": "a ZIP archive (an .xlsx workbook?)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Office document (.xls?)",
    b"SQLite format 3": "a SQLite database",
    b"\x7fELF": "a program",
}


def read_head(path: Path) -> tuple[bytes, bool]:
    """The first bytes of the file's content (decompressed when gzipped) and whether it is gzip."""
    with path.open("rb") as raw:
        magic = raw.read(2)
    if magic == b"\x1f\x8b":
        with gzip.open(path, "rb") as unzipped:
            try:
                return unzipped.read(HEAD_BYTES), True
            except (OSError, EOFError) as exc:
                raise BinaryFileError(
                    f"{path}: looks gzipped but cannot be decompressed ({exc})"
                ) from exc
    with path.open("rb") as raw:
        return raw.read(HEAD_BYTES), False


def sniff_format(path: Path, head: bytes) -> SourceFormat:
    """Tell the format from the content (and the name only when the content is ambiguous).

    Raises:
        EmptyFileError: the file has no bytes.
        BinaryFileError: the content is a known binary format or not text.
    """
    if not head:
        raise EmptyFileError(f"{path}: the file is empty")
    if head.startswith(b"PAR1"):
        return "parquet"
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise BinaryFileError(
                f"{path}: this is {what}, not an event log; export it as CSV, Parquet, XES or JSON lines"
            )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "csv"  # UTF-16 with a byte-order mark: DuckDB's CSV reader decodes it
    if _looks_binary(head):
        raise BinaryFileError(
            f"{path}: the file is binary (control bytes in its first {len(head)} bytes), "
            "not a CSV, XES or JSON event log"
        )
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        return "xes"
    if stripped.startswith(b"{"):
        first_line = stripped.split(b"\n", 1)[0].strip()
        return "jsonl" if first_line.endswith(b"}") and b"\n{" in stripped else "json"
    if stripped.startswith(b"["):
        return "json"
    return "csv"


def _looks_binary(head: bytes) -> bool:
    sample = head[:65536]
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return control > len(sample) // 100


def detect_encoding(path: Path, head: bytes, requested: str | None) -> str:
    """The text encoding to read the file with: ``requested`` when given (checked), UTF-8 when the
    head decodes as UTF-8, else charset-normalizer's best guess.

    Raises:
        EncodingError: the requested encoding is unknown or cannot decode the file's head, or no
            encoding fits.
    """
    if requested:
        try:
            codec = codecs.lookup(requested)
        except LookupError as exc:
            raise EncodingError(f"unknown encoding {requested!r}") from exc
        try:
            head.decode(codec.name)
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # a character cut at the end of the head is fine
                raise EncodingError(
                    f"{path}: byte {exc.start} is not valid {requested} ({exc.reason}); "
                    "check --encoding"
                ) from exc
        return codec.name
    if head.startswith(b"\xff\xfe"):
        return "utf-16"  # little-endian, which DuckDB decodes itself
    if head.startswith(b"\xfe\xff"):
        return "utf-16-be"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4 and len(head) == HEAD_BYTES:
            return "utf-8"
    best = from_bytes(head).best()
    if best is None:
        raise EncodingError(f"{path}: cannot tell the text encoding; name it with --encoding")
    return _prefer_common(head, codecs.lookup(best.encoding).name)


# Short samples cannot tell apart encodings that decode the same bytes; among those we prefer
# the one our users most often have: Windows-1252 for Latin script, GB18030 (a superset of GBK)
# for CJK. The choice is printed, and --encoding overrides it.
_LATIN_SINGLE_BYTE = ("cp125", "cp437", "cp775", "cp85", "cp86", "latin", "iso8859", "mac")
_CJK = {"cp949", "euc_kr", "gb2312", "gbk", "gb18030", "big5", "big5hkscs", "johab", "hz"}


def _prefer_common(head: bytes, guess: str) -> str:
    if guess.startswith(_LATIN_SINGLE_BYTE) and _decodes(head, "cp1252"):
        return "cp1252"
    if guess in _CJK and _decodes(head, "gb18030"):
        return "gb18030"
    return guess


def _decodes(head: bytes, encoding: str) -> bool:
    try:
        head.decode(encoding)
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 4 and len(head) == HEAD_BYTES
    return True
