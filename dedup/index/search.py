"""Finding many sorted keys in a sorted, memory-mapped column: one galloping pass, not a binary search each.

A new batch looks up about a million band keys in each segment; searched one by one (numpy's
``searchsorted``) that is a million cache-missing binary searches per segment. Walking both sorted
sequences together, and galloping over the stretches of the column between two wanted keys, reads
each page of the column at most once and costs O(q log(n/q)) comparisons. The loop is C
(``dedup/native/search.c``).

Example:
    >>> import numpy as np
    >>> which, lo, hi = ranges(np.array([1, 3, 3, 7], np.uint64), np.array([0, 3, 7, 9], np.uint64))
    >>> which.tolist(), lo.tolist(), hi.tolist()
    ([1, 2], [1, 3], [3, 4])
"""

from __future__ import annotations

import numpy as np

from dedup import _native


def ranges(stored: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The keys of ``wanted`` (sorted) that ``stored`` (sorted) holds: their positions in ``wanted``,
    and the range ``lo:hi`` of ``stored`` equal to each."""
    which, lo, hi = (np.empty(len(wanted), np.int64) for _ in range(3))
    found = _native.ranges(np.ascontiguousarray(stored, np.uint64), np.ascontiguousarray(wanted, np.uint64),
                           which, lo, hi) if len(wanted) else 0
    return which[:found], lo[:found], hi[:found]
