"""The index's galloping search agrees with numpy's binary search on sorted keys."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from dedup.index.search import ranges

keys = st.lists(st.integers(0, 40), max_size=200).map(lambda v: np.array(sorted(v), np.uint64))


@given(stored=keys, wanted=keys.map(np.unique))
def test_ranges_match_searchsorted(stored, wanted):
    which, lo, hi = ranges(stored, wanted)
    left, right = np.searchsorted(stored, wanted, "left"), np.searchsorted(stored, wanted, "right")
    held = np.flatnonzero(right > left)
    assert which.tolist() == held.tolist()
    assert lo.tolist() == left[held].tolist() and hi.tolist() == right[held].tolist()


def test_ranges_of_large_values():
    stored = np.array([1, 2**63, 2**64 - 1, 2**64 - 1], np.uint64)
    which, lo, hi = ranges(stored, np.array([2**63, 2**64 - 1], np.uint64))
    assert (which.tolist(), lo.tolist(), hi.tolist()) == ([0, 1], [1, 2], [2, 4])
