"""Compiled hash tables over 64-bit keys (C, :mod:`dedup._native`): equal keys found in one pass, no sort.

The kernels (and :func:`dedup.match.verify.lcs_pairs`) place a key by the top bits of the key times an
odd constant, in a table at most two thirds full (:func:`table_bits`), and probe linearly
(dedup/native/hashtable.h); they run without the GIL.

Example:
    >>> import numpy as np
    >>> first_ids(np.array([9, 4, 9], np.uint64))[0].tolist()
    [0, 1, 0]
"""

from __future__ import annotations

import numpy as np

from dedup import _native


def table_bits(n: int) -> int:
    """log2 of the slots for n keys: a table at most two thirds full (at least two slots).

    Example:
        >>> table_bits(0), table_bits(2), table_bits(3)
        (1, 2, 3)
    """
    bits = 1
    while (1 << bits) * 2 < 3 * n:
        bits += 1
    return bits


def bucket_pairs(keys: np.ndarray) -> np.ndarray:
    """Pairs of positions with equal keys, each as ``left << 32 | right`` (left < right): every member
    of a bucket paired with the bucket's first member and with the member before it, so a bucket of
    k gives at most 2(k - 1) pairs. One pass over an open-addressing table: no sort.

    Example: keys 7, 9, 7, 7 -> pairs (0, 2), (0, 3) and (2, 3).
        >>> [(int(p) >> 32, int(p) & 0xFFFFFFFF) for p in bucket_pairs(np.array([7, 9, 7, 7], np.uint64))]
        [(0, 2), (0, 3), (2, 3)]
    """
    out = np.empty(2 * len(keys), dtype=np.int64)
    found = _native.pairs(np.ascontiguousarray(keys, np.uint64), out)
    return out[:found]


def first_ids(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equal values numbered 0, 1, ... in order of first appearance: each value's number, and the
    position where each number first appears. What ``np.unique(return_index, return_inverse)`` and a
    renumbering give, in one pass over a hash table instead of sorts.

    Example:
        >>> item, first = first_ids(np.array([9, 4, 9, 7, 4], np.uint64))
        >>> item.tolist(), first.tolist()
        ([0, 1, 0, 2, 1], [0, 1, 3])
    """
    item = np.empty(len(values), dtype=np.int64)
    first = np.empty(len(values), dtype=np.int64)
    items = _native.first_ids(np.ascontiguousarray(values, np.uint64), item, first)
    return item, first[:items].copy()


def first_in_group(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each row is the first of its group (rows of a group together, numbers >= 0) with its
    value: what polars' ``is_first_distinct().over(group)`` gives, in one pass over a hash table that
    remembers the last group to have each value, faster than the window.

    Example:
        >>> first_in_group(np.array([0, 0, 0, 1, 1]), np.array([7, 8, 7, 7, 7], np.uint64)).tolist()
        [True, True, False, True, False]
    """
    first = np.empty(len(values), dtype=np.bool_)
    _native.first_in_group(np.ascontiguousarray(groups, np.int64), np.ascontiguousarray(values, np.uint64), first)
    return first


class DistinctValues:
    """A set of 64-bit values filled batch by batch: ``values`` holds each value once, in order of first
    appearance. The table grows as values come, so memory follows the distinct values, not all the
    values added (LSH gives each near-duplicate pair once per band it shares: ten times over).

    Example:
        >>> seen = DistinctValues()
        >>> seen.add(np.array([5, 3, 5], np.uint64)); seen.add(np.array([3, 8], np.uint64))
        >>> seen.values.tolist()
        [5, 3, 8]
    """

    def __init__(self) -> None:
        self.bits, self.count = 0, 0
        self.slot_value = np.empty(1, np.uint64)
        self.marks = np.full(1, -1, np.int8)  # -1: an empty slot
        self.out = np.empty(0, np.uint64)

    @property
    def values(self) -> np.ndarray:
        return self.out[:self.count]

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values)
        if values.dtype.itemsize != 8:
            values = values.astype(np.uint64)
        values = np.ascontiguousarray(values).view(np.uint64)  # int64 pair keys are read as their bits
        most = self.count + len(values)  # if every value is new
        if most > len(self.out):
            self.out = np.concatenate((self.values, np.empty(max(most, 2 * self.count) - self.count, np.uint64)))
        if table_bits(most) > self.bits:
            self._rebuild(table_bits(2 * most))  # room to spare: fewer rebuilds
        self.count = _native.add_new(values, self.slot_value, self.marks, self.bits, self.out, self.count)

    def _rebuild(self, bits: int) -> None:
        self.bits = bits
        self.slot_value = np.empty(1 << bits, np.uint64)
        self.marks = np.full(1 << bits, -1, np.int8)
        # Re-adding the distinct values in order writes each back to where it stands.
        _native.add_new(self.values, self.slot_value, self.marks, bits, self.out, 0)
