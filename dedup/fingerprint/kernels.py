"""The compiled inner loops of fingerprinting (numba): no Python work per shingle.

numpy alone needs a (shingles x permutations) matrix in memory and several passes over it to sign a
batch; here each shingle is mixed, permuted and folded into its group's minimum in one pass that
LLVM vectorises. Groups are given as ``starts`` into a flat array and each ends where the next
starts. Kernels are compiled on first use and cached on disk (``cache=True``); :func:`warm_up`
loads these and those of :mod:`dedup.hashtables` and :mod:`dedup.match.verify`, and
:func:`warm_up_in_background` does it while the caller goes on (:func:`loading` says until when).

Example:
    >>> import numpy as np
    >>> a, b = np.array([1, 3], np.uint32), np.array([0, 5], np.uint32)
    >>> hashes, sigs, shingles = block_prints(np.arange(6, dtype=np.uint64), np.array([4, 2]), 3, a, b)
    >>> sigs.shape, sigs.dtype.name, len(shingles)
    ((1, 2), 'uint32', 2)
"""

from __future__ import annotations

import numba
import numpy as np

_MAX32 = np.uint32(0xFFFFFFFF)


@numba.njit(cache=True, nogil=True, inline="always")
def _fmix32(h):
    """MurmurHash3's 32-bit finalizer (datasketch mixes shingle hashes with it before permuting)."""
    h ^= h >> np.uint32(16)
    h = np.uint32(h * np.uint32(0x85EBCA6B))
    h ^= h >> np.uint32(13)
    h = np.uint32(h * np.uint32(0xC2B2AE35))
    h ^= h >> np.uint32(16)
    return h


# Odd 64-bit multipliers: one per position inside an n-gram (a shingle's hash is the sum of its token
# hashes times these, folded to 32 bits), and the base of exact sequence hashes.
POSITION = np.array([(0x9E3779B97F4A7C15 * (2 * k + 1)) & 0xFFFFFFFFFFFFFFFF | 1 for k in range(64)], dtype=np.uint64)


SEQUENCE_BASE = np.uint64(0x100000001B3)


@numba.njit(cache=True, nogil=True, inline="always")
def _shingle(th, p, n, position):
    acc = np.uint64(0)
    for k in range(n):
        acc += th[p + k] * position[k]
    return np.uint32((acc ^ (acc >> np.uint64(32))) & np.uint64(0xFFFFFFFF))


@numba.njit(cache=True, nogil=True, inline="always")
def _sequence(th, start, end, base, position):
    h = np.uint64(0)
    for k in range(start, end):
        h = h * base + th[k]
    h ^= np.uint64(end - start) * position[1]
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    return h


@numba.njit(cache=True, nogil=True, inline="always")
def _fold(row, shingle, a, b):
    h = _fmix32(shingle)
    for p in range(row.shape[0]):
        row[p] = min(row[p], np.uint32(a[p] * h + b[p]))


@numba.njit(cache=True, nogil=True)
def _sequences(th, lengths, base, position, out):
    start = 0
    for g in range(lengths.shape[0]):
        out[g] = _sequence(th, start, start + lengths[g], base, position)
        start += lengths[g]


def sequence_hashes(th: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """One 64-bit hash per run of ``lengths`` consecutive token hashes: equal runs, equal hashes.

    Example:
        >>> h = sequence_hashes(np.array([5, 6, 5, 6, 7], np.uint64), np.array([2, 2, 1]))
        >>> bool(h[0] == h[1]), bool(h[0] == h[2])
        (True, False)
    """
    out = np.empty(len(lengths), dtype=np.uint64)
    _sequences(np.ascontiguousarray(th, np.uint64), np.ascontiguousarray(lengths, np.int64), SEQUENCE_BASE,
               POSITION, out)
    return out


@numba.njit(cache=True, nogil=True)
def _blocks(th, lengths, n, position, base, a, b, hashes, sigs, shingles):
    start = row = written = 0
    for g in range(lengths.shape[0]):
        end = start + lengths[g]
        hashes[g] = _sequence(th, start, end, base, position)
        if end - start >= n and a.shape[0]:  # no permutations (exact matching only): hashes alone
            sig = sigs[row]
            sig[:] = _MAX32
            for p in range(start, end - n + 1):
                shingle = _shingle(th, p, n, position)
                shingles[written] = shingle
                written += 1
                _fold(sig, shingle, a, b)
            row += 1
        start = end


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
    _blocks(np.ascontiguousarray(th, np.uint64), np.ascontiguousarray(lengths, np.int64), n, POSITION,
            SEQUENCE_BASE, np.ascontiguousarray(a, np.uint32), np.ascontiguousarray(b, np.uint32), hashes, sigs,
            shingles)
    return hashes, sigs, shingles


@numba.njit(cache=True, nogil=True)
def _documents(th, token_start, lengths, occ_u, occ_doc, sig_row, block_sigs, n, position, base, a, b,
               hashes, sigs, stream):
    written = 0
    o = 0
    for d in range(hashes.shape[0]):
        first = written
        begin = o
        while o < occ_u.shape[0] and occ_doc[o] == d:
            u = occ_u[o]
            for k in range(token_start[u], token_start[u] + lengths[u]):
                stream[written] = th[k]
                written += 1
            o += 1
        hashes[d] = _sequence(stream, first, written, base, position) if written > first else np.uint64(0)
        if written - first < n or not a.shape[0]:
            continue
        sig = sigs[d]
        sig[:] = _MAX32
        # Windows inside one block are in that block's signature; the others cross a block boundary.
        end = first
        for q in range(begin, o):
            u = occ_u[q]
            if sig_row[u] >= 0:
                own = block_sigs[sig_row[u]]
                for p in range(sig.shape[0]):
                    sig[p] = min(sig[p], own[p])
            start, end = end, end + lengths[u]
            for p in range(max(start, end - n + 1), min(end, written - n + 1)):
                _fold(sig, _shingle(stream, p, n, position), a, b)


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
    token_start = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)
    _documents(np.ascontiguousarray(th, np.uint64), token_start, np.ascontiguousarray(lengths, np.int64),
               np.ascontiguousarray(occ_u, np.int64), np.ascontiguousarray(occ_doc, np.int64),
               np.ascontiguousarray(sig_row, np.int64), block_sigs, n, POSITION, SEQUENCE_BASE,
               np.ascontiguousarray(a, np.uint32), np.ascontiguousarray(b, np.uint32), hashes, sigs, stream)
    sigs[counts < n] = _MAX32
    return counts, hashes, sigs, stream
