"""Pass 1's input: the documents in batches, as frames of doc (global number), doc_id, text and site.

JSON Lines batches are parsed by polars, outside the GIL and without a Python object per record, so
the fingerprinting threads keep working while the next batch is read (benchmarks/RESULTS.md). Polars'
parser is not the one that defines a record, :func:`dedup.io.jsonl.jsonl_record` (orjson, then Python's
json), so a batch goes to polars only when every line in it is one on which the two must agree
(:func:`_plain_lines`); any other batch goes line by line through ``jsonl_record``, which also names
the line of a bad record. Parquet batches come straight from their columns when these are typed as
records need them, else row by row; .txt files from :func:`dedup.io.formats.iter_records`.

Example:
    >>> from dedup.config import Config
    >>> from dedup.io.sources import Counters, open_sources
    >>> config = Config()
    >>> [(b.docs.columns, b.nbytes) for b in record_batches(open_sources(["seeds"], config), config, Counters())]
    [(['doc', 'doc_id', 'text', 'site', 'input', 'record'], 2579)]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from dedup.config import Config
from dedup.io.formats import frames_of
from dedup.io.sources import Counters, InputError, Source


@dataclass
class Batch:
    """A batch of documents (:data:`dedup.schemas.DOCUMENTS`) and the input bytes it took (compressed
    bytes for .gz and .zst; 0 for Parquet), for the progress bar."""

    docs: pl.DataFrame
    nbytes: int


def record_batches(sources: list[Source], config: Config, counters: Counters) -> Iterator[Batch]:
    """Documents in batches of at most ``config.batch_docs``, never spanning two sources (ids take a
    ``source:`` prefix when there are several, or the source is a shard of a folder). A document's key is (``input``, ``record``): the
    source's place among the inputs and the record's number in it, the same in every run over the same
    input. Each source's record count goes to ``counters.records_per_input``. A run whose every
    record was skipped (``--on-error skip``) is an :class:`InputError`, not an empty corpus."""
    number = 0
    for index, source in enumerate(sources):
        first = number
        prefix = f"{source.name}:" if len(sources) > 1 or source.folder is not None else ""
        for batch, nbytes in frames_of(source, config, counters):
            yield Batch(batch.select(
                pl.int_range(number, number + len(batch), dtype=pl.Int64).alias("doc"),
                (prefix + pl.col("doc_id")).alias("doc_id"), "text", "site",
                pl.lit(index, pl.Int32).alias("input"),
                pl.int_range(number - first, number - first + len(batch), dtype=pl.Int64).alias("record")),
                nbytes)
            number += len(batch)
        counters.records_per_input.append(number - first)
    if number == 0 and counters.records_skipped:  # --on-error skip left nothing: not an empty corpus
        raise InputError(f"every record was skipped ({counters.records_skipped:,}), so there is nothing to "
                         f"work on; first problem: {counters.problems[0]}")
