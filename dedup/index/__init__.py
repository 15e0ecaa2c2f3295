"""An index that outlives a run: each new batch is checked against every batch seen before.

``open_index(PATH)`` gives the folder index (:mod:`dedup.index.folder`, the embedded default) or,
for ``redis://...``, the shared one (:mod:`dedup.index.shared`). Both store the same tables
(:mod:`dedup.index.entries`) and answer the same questions.

Example:
    >>> import tempfile
    >>> index = open_index(tempfile.mkdtemp() + "/idx")
    >>> type(index).__name__, counts(index, "site_pages", np.array([1], np.uint64)).tolist()
    ('FolderIndex', [0])
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dedup.index.errors import IndexFault
from dedup.index.folder import FolderIndex
from dedup.index.shared import RedisIndex

__all__ = ["IndexFault", "counts", "first", "open_index"]


def open_index(path: str | Path, lock_wait: float | None = None) -> FolderIndex | RedisIndex:
    """The index at ``path``: a Redis URL, or a folder (created by the first batch added)."""
    text = str(path)
    if text.startswith(("redis://", "rediss://", "unix://")):
        return RedisIndex(text)
    return FolderIndex(Path(text)) if lock_wait is None else FolderIndex(Path(text), lock_wait)


def counts(index, table: str, keys: np.ndarray) -> np.ndarray:
    """The stored counts of ``keys`` (distinct), summed over the batches."""
    keys = np.asarray(keys, np.uint64)
    order = np.argsort(keys)
    at, values = index.lookup(table, keys[order])
    out = np.zeros(len(keys), np.int64)
    out[order] = np.bincount(at, weights=values.astype(np.float64), minlength=len(keys)).astype(np.int64)
    return out


def first(index, table: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``keys`` (distinct) that the index holds, its earliest value: (positions, values)."""
    keys = np.asarray(keys, np.uint64)
    order = np.argsort(keys)
    at, values = index.lookup(table, keys[order])
    if not len(at):
        return at, values
    head = np.r_[True, at[1:] != at[:-1]]  # matches come oldest first per key
    positions, values = order[at[head]], values[head]
    by_position = np.argsort(positions)
    return positions[by_position], values[by_position]
