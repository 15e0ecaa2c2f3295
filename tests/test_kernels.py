"""The compiled kernels against plain Python references."""

from __future__ import annotations

import threading
import time

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import _native
from dedup.fingerprint.kernels import POSITION, SEQUENCE_BASE, block_prints, document_prints, sequence_hashes
from dedup.hashtables import DistinctValues, bucket_pairs, first_ids, first_in_group
from dedup.match.clusters import components
from dedup.match.lsh import _ROW_MULTIPLIERS, band_keys
from dedup.match.verify import jaccard_pairs, lcs_pairs

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


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=8), st.data())
def test_document_prints_equal_signing_each_document_stream_whole(lengths, data):
    """Folding block signatures with the boundary-crossing n-grams gives the MinHash of the whole
    stream, and the same exact hash as hashing the stream as one run."""
    n, a, b = 3, np.array([3, 5, 7], np.uint32), np.array([1, 2, 3], np.uint32)
    lengths = np.array(lengths, dtype=np.int64)
    th = np.array(data.draw(st.lists(st.integers(0, 5), min_size=int(lengths.sum()), max_size=int(lengths.sum()))),
                  dtype=np.uint64)
    _, block_sigs, _ = block_prints(th, lengths, n, a, b)
    sig_row = np.where(lengths >= n, np.cumsum(lengths >= n) - 1, -1)
    docs = data.draw(st.integers(1, 3))
    occurrences = data.draw(st.lists(st.tuples(st.integers(0, docs - 1), st.integers(0, len(lengths) - 1)),
                                     max_size=10).map(sorted))
    occ_doc = np.array([d for d, _ in occurrences], dtype=np.int64)
    occ_u = np.array([u for _, u in occurrences], dtype=np.int64)
    counts, hashes, sigs, stream = document_prints(th, lengths, occ_u, occ_doc, docs, sig_row, block_sigs, n, a, b)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    at = 0
    for d in range(docs):
        own = np.concatenate([th[starts[u]:starts[u] + lengths[u]] for dd, u in occurrences if dd == d] or [th[:0]])
        assert counts[d] == len(own)
        assert stream[at:at + len(own)].tolist() == own.tolist()
        at += len(own)
        whole_hash, whole_sig, _ = block_prints(own, np.array([len(own)]), n, a, b)
        if len(own):
            assert hashes[d] == whole_hash[0]
        if len(own) >= n:
            assert sigs[d].tolist() == whole_sig[0].tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 5), max_size=60))
def test_first_ids_number_equal_values_by_first_appearance(values):
    numbers: dict[int, int] = {}
    expected_item = [numbers.setdefault(v, len(numbers)) for v in values]
    expected_first = [values.index(v) for v in numbers]
    item, first = first_ids(np.array(values, dtype=np.uint64))
    assert item.tolist() == expected_item
    assert first.tolist() == expected_first


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**64 - 1) | st.integers(0, 40), max_size=70), max_size=8))
def test_distinct_values_keep_each_value_once_in_order_of_first_appearance(batches):
    seen = DistinctValues()
    for batch in batches:  # batches of up to 70 values grow the table several times over
        seen.add(np.array(batch, dtype=np.uint64))
    assert seen.values.tolist() == list(dict.fromkeys(v for batch in batches for v in batch))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 200), st.integers(0, 200), st.integers(1, 12))
def test_lcs_length_equals_rapidfuzz(seed, m, n, alphabet):
    """Streams of up to 200 tokens span up to four 64-bit words, so the carry between words counts."""
    from rapidfuzz.distance import LCSseq

    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, alphabet, m).tolist(), rng.integers(0, alphabet, n).tolist()
    flat = np.array(x + y, dtype=np.uint32)
    found = lcs_pairs(flat, np.array([0, m, m + n]), np.array([0, 1]), np.array([1, 0]))
    assert found.tolist() == [LCSseq.similarity(x, y)] * 2


def test_lcs_of_a_long_varied_stream_is_left_to_the_caller():
    """A match table with a row per distinct token would grow with the square of such a stream."""
    x = np.arange(70_000, dtype=np.uint32)  # 70,000 distinct tokens x 1,094 words: over the 32 MiB cap
    flat = np.concatenate((x, x[::-1]))
    assert lcs_pairs(flat, np.array([0, 70_000, 140_000]), np.array([0]), np.array([1])).tolist() == [-1]


def test_aligned_share_measures_a_pair_too_long_for_the_table_with_rapidfuzz(tmp_path):
    from dedup.match.verify import aligned_share
    from dedup.store.streams import Streams

    x = np.arange(70_000, dtype=np.uint32)
    streams = Streams(tmp_path / "tokens.u32")
    streams.append(np.concatenate((x, x[::-1], x[:10])), np.array([70_000, 70_000, 10]))
    streams.close()
    share = aligned_share(streams, 0.9)
    assert share(np.array([0, 0]), np.array([1, 2])).tolist() == [0.0, 0.0]  # LCS 1 and 10 of 70,000


