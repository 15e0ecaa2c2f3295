"""Verification of candidate pairs, connected components, and clusters that stay honest.

Union-find over verified pairs can still chain: A~B and B~C put A and C together even when A and C
share little. The rule here: a cluster's representative is chosen first (``rank``: lowest wins, i.e.
first in input order, or longest first), then every member must itself be similar to the
representative (``similarity(member, rep) >= threshold``). Members that are not are taken out and
clustered again among themselves, with the pairs between them, until every item is placed. So every
``similarity`` reported is a verified similarity to the kept copy.

Example:
    >>> import numpy as np
    >>> sims = {(0, 1): 0.9, (1, 2): 0.9, (0, 2): 0.2}
    >>> sim = lambda a, b: np.array([1.0 if x == y else sims[tuple(sorted((x, y)))] for x, y in zip(a, b)])
    >>> reps, s = honest_clusters(3, np.array([0, 1]), np.array([1, 2]), np.arange(3), sim, 0.8)
    >>> reps.tolist()
    [0, 0, 2]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dedup import _native

Similarity = Callable[[np.ndarray, np.ndarray], np.ndarray]


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components of n items joined by pairs: each item's label is its component's lowest item.

    A union-find in C (dedup/native/components.c) where the lower root always wins, so labels need no
    minimum per component (it replaced scipy's ``connected_components``; benchmarks/RESULTS.md).

    Example:
        >>> components(5, np.array([3, 1]), np.array([1, 4])).tolist()
        [0, 1, 2, 1, 1]
    """
    label = np.empty(n, dtype=np.int64)
    _native.components(n, np.ascontiguousarray(left, np.int64), np.ascontiguousarray(right, np.int64), label)
    return label


def honest_clusters(
    n: int, left: np.ndarray, right: np.ndarray, rank: np.ndarray, similarity: Similarity, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Representative of each item (itself when alone) and its similarity to it.

    ``left``/``right`` are verified pairs; ``rank`` orders the items for choosing representatives.
    """
    rep = np.full(n, -1, dtype=np.int64)
    sim = np.ones(n, dtype=np.float64)
    open_ = np.ones(n, dtype=bool)
    by_rank = np.empty(n, dtype=np.int64)
    by_rank[rank] = np.arange(n)
    while open_.any():
        keep = open_[left] & open_[right]
        left, right = left[keep], right[keep]
        # Components over the items' ranks: each is labelled with its best rank, so no minimum per
        # component is needed (a minimum.at per round would be slow).
        best = components(n, rank[left], rank[right])
        items = np.flatnonzero(open_)
        candidate = by_rank[best[rank[items]]]
        s = np.ones(len(items))
        other = candidate != items
        s[other] = similarity(items[other], candidate[other])
        placed = s >= threshold
        rep[items[placed]] = candidate[placed]
        sim[items[placed]] = s[placed]
        open_[items[placed]] = False
    return rep, sim
