"""Compiled comparisons of stored streams (C, :mod:`dedup._native`, without the GIL), for verifying pairs.

Streams lie one after another in a flat array, stream i from ``offsets[i]`` to ``offsets[i + 1]``:
:func:`jaccard_pairs` compares them as sets (block shingles), :func:`lcs_pairs` as sequences
(document token streams).

Example:
    >>> import numpy as np
    >>> jaccard_pairs(np.array([3, 1, 2, 4, 2, 3, 2], np.uint32), np.array([0, 3, 7]), np.array([0]), np.array([1]))
    array([0.5])
"""

from __future__ import annotations

import numpy as np

from dedup import _native
from dedup.executors.threads import in_order
from dedup.match.clusters import Similarity


def jaccard_pairs(flat: np.ndarray, offsets: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Jaccard similarity of set ``left[k]`` and set ``right[k]``, where set i holds the values
    ``flat[offsets[i]:offsets[i + 1]]`` in any order, repeats allowed. Both are sorted when a pair is
    compared, then merged: sets are only ever sorted for the few items that become candidates.

    Example: sets {1, 2, 3} and {2, 3, 4} -> 0.5.
    """
    out = np.empty(len(left), dtype=np.float64)
    if len(left):
        _native.jaccard(np.ascontiguousarray(flat, np.uint32), np.ascontiguousarray(offsets, np.int64),
                        np.ascontiguousarray(left, np.int64), np.ascontiguousarray(right, np.int64), out)
    return out


# The match table of a stream has a row per distinct token and a bit per position: it grows with the
# square of a long, varied stream. Past 4M words (32 MiB) :func:`lcs_pairs` answers -1 instead.
_LCS_TABLE_WORDS = 1 << 22


def lcs_pairs(flat: np.ndarray, offsets: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Length of the longest common subsequence of token streams ``left[k]`` and ``right[k]``, where
    stream i is ``flat[offsets[i]:offsets[i + 1]]``; compiled, without the GIL. -1 for a pair whose
    shorter stream would need a match table of over 32 MiB (tens of thousands of distinct tokens).
    The length is Hyyro's bit-parallel recurrence (dedup/native/verify.c), a bit per position of the
    shorter stream.

    Example: streams 1 2 3 4 and 2 4 3 share 2 3 (or 2 4) -> 2.
        >>> lcs_pairs(np.array([1, 2, 3, 4, 2, 4, 3], np.uint32), np.array([0, 4, 7]), np.array([0]), np.array([1]))
        array([2])
    """
    out = np.empty(len(left), dtype=np.int64)
    if len(left):
        _native.lcs(np.ascontiguousarray(flat, np.uint32), np.ascontiguousarray(offsets, np.int64),
                    np.ascontiguousarray(left, np.int64), np.ascontiguousarray(right, np.int64), out, _LCS_TABLE_WORDS)
    return out


# Verification reads both streams of each pair from a memory-mapped spill file, and what it reads
# stays resident until ``Streams.release`` (a read maps the whole cached folio around it: up to 2 MiB
# on this machine's ext4, measured). Pairs are therefore compared tile by tile: the file is cut into
# groups of GROUP_WORDS stream values, a pair's tile is the groups of its two streams, and the pages
# are handed back whenever verification moves on to another tile. So two to four groups are resident
# at a time (a tile is two, and two threads can be on two tiles), and each is mapped in once per tile
# rather than once per few thousand pairs (benchmarks/RESULTS.md: time and resident memory of the
# three ways, at 1M documents).
GROUP_WORDS = 32 << 20


# Pairs handed to a thread at a time.
VERIFY_CHUNK = 4_000


def _tile_order(offsets: np.ndarray, left: np.ndarray, right: np.ndarray,
                group_words: int = GROUP_WORDS) -> tuple[np.ndarray, np.ndarray]:
    """The order that visits the pairs tile by tile (groups of ``group_words`` stream values), and the
    tile of each pair in that order.

    Example:
        >>> order, tiles = _tile_order(np.arange(4) * GROUP_WORDS, np.array([2, 0, 1]), np.array([2, 1, 0]))
        >>> order.tolist(), tiles.tolist()
        ([1, 2, 0], [1, 1, 8])
    """
    group = offsets[:-1] // group_words
    a, b = group[left], group[right]
    tiles = np.minimum(a, b) * (int(group.max(initial=0)) + 1) + np.maximum(a, b)
    # numpy sorts 16-bit keys by radix, far faster than int64.
    order = np.argsort(tiles.astype(np.uint16) if tiles.max(initial=0) < 1 << 16 else tiles, kind="stable")
    return order, tiles[order]


def _by_tile(kernel, streams, left: np.ndarray, right: np.ndarray, threads: int, dtype: type,
             tiling: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``kernel(streams.view, streams.offsets, left, right)`` for every pair, in chunks of pairs taken
    tile by tile (``tiling``: the stream values of a group, the pairs of a chunk), on ``threads`` threads (the compiled kernels run without the GIL);
    ``streams``' pages go back to the OS each time the finished pairs reach another tile, and at the
    end. Returns the answers in pair order, and the tile order (``order``, ``tiles``) for a caller
    that visits the pairs again."""
    group_words, chunk_pairs = tiling
    order, tiles = _tile_order(streams.offsets, left, right, group_words)
    out = np.empty(len(left), dtype=dtype)

    def chunk(lo: int) -> int:
        at = order[lo:lo + chunk_pairs]
        out[at] = kernel(streams.view, streams.offsets, left[at], right[at])
        return lo + len(at)

    chunks = range(0, len(tiles), chunk_pairs)
    current = tiles[0] if len(tiles) else None
    for end in in_order(chunk, chunks, threads if len(chunks) > 1 else 1):
        if tiles[end - 1] != current:
            streams.release()
            current = tiles[end - 1]
    streams.release()
    return out, order, tiles


def exact_jaccard(sets, threads: int = 1, tiling: tuple[int, int] = (GROUP_WORDS, VERIFY_CHUNK)) -> Similarity:
    """True Jaccard similarity of shingle sets; ``sets`` (a :class:`dedup.store.streams.Streams`) holds the
    shingle hashes of each signature row: ``sets.view`` one after another, row i from
    ``sets.offsets[i]``. Compared in compiled code (:func:`dedup.match.verify.jaccard_pairs`) on ``threads``
    threads, tile by tile (``tiling``: the stream values of a group, see GROUP_WORDS, and the pairs
    handed to a thread at a time)."""

    def similarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return _by_tile(jaccard_pairs, sets, left, right, threads, np.float64, tiling)[0]

    return similarity


MIN_ALIGNED_RUN = 2


# A trimmed copy: the pair differs in at most TRIM_PASSAGES passages of PASSAGE_TOKENS tokens or more
# (as many as a shingle has: shorter differences are edited words), and at least TRIM_SHARE of both
# documents' tokens, counted once, line up. Chosen by measuring (benchmarks/trimmed_copies.py).
TRIM_SHARE = 0.8
TRIM_PASSAGES = 1
PASSAGE_TOKENS = 5


def aligned_runs(x: list, y: list) -> tuple[int, int, int]:
    """(tokens aligned in runs of at least ``MIN_ALIGNED_RUN``, passages that differ, tokens in the
    largest of them): a passage is a stretch between aligned runs with at least ``PASSAGE_TOKENS``
    tokens on one side or the other, measured by its larger side.

    Example:
        >>> aligned_runs("a b c d e f g h i".split(), "a b c v w x y z h i".split())
        (5, 1, 5)
    """
    from rapidfuzz.distance import LCSseq  # here: most runs align no pair, and its import is 60 ms

    aligned = passages = largest = gap_x = gap_y = 0
    for op in [*LCSseq.opcodes(x, y), None]:
        n = op.src_end - op.src_start if op is not None else 0
        if op is None or (op.tag == "equal" and n >= MIN_ALIGNED_RUN):
            aligned += n
            gap = max(gap_x, gap_y)
            passages += gap >= PASSAGE_TOKENS
            largest = max(largest, gap)
            gap_x = gap_y = 0
        else:
            gap_x += n
            gap_y += op.dest_end - op.dest_start
    return aligned, passages, largest


def aligned_share(tokens, floor: float, threads: int = 1,
                  tiling: tuple[int, int] = (GROUP_WORDS, VERIFY_CHUNK)) -> Similarity:
    """Share of the longer token stream that lines up, in order, with the other: the tokens of the
    longest common subsequence that lie in aligned runs of at least ``MIN_ALIGNED_RUN`` tokens, over
    the longer length. A token aligned alone amid differing text is a coincidence (a shared "the"),
    not copied text. A trimmed copy (see TRIM_SHARE) leaves its one differing passage, the cut
    paragraph, out of the longer length.

    ``tokens[i]`` is the token-hash stream of signature row i (a :class:`dedup.store.streams.Streams`). A
    pair differing in at most 10% of the longer text scores at least 0.9, however many places the
    differences are spread over; a story with one paragraph of ten cut and a few words changed scores
    about 0.98; an excerpt of a third of it, a third. The whole LCS is an upper bound, computed for
    every pair in compiled code on ``threads`` threads (:func:`dedup.match.verify.lcs_pairs`); only
    pairs whose bound can reach ``floor`` (or the trimmed share) are aligned (rapidfuzz's LCS opcodes,
    :func:`aligned_runs`), and the others score 0. Pairs are visited tile by tile, as by :func:`exact_jaccard`.
    """

    def similarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        out = np.zeros(len(left))
        # The same answer either way round: an LCS can align ties differently.
        first, second = np.minimum(left, right), np.maximum(left, right)
        sizes = np.diff(tokens.offsets)
        longer = np.maximum(sizes[first], sizes[second])
        both = sizes[first] + sizes[second]
        bound, order, tiles = _by_tile(lcs_pairs, tokens, first, second, threads, np.int64, tiling)
        for k in np.flatnonzero(bound < 0).tolist():  # too long for the compiled table
            from rapidfuzz.distance import LCSseq

            bound[k] = LCSseq.similarity(tokens[first[k]].tolist(), tokens[second[k]].tolist())
        out[longer == 0] = 1.0
        # aligned >= floor * longer, or aligned >= TRIM_SHARE * (both - aligned) for a trimmed copy
        reachable = (bound >= floor * longer) | (bound * (1 + TRIM_SHARE) >= TRIM_SHARE * both)
        aligned = ((longer > 0) & reachable)[order]
        current = None
        for k, tile in zip(order[aligned].tolist(), tiles[aligned].tolist()):  # tile by tile
            if tile != current:
                tokens.release()
                current = tile
            x, y = tokens[first[k]].tolist(), tokens[second[k]].tolist()  # rapidfuzz reads lists faster
            together, passages, largest = aligned_runs(x, y)
            trimmed = passages <= TRIM_PASSAGES and together >= TRIM_SHARE * (both[k] - together)
            out[k] = together / (longer[k] - largest if trimmed and largest < longer[k] else longer[k])
        tokens.release()
        return out

    return similarity