class _CountingStreams:
    """A Streams stand-in that counts how often its pages are handed back."""

    def __init__(self, streams):
        self.view, self.offsets, self.releases = streams.view, streams.offsets, 0
        self._streams = streams

    def __getitem__(self, i):
        return self._streams[i]

    def release(self):
        self.releases += 1


@pytest.mark.parametrize("threads", [1, 2])
def test_verification_tile_by_tile_gives_every_pair_its_own_answer(tmp_path, threads):
    """Pairs are compared out of order, tile by tile; each answer must land on its own pair, and the
    pages go back at most once per tile (not once per chunk of pairs), and at the end."""
    from dedup.match import verify as matching
    from dedup.store.streams import Streams

    rng = np.random.default_rng(7)
    sets = [rng.integers(0, 12, rng.integers(1, 9)).astype(np.uint32) for _ in range(40)]
    streams = Streams(tmp_path / "sets.u32")
    streams.append(np.concatenate(sets), np.array([len(s) for s in sets]))
    streams.close()
    left, right = rng.integers(0, 40, 3_000), rng.integers(0, 40, 3_000)
    expected = [len(set(sets[a]) & set(sets[b])) / len(set(sets[a]) | set(sets[b]))
                for a, b in zip(left.tolist(), right.tolist())]
    counting = _CountingStreams(streams)
    found = matching.exact_jaccard(counting, threads, tiling=(40, 100))(left, right)  # about 5 groups: 15 tiles
    assert found.tolist() == pytest.approx(expected)
    group = streams.offsets[:-1] // 40
    tiles = set(zip(np.minimum(group[left], group[right]).tolist(), np.maximum(group[left], group[right]).tolist()))
    assert 1 < counting.releases <= len(tiles) < 3_000 // 100


def test_aligned_share_is_the_same_whatever_the_tiles(tmp_path):
    from dedup.match import verify as matching
    from dedup.store.streams import Streams

    rng = np.random.default_rng(11)
    bases = rng.integers(0, 50, (2, 30))  # pairs across the two bases fail the bound and score 0
    docs = [np.where(rng.random(30) < 0.1, rng.integers(0, 50, 30), bases[k % 2]).astype(np.uint32) for k in range(20)]
    streams = Streams(tmp_path / "tokens.u32")
    streams.append(np.concatenate(docs), np.full(20, 30))
    streams.close()
    left, right = rng.integers(0, 20, 300), rng.integers(0, 20, 300)
    whole = matching.aligned_share(streams, 0.5)(left, right)
    assert matching.aligned_share(streams, 0.5, threads=2, tiling=(45, 16))(left, right).tolist() == whole.tolist()
    assert 50 < (whole >= 0.5).sum() < 250  # some pairs were aligned, others stopped at the bound


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4)), max_size=60))
def test_first_in_group_equals_polars_first_distinct_over_the_group(rows):
    rows = sorted(rows, key=lambda r: r[0])  # the rows of a group together
    frame = pl.DataFrame(rows, schema={"group": pl.Int64, "value": pl.UInt64}, orient="row")
    expected = frame.select(pl.col("value").is_first_distinct().over("group")).to_series().to_list()
    assert first_in_group(frame["group"].to_numpy(), frame["value"].to_numpy()).tolist() == expected


M64, M32 = (1 << 64) - 1, (1 << 32) - 1


def _sequence(tokens: list[int]) -> int:
    h = 0
    for t in tokens:
        h = (h * SEQUENCE_BASE + t) & M64
    h ^= (len(tokens) * int(POSITION[1])) & M64
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & M64
    return h ^ (h >> 33)


def _fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    return h ^ (h >> 16)


def _shingle(tokens: list[int]) -> int:
    acc = sum(t * int(POSITION[k]) for k, t in enumerate(tokens)) & M64
    return (acc ^ (acc >> 32)) & M32


