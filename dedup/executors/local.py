"""Stage functions run over batches on local threads (polars and the kernels run without the GIL).

Pass 1's batches go to a thread pool while the input is read on; results come back in input order,
at most one batch per thread waiting ahead.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from dedup.config import Config
from dedup.fingerprint.stage import BatchPrints, PreparedBatch, finish, prepare
from dedup.match.lsh import band_keys, band_shapes
from dedup.store.texts import TextStore


@dataclass
class Keyed:
    """A batch's prints and the LSH band keys of its signatures, a row per band (only the keys are kept)."""

    prints: BatchPrints
    block_keys: np.ndarray
    doc_keys: np.ndarray


def keyed(prepared: PreparedBatch, config: Config) -> Keyed:
    prints = finish(prepared, config)
    block_shape, doc_shape = band_shapes(config)
    return Keyed(prints, band_keys(prints.block_sigs, *block_shape), band_keys(prints.doc_sigs, *doc_shape))


def _fingerprint_batch(docs: pl.DataFrame, config: Config, texts: TextStore | None) -> Keyed:
    """The batch's prints and band keys; with ``texts``, its block texts are set aside there first."""
    prepared = prepare(docs, config, texts=texts is not None)
    if texts is not None:
        texts.write(prepared.texts)
        prepared.texts = None  # on disk now: not held while the kernels run
    return keyed(prepared, config)


def fingerprinted(batches: Iterator[pl.DataFrame], config: Config, texts: TextStore | None) -> Iterator[Keyed]:
    """The batches fingerprinted in order, by ``config.workers`` threads while this one reads on.

    Threads, not processes: the work is polars and compiled kernels, which run without the GIL (pass 1
    ran 1.4-2.0x as fast on two threads as on one, benchmarks/RESULTS.md), and a thread needs
    no start-up (a process pool cost over a second: imports) and no copy of its batch.
    At most one batch per thread waits ahead, so memory stays bounded.
    """
    if config.workers == 1:
        for batch in batches:
            yield _fingerprint_batch(batch, config, texts)
        return
    with ThreadPoolExecutor(config.workers, thread_name_prefix="dedup-fingerprint") as pool:
        pending: deque[Future[Keyed]] = deque()
        try:
            for batch in batches:
                pending.append(pool.submit(_fingerprint_batch, batch, config, texts))
                while len(pending) > config.workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # on an error or an early stop, batches not begun are dropped, not waited for
            for work in pending:
                work.cancel()
