"""LSH candidates: every pair that shares a band key is found once, however the bands are worked on."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dedup.match.lsh import _ROW_MULTIPLIERS, band_keys, candidate_pairs


def _brute_force(keys: np.ndarray, rows: np.ndarray) -> set[tuple[int, int]]:
    picked = keys[:, rows]
    return {(i, j) for i, j in itertools.combinations(range(len(rows)), 2) if (picked[:, i] == picked[:, j]).any()}


def test_candidate_pairs_are_exactly_the_pairs_sharing_a_band_key():
    rng = np.random.default_rng(5)
    sigs = rng.integers(0, 4, size=(60, 8), dtype=np.uint32)  # few values: many shared bands
    keys = band_keys(sigs, bands=4, rows=2)
    rows = rng.permutation(60)[:45]
    left, right = candidate_pairs(lambda b: keys[b], 4, rows)
    found = list(zip(left.tolist(), right.tolist()))
    assert len(found) == len(set(found)) and all(a < b for a, b in found)
    # Inside a bucket members pair with its first member and their neighbour, not with everyone:
    # the pairs found connect exactly what the brute force connects.
    assert set(found) <= _brute_force(keys, rows)
    assert _components(set(found), 45) == _components(_brute_force(keys, rows), 45)


def test_two_threads_find_the_same_pairs_as_one():
    rng = np.random.default_rng(6)
    keys = band_keys(rng.integers(0, 3, size=(500, 12), dtype=np.uint32), bands=6, rows=2)
    rows = np.arange(500)
    one = candidate_pairs(lambda b: keys[b], 6, rows, threads=1)
    two = candidate_pairs(lambda b: keys[b], 6, rows, threads=2)
    assert np.array_equal(one[0], two[0]) and np.array_equal(one[1], two[1]) and len(one[0]) > 100


def test_band_keys_mix_the_sum_of_each_bands_values_and_match_exactly_equal_bands():
    rng = np.random.default_rng(7)
    sigs = rng.integers(0, 2, size=(40, 12), dtype=np.uint32)  # two values: many equal bands
    sigs[0] = 2**32 - 1  # the largest values, so the sum wraps past 64 bits
    keys = band_keys(sigs, bands=3, rows=4)
    for b in range(3):
        for i in range(40):
            total = sum(int(sigs[i, b * 4 + r]) * int(_ROW_MULTIPLIERS[r]) for r in range(4)) % 2**64
            assert int(keys[b, i]) == total ^ (total >> 29)
            for j in range(40):
                assert (keys[b, i] == keys[b, j]) == (sigs[i, b * 4:b * 4 + 4] == sigs[j, b * 4:b * 4 + 4]).all()


def test_band_keys_refuse_bands_that_do_not_fit_the_signatures():
    with pytest.raises(ValueError, match="do not fit"):
        band_keys(np.zeros((2, 12), np.uint32), bands=4, rows=4)


def _components(pairs: set[tuple[int, int]], n: int) -> list[int]:
    label = list(range(n))

    def root(i: int) -> int:
        while label[i] != i:
            i = label[i]
        return i

    for a, b in pairs:
        label[max(root(a), root(b))] = min(root(a), root(b))
    return [root(i) for i in range(n)]
