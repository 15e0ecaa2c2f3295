"""The compiled kernels against plain Python references."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.kernels import bucket_pairs, jaccard_pairs

SETS = st.lists(st.lists(st.integers(0, 12), max_size=15), min_size=2, max_size=6)


@settings(max_examples=200, deadline=None)
@given(SETS, st.data())
def test_jaccard_of_unsorted_values_with_repeats_is_the_set_jaccard(groups, data):
    flat = np.array([v for g in groups for v in g], dtype=np.uint32)
    offsets = np.concatenate(([0], np.cumsum([len(g) for g in groups])))
    index = st.integers(0, len(groups) - 1)
    pairs = data.draw(st.lists(st.tuples(index, index), min_size=1, max_size=8))
    left, right = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    expected = []
    for a, b in pairs:
        x, y = set(groups[a]), set(groups[b])
        expected.append(len(x & y) / len(x | y) if x | y else 1.0)
    assert jaccard_pairs(flat, offsets, left, right).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=60))
def test_bucket_pairs_link_each_member_to_the_first_and_the_previous(keys):
    seen: dict[int, list[int]] = {}
    expected = []
    for i, key in enumerate(keys):
        members = seen.setdefault(key, [])
        if members:
            expected.append((members[0], i))
            if members[-1] != members[0]:
                expected.append((members[-1], i))
        members.append(i)
    # Keys as an LSH band gives them: mixed across all 64 bits (the table indexes by the top bits).
    mixed = (np.array(keys, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
    found = [(int(p) >> 32, int(p) & 0xFFFFFFFF) for p in bucket_pairs(mixed)]
    assert found == expected
