"""Matching: exact groups of equal fingerprints, joined by verified near-duplicate clusters.

Works on *occurrences* (every block, or every document) in input order. Occurrences with the same
exact hash form one *item*; items with MinHash signatures are matched by LSH, candidate pairs are
verified, and :func:`dedup.clusters.honest_clusters` joins them. Each occurrence gets the cluster's
representative occurrence and its verified similarity to it.

Example:
    >>> import numpy as np
    >>> m = match(np.array([7, 8, 7], dtype=np.uint64), np.full(3, -1), np.array([5, 9, 5]),
    ...           keep="first", near=None)
    >>> m.rep.tolist(), m.sim.tolist()
    ([0, 1, 0], [1.0, 1.0, 1.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz.distance import LCSseq

from dedup.bands import BandStore
from dedup.clusters import Similarity, honest_clusters
from dedup.compare import jaccard_pairs, lcs_pairs
from dedup.lsh import candidate_pairs
from dedup.tables import first_ids
from dedup.threads import in_order


@dataclass(frozen=True)
class NearSettings:
    """How items with signatures are matched: LSH candidates from the band keys in ``bands`` (indexed
    by signature row), then ``verify`` (on signature rows) against ``threshold``."""

    bands: BandStore
    threshold: float
    verify: Similarity
    threads: int = 1


@dataclass(frozen=True)
class Matches:
    """Per occurrence: ``item`` (its exact group), ``rep`` (representative occurrence), ``sim`` to it."""

    item: np.ndarray
    rep: np.ndarray
    sim: np.ndarray
    item_similarity: Similarity


def match(hashes: np.ndarray, sig_rows: np.ndarray, chars: np.ndarray, keep: str,
          near: NearSettings | None) -> Matches:
    """Cluster occurrences (given in input order) by exact hash and, with ``near``, by similarity."""
    n = len(hashes)
    item, first = first_ids(hashes)  # items numbered by first appearance
    # The occurrence that stands for each item: its first, or its longest (then first); items ranked
    # by that occurrence's place. Items are numbered by first appearance, so with keep="first" both
    # are known already (a minimum.at over 10M blocks took 0.5 s).
    if keep == "first":
        item_occ, item_rank = first, np.arange(len(first))
    else:
        rank_occ = np.lexsort((np.arange(n), -chars.astype(np.int64)))
        best_occ = np.full(len(first), n, dtype=np.int64)
        position = np.empty(n, dtype=np.int64)
        position[rank_occ] = np.arange(n)
        np.minimum.at(best_occ, item, position)
        item_occ = rank_occ[best_occ]
        item_rank = np.argsort(np.argsort(position[item_occ], kind="stable"), kind="stable")

    item_sim = _item_similarity(sig_rows[first], near)
    item_rep = np.arange(len(first))
    sim_item = np.ones(len(first))
    if near is not None:
        signed = np.flatnonzero(sig_rows[first] >= 0)
        if len(signed) > 1:
            left, right = candidate_pairs(near.bands.band, near.bands.bands, sig_rows[first][signed], near.threads)
            left, right = signed[left], signed[right]
            verified = item_sim(left, right)
            ok = verified >= near.threshold
            item_rep, sim_item = honest_clusters(len(first), left[ok], right[ok], item_rank,
                                                 _remembering(item_sim, left, right, verified), near.threshold)
    return Matches(item, item_occ[item_rep[item]], sim_item[item], item_sim)


def _remembering(similarity: Similarity, left: np.ndarray, right: np.ndarray, known: np.ndarray) -> Similarity:
    """``similarity``, answering pairs already compared (``known`` for ``left``/``right``, either way
    round) without comparing them again: the clusters' check of members against their representative
    mostly asks for candidate pairs, and aligning documents costs tens of microseconds a pair."""
    keys = np.minimum(left, right).astype(np.int64) << 32 | np.maximum(left, right)
    order = pl.Series(keys).arg_sort().to_numpy()  # 5.6M keys: 0.3 s, against numpy's 0.75 s (one core)
    keys, known = keys[order], known[order]

    def remembered(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        asked = np.minimum(a, b).astype(np.int64) << 32 | np.maximum(a, b)
        at = np.minimum(np.searchsorted(keys, asked), max(len(keys) - 1, 0))
        hit = keys[at] == asked if len(keys) else np.zeros(len(asked), bool)
        out = np.empty(len(asked))
        out[hit] = known[at[hit]]
        if not hit.all():
            out[~hit] = similarity(a[~hit], b[~hit])
        return out

    return remembered


def _item_similarity(item_sig_rows: np.ndarray, near: NearSettings | None) -> Similarity:
    """Similarity between items: 1 for the same item, else the verifier on their signature rows."""

    def similarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        out = np.ones(len(left))
        other = left != right
        if near is not None and other.any():
            a, b = item_sig_rows[left[other]], item_sig_rows[right[other]]
            unsigned = (a < 0) | (b < 0)
            values = np.zeros(len(a))
            values[~unsigned] = near.verify(a[~unsigned], b[~unsigned])
            out[other] = values
        elif other.any():
            out[other] = 0.0
        return out

    return similarity


# Verification reads both streams of each pair from a memory-mapped spill file, and what it reads
# stays resident until ``Streams.release`` (a read maps the whole cached folio around it: up to 2 MiB
# on this machine's ext4, measured). Pairs are therefore compared tile by tile: the file is cut into
# groups of GROUP_WORDS stream values, a pair's tile is the groups of its two streams, and the pages
# are handed back whenever verification moves on to another tile. So two to four groups are resident
# at a time (a tile is two, and two threads can be on two tiles), and each is mapped in once per tile
# rather than once per few thousand pairs. At 1M documents, 5.6M block pairs on two threads:
# releasing every 8,000 pairs in the order found took 10.8-11.4 s with 950 MiB of the 1 GiB file
# resident; by tile, 8.1-9.2 s with 590 MiB; never releasing, 7.4-7.8 s with all of it.
GROUP_WORDS = 32 << 20
# Pairs handed to a thread at a time.
VERIFY_CHUNK = 4_000


def _tile_order(offsets: np.ndarray, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order that visits the pairs tile by tile, and the tile of each pair in that order.

    Example:
        >>> order, tiles = _tile_order(np.arange(4) * GROUP_WORDS, np.array([2, 0, 1]), np.array([2, 1, 0]))
        >>> order.tolist(), tiles.tolist()
        ([1, 2, 0], [1, 1, 8])
    """
    group = offsets[:-1] // GROUP_WORDS
    a, b = group[left], group[right]
    tiles = np.minimum(a, b) * (int(group.max(initial=0)) + 1) + np.maximum(a, b)
    # numpy sorts 16-bit keys by radix: 5.6M pairs in 0.04 s against 0.37 s as int64.
    order = np.argsort(tiles.astype(np.uint16) if tiles.max(initial=0) < 1 << 16 else tiles, kind="stable")
    return order, tiles[order]


