"""The compiled inner loops of fingerprinting (numba): no Python work per shingle.

numpy alone needs a (shingles x permutations) matrix in memory and several passes over it to sign a
batch; here each shingle is mixed, permuted and folded into its group's minimum in one pass that
LLVM vectorises. Groups are given as ``starts`` into a flat array and each ends where the next
starts. Kernels are compiled on first use and cached on disk (``cache=True``).

Example:
    >>> import numpy as np
    >>> a, b = np.array([1, 3], np.uint32), np.array([0, 5], np.uint32)
    >>> out = min_signatures(np.array([7, 9, 4], np.uint32), np.array([0, 2]), a, b)
    >>> out.shape, out.dtype.name
    ((2, 2), 'uint32')
    >>> jaccard_pairs(np.array([3, 1, 2, 4, 2, 3, 2], np.uint32), np.array([0, 3, 7]), np.array([0]), np.array([1]))
    array([0.5])
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


@numba.njit(cache=True, nogil=True)
def _sign(shingles, starts, a, b, out):
    groups, perms = out.shape
    total = shingles.shape[0]
    for g in range(groups):
        end = starts[g + 1] if g + 1 < groups else total
        row = out[g]
        row[:] = _MAX32
        for i in range(starts[g], end):
            h = _fmix32(shingles[i])
            for p in range(perms):
                v = np.uint32(a[p] * h + b[p])
                row[p] = min(row[p], v)


def min_signatures(shingles: np.ndarray, starts: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row g: for each permutation p, the minimum of ``a[p] * fmix32(h) + b[p]`` (mod 2**32) over group g.

    This is datasketch 2.0's ``affine32`` MinHash of the group's shingle hashes ``h``.
    """
    out = np.empty((len(starts), len(a)), dtype=np.uint32)
    if len(starts):
        _sign(np.ascontiguousarray(shingles, np.uint32), np.ascontiguousarray(starts, np.int64),
              np.ascontiguousarray(a, np.uint32), np.ascontiguousarray(b, np.uint32), out)
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def _next_distinct(values, i, end):
    """The index after the run of values equal to ``values[i]`` (``values`` sorted)."""
    x = values[i]
    i += 1
    while i < end and values[i] == x:
        i += 1
    return i


@numba.njit(cache=True, nogil=True)
def _jaccard(flat, offsets, left, right, out):
    for k in range(left.shape[0]):
        a = np.sort(flat[offsets[left[k]]:offsets[left[k] + 1]])
        b = np.sort(flat[offsets[right[k]]:offsets[right[k] + 1]])
        i, j, common, union = 0, 0, 0, 0
        while i < a.shape[0] and j < b.shape[0]:
            union += 1
            if a[i] == b[j]:
                common += 1
                i = _next_distinct(a, i, a.shape[0])
                j = _next_distinct(b, j, b.shape[0])
            elif a[i] < b[j]:
                i = _next_distinct(a, i, a.shape[0])
            else:
                j = _next_distinct(b, j, b.shape[0])
        while i < a.shape[0]:
            union += 1
            i = _next_distinct(a, i, a.shape[0])
        while j < b.shape[0]:
            union += 1
            j = _next_distinct(b, j, b.shape[0])
        out[k] = common / union if union else 1.0


def jaccard_pairs(flat: np.ndarray, offsets: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Jaccard similarity of set ``left[k]`` and set ``right[k]``, where set i holds the values
    ``flat[offsets[i]:offsets[i + 1]]`` in any order, repeats allowed. Both are sorted when a pair is
    compared, then merged: sets are only ever sorted for the few items that become candidates.

    Example: sets {1, 2, 3} and {2, 3, 4} -> 0.5.
    """
    out = np.empty(len(left), dtype=np.float64)
    if len(left):
        _jaccard(flat, np.ascontiguousarray(offsets, np.int64), np.ascontiguousarray(left, np.int64),
                 np.ascontiguousarray(right, np.int64), out)
    return out


@numba.njit(cache=True, nogil=True)
def _pairs(keys, out):
    n = keys.shape[0]
    bits = 1
    while (1 << bits) * 2 < 3 * n:  # at most two thirds full: 16 bytes a slot, 24-48 an item
        bits += 1
    mask = (1 << bits) - 1
    slot_key = np.empty(1 << bits, np.uint64)
    slot_first = np.full(1 << bits, -1, np.int32)
    slot_last = np.empty(1 << bits, np.int32)
    found = 0
    for i in range(n):
        key = keys[i]
        slot = np.int64(key >> np.uint64(64 - bits))  # band keys are well mixed: the top bits will do
        while True:
            first = slot_first[slot]
            if first < 0:
                slot_first[slot] = i
                slot_key[slot] = key
                slot_last[slot] = i
                break
            if slot_key[slot] == key:
                out[found] = (np.int64(first) << 32) | i
                found += 1
                last = slot_last[slot]
                if last != first:
                    out[found] = (np.int64(last) << 32) | i
                    found += 1
                slot_last[slot] = i
                break
            slot = (slot + 1) & mask
    return found


def bucket_pairs(keys: np.ndarray) -> np.ndarray:
    """Pairs of positions with equal keys, each as ``left << 32 | right`` (left < right): every member
    of a bucket paired with the bucket's first member and with the member before it, so a bucket of
    k gives at most 2(k - 1) pairs. One pass over an open-addressing table: no sort.

    Example: keys 7, 9, 7, 7 -> pairs (0, 2), (0, 3) and (2, 3).
        >>> [(int(p) >> 32, int(p) & 0xFFFFFFFF) for p in bucket_pairs(np.array([7, 9, 7, 7], np.uint64))]
        [(0, 2), (0, 3), (2, 3)]
    """
    out = np.empty(2 * len(keys), dtype=np.int64)
    found = _pairs(np.ascontiguousarray(keys, np.uint64), out) if len(keys) else 0
    return out[:found]


def warm_up() -> None:
    """Load the compiled kernels (about 0.3 s of numba start-up even from the disk cache), so a caller
    can do it in a background thread while the first batch is read and segmented."""
    one = np.ones(1, np.uint32)
    min_signatures(one, np.zeros(1, np.int64), one, one)
    mapped = one.copy()
    mapped.setflags(write=False)  # as the memory-mapped shingle sets it will be given
    jaccard_pairs(mapped, np.array([0, 1]), np.zeros(1, np.int64), np.zeros(1, np.int64))
    bucket_pairs(np.zeros(2, np.uint64))
