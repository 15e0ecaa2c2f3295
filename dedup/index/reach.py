"""Which earlier rows can change a batch's findings: those its rows reach through verified pairs.

An index answers a batch's LSH band keys with every earlier row that shares one. Most of them are
false candidates (texts sharing a sentence or two), and their number grows with the index. Deciding
them all with the batch made a run's time grow with the index (benchmarks/RESULTS.md, "A persistent
index"). But the clusters are decided per connected component of verified pairs (see
:func:`dedup.match.clusters.honest_clusters`): an earlier row outside every component that holds a
row of the batch changes none of the batch's findings. So the candidates are walked from the
batch's rows, as the decide stage would pair them: a batch row with the earlier rows that share its
band keys or its exact hash, and earlier rows with each other when they were found by the same band
key, share a kept representative (the extra band :mod:`dedup.index.run` gives them) or an exact
hash. A pair is followed when it verifies (the decide stage's verifier and threshold; an exact hash
always). Only the rows reached are decided with the batch.

Example (rows 0-1 are the batch's, 2-4 earlier; earlier row 3 verifies with batch row 0, and 4 with 3):
    >>> import numpy as np
    >>> close = {(0, 3), (3, 4)}
    >>> sim = lambda a, b: np.array([1.0 if (min(x, y), max(x, y)) in close else 0.0 for x, y in zip(a, b)])
    >>> reached(3, sim, 0.8, np.array([0]), np.array([1]), [(np.array([7, 7], np.uint64), np.array([1, 2]))],
    ...         np.array([], np.int64), new=2).tolist()
    [False, True, True]
"""

from __future__ import annotations

import numpy as np

from dedup.index.entries import distinct, expand
from dedup.match.clusters import Similarity


def reached(earlier: int, similarity: Similarity, threshold: float, new_rows: np.ndarray, hits: np.ndarray,
            groups: list[tuple[np.ndarray, np.ndarray]], exact: np.ndarray, new: int) -> np.ndarray:
    """Which of ``earlier`` candidate rows (numbered ``new``, ``new + 1``, ... by ``similarity``, after
    the batch's ``new`` rows) the batch reaches.

    ``new_rows``/``hits``: the pairs (batch row, earlier row, as 0-based candidate numbers) that share
    a band key; ``groups``: (group, candidate) memberships, each listed once, each group's members
    paired with each other (a found-by band key, a representative); ``exact``: candidates that are a batch row's exact
    copy, reached as they are. ``similarity`` is asked of signed rows only: a candidate in a pair or a
    group must be signed."""
    reach = np.zeros(earlier, bool)
    reach[exact] = True
    if len(hits):  # a pair is found once per band it shares: compared once
        pairs = distinct(np.asarray(new_rows, np.int64) << 32 | np.asarray(hits, np.int64))
        new_rows, hits = pairs >> 32, pairs & 0xFFFFFFFF
        verified = similarity(new_rows, hits + new) >= threshold
        reach[hits[verified]] = True
    group = np.concatenate([g for g, _ in groups]) if groups else np.empty(0, np.uint64)
    member = np.concatenate([m for _, m in groups]) if groups else np.empty(0, np.int64)
    order = np.argsort(group)
    group, member = group[order], member[order]
    dense = np.cumsum(np.r_[False, group[1:] != group[:-1]]) if len(group) else np.empty(0, np.int64)
    frontier = reach.copy()
    while frontier.any() and len(member):
        touched = np.zeros(int(dense[-1]) + 1, bool)
        touched[dense[frontier[member]]] = True
        here = touched[dense]
        front, rest = here & frontier[member], here & ~reach[member]
        left, right = _crossed(dense[front], member[front], dense[rest], member[rest])
        if not len(left):
            break
        pairs = distinct(left << 32 | right)
        left, right = pairs >> 32, pairs & 0xFFFFFFFF
        verified = similarity(left + new, right + new) >= threshold
        frontier = np.zeros(earlier, bool)
        frontier[right[verified]] = True
        frontier &= ~reach
        reach |= frontier
    return reach


def _crossed(front_group: np.ndarray, front: np.ndarray, rest_group: np.ndarray,
             rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (a member of ``front``, a member of ``rest``) of one group (both sorted by group)."""
    lo = np.searchsorted(front_group, rest_group, "left")
    hi = np.searchsorted(front_group, rest_group, "right")
    n = hi - lo
    return front[expand(lo, hi)], np.repeat(rest, n)
