"""Locality-sensitive hashing: band keys of MinHash signatures and the candidate pairs they give.

Candidates come from one columnar sort of (band, key, item) rows, not from a Python dict per band.
Inside a bucket each member is paired with the bucket's first member and with the member before it,
so a bucket of k items gives at most 2(k - 1) pairs instead of k(k - 1)/2.

Example:
    >>> import numpy as np
    >>> sigs = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [7, 7, 7, 7]], dtype=np.uint32)
    >>> candidate_pairs(band_keys(sigs, bands=2, rows=2))
    (array([0]), array([1]))
"""

from __future__ import annotations

import numpy as np
import polars as pl

_U64 = np.uint64
_ROW_MULTIPLIERS = np.array([(0xC2B2AE3D27D4EB4F * (2 * k + 1)) & 0xFFFFFFFFFFFFFFFF for k in range(1024)], dtype=_U64)


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """A 64-bit key per (item, band): equal keys mean (up to 2^-64 collisions) equal rows of that band."""
    keys = np.zeros((len(sigs), bands), dtype=_U64)
    for r in range(rows):
        keys += sigs[:, r : bands * rows : rows].astype(_U64) * _ROW_MULTIPLIERS[r]
    keys ^= keys >> _U64(29)
    return keys


def candidate_pairs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (left < right, as row numbers of ``keys``) that share a key in some band, without repeats."""
    n, bands = keys.shape
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    rows = pl.DataFrame(
        {
            "band": np.tile(np.arange(bands, dtype=np.int32), n),
            "key": keys.ravel(),
            "item": np.repeat(np.arange(n, dtype=np.int64), bands),
        }
    )
    buckets = (
        rows.lazy()
        .filter(pl.len().over("band", "key") > 1)
        .sort("band", "key", "item")
        .with_columns(
            first=pl.col("item").first().over("band", "key"),
            prev=pl.col("item").shift(1).over("band", "key"),
        )
        .filter(pl.col("item") != pl.col("first"))
    )
    pairs = (
        pl.concat(
            [
                buckets.select(left="first", right="item"),
                buckets.filter(pl.col("prev") != pl.col("first")).select(left="prev", right="item"),
            ]
        )
        .unique()
        .sort("left", "right")
        .collect()
    )
    return pairs["left"].to_numpy(), pairs["right"].to_numpy()
