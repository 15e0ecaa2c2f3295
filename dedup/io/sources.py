"""What the inputs are: each given path checked and named with its format, before anything is read.

Example:
    >>> from dedup.config import Config
    >>> [(s.kind, s.name) for s in open_sources(["seeds"], Config())]
    [('txt-dir', 'seeds')]
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dedup.config import Config

STDIN = "-"


class InputError(Exception):
    """Input that cannot be read as asked; the message names the file and line or record."""


@dataclass
class Counters:
    """What the readers read, skipped or repaired, for the summary and ``--stats-json``."""

    files: int = 0
    records_per_input: list[int] = field(default_factory=list)  # in the order the inputs were given
    records_skipped: int = 0
    binary_files_skipped: int = 0
    invalid_utf8_docs: int = 0
    empty_docs: int = 0
    problems: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(message)


@dataclass(frozen=True)
class Source:
    """One input: ``kind`` is txt-dir, txt, jsonl or parquet; ``name`` labels it in ids and outputs.
    ``stamp`` is a file's size and modification time when it was opened (None for a folder);
    ``shown`` how messages name an input read from a spooled copy (``<stdin>``); ``folder`` the
    input folder a shard was found in (:func:`folder_sources`): its ``name`` is then its path there."""

    path: Path
    kind: str
    name: str
    stamp: tuple[int, int] | None = None
    shown: str | None = None
    folder: Path | None = None

    @property
    def where(self) -> str:
        """The input as messages name it: its path, or what was spooled (``<stdin>``, ``<dataframe>``)."""
        return self.shown or str(self.path)

    def changed(self) -> bool:
        """Whether the file's size or modification time differs from when it was opened."""
        return self.stamp is not None and _stamp(self.path) != self.stamp


def _stamp(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns


# File names JSON Lines are read from, and those of the shards a folder is read from (a .json file
# in a folder is not one: dataset folders keep their metadata in .json files).
JSONL_ENDINGS = tuple(base + packed for base in (".jsonl", ".ndjson", ".json") for packed in ("", ".gz", ".zst"))
SHARD_ENDINGS = {"jsonl": tuple(e for e in JSONL_ENDINGS if not e.startswith(".json.") and e != ".json"),
                 "parquet": (".parquet",)}
FOLDER_FORMATS = ".txt, .jsonl(.gz|.zst), .ndjson(.gz|.zst) or .parquet files"


def named_kind(name: str) -> str | None:
    """The format a file's name gives, for input and output alike: jsonl, parquet or txt; None when
    it names none (a folder).

    >>> [named_kind(n) for n in ("clean.parquet", "c.ndjson.zst", "c.json.gz", "clean", "a.TXT")]
    ['parquet', 'jsonl', 'jsonl', None, 'txt']
    """
    name = name.lower()
    if name.endswith(JSONL_ENDINGS):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".txt"):
        return "txt"
    return None


def detect_kind(path: Path) -> str:
    """txt-dir, txt, jsonl or parquet, from what ``path`` is and how its name ends."""
    if path.is_dir():
        return "txt-dir"
    kind = named_kind(path.name)
    if kind is not None:
        return kind
    raise InputError(f"{path}: cannot tell the format from the name; use --format txt|jsonl|parquet")


def folder_sources(folder: Path, name: str, config: Config, alone: bool) -> list[Source]:
    """What a folder holds, as sources: its .txt files (one ``txt-dir`` source), or its shards
    (.jsonl(.gz|.zst), .ndjson(.gz|.zst), .parquet, recursively, outside hidden folders), one source
    each, in the order of their paths and named by them (after ``name/`` unless the folder is the
    only input). ``--format`` picks one kind in a folder that holds several; a folder that mixes
    .txt files and shards without it, or holds nothing readable, is an :class:`InputError` saying
    what it found."""
    files = sorted(files_under(folder))
    txt = [f for f in files if f.lower().endswith(".txt")]
    shards = [(f, kind) for f in files for kind, endings in SHARD_ENDINGS.items()
              if f.lower().endswith(endings) and not any(part.startswith(".") for part in f.split("/"))]
    wanted = config.format if config.format != "auto" else "txt" if txt and not shards else "shards"
    if wanted == "txt" and txt:
        return [Source(folder, "txt-dir", name)]
    shards = [(f, kind) for f, kind in shards if wanted in ("shards", kind)]
    if wanted == "shards" and txt and shards:
        raise InputError(f"{folder}: holds both .txt files ({_some(txt)}) and shards ({_some([f for f, _ in shards])});"
                         " use --format txt, jsonl or parquet to read one kind")
    if not shards:
        what = {"txt": ".txt files", "jsonl": ".jsonl(.gz|.zst) or .ndjson(.gz|.zst) files",
                "parquet": ".parquet files"}.get(wanted, FOLDER_FORMATS)
        found = f"found {_some(files)}" if files else "it is empty"
        hint = "; a .json file in a folder is not read, give it as an input itself" if any(
            f.lower().endswith(".json") for f in files) else ""
        raise InputError(f"{folder}: no {what} ({found}){hint}")
    return [Source(folder / f, kind, f if alone else f"{name}/{f}", _stamp(folder / f), folder=folder)
            for f, kind in shards]