TOKENS = st.integers(0, 5) | st.integers(0, 2**64 - 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(TOKENS, max_size=12), max_size=6), st.integers(1, 4), st.integers(0, 9), st.data())
def test_block_prints_equal_a_python_minhash_of_each_run(runs, n, perms, data):
    """Exact hashes, n-gram hashes and signatures as plain Python integers compute them: datasketch's
    affine32 permutations (a * h + b mod 2^32) of the fmix32-mixed n-gram hashes, the minimum kept."""
    a = data.draw(st.lists(st.integers(0, M32), min_size=perms, max_size=perms))
    b = data.draw(st.lists(st.integers(0, M32), min_size=perms, max_size=perms))
    th = np.array([t for run in runs for t in run], dtype=np.uint64)
    lengths = np.array([len(run) for run in runs], dtype=np.int64)
    hashes, sigs, shingles = block_prints(th, lengths, n, np.array(a, np.uint32), np.array(b, np.uint32))
    assert hashes.tolist() == [_sequence(run) for run in runs]
    assert sequence_hashes(th, lengths).tolist() == hashes.tolist()
    signed = [run for run in runs if len(run) >= n] if perms else []
    grams = [[_shingle(run[p:p + n]) for p in range(len(run) - n + 1)] for run in signed]
    assert shingles.tolist() == [g for run in grams for g in run]
    expected = [[min((x * _fmix32(g) + y) & M32 for g in run) for x, y in zip(a, b)] for run in grams]
    assert sigs.tolist() == expected and sigs.shape == (len(signed), perms)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 12).flatmap(lambda width: st.tuples(
    st.just(width), st.lists(st.lists(st.integers(0, M32), min_size=width, max_size=width), max_size=8),
    st.integers(1, width).flatmap(lambda rows: st.tuples(st.just(rows), st.integers(0, width // rows))))))
def test_band_keys_equal_a_python_sum_per_band(case):
    width, sigs, (rows, bands) = case
    multipliers = [int(m) for m in _ROW_MULTIPLIERS[:rows]]
    expected = []
    for band in range(bands):
        keys = []
        for sig in sigs:
            acc = sum(v * m for v, m in zip(sig[band * rows:(band + 1) * rows], multipliers)) & M64
            keys.append(acc ^ (acc >> 29))
        expected.append(keys)
    found = band_keys(np.array(sigs, dtype=np.uint32).reshape(len(sigs), width), bands, rows)
    assert found.shape == (bands, len(sigs)) and found.tolist() == expected


def test_kernels_refuse_wrong_types_and_indices_out_of_range():
    """The C kernels check what they are given before reading it, instead of reading past a buffer."""
    offsets, one = np.array([0, 2]), np.zeros(1, np.int64)
    with pytest.raises(TypeError, match="8-byte unsigned"):
        _native.first_ids(np.zeros(3, np.float64), np.empty(3, np.int64), np.empty(3, np.int64))
    with pytest.raises(ValueError, match="out of range"):
        jaccard_pairs(np.zeros(2, np.uint32), offsets, one, one + 1)
    with pytest.raises(ValueError, match="past the values"):
        lcs_pairs(np.zeros(1, np.uint32), offsets, one, one)
    with pytest.raises(ValueError, match="out of range"):
        components(3, np.array([0]), np.array([3]))
    with pytest.raises(ValueError, match="more tokens than given"):
        block_prints(np.zeros(3, np.uint64), np.array([4]), 2, np.ones(2, np.uint32), np.ones(2, np.uint32))
    with pytest.raises(ValueError, match="run or a block signature out of range"):
        document_prints(np.zeros(3, np.uint64), np.array([3]), np.array([0]), np.array([0]), 1, np.array([1]),
                        np.zeros((1, 2), np.uint32), 2, np.ones(2, np.uint32), np.ones(2, np.uint32))


# Inputs made beforehand, of the kernels' own types: numpy work (which can give the GIL away itself)
# stays out of the measured run.
_RNG = np.random.default_rng(5)
_BIG = _RNG.integers(0, 2**63, 2_000_000, dtype=np.uint64)
_FEW = _BIG % np.uint64(100_000)
_ENDS = (_BIG % np.uint64(2_000_000)).astype(np.int64)
_ENDS_REVERSED = _ENDS[::-1].copy()
_STREAMS = _RNG.integers(0, 40, 120_000).astype(np.uint32)
_PERMS = np.ones(512, np.uint32)
_GIL_KERNELS = {  # each runs for about 0.1 s here
    "block_prints": lambda: block_prints(_BIG[:1_000_000], np.full(10_000, 100), 5, _PERMS, _PERMS),
    "first_ids": lambda: first_ids(_BIG),
    "bucket_pairs": lambda: bucket_pairs(_FEW),
    "lcs_pairs": lambda: lcs_pairs(_STREAMS, np.array([0, 60_000, 120_000]), np.array([0]), np.array([1])),
    "components": lambda: components(2_000_000, _ENDS, _ENDS_REVERSED),
}


@pytest.mark.parametrize("kernel", sorted(_GIL_KERNELS))
def test_kernels_let_other_threads_run_meanwhile(kernel):
    """A thread counting in Python gets the GIL in the middle third of a kernel's run (over 30 ms: the
    Python around the loop is over within one 5 ms switch interval at each end)."""
    run = _GIL_KERNELS[kernel]
    ticks, stop = [], threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(time.perf_counter())

    spinner = threading.Thread(target=spin)
    spinner.start()
    while not ticks:
        time.sleep(0.001)
    try:
        start = time.perf_counter()
        run()
        end = time.perf_counter()
    finally:
        stop.set()
        spinner.join()
    third = (end - start) / 3
    assert end - start > 0.03
    assert any(start + third < t < end - third for t in ticks)
