"""Outputs that appear only when complete: temporary names renamed into place, and checks before a run.

Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.txt"
    >>> whole_or_nothing(target, lambda f: f.write(b"done"))
    >>> target.read_bytes()
    b'done'
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import IO

from dedup.io.sources import InputError, Source


def whole_or_nothing(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """``write`` into a temporary file beside ``path``, renamed to it when complete: never a partial file."""
    temporary = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with open(temporary, "wb") as out:
            write(out)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_to(target: Path | IO[bytes], write: Callable[[IO[bytes]], None]) -> None:
    """``write`` to a file, whole or not at all (:func:`whole_or_nothing`), or straight to a stream,
    flushed (so that a closed pipe is found here, not when Python exits)."""
    if isinstance(target, Path):
        whole_or_nothing(target, write)
    else:
        write(target)
        target.flush()


def check_output(out: Path, sources: list[Source], force: bool) -> None:
    """Refuse an output that exists (unless ``force``) or that lies inside, or is, an input."""
    resolved = out.resolve()
    for source in sources:
        src = source.path.resolve()
        folder = source.folder.resolve() if source.folder is not None else src if source.kind == "txt-dir" else None
        if resolved == src or (folder is not None and resolved.is_relative_to(folder)):
            raise InputError(f"{out}: the output would be inside the input {source.folder or source.path}; "
                             "choose another --out")
    if out.exists() and not force:
        raise InputError(f"{out}: already exists; use --force to replace it")


def publish(temporary: Path, final: Path) -> None:
    """Move a finished output into place, replacing what stood there (files and folders alike)."""
    if final.is_dir() and not final.is_symlink():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        final.rename(old)
        temporary.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(temporary, final)
