"""Pass 1 of one input shard: its records read by dedup's own readers and fingerprinted, batch by
batch, as the local engine does, then merged into one :class:`KeyedBatch` for the whole shard.

A shard is one input (a JSON Lines or Parquet file, a .txt file or folder). :func:`shard_prints` is
a pure function of the shard and the settings, picklable with them, so a distributed engine can run
it anywhere the shard's path can be read. Its documents are numbered from 0; :func:`shifted` numbers
them on from the shards before, which only the caller knows. Batches are cut as the local engine
cuts them, so the prints are the same numbers, not merely equivalent ones.

Example:
    >>> from dedup.config import Config
    >>> from dedup.io.sources import open_sources
    >>> config = Config()
    >>> shard = Shard(open_sources(["seeds"], config)[0], index=0, prefix="")
    >>> done = shard_prints(shard, config)
    >>> done.records, done.keyed.prints.docs["doc"].to_list(), shifted(done.keyed, 5).prints.docs["doc"].to_list()
    (1, [0], [5])
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import polars as pl

from dedup.config import Config
from dedup.fingerprint.stage import BatchPrints, KeyedBatch, fingerprint_batch
from dedup.io.batches import Batch, record_batches
from dedup.io.sources import Counters, Source


@dataclass(frozen=True)
class Shard:
    """One input as a unit of work: its source, its place among the inputs (``input`` of its
    documents' keys) and the prefix of its document ids (``name:`` when there are several inputs)."""

    source: Source
    index: int
    prefix: str


@dataclass
class ShardPrints:
    """What pass 1 keeps of one shard: its batches' prints merged (documents numbered from 0, no
    signatures: their band keys stand for them; None for a shard without records), what its
    reader counted, and its records."""

    keyed: KeyedBatch | None
    counters: Counters
    records: int


def shards_of(sources: list[Source]) -> list[Shard]:
    """The inputs as shards, named as :func:`dedup.io.batches.record_batches` names them."""
    return [Shard(source, i, f"{source.name}:" if len(sources) > 1 else "") for i, source in enumerate(sources)]


def shard_prints(shard: Shard, config: Config, keep_texts: bool = False) -> ShardPrints:
    """Read and fingerprint one shard (``keep_texts``: set its block texts aside for a scan's report)."""
    counters = Counters()
    keyed = []
    for batch in record_batches([shard.source], config, counters):
        docs = batch.docs.with_columns(pl.lit(shard.index, pl.Int32).alias("input"),
                                       (shard.prefix + pl.col("doc_id")).alias("doc_id"))
        keyed.append(fingerprint_batch(Batch(docs, batch.nbytes), config, keep_texts))
    return ShardPrints(merged(keyed, config.num_perm) if keyed else None, counters, counters.records_per_input[0])


def merged(batches: list[KeyedBatch], num_perm: int) -> KeyedBatch:
    """Consecutive keyed batches (at least one) as one: tables and streams one after another, signature rows
    numbered on. The signatures are left out (nothing after pass 1 reads them, and they are the
    largest part: 512 bytes a signed block against 168 for its band keys)."""
    no_sigs = np.empty((0, num_perm), np.uint32)
    block_at = np.cumsum([0] + [k.block_keys.shape[1] for k in batches])
    doc_at = np.cumsum([0] + [k.doc_keys.shape[1] for k in batches])
    prints = BatchPrints(
        pl.concat([_numbered_on(k.prints.blocks, int(at)) for k, at in zip(batches, block_at)]),
        no_sigs,
        pl.concat([_numbered_on(k.prints.docs, int(at)) for k, at in zip(batches, doc_at)]),
        no_sigs,
        np.concatenate([k.prints.doc_tokens for k in batches]),
        np.concatenate([k.prints.block_shingles for k in batches]),
        np.concatenate([k.prints.block_shingle_counts for k in batches]),
    )
    texts = [k.texts for k in batches if k.texts is not None]
    return KeyedBatch(prints, np.concatenate([k.block_keys for k in batches], axis=1),
                      np.concatenate([k.doc_keys for k in batches], axis=1), pl.concat(texts) if texts else None,
                      sum(k.nbytes for k in batches))


def _numbered_on(table: pl.DataFrame, at: int) -> pl.DataFrame:
    return table.with_columns(pl.when(pl.col("sig") >= 0).then(pl.col("sig") + at).otherwise(-1).alias("sig"))


def shifted(keyed: KeyedBatch, first: int) -> KeyedBatch:
    """``keyed`` with its documents numbered from ``first`` (the documents of the shards before)."""
    if not first:
        return keyed
    on = pl.col("doc") + first
    prints = replace(keyed.prints, blocks=keyed.prints.blocks.with_columns(on),
                     docs=keyed.prints.docs.with_columns(on))
    texts = None if keyed.texts is None else keyed.texts.with_columns(on)
    return replace(keyed, prints=prints, texts=texts)


def keyed_bytes(keyed: KeyedBatch) -> int:
    """The bytes of a shard's prints: what its task sends to the driver (tables, keys, streams, texts).

    Example: ``keyed_bytes(shard_prints(shard, config).keyed)``: 5,699 for the seed article.
    """
    prints = keyed.prints
    tables = [prints.blocks, prints.docs] + ([keyed.texts] if keyed.texts is not None else [])
    arrays = (keyed.block_keys, keyed.doc_keys, prints.doc_tokens, prints.block_shingles, prints.block_shingle_counts)
    return int(sum(t.estimated_size() for t in tables) + sum(a.nbytes for a in arrays))


def add_counters(total: Counters, part: Counters) -> None:
    """Add one shard's reader counters to the run's, as one reader going through the shards in order
    would have counted them (numbers summed, lists in order, the first problems noted)."""
    for field in fields(Counters):
        mine, theirs = getattr(total, field.name), getattr(part, field.name)
        if field.name == "problems":
            for problem in theirs:
                total.note(problem)
        elif isinstance(mine, list):
            mine.extend(theirs)
        else:
            setattr(total, field.name, mine + theirs)
