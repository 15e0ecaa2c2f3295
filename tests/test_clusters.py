"""Clusters never chain: every member is itself similar to its cluster's representative."""

from __future__ import annotations

import numpy as np
import polars as pl
from conftest import scan, sentence, words, write_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.match.clusters import components, honest_clusters

THRESHOLD = 0.8


def _similarity(matrix: np.ndarray):
    def similarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        return matrix[left, right]

    return similarity


def _verified_pairs(matrix: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    left, right = np.nonzero(np.triu(matrix >= threshold, k=1))
    return left.astype(np.int64), right.astype(np.int64)


def test_chain_a_b_c_does_not_put_a_and_c_together():
    # A~B and B~C are similar, A and C are far apart.
    sim = np.array([[1.0, 0.9, 0.2], [0.9, 1.0, 0.9], [0.2, 0.9, 1.0]])
    left, right = _verified_pairs(sim, THRESHOLD)
    rep, s = honest_clusters(3, left, right, np.arange(3), _similarity(sim), THRESHOLD)
    assert rep.tolist() == [0, 0, 2]  # A represents B; C, not similar to A, stands alone
    assert s.tolist() == [1.0, 0.9, 1.0]


def test_chain_with_the_middle_item_first_makes_one_honest_cluster():
    # B ranks first: both A and C are similar to B, so one cluster of three is honest.
    sim = np.array([[1.0, 0.9, 0.2], [0.9, 1.0, 0.85], [0.2, 0.85, 1.0]])
    left, right = _verified_pairs(sim, THRESHOLD)
    rank = np.array([1, 0, 2])
    rep, s = honest_clusters(3, left, right, rank, _similarity(sim), THRESHOLD)
    assert rep.tolist() == [1, 1, 1]
    assert s.tolist() == [0.9, 1.0, 0.85]


def test_long_chain_is_cut_into_honest_clusters():
    n = 6  # 0~1~2~3~4~5, only neighbours similar
    sim = np.eye(n)
    for i in range(n - 1):
        sim[i, i + 1] = sim[i + 1, i] = 0.9
    left, right = _verified_pairs(sim, THRESHOLD)
    rep, _ = honest_clusters(n, left, right, np.arange(n), _similarity(sim), THRESHOLD)
    assert rep.tolist() == [0, 0, 2, 2, 4, 4]


def test_components_label_each_item_with_its_lowest_member():
    label = components(7, np.array([5, 1, 3, 2]), np.array([6, 2, 1, 4]))
    assert label.tolist() == [0, 1, 1, 1, 1, 5, 5]


@given(st.integers(1, 30).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1),
                                                                                    st.integers(0, n - 1)), max_size=40))))
def test_components_equal_a_search_from_each_lowest_item(case):
    n, pairs = case
    neighbours = {i: set() for i in range(n)}
    for a, b in pairs:
        neighbours[a].add(b)
        neighbours[b].add(a)
    expected = [-1] * n
    for start in range(n):  # lowest first: the first search to reach an item names it
        todo = [start] if expected[start] < 0 else []
        while todo:
            i = todo.pop()
            if expected[i] < 0:
                expected[i] = start
                todo.extend(neighbours[i])
    left, right = np.array([a for a, _ in pairs], dtype=np.int64), np.array([b for _, b in pairs], dtype=np.int64)
    assert components(n, left, right).tolist() == expected


@st.composite
def similarity_matrices(draw):
    n = draw(st.integers(1, 9))
    values = draw(st.lists(st.sampled_from([0.1, 0.5, 0.79, 0.8, 0.85, 0.9, 1.0]), min_size=n * n, max_size=n * n))
    m = np.array(values, dtype=float).reshape(n, n)
    m = np.triu(m, 1)
    m = m + m.T + np.eye(n)
    rank = np.array(draw(st.permutations(list(range(n)))))
    return m, rank


@settings(max_examples=200, deadline=None)
@given(similarity_matrices())
def test_every_member_is_similar_to_its_representative(case):
    sim, rank = case
    n = len(sim)
    left, right = _verified_pairs(sim, THRESHOLD)
    rep, s = honest_clusters(n, left, right, rank, _similarity(sim), THRESHOLD)
    label = components(n, left, right)
    for i in range(n):
        r = rep[i]
        assert rep[r] == r, "a representative represents itself"
        assert sim[i, r] >= THRESHOLD
        assert s[i] == sim[i, r]
        assert label[i] == label[r], "clusters only join items linked by verified pairs"
        members = np.flatnonzero(rep == r)
        assert rank[r] == rank[members].min(), "the representative ranks first in its cluster"


# --- end to end -----------------------------------------------------------------------------------

_BASE = words(100, 705)
_M = 7
CHAIN_A = " ".join(_BASE)
CHAIN_B = " ".join(_BASE[:-_M] + words(_M, 1705))  # A with its last 7 words replaced
CHAIN_C = " ".join(words(_M, 2705) + CHAIN_B.split(" ")[_M:])  # B with its first 7 words replaced


def _estimates() -> dict[tuple[str, str], float]:
    """True Jaccard similarity of the word 5-gram sets: what dedup verifies and reports."""

    def grams(text: str) -> set[tuple[str, ...]]:
        tokens = text.lower().split()
        return {tuple(tokens[i : i + 5]) for i in range(len(tokens) - 4)}

    a, b, c = (grams(t) for t in (CHAIN_A, CHAIN_B, CHAIN_C))
    return {("A", "B"): len(a & b) / len(a | b), ("B", "C"): len(b & c) / len(b | c),
            ("A", "C"): len(a & c) / len(a | c)}


def _chain_corpus(tmp_path, order: list[tuple[str, str]]):
    records = [{"id": name, "text": f"{sentence(30, 3000 + i)}\n{line}\n{sentence(30, 4000 + i)}\n"}
               for i, (name, line) in enumerate(order)]
    return write_jsonl(tmp_path / "chain.jsonl", records)


def test_chain_preconditions_hold():
    est = _estimates()
    assert est[("A", "B")] >= THRESHOLD and est[("B", "C")] >= THRESHOLD
    assert est[("A", "C")] < THRESHOLD


def test_end_to_end_chain_keeps_c_out_of_a_s_cluster(tmp_path):
    src = _chain_corpus(tmp_path, [("A", CHAIN_A), ("B", CHAIN_B), ("C", CHAIN_C)])
    found = scan(str(src), boilerplate_min_docs=3)
    assert found.select("doc_id", "block", "kind", "kept_doc", "kept_block", "cluster_size").rows() == [
        ("B", 1, "duplicate_block", "A", 1, 2)]
    assert found["similarity"].item() == _estimates()[("A", "B")]


def test_end_to_end_chain_with_the_middle_first_is_one_cluster(tmp_path):
    src = _chain_corpus(tmp_path, [("B", CHAIN_B), ("A", CHAIN_A), ("C", CHAIN_C)])
    found = scan(str(src), boilerplate_min_docs=4)
    assert found.select("doc_id", "kind", "kept_doc", "cluster_size").rows() == [
        ("A", "duplicate_block", "B", 3), ("C", "duplicate_block", "B", 3)]
    assert (found["similarity"] >= THRESHOLD).all()
    assert found["cluster"].n_unique() == 1
    # A and C are in one cluster only through B, and each is similar to B itself
    est = _estimates()
    assert found.filter(pl.col("doc_id") == "C")["similarity"].item() == est[("B", "C")]
