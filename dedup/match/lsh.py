"""Locality-sensitive hashing: band keys of MinHash signatures and the candidate pairs they give.

Candidates come one band at a time (so a thread holds one band's keys), from a hash table of
that band's keys built in compiled code (:func:`dedup.hashtables.bucket_pairs`), not from a sort or a
Python dict. Inside a bucket each member is paired with the bucket's first member and with the
member before it, so a bucket of k items gives at most 2(k - 1) pairs instead of k(k - 1)/2. A pair
found in several bands is kept once by a growing hash set (:class:`dedup.hashtables.DistinctValues`)
while the other bands are still being worked on.

Example:
    >>> import numpy as np
    >>> sigs = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [7, 7, 7, 7]], dtype=np.uint32)
    >>> keys = band_keys(sigs, bands=2, rows=2)
    >>> candidate_pairs(lambda b: keys[b], 2, np.arange(3))
    (array([0]), array([1]))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dedup import _native
from dedup.config import Config
from dedup.executors.threads import in_order
from dedup.hashtables import DistinctValues, bucket_pairs

_U64 = np.uint64


# One odd 64-bit multiplier per place in a band, drawn once from a fixed seed, so two different bands
# share a key with a chance of about 2^-64. (Multiples of one constant by 1, 3, 5... did not: their
# sum is a small integer combination of the values, so [0, 1, 1, 0] and [1, 0, 0, 1] had one key.)
_ROW_MULTIPLIERS = np.random.default_rng(0x6C7368).integers(0, 2**63, 1024, dtype=_U64) * _U64(2) + _U64(1)


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """A 64-bit key per (band, item), band by band (``keys[b]`` is band b of every item, contiguous):
    equal keys mean (up to 2^-64 collisions) equal rows of that band. Band b of a signature is its
    values ``b * rows`` to ``(b + 1) * rows``, each times an odd constant of its place, summed mod
    2^64 and mixed; compiled (an order of magnitude faster than numpy)."""
    if sigs.ndim != 2 or bands * rows > sigs.shape[1] or rows > len(_ROW_MULTIPLIERS):
        raise ValueError(f"{bands} bands of {rows} rows do not fit signatures of shape {sigs.shape}")
    keys = np.empty((bands, len(sigs)), dtype=_U64)
    sigs = np.ascontiguousarray(sigs, np.uint32)
    _native.band_keys(sigs, sigs.shape[0], sigs.shape[1], bands, rows, _ROW_MULTIPLIERS, keys)
    return keys


def candidate_pairs(band: Callable[[int], np.ndarray], bands: int, rows: np.ndarray,
                    threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (left < right, as positions in ``rows``) whose rows share a key in some band, without
    repeats, in the order found (band by band: the same on any number of threads). ``band(b)`` gives
    band b's keys indexed by row; ``rows`` picks the rows to pair. Bands are worked on by ``threads``
    threads (the kernel runs without the GIL)."""
    n = len(rows)
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)

    def pairs_of(b: int) -> np.ndarray:
        return bucket_pairs(band(b)[rows])

    seen = DistinctValues()
    for pairs in in_order(pairs_of, range(bands), threads):
        seen.add(pairs)
    pairs = seen.values.view(np.int64)  # unsorted: nothing after needs an order
    return pairs >> 32, pairs & 0xFFFFFFFF


# Documents are candidates when their MinHash Jaccard (word n-grams) is at least this; the aligned
# share then decides. Scattered small edits lower n-gram Jaccard much more than the aligned share.
DOC_CANDIDATE_JACCARD = 0.5


def band_shapes(config: Config) -> tuple[tuple[int, int], tuple[int, int]]:
    """LSH (bands, rows) of blocks (at ``--threshold``) and of documents (at DOC_CANDIDATE_JACCARD)."""
    return config.bands_rows(), config.bands_rows(DOC_CANDIDATE_JACCARD)
