"""Compiled comparisons of stored streams (numba, without the GIL), for verifying candidate pairs.

Streams lie one after another in a flat array, stream i from ``offsets[i]`` to ``offsets[i + 1]``:
:func:`jaccard_pairs` compares them as sets (block shingles), :func:`lcs_pairs` as sequences
(document token streams).

Example:
    >>> import numpy as np
    >>> jaccard_pairs(np.array([3, 1, 2, 4, 2, 3, 2], np.uint32), np.array([0, 3, 7]), np.array([0]), np.array([1]))
    array([0.5])
"""

from __future__ import annotations

import numba
import numpy as np

from dedup.tables import find_slot, table_bits


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


@numba.njit(cache=True, nogil=True, inline="always")
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


# The match table of a stream has a row per distinct token and a bit per position: it grows with the
# square of a long, varied stream. Past 4M words (32 MiB) :func:`lcs_pairs` answers -1 instead.
_LCS_TABLE_WORDS = 1 << 22


@numba.njit(cache=True, nogil=True)
def _lcs(a, b):
    """Length of the longest common subsequence of a and b (a the shorter): Hyyro's bit-parallel
    recurrence, one bit per position of a, V = (V + U) | (V - U) with U = V & match(b_j)."""
    m = a.shape[0]
    if m == 0:
        return 0
    words = (m + 63) // 64
    bits = table_bits(m)
    slot_token = np.empty(1 << bits, np.uint32)
    slot_id = np.full(1 << bits, -1, np.int64)
    position_id = np.empty(m, np.int64)
    ids = 0
    for i in range(m):
        slot = find_slot(slot_token, slot_id, a[i], bits)
        if slot_id[slot] < 0:
            slot_id[slot], slot_token[slot] = ids, a[i]
            ids += 1
        position_id[i] = slot_id[slot]
    if ids * words > _LCS_TABLE_WORDS:
        return -1  # too long and varied for the table: the caller measures this pair another way
    matches = np.zeros((ids, words), np.uint64)
    for i in range(m):
        matches[position_id[i], i >> 6] |= np.uint64(1) << np.uint64(i & 63)
    v = np.full(words, np.uint64(0xFFFFFFFFFFFFFFFF))
    for j in range(b.shape[0]):
        row = slot_id[find_slot(slot_token, slot_id, b[j], bits)]
        if row < 0:
            continue  # a token a lacks changes nothing
        carry = np.uint64(0)
        for w in range(words):
            x = v[w]
            u = x & matches[row, w]
            low = x + u
            total = low + carry
            carry = np.uint64(1) if (low < x or total < low) else np.uint64(0)
            v[w] = total | (x & ~u)  # V - U is V & ~U, as U's bits are V's
    ones = 0
    for w in range(words):
        word = v[w]
        if w == words - 1 and m & 63:
            word &= (np.uint64(1) << np.uint64(m & 63)) - np.uint64(1)
        ones += _popcount(word)
    return m - ones


@numba.njit(cache=True, nogil=True)
def _lcs_pairs(flat, offsets, left, right, out):
    for k in range(left.shape[0]):
        a = flat[offsets[left[k]]:offsets[left[k] + 1]]
        b = flat[offsets[right[k]]:offsets[right[k] + 1]]
        out[k] = _lcs(a, b) if a.shape[0] <= b.shape[0] else _lcs(b, a)


def lcs_pairs(flat: np.ndarray, offsets: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Length of the longest common subsequence of token streams ``left[k]`` and ``right[k]``, where
    stream i is ``flat[offsets[i]:offsets[i + 1]]``; compiled, without the GIL. -1 for a pair whose
    shorter stream would need a match table of over 32 MiB (tens of thousands of distinct tokens).

    Example: streams 1 2 3 4 and 2 4 3 share 2 3 (or 2 4) -> 2.
        >>> lcs_pairs(np.array([1, 2, 3, 4, 2, 4, 3], np.uint32), np.array([0, 4, 7]), np.array([0]), np.array([1]))
        array([2])
    """
    out = np.empty(len(left), dtype=np.int64)
    if len(left):
        _lcs_pairs(flat, np.ascontiguousarray(offsets, np.int64), np.ascontiguousarray(left, np.int64),
                   np.ascontiguousarray(right, np.int64), out)
    return out
