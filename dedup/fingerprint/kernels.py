"""The inner loops of fingerprinting, compiled in C (:mod:`dedup._native`): no Python work per shingle.

numpy alone needs a (shingles x permutations) matrix in memory and several passes over it to sign a
batch; here each shingle is mixed (MurmurHash3's fmix32, as datasketch does), permuted and folded
into its run's minimum in one pass that gcc vectorises. Runs are given as ``lengths`` of consecutive
token hashes. The kernels release the GIL and are ready at import: nothing compiles at run time.

Example:
    >>> import numpy as np
    >>> a, b = np.array([1, 3], np.uint32), np.array([0, 5], np.uint32)
    >>> hashes, sigs, shingles = block_prints(np.arange(6, dtype=np.uint64), np.array([4, 2]), 3, a, b)
    >>> sigs.shape, sigs.dtype.name, len(shingles)
    ((1, 2), 'uint32', 2)
"""

from __future__ import annotations

import numpy as np

from dedup import _native

_MAX32 = np.uint32(0xFFFFFFFF)

# Odd 64-bit multipliers: one per position inside an n-gram (a shingle's hash is the sum of its token
# hashes times these, folded to 32 bits), and the base of exact sequence hashes.
POSITION = np.array([(0x9E3779B97F4A7C15 * (2 * k + 1)) & 0xFFFFFFFFFFFFFFFF | 1 for k in range(64)], dtype=np.uint64)
SEQUENCE_BASE = 0x100000001B3


def sequence_hashes(th: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """One 64-bit hash per run of ``lengths`` consecutive token hashes: equal runs, equal hashes.

    Example:
        >>> h = sequence_hashes(np.array([5, 6, 5, 6, 7], np.uint64), np.array([2, 2, 1]))
        >>> bool(h[0] == h[1]), bool(h[0] == h[2])
        (True, False)
    """
    out = np.empty(len(lengths), dtype=np.uint64)
    _native.sequences(np.ascontiguousarray(th, np.uint64), np.ascontiguousarray(lengths, np.int64), SEQUENCE_BASE,
                      POSITION, out)
    return out


def block_prints(th: np.ndarray, lengths: np.ndarray, n: int, a: np.ndarray, b: np.ndarray,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For runs of ``lengths`` token hashes (blocks): each run's exact hash; a MinHash signature per
    run of at least ``n`` tokens, in order (datasketch's ``affine32`` permutations ``a``, ``b`` of
    the fmix32-mixed n-gram hashes); and those runs' n-gram hashes, one run after another.

    Example:
        >>> one = np.ones(1, np.uint32)
        >>> hashes, sigs, shingles = block_prints(np.arange(5, dtype=np.uint64), np.array([3, 2]), 2, one, one)
        >>> len(hashes), sigs.shape, len(shingles)
        (2, (2, 1), 3)
    """
    windows = np.maximum(lengths - n + 1, 0) if len(a) else np.zeros(len(lengths), np.int64)
    hashes = np.empty(len(lengths), dtype=np.uint64)
    sigs = np.empty((int(np.count_nonzero(windows)), len(a)), dtype=np.uint32)
    shingles = np.empty(int(windows.sum()), dtype=np.uint32)
    _native.blocks(np.ascontiguousarray(th, np.uint64), np.ascontiguousarray(lengths, np.int64), n, POSITION,
                   SEQUENCE_BASE, np.ascontiguousarray(a, np.uint32), np.ascontiguousarray(b, np.uint32), hashes, sigs,
                   shingles)
    return hashes, sigs, shingles


def document_prints(th: np.ndarray, lengths: np.ndarray, occ_u: np.ndarray, occ_doc: np.ndarray, docs: int,
                    sig_row: np.ndarray, block_sigs: np.ndarray, n: int, a: np.ndarray, b: np.ndarray,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Prints of ``docs`` documents made of blocks: occurrence o is run ``occ_u[o]`` of ``th`` (runs of
    ``lengths``, as for :func:`block_prints`) in document ``occ_doc[o]`` (ascending).

    Returns each document's token count and exact hash (0 without tokens), its signature (rows of
    documents with fewer than ``n`` tokens are all 2**32 - 1) and its token stream, one after another.
    A signature is the MinHash of every n-gram of the stream: the blocks' own signatures (``sig_row``
    into ``block_sigs``) folded with the n-grams that cross a block boundary, so no shingle inside a
    block is hashed twice.

    Example:
        >>> one = np.ones(1, np.uint32)
        >>> th = np.arange(5, dtype=np.uint64)
        >>> _, sigs, _ = block_prints(th, np.array([3, 2]), 2, one, one)
        >>> counts, hashes, doc_sigs, stream = document_prints(th, np.array([3, 2]), np.array([0, 1]),
        ...     np.array([0, 0]), 1, np.array([0, 1]), sigs, 2, one, one)
        >>> counts.tolist(), stream.tolist()
        ([5], [0, 1, 2, 3, 4])
    """
    counts = np.bincount(occ_doc, weights=lengths[occ_u], minlength=docs).astype(np.int64)
    hashes = np.empty(docs, dtype=np.uint64)
    sigs = np.empty((docs, len(a)), dtype=np.uint32)
    stream = np.empty(int(counts.sum()), dtype=np.uint64)
    block_sigs = np.ascontiguousarray(block_sigs, np.uint32)
    _native.documents(np.ascontiguousarray(th, np.uint64), np.ascontiguousarray(lengths, np.int64),
                      np.ascontiguousarray(occ_u, np.int64), np.ascontiguousarray(occ_doc, np.int64),
                      np.ascontiguousarray(sig_row, np.int64), block_sigs,
                      block_sigs.shape[1] if block_sigs.ndim == 2 else 0, n, POSITION, SEQUENCE_BASE,
                      np.ascontiguousarray(a, np.uint32), np.ascontiguousarray(b, np.uint32), hashes, sigs, stream)
    sigs[counts < n] = _MAX32
    return counts, hashes, sigs, stream
