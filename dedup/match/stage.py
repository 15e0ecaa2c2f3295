"""Matching: exact groups of equal fingerprints, joined by verified near-duplicate clusters.

Works on *occurrences* (every block, or every document) in input order. Occurrences with the same
exact hash form one *item*; items with MinHash signatures are matched by LSH, candidate pairs are
verified, and :func:`dedup.match.clusters.honest_clusters` joins them. Each occurrence gets the cluster's
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

from dedup.hashtables import first_ids
from dedup.match.clusters import Similarity, honest_clusters
from dedup.match.lsh import candidate_pairs
from dedup.store.bands import BandStore


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
    # are known already (a minimum.at would be slow).
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
    order = pl.Series(keys).arg_sort().to_numpy()  # polars' sort beats numpy's here
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
