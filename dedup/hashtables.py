"""Compiled hash tables over 64-bit keys (numba): equal keys found in one pass, with no sort.

The kernels (and :func:`dedup.match.verify.lcs_pairs`) place a key by the top bits of the key times an
odd constant, in a table at most two thirds full (:func:`table_bits`), and probe linearly
(:func:`find_slot`); they run without the GIL.

Example:
    >>> import numpy as np
    >>> first_ids(np.array([9, 4, 9], np.uint64))[0].tolist()
    [0, 1, 0]
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, inline="always")
def table_bits(n):
    """log2 of the slots for n keys: a table at most two thirds full."""
    bits = 1
    while (1 << bits) * 2 < 3 * n:
        bits += 1
    return bits


@numba.njit(cache=True, nogil=True, inline="always")
def find_slot(slot_keys, marks, key, bits):
    """The slot that holds ``key``, or the empty one (``marks`` < 0) where it goes: starting from the
    top bits of the key times an odd constant, probing linearly."""
    mask = (1 << bits) - 1
    slot = np.int64((np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits))
    while marks[slot] >= 0 and slot_keys[slot] != key:
        slot = (slot + 1) & mask
    return slot


@numba.njit(cache=True, nogil=True)
def _pairs(keys, out):
    bits = table_bits(keys.shape[0])  # 16 bytes a slot, 24-48 a key
    slot_key = np.empty(1 << bits, np.uint64)
    slot_first = np.full(1 << bits, -1, np.int32)
    slot_last = np.empty(1 << bits, np.int32)
    found = 0
    for i in range(keys.shape[0]):
        slot = find_slot(slot_key, slot_first, keys[i], bits)
        first = slot_first[slot]
        if first < 0:
            slot_first[slot], slot_key[slot], slot_last[slot] = i, keys[i], i
            continue
        out[found] = (np.int64(first) << 32) | i
        found += 1
        if slot_last[slot] != first:
            out[found] = (np.int64(slot_last[slot]) << 32) | i
            found += 1
        slot_last[slot] = i
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


@numba.njit(cache=True, nogil=True)
def _first_ids(values, item, first):
    bits = table_bits(values.shape[0])
    slot_value = np.empty(1 << bits, np.uint64)
    slot_item = np.full(1 << bits, -1, np.int64)
    items = 0
    for i in range(values.shape[0]):
        slot = find_slot(slot_value, slot_item, values[i], bits)
        if slot_item[slot] < 0:
            slot_item[slot], slot_value[slot] = items, values[i]
            first[items] = i
            items += 1
        item[i] = slot_item[slot]
    return items


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
    items = _first_ids(np.ascontiguousarray(values, np.uint64), item, first) if len(values) else 0
    return item, first[:items].copy()


@numba.njit(cache=True, nogil=True)
def _first_in_group(groups, values, first):
    bits = table_bits(values.shape[0])
    slot_value = np.empty(1 << bits, np.uint64)
    slot_group = np.full(1 << bits, -1, np.int64)  # the last group that had the value
    for i in range(values.shape[0]):
        slot = find_slot(slot_value, slot_group, values[i], bits)
        first[i] = slot_group[slot] != groups[i]
        slot_group[slot], slot_value[slot] = groups[i], values[i]


def first_in_group(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Whether each row is the first of its group (rows of a group together, numbers >= 0) with its
    value: what polars' ``is_first_distinct().over(group)`` gives, in one pass over a hash table that
    remembers the last group to have each value (2M rows: 80-90 ms, against 180-290 for the window).

    Example:
        >>> first_in_group(np.array([0, 0, 0, 1, 1]), np.array([7, 8, 7, 7, 7], np.uint64)).tolist()
        [True, True, False, True, False]
    """
    first = np.empty(len(values), dtype=np.bool_)
    if len(values):
        _first_in_group(np.ascontiguousarray(groups, np.int64), np.ascontiguousarray(values, np.uint64), first)
    return first


@numba.njit(cache=True, nogil=True)
def _add_new(values, slot_value, marks, bits, out, count):
    for i in range(values.shape[0]):
        slot = find_slot(slot_value, marks, values[i], bits)
        if marks[slot] < 0:
            marks[slot], slot_value[slot] = 0, values[i]
            out[count] = values[i]
            count += 1
    return count


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
        self.count = _add_new(values, self.slot_value, self.marks, self.bits, self.out, self.count)

    def _rebuild(self, bits: int) -> None:
        self.bits = bits
        self.slot_value = np.empty(1 << bits, np.uint64)
        self.marks = np.full(1 << bits, -1, np.int8)
        # Re-adding the distinct values in order writes each back to where it stands.
        _add_new(self.values, self.slot_value, self.marks, bits, self.out, 0)
