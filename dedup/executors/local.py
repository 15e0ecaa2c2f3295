"""Stage functions run over batches on local threads (polars and the kernels run without the GIL).

Pass 1's batches go to a thread pool while the input is read on; results come back in input order,
at most one batch per thread waiting ahead.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from dedup.config import Config
from dedup.fingerprint.kernels import block_prints, document_prints, sequence_hashes
from dedup.fingerprint.stage import BatchPrints, PreparedBatch, finish, prepare
from dedup.hashtables import DistinctValues, bucket_pairs, first_ids, first_in_group
from dedup.match.lsh import band_keys, band_shapes
from dedup.match.verify import jaccard_pairs, lcs_pairs
from dedup.store.texts import TextStore

_warming = 0  # warm-ups running (several runs can share a process)


_warming_lock = threading.Lock()


def _count_warm_up(step: int) -> None:
    global _warming
    with _warming_lock:
        _warming += step


def warm_up_in_background() -> None:
    """:func:`warm_up` on a thread of its own; :func:`loading` is true until it is done. The thread
    then imports the scipy modules :func:`dedup.match.clusters.components` will use (0.05 s, better spent
    while batches are read than in deciding)."""

    def load() -> None:
        try:
            warm_up()
        finally:
            _count_warm_up(-1)
        import scipy.sparse.csgraph  # noqa: F401

    _count_warm_up(1)
    try:
        threading.Thread(target=load, name="dedup-warm-up", daemon=True).start()
    except BaseException:
        _count_warm_up(-1)
        raise


def loading() -> bool:
    """Whether a :func:`warm_up_in_background` is still loading: a kernel called now would wait for it."""
    return _warming > 0


def warm_up() -> None:
    """Load the compiled kernels: numba's start-up takes about 0.5 s even from the disk cache (its
    registries, and scipy.linalg for its BLAS check), on one core, holding the GIL most of the time."""
    one = np.ones(1, np.uint32)
    th, lengths = np.ones(2, np.uint64), np.array([2])
    _, sigs, _ = block_prints(th, lengths, 1, one, one)
    document_prints(th, lengths, np.zeros(1, np.int64), np.zeros(1, np.int64), 1, np.zeros(1, np.int64), sigs, 1,
                    one, one)
    sequence_hashes(th, lengths)
    mapped = one.copy()
    mapped.setflags(write=False)  # as the memory-mapped shingle sets it will be given
    jaccard_pairs(mapped, np.array([0, 1]), np.zeros(1, np.int64), np.zeros(1, np.int64))
    bucket_pairs(np.zeros(2, np.uint64))
    first_ids(np.zeros(2, np.uint64))
    first_in_group(np.zeros(2, np.int64), np.zeros(2, np.uint64))
    DistinctValues().add(np.zeros(2, np.uint64))
    band_keys(np.ones((1, 2), np.uint32), 1, 2)
    lcs_pairs(mapped, np.array([0, 1]), np.zeros(1, np.int64), np.zeros(1, np.int64))


@dataclass
class Keyed:
    """A batch's prints and the LSH band keys of its signatures, a row per band (only the keys are kept)."""

    prints: BatchPrints
    block_keys: np.ndarray
    doc_keys: np.ndarray


def _prepared_batch(docs: pl.DataFrame, config: Config, texts: TextStore | None) -> PreparedBatch:
    prepared = prepare(docs, config, texts=texts is not None, compiled=not loading())
    if texts is not None:
        texts.write(prepared.texts)
        prepared.texts = None  # on disk now: not held while the batch waits for its kernels
    return prepared


def keyed(prepared: PreparedBatch, config: Config) -> Keyed:
    prints = finish(prepared, config)
    block_shape, doc_shape = band_shapes(config)
    return Keyed(prints, band_keys(prints.block_sigs, *block_shape), band_keys(prints.doc_sigs, *doc_shape))


def _fingerprint_batch(docs: pl.DataFrame, config: Config, texts: TextStore | None) -> Keyed | PreparedBatch:
    """The batch's prints; or, while numba is still starting, only its polars part."""
    prepared = _prepared_batch(docs, config, texts)
    return prepared if loading() else keyed(prepared, config)


# Batches prepared ahead of the kernels while numba starts (each a few MB at the default --batch-docs).
PREPARED_AHEAD = 8


def fingerprinted(batches: Iterator[pl.DataFrame], config: Config, texts: TextStore | None) -> Iterator[Keyed]:
    """The batches fingerprinted in order, by ``config.workers`` threads while this one reads on.

    Threads, not processes: the work is polars and compiled kernels, which run without the GIL (pass 1
    ran 1.4-2.0x as fast on two threads as on one, benchmarks/RESULTS.md), and a thread needs
    no start-up (a process pool cost over a second: imports, kernels) and no copy of its batch.
    At most one batch per thread waits ahead, so memory stays bounded; while numba starts (half a
    second, on one core), up to PREPARED_AHEAD more batches get their polars part done meanwhile.
    """
    if config.workers == 1:
        for batch in batches:
            yield keyed(_prepared_batch(batch, config, texts), config)
        return
    with ThreadPoolExecutor(config.workers, thread_name_prefix="dedup-fingerprint") as pool:
        pending: deque[Future[Keyed | PreparedBatch]] = deque()

        def finish_prepared() -> None:  # a failed batch stays, for oldest() to raise in its turn
            for i, work in enumerate(pending):
                if work.done() and work.exception() is None and isinstance(work.result(), PreparedBatch):
                    pending[i] = pool.submit(keyed, work.result(), config)

        def oldest() -> Keyed:
            done = pending.popleft().result()
            finish_prepared()
            # A prepared oldest batch is finished here: in the pool it would queue behind new batches.
            return done if isinstance(done, Keyed) else keyed(done, config)

        try:
            for batch in batches:
                pending.append(pool.submit(_fingerprint_batch, batch, config, texts))
                if not loading():
                    finish_prepared()
                while len(pending) > config.workers + (PREPARED_AHEAD if loading() else 0):
                    yield oldest()
            while pending:
                yield oldest()
        finally:  # on an error or an early stop, batches not begun are dropped, not waited for
            for work in pending:
                work.cancel()