def _by_tile(kernel, streams, left: np.ndarray, right: np.ndarray, threads: int,
             dtype: type) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``kernel(streams.view, streams.offsets, left, right)`` for every pair, in chunks of VERIFY_CHUNK
    pairs taken tile by tile, on ``threads`` threads (the compiled kernels run without the GIL);
    ``streams``' pages go back to the OS each time the finished pairs reach another tile, and at the
    end. Returns the answers in pair order, and the tile order (``order``, ``tiles``) for a caller
    that visits the pairs again."""
    order, tiles = _tile_order(streams.offsets, left, right)
    out = np.empty(len(left), dtype=dtype)

    def chunk(lo: int) -> int:
        at = order[lo:lo + VERIFY_CHUNK]
        out[at] = kernel(streams.view, streams.offsets, left[at], right[at])
        return lo + len(at)

    chunks = range(0, len(tiles), VERIFY_CHUNK)
    current = tiles[0] if len(tiles) else None
    for end in in_order(chunk, chunks, threads if len(chunks) > 1 else 1):
        if tiles[end - 1] != current:
            streams.release()
            current = tiles[end - 1]
    streams.release()
    return out, order, tiles


def exact_jaccard(sets, threads: int = 1) -> Similarity:
    """True Jaccard similarity of shingle sets; ``sets`` (a :class:`dedup.pipeline.Streams`) holds the
    shingle hashes of each signature row: ``sets.view`` one after another, row i from
    ``sets.offsets[i]``. Compared in compiled code (:func:`dedup.compare.jaccard_pairs`) on ``threads``
    threads, tile by tile (see GROUP_WORDS)."""

    def similarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return _by_tile(jaccard_pairs, sets, left, right, threads, np.float64)[0]

    return similarity


MIN_ALIGNED_RUN = 2


def aligned_share(tokens, floor: float, threads: int = 1) -> Similarity:
    """Share of the longer token stream that lines up, in order, with the other: the tokens of the
    longest common subsequence that lie in aligned runs of at least ``MIN_ALIGNED_RUN`` tokens, over
    the longer length. A token aligned alone amid differing text is a coincidence (a shared "the"),
    not copied text.

    ``tokens[i]`` is the token-hash stream of signature row i (a :class:`dedup.pipeline.Streams`). A
    pair differing in at most 10% of the longer text scores at least 0.9, however many places the
    differences are spread over. The whole LCS is an upper bound, computed for every pair in compiled
    code on ``threads`` threads (:func:`dedup.compare.lcs_pairs`); only pairs whose bound reaches
    ``floor`` are aligned (rapidfuzz's LCS opcodes) to count the runs, and the others score 0.
    """

    def similarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        out = np.zeros(len(left))
        # The same answer either way round: an LCS can align ties differently.
        first, second = np.minimum(left, right), np.maximum(left, right)
        sizes = np.diff(tokens.offsets)
        longer = np.maximum(sizes[first], sizes[second])
        bound, order, tiles = _by_tile(lcs_pairs, tokens, first, second, threads, np.int64)
        for k in np.flatnonzero(bound < 0).tolist():  # too long for the compiled table
            bound[k] = LCSseq.similarity(tokens[first[k]].tolist(), tokens[second[k]].tolist())
        out[longer == 0] = 1.0
        aligned = ((longer > 0) & (bound >= floor * longer))[order]
        current = None
        for k, tile in zip(order[aligned].tolist(), tiles[aligned].tolist()):  # tile by tile
            if tile != current:
                tokens.release()
                current = tile
            x, y = tokens[first[k]].tolist(), tokens[second[k]].tolist()  # rapidfuzz reads lists faster
            runs = (op.src_end - op.src_start for op in LCSseq.opcodes(x, y) if op.tag == "equal")
            out[k] = sum(n for n in runs if n >= MIN_ALIGNED_RUN) / longer[k]
        tokens.release()
        return out

    return similarity
