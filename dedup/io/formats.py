"""Each format's reader and writer, chosen in one place: readers by a source's kind, writers by the
output's name (``--out x.parquet`` writes Parquet whatever the input), else by the source's kind.

Example:
    >>> from dedup.config import Config
    >>> from dedup.io.sources import Counters, open_sources
    >>> [r.doc_id for r in iter_records(open_sources(["seeds"], Config())[0], Config(), Counters())]
    ['000_4a60dc78fcca73dd.txt']
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from dedup.config import Config
from dedup.io.jsonl import JsonlWriter, jsonl_batches, read_jsonl
from dedup.io.parquet import ParquetWriter, parquet_batches, read_parquet
from dedup.io.records import Record, Writer
from dedup.io.sources import Counters, InputError, Source, named_kind
from dedup.io.txt import TxtWriter, read_txt, txt_frames


def iter_records(source: Source, config: Config, counters: Counters) -> Iterator[Record]:
    """The records of one source, in a fixed order."""
    readers = {"txt-dir": read_txt, "txt": read_txt, "jsonl": read_jsonl, "parquet": read_parquet}
    yield from readers[source.kind](source, config, counters)


def frames_of(source: Source, config: Config, counters: Counters) -> Iterator[tuple[pl.DataFrame, int]]:
    """The records of one source as pass 1 reads them: frames of at most ``config.batch_docs``
    (doc_id, text, site), each with the input bytes it took. JSON Lines and Parquet have readers of
    their own that make a frame without a Python object per record where they can, and so has .txt."""
    if source.kind == "jsonl":
        return jsonl_batches(source, config, counters)
    if source.kind == "parquet":
        return parquet_batches(source, config, counters)
    return txt_frames(source, config, counters)


def written_kind(source: Source, target: Path | None) -> str:
    """What a source is written as at ``target``: the format the name gives, else the source's own."""
    if target is None:
        return "jsonl"
    own = "txt" if source.kind in ("txt-dir", "txt") else source.kind
    return named_kind(target.name) or own


def check_output_format(sources: list[Source], out: Path | None, annotate: bool = False) -> None:
    """Refuse, before any work, an output the input cannot be written as: a .txt file holds the text
    of one document, so only .txt input is written as .txt; and ``--annotate`` needs records with
    fields (JSON Lines or Parquet)."""
    if out is None:
        return  # stdout is JSON Lines
    kinds = [written_kind(s, out if len(sources) == 1 and s.folder is None else Path(s.name)) for s in sources]
    if annotate and "txt" in kinds:
        raise InputError(f"{out}: --annotate adds the findings to each record, which needs JSON Lines or Parquet "
                         "output; name --out .jsonl(.gz|.zst) or .parquet")
    if len(sources) > 1 or sources[0].folder is not None:
        return  # a folder of outputs mirrors the inputs
    if kinds[0] == "txt" and sources[0].kind not in ("txt-dir", "txt"):
        raise InputError(f"{out}: a .txt output is written from .txt input only; name it .jsonl(.gz|.zst) or "
                         f".parquet to write {sources[0].where} as JSON Lines or Parquet")


def writer_for(source: Source, target: Path | None, config: Config) -> Writer:
    """The writer of ``source``'s records at ``target`` (None: JSON Lines on stdout), in the format
    the target's name gives (JSON Lines compressed as it says, Parquet, .txt), else the source's."""
    text_field = config.text_field if source.kind in ("jsonl", "parquet") else "text"
    kind = written_kind(source, target)
    if target is None:
        return JsonlWriter(None, text_field)
    if kind == "txt":
        return TxtWriter(target, folder=source.kind == "txt-dir")
    if kind == "parquet":
        return ParquetWriter(target, text_field, source)
    return JsonlWriter(target, text_field)
