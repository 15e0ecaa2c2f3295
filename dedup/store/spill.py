"""A run's store in its spill folder: what pass 1 keeps of every batch, beyond the in-memory tables.

Example:
    >>> import tempfile, pathlib
    >>> from dedup.config import Config
    >>> store = SpillStore(pathlib.Path(tempfile.mkdtemp()), Config(), keep_texts=False)
    >>> len(store.block_bands), store.texts is None
    (0, True)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dedup.config import Config
from dedup.match.lsh import band_shapes
from dedup.store.bands import BandStore
from dedup.store.streams import Streams
from dedup.store.texts import TextStore

if TYPE_CHECKING:
    from dedup.fingerprint.stage import KeyedBatch


class SpillStore:
    """Token streams and shingle sets as memory-mapped files, band keys in memory until an eighth of
    ``config.memory_limit`` each (then Parquet), and with ``keep_texts`` the block texts as Arrow IPC."""

    def __init__(self, folder: Path, config: Config, keep_texts: bool) -> None:
        self.doc_tokens = Streams(folder / "doc-tokens.u32")
        self.block_shingles = Streams(folder / "block-shingles.u32")
        budget = None if config.memory_limit is None else config.memory_limit // 8
        bands = []
        for name, (count, _) in zip(("block-bands", "doc-bands"), band_shapes(config)):
            (folder / name).mkdir()
            bands.append(BandStore(count, budget, folder / name))
        self.block_bands, self.doc_bands = bands
        self.texts = TextStore(folder / "texts") if keep_texts else None

    def add(self, batch: KeyedBatch) -> tuple[int, int]:
        """Keep one batch; returns the store's first signature row of its blocks and of its documents
        (the batch numbers its signature rows from 0)."""
        block_at, doc_at = len(self.block_bands), len(self.doc_bands)
        prints = batch.prints
        self.block_bands.append(batch.block_keys)
        self.doc_bands.append(batch.doc_keys)
        self.doc_tokens.append(prints.doc_tokens, prints.docs.filter(prints.docs["sig"] >= 0)["ntok"].to_numpy())
        self.block_shingles.append(prints.block_shingles, prints.block_shingle_counts)
        if self.texts is not None and batch.texts is not None:
            self.texts.write(batch.texts)
        return block_at, doc_at

    def close(self) -> None:
        """Pass 1 is over: the streams become readable."""
        self.doc_tokens.close()
        self.block_shingles.close()

    @property
    def spilled(self) -> bool:
        return self.block_bands.spilled or self.doc_bands.spilled
