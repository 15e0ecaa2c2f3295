"""Pass 1 over the whole corpus: the executor maps :func:`dedup.fingerprint.stage.fingerprint_batch`
over the batches, and each batch's prints are gathered: tables in memory, the rest in the store.

Only numbers are kept (spans, hashes, band keys, token and shingle hashes), never the corpus text;
a scan's store also sets the block texts aside for the report.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from dedup.io.sources import open_sources
    >>> config = Config(workers=1)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     store = SpillStore(Path(folder), config, keep_texts=False)
    ...     prints = fingerprint_corpus(open_sources(["seeds"], config), config, RunStats(), store)
    ...     store.close()
    >>> prints.docs.height, prints.docs["doc_id"].to_list()
    (1, ['000_4a60dc78fcca73dd.txt'])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

import polars as pl

from dedup.config import Config
from dedup.executors import Executor
from dedup.executors.local import LocalThreads
from dedup.fingerprint.stage import KeyedBatch, fingerprint_batch
from dedup.io.batches import record_batches
from dedup.io.sources import Source, input_bytes
from dedup.progress import Progress
from dedup.schemas import BLOCK_PRINTS, DOC_PRINTS
from dedup.stats import RunStats
from dedup.store.spill import SpillStore


@dataclass
class Prints:
    """Pass-1 results of the whole corpus (no text): the block and document tables, the store that
    holds the rest, and the inputs' names (by ``input`` number: half of a document's key)."""

    blocks: pl.DataFrame
    docs: pl.DataFrame
    store: SpillStore
    inputs: list[str]

    @property
    def block_bands(self):
        return self.store.block_bands

    @property
    def doc_bands(self):
        return self.store.doc_bands

    @property
    def doc_tokens(self):
        return self.store.doc_tokens

    @property
    def block_shingles(self):
        return self.store.block_shingles

    def take_blocks(self) -> pl.DataFrame:
        """The block table, leaving an empty one behind: the largest table, so :func:`decide` lets go
        of it as soon as it has its own (filtered) copy."""
        blocks, self.blocks = self.blocks, self.blocks.clear()
        return blocks


def fingerprint_corpus(sources: list[Source], config: Config, stats: RunStats, store: SpillStore,
                       progress: Progress | None = None, executor: Executor | None = None) -> Prints:
    """Pass 1 over every source, on ``executor`` (default: ``config.workers`` local threads)."""
    executor = executor or LocalThreads(config.workers)
    stage = partial(fingerprint_batch, config=config, keep_texts=store.texts is not None)
    if progress:
        progress.start(input_bytes(sources))
    stats.workers = executor.workers
    return gather(executor.map(stage, record_batches(sources, config, stats.reader)), sources, stats, store,
                  progress)


def gather(keyed_batches: Iterable[KeyedBatch], sources: list[Source], stats: RunStats, store: SpillStore,
           progress: Progress | None = None) -> Prints:
    """The prints of the whole corpus from its keyed batches, given in document order (documents
    numbered on from one batch to the next): tables in memory, the rest in ``store``. Any engine
    that fingerprints the batches ends here, so all of them keep the same."""
    blocks, docs = [], []
    for keyed in keyed_batches:
        block_at, doc_at = store.add(keyed)
        prints = keyed.prints
        blocks.append(prints.blocks.with_columns(
            pl.when(pl.col("sig") >= 0).then(pl.col("sig") + block_at).otherwise(-1).alias("sig")))
        docs.append(prints.docs.with_columns(
            pl.when(pl.col("sig") >= 0).then(pl.col("sig") + doc_at).otherwise(-1).alias("sig")))
        if progress:
            progress.advance(len(prints.docs), keyed.nbytes)
    store.close()
    stats.band_keys_spilled = store.spilled
    return Prints(
        pl.concat(blocks) if blocks else pl.DataFrame(schema=BLOCK_PRINTS),
        pl.concat(docs) if docs else pl.DataFrame(schema=DOC_PRINTS),
        store,
        [source.name for source in sources],
    )
