"""Each format's reader and writer, chosen in one place by a source's kind.

Example:
    >>> from dedup.config import Config
    >>> from dedup.io.sources import Counters, open_sources
    >>> [r.doc_id for r in iter_records(open_sources(["seeds"], Config())[0], Config(), Counters())]
    ['000_4a60dc78fcca73dd.txt']
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dedup.config import Config
from dedup.io.jsonl import JsonlWriter, read_jsonl
from dedup.io.parquet import ParquetWriter, read_parquet
from dedup.io.records import Record, Writer
from dedup.io.sources import Counters, Source
from dedup.io.txt import TxtWriter, read_txt_dir, read_txt_file


def iter_records(source: Source, config: Config, counters: Counters) -> Iterator[Record]:
    """The records of one source, in a fixed order."""
    readers = {"txt-dir": read_txt_dir, "txt": read_txt_file, "jsonl": read_jsonl, "parquet": read_parquet}
    yield from readers[source.kind](source, config, counters)


def writer_for(source: Source, target: Path | None, config: Config) -> Writer:
    """The writer that mirrors ``source``'s format at ``target`` (None: JSON Lines on stdout)."""
    if target is None:
        return JsonlWriter(None, config.text_field if source.kind in ("jsonl", "parquet") else "text")
    if source.kind in ("txt-dir", "txt"):
        return TxtWriter(target, folder=source.kind == "txt-dir")
    if source.kind == "parquet":
        return ParquetWriter(target, config.text_field)
    return JsonlWriter(target, config.text_field)
