"""Pass 1 over the whole corpus: batches fingerprinted by the executor, their prints gathered into stores.

Only numbers are kept (spans, hashes, band keys, token and shingle hashes), never the corpus text.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dedup.config import Config
from dedup.executors.local import fingerprinted
from dedup.io.batches import record_batches
from dedup.io.sources import Source, input_bytes
from dedup.match.lsh import band_shapes
from dedup.progress import Progress
from dedup.schemas import BLOCK_PRINTS, DOC_PRINTS
from dedup.stats import RunStats
from dedup.store.bands import BandStore
from dedup.store.streams import Streams
from dedup.store.texts import TextStore


@dataclass
class Prints:
    """Pass-1 results of the whole corpus (no text). Document token streams live in a spill file."""

    blocks: pl.DataFrame
    block_bands: BandStore
    docs: pl.DataFrame
    doc_bands: BandStore
    doc_tokens: Streams
    block_shingles: Streams
    inputs: list[str]  # the sources' names, by ``input`` number: half of a document's key

    def take_blocks(self) -> pl.DataFrame:
        """The block table, leaving an empty one behind: the largest table, so :func:`decide` lets go
        of it as soon as it has its own (filtered) copy."""
        blocks, self.blocks = self.blocks, self.blocks.clear()
        return blocks


def fingerprint_corpus(sources: list[Source], config: Config, stats: RunStats, spill: Path,
                       progress: Progress | None = None, texts: TextStore | None = None) -> Prints:
    """Pass 1 over every source; with ``texts``, the block texts are set aside there too."""
    blocks, docs = [], []
    tokens = Streams(spill / "doc-tokens.u32")
    shingles = Streams(spill / "block-shingles.u32")
    block_bands, doc_bands = band_stores(config, spill)
    block_rows = doc_rows = 0
    sizes: deque[int] = deque()  # batches come back in the order they were made
    if progress:
        progress.start(input_bytes(sources))
    stats.workers = config.workers
    for keyed in fingerprinted(record_batches(sources, config, stats.reader, sizes), config, texts):
        prints = keyed.prints
        blocks.append(prints.blocks.with_columns(
            pl.when(pl.col("sig") >= 0).then(pl.col("sig") + block_rows).otherwise(-1).alias("sig")))
        docs.append(prints.docs.with_columns(
            pl.when(pl.col("sig") >= 0).then(pl.col("sig") + doc_rows).otherwise(-1).alias("sig")))
        block_bands.append(keyed.block_keys)
        doc_bands.append(keyed.doc_keys)
        tokens.append(prints.doc_tokens, prints.docs.filter(pl.col("sig") >= 0)["ntok"].to_numpy())
        shingles.append(prints.block_shingles, prints.block_shingle_counts)
        block_rows += keyed.block_keys.shape[1]
        doc_rows += keyed.doc_keys.shape[1]
        nbytes = sizes.popleft()
        if progress:
            progress.advance(len(prints.docs), nbytes)
    tokens.close()
    shingles.close()
    stats.band_keys_spilled = block_bands.spilled or doc_bands.spilled
    return Prints(
        pl.concat(blocks) if blocks else pl.DataFrame(schema=BLOCK_PRINTS),
        block_bands,
        pl.concat(docs) if docs else pl.DataFrame(schema=DOC_PRINTS),
        doc_bands,
        tokens,
        shingles,
        [source.name for source in sources],
    )


def band_stores(config: Config, spill: Path) -> tuple[BandStore, BandStore]:
    """Band keys of blocks and of documents. With ``--memory-limit``, each may hold an eighth of it in
    memory before it spills to Parquet, a column per band."""
    budget = None if config.memory_limit is None else config.memory_limit // 8
    stores = []
    for name, (bands, _) in zip(("block-bands", "doc-bands"), band_shapes(config)):
        folder = spill / name
        folder.mkdir()
        stores.append(BandStore(bands, budget, folder))
    return stores[0], stores[1]
