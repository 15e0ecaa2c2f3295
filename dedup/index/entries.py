"""What one batch adds to an index, as plain arrays: the tables every backend stores.

*Keyed tables* map a 64-bit key to values, for lookups by what a new batch holds:

- ``doc_hash``: exact document hash -> the earliest document with it (a ref)
- ``doc_band``: LSH band key of a document signature (band mixed in) -> documents (refs)
- ``block_hash``: exact block hash -> the earliest *item* (first copy of a block text) with it
- ``block_band``: LSH band key of an item's signature -> items
- ``site_block``: (site, block hash) -> how many documents of that site hold the block (a count)
- ``site_pages``: site -> how many documents the site has (a count)

*Records* are rows addressed by ref: ``docs`` (the stable key of every document: batch, input and
record, its id, site, length, hashes, the row of its token stream and its kept representative) and
``items`` (each new block text: where it first stands, its hash, the row of its shingle set, its
cluster's kept representative). *Streams* hold what verification compares: documents' token hashes
and items' shingle hashes (32 bits each), one stream per signed row.

A ref is ``segment << 32 | row``; inside :class:`Entries` a ref to the batch itself uses segment
:data:`SELF`, which the backend replaces by the segment it writes.

Example:
    >>> int(segment_of(ref(3, 7))), int(row_of(ref(3, 7)))
    (3, 7)
    >>> expand(np.array([2, 5]), np.array([4, 5])).tolist()
    [2, 3]
    >>> distinct(np.array([5, 1, 5, 3])).tolist(), segments_in(np.array([4, 2, 4]))
    ([1, 3, 5], [2, 4])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xxhash

KEYED = {"doc_hash": "first", "doc_band": "all", "block_hash": "first", "block_band": "all",
         "site_block": "count", "site_pages": "count"}
# Columns of the records, by dtype ("str" is utf-8 text); "ref" columns hold refs.
RECORDS = {
    "docs": {"input": "str", "record": "i8", "doc_id": "str", "site": "str", "chars": "i8", "hash": "u8",
             "ntok": "i8", "sig": "i8", "rep": "ref"},
    "items": {"doc": "ref", "block": "i4", "hash": "u8", "chars": "i4", "ntok": "i4", "sig": "i8", "rep": "ref"},
}
STREAMS = ("doc_tokens", "block_shingles")
DTYPES = {"u8": np.uint64, "i8": np.int64, "i4": np.int32, "u4": np.uint32, "ref": np.uint64}
SELF = 0xFFFFFFFF
_ROW = np.uint64(0xFFFFFFFF)


def ref(segment: int, row: int | np.ndarray) -> np.uint64 | np.ndarray:
    """The ref of ``row`` (or rows) of ``segment``."""
    return (np.uint64(segment) << np.uint64(32)) | np.asarray(row).astype(np.uint64)


def segment_of(refs: np.ndarray) -> np.ndarray:
    return (np.asarray(refs, np.uint64) >> np.uint64(32)).astype(np.int64)


def row_of(refs: np.ndarray) -> np.ndarray:
    return (np.asarray(refs, np.uint64) & _ROW).astype(np.int64)


def placed(refs: np.ndarray, segment: int) -> np.ndarray:
    """``refs`` with the batch's own (segment SELF) moved to ``segment``."""
    refs = np.asarray(refs, np.uint64)
    own = segment_of(refs) == SELF
    return np.where(own, ref(segment, row_of(refs)), refs)


def expand(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Every position in the ranges ``lo[i]:hi[i]``, one range after another."""
    n = (hi - lo).astype(np.int64)
    if (n == 1).all():  # most lookups: one entry a key
        return lo.astype(np.int64)
    total = int(n.sum())
    if not total:
        return np.empty(0, np.int64)
    starts = np.repeat(np.cumsum(n) - n, n)
    return np.arange(total, dtype=np.int64) - starts + np.repeat(lo.astype(np.int64), n)


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct ``values``, sorted: by a sort, which beats numpy's hash-based ``unique`` on the
    million-row arrays of a lookup several times over."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def segments_in(segments: np.ndarray) -> list[int]:
    """The distinct segment numbers of ``segments`` (small integers), in order."""
    return np.flatnonzero(np.bincount(segments)).tolist() if len(segments) else []


_MIX = np.uint64(0x9E3779B97F4A7C15)


def band_key(band: int, keys: np.ndarray) -> np.ndarray:
    """One 64-bit key per (band, LSH key): equal only for equal keys of the same band (up to 2^-64)."""
    with np.errstate(over="ignore"):
        return np.asarray(keys, np.uint64) ^ (np.uint64(band + 1) * _MIX)


def band_key_of(bands: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """:func:`band_key` with a band per key."""
    with np.errstate(over="ignore"):
        return np.asarray(keys, np.uint64) ^ ((np.asarray(bands).astype(np.uint64) + np.uint64(1)) * _MIX)


def text_keys(texts: list[str]) -> np.ndarray:
    """xxh3_64 of each text (a site's name)."""
    return np.fromiter((xxhash.xxh3_64_intdigest(t.encode("utf-8")) for t in texts), np.uint64, len(texts))


def site_block_key(site_keys: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """One key per (site, block hash) pair."""
    with np.errstate(over="ignore"):
        mixed = np.asarray(site_keys, np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
        return mixed ^ (mixed >> np.uint64(31)) ^ np.asarray(hashes, np.uint64)


@dataclass
class Entries:
    """One batch, ready to add: keyed tables (keys, values), records (columns), streams (flat, lengths)."""

    name: str
    documents: int
    blocks: int
    keyed: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    records: dict[str, dict[str, np.ndarray | list[str]]] = field(default_factory=dict)
    streams: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def checked(self) -> Entries:
        """Itself, after checking every table is there and of one length per table."""
        assert set(self.keyed) == set(KEYED) and set(self.records) == set(RECORDS) and set(self.streams) == set(STREAMS)
        for table, columns in self.records.items():
            lengths = {len(columns[c]) for c in RECORDS[table]}
            assert len(lengths) == 1, (table, lengths)
        return self


def put_columns(entries: Entries, segment: int, put) -> None:
    """Hand every record column and stream of ``entries`` to ``put(name, array, dtype)``, as both
    backends store them: strings as UTF-8 bytes with offsets, references placed in ``segment``."""
    for table, columns in RECORDS.items():
        for column, dtype in columns.items():
            values = entries.records[table][column]
            if dtype == "str":
                encoded = [v.encode("utf-8") for v in values]
                put(f"{table}.{column}.bin", np.frombuffer(b"".join(encoded), np.uint8), "b")
                put(f"{table}.{column}.off", np.concatenate(([0], np.cumsum([len(e) for e in encoded]))), "i8")
            else:
                put(f"{table}.{column}", placed(values, segment) if dtype == "ref" else values, dtype)
    for name in STREAMS:
        flat, lengths = entries.streams[name]
        put(f"{name}.bin", flat, "u4")
        put(f"{name}.off", np.concatenate(([0], np.cumsum(np.asarray(lengths, np.int64)))), "i8")