def files_under(folder: Path) -> Iterator[str]:
    """The files anywhere under ``folder``, as relative POSIX paths, from directory entries (no stat
    but of symlinks, which count when they lead to a file; folders reached through one are not entered)."""
    pending = [("", os.fspath(folder))]
    while pending:
        prefix, path = pending.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                pending.append((f"{prefix}{entry.name}/", entry.path))
            elif entry.is_file():
                yield prefix + entry.name


def _some(names: list[str], shown: int = 3) -> str:
    listed = ", ".join(names[:shown]) + (", ..." if len(names) > shown else "")
    return f"{len(names):,} file{'s' if len(names) != 1 else ''}: {listed}"


def open_sources(inputs: list[str | pl.DataFrame], config: Config, spool_dir: Path | None = None) -> list[Source]:
    """Check every input exists and name its format (a folder gives a source per shard: see
    :func:`folder_sources`). ``-`` (stdin) is copied to ``spool_dir`` first,
    because ``clean`` reads the input twice (fingerprints, then the output); so is a DataFrame given
    to the API (as Parquet, named ``dataframe``)."""
    if not inputs:
        raise InputError("no input given")
    sources = []
    for given in inputs:
        if isinstance(given, pl.DataFrame):
            if spool_dir is None:
                raise InputError("a DataFrame input needs a spool folder")
            if config.text_field not in given.columns:
                raise InputError(f"the DataFrame has no {config.text_field!r} column (columns: {', '.join(given.columns)})")
            spooled = spool_dir / f"dataframe-{len(sources)}.parquet"
            given.write_parquet(spooled)
            sources.append(Source(spooled, "parquet", "dataframe", _stamp(spooled), "<dataframe>"))
            continue
        if given == STDIN:
            if spool_dir is None:
                raise InputError("-: reading stdin needs a spool folder")
            spooled = spool_dir / "stdin.jsonl"
            with open(spooled, "wb") as out:
                shutil.copyfileobj(sys.stdin.buffer, out)
            sources.append(Source(spooled, "jsonl", "stdin", _stamp(spooled), "<stdin>"))
            continue
        path = Path(given)
        if not path.exists():
            raise InputError(f"{given}: no such file or folder")
        if not (path.is_file() or path.is_dir()):
            raise InputError(f"{given}: is {_what(path)}, not a file or folder; to read a stream, pipe it to - (stdin)")
        if path.is_dir():
            sources += folder_sources(path, path.name or str(path), config, alone=len(inputs) == 1)
            continue
        kind = detect_kind(path) if config.format == "auto" else config.format
        sources.append(Source(path, kind, path.name or str(path), _stamp(path)))
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise InputError(f"two inputs share a name ({', '.join(sorted({n for n in names if names.count(n) > 1}))})")
    return sources


def _what(path: Path) -> str:
    """What a path that is neither a file nor a folder is, for a message."""
    checks = (("is_fifo", "a FIFO (named pipe)"), ("is_char_device", "a character device"),
              ("is_block_device", "a block device"), ("is_socket", "a socket"))
    return next((name for test, name in checks if getattr(path, test)()), "a special file")


def input_bytes(sources: list[Source]) -> int | None:
    """The bytes the readers will go through (what ``Record.size`` adds up to: compressed bytes for
    .gz and .zst), or None when that is not known in advance (Parquet)."""
    total = 0
    for source in sources:
        if source.kind == "parquet":
            return None
        if source.kind == "txt-dir":
            total += sum(p.stat().st_size for p in source.path.rglob("*.txt") if p.is_file())
        else:
            total += source.path.stat().st_size
    return total
