"""Near-duplicates: datasketch-compatible MinHash, near repeats, char shingles, near-duplicate documents."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from conftest import block_signatures, clean, read_jsonl, scan, sentence, words, write_jsonl
from datasketch import LeanMinHash, MinHash

from dedup.fingerprint import stage as fingerprint
from dedup.fingerprint.normalise import normalised
from dedup.fingerprint.stage import shingle_hash


def word_shingles(text: str, n: int = 5) -> list[str]:
    tokens = pl.select(normalised(pl.lit(text))).item().split(" ")
    return [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def datasketch_minhash(text: str, num_perm: int = 128, seed: int = 1) -> MinHash:
    """datasketch fed with the same shingles, hashed by dedup's shingle hash (a list of tokens)."""
    m = MinHash(num_perm=num_perm, seed=seed, scheme="affine32",
                hashfunc=lambda b: shingle_hash(b.decode("utf-8").split(" ")))
    for shingle in word_shingles(text):
        m.update(shingle.encode("utf-8"))
    return m


def _jaccard(a: str, b: str) -> float:
    x, y = set(word_shingles(a)), set(word_shingles(b))
    return len(x & y) / len(x | y)


A = " ".join(words(40, 1)) + "."
B = A.replace(A.split()[20], "Substituted", 1)
C = sentence(35, 2)


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (64, 7)])
def test_signature_equals_datasketch_hashvalues(num_perm, seed):
    sigs = block_signatures([A, B, C], num_perm=num_perm, seed=seed)
    for text, sig in zip([A, B, C], sigs):
        expected = datasketch_minhash(text, num_perm, seed).hashvalues
        assert sig.dtype == np.uint32
        np.testing.assert_array_equal(sig, expected)


def test_signature_loads_into_datasketch_with_the_same_jaccard():
    sa, sb, sc = block_signatures([A, B, C])
    loaded = [MinHash(num_perm=128, seed=1, hashvalues=s, scheme="affine32") for s in (sa, sb, sc)]
    direct = [datasketch_minhash(t) for t in (A, B, C)]
    lean = [LeanMinHash(m) for m in loaded]
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        ours = float(np.mean([sa, sb, sc][i] == [sa, sb, sc][j]))
        assert loaded[i].jaccard(loaded[j]) == pytest.approx(ours)
        assert direct[i].jaccard(direct[j]) == pytest.approx(ours)
        assert lean[i].jaccard(lean[j]) == pytest.approx(ours)
        assert loaded[i].jaccard(direct[j]) == pytest.approx(ours)
    # and the estimate is a good one
    assert loaded[0].jaccard(loaded[1]) == pytest.approx(_jaccard(A, B), abs=0.12)
    assert loaded[0].jaccard(loaded[2]) < 0.1


def test_near_repeated_caption_is_a_repeat_with_similarity_below_one(tmp_path):
    caption = " ".join(words(60, 500)) + "."
    changed = caption.split(" ")
    changed[57] = "Different"
    near = " ".join(changed)
    text = "\n".join([sentence(20, 501), caption, sentence(25, 502), near, sentence(15, 503)]) + "\n"
    found = _scan_text(tmp_path, text)
    assert found.select("block", "kind", "kept_block", "action").rows() == [(3, "repeat", 1, "remove")]
    similarity = found["similarity"].item()
    assert 0.8 <= similarity < 1.0
    assert similarity == pytest.approx(_jaccard(caption, near), abs=0.1)
    assert found["rule"].item() == f"repeat near {round(similarity, 2)}"
    start, end = found.select("start", "end").row(0)
    assert text[start:end] == near


def test_exact_only_does_not_find_the_near_repeat(tmp_path):
    caption = " ".join(words(60, 510)) + "."
    near = caption.replace(caption.split(" ")[58], "Different")
    text = f"{caption}\n{sentence(20, 511)}\n{near}\n"
    assert _scan_text(tmp_path, text).height == 1
    assert _scan_text(tmp_path, text, near=False).is_empty()


def test_short_blocks_are_matched_exactly_only(tmp_path):
    # fewer words than the n-gram size: no shingles, so only an exact normalised copy counts
    text = "Breaking news from the city\nbreaking NEWS, from the city!\nBreaking news from the town\n"
    found = _scan_text(tmp_path, text)
    assert found.select("block", "kind", "similarity").rows() == [(1, "repeat", 1.0)]


CJK = "今天天气很好我们一起去公园散步然后在湖边的小咖啡馆里喝茶聊天直到太阳慢慢落山才回家休息明天还要早起上班工作"


def test_char_shingles_find_a_near_repeat_in_chinese_that_word_mode_misses(tmp_path):
    near = CJK[:-3] + "学" + CJK[-2:]
    assert near != CJK and len(near) == len(CJK)
    text = f"{CJK}\n中间有一句完全不同的话用来隔开两行文字而已\n{near}\n"
    chars = _scan_text(tmp_path, text, shingle="char")
    assert chars.select("block", "kind", "kept_block").rows() == [(2, "repeat", 0)]
    assert 0.8 <= chars["similarity"].item() < 1.0
    assert _scan_text(tmp_path, text).is_empty()


def _article(seed: int, paragraphs: int = 6, size: int = 50) -> list[str]:
    return [" ".join(words(size, seed * 100 + k)) + "." for k in range(paragraphs)]


def test_document_with_three_words_changed_is_a_duplicate_doc(tmp_path):
    base = _article(1)
    edited = [p.split(" ") for p in base]
    edited[0][10], edited[2][25], edited[4][40] = "Alpha", "Beta", "Gamma"
    edited_text = "\n\n".join(" ".join(p) for p in edited) + "\n"
    records = [{"id": "orig", "text": "\n\n".join(base) + "\n"}, {"id": "other", "text": "\n\n".join(_article(2))},
               {"id": "edited", "text": edited_text}]
    src = write_jsonl(tmp_path / "c.jsonl", records)
    out = tmp_path / "o.jsonl"
    found = clean(str(src), str(out))
    assert found.select("doc_id", "kind", "kept_doc", "cluster_size", "end").rows() == [
        ("edited", "duplicate_doc", "orig", 2, len(edited_text))]
    assert 0.9 <= found["similarity"].item() < 1.0
    assert found["rule"].item() == f"doc aligned {round(found['similarity'].item(), 2)}"
    assert [r["id"] for r in read_jsonl(out)] == ["orig", "other"]


def test_story_with_a_paragraph_cut_and_two_words_changed_is_a_duplicate_doc(tmp_path):
    base = _article(4)
    trimmed = [p.split(" ") for i, p in enumerate(base) if i != 3]
    trimmed[0][5], trimmed[4][30] = "Alpha", "Beta"
    trimmed_text = "\n\n".join(" ".join(p) for p in trimmed) + "\n"
    records = [{"id": "orig", "text": "\n\n".join(base) + "\n"}, {"id": "trimmed", "text": trimmed_text}]
    found = scan(str(write_jsonl(tmp_path / "c.jsonl", records)))
    assert found.select("doc_id", "kind", "kept_doc").rows() == [("trimmed", "duplicate_doc", "orig")]
    # the cut paragraph is left out of the longer length: 248 of the 250 words left line up
    assert 0.98 <= found["similarity"].item() < 1.0


def test_story_with_two_paragraphs_cut_in_two_places_is_not_a_duplicate_doc(tmp_path):
    base = _article(5, paragraphs=10)
    trimmed = [p for i, p in enumerate(base) if i not in (2, 7)]  # 80% of the words, in two passages
    records = [{"id": "orig", "text": "\n\n".join(base) + "\n"}, {"id": "trimmed", "text": "\n\n".join(trimmed)}]
    found = scan(str(write_jsonl(tmp_path / "c.jsonl", records)), boilerplate_min_docs=3)
    assert "duplicate_doc" not in found["kind"].to_list()


def test_document_with_an_added_paragraph_is_not_a_duplicate_doc(tmp_path):
    base = _article(3)
    longer = base + [" ".join(words(110, 399)) + "."]  # a third more text: 300 of 410 words line up
    records = [{"id": "orig", "text": "\n\n".join(base) + "\n"}, {"id": "longer", "text": "\n\n".join(longer) + "\n"}]
    found = scan(str(write_jsonl(tmp_path / "c.jsonl", records)), boilerplate_min_docs=3)
    assert "duplicate_doc" not in found["kind"].to_list()
    # its shared paragraphs are still reported as duplicate blocks of the original
    assert found.select("doc_id", "block", "kind", "kept_doc").rows() == [
        ("longer", k, "duplicate_block", "orig") for k in range(6)]


def test_near_duplicate_blocks_across_documents_count_towards_boilerplate(tmp_path):
    footer = " ".join(words(30, 600)) + "."
    variants = [footer] + [footer.replace(footer.split(" ")[29], w) for w in ("One.", "Two.", "Three.")]
    records = [{"id": f"p{i}", "text": f"{sentence(25, 610 + i)}\n{v}\n"} for i, v in enumerate(variants)]
    found = scan(str(write_jsonl(tmp_path / "c.jsonl", records)))
    assert found.select("doc_id", "block", "kind").rows() == [(f"p{i}", 1, "boilerplate") for i in range(4)]
    assert found["cluster"].n_unique() == 1 and found["cluster_size"].to_list() == [4] * 4
    assert (found["similarity"] >= 0.8).all()


def _scan_text(tmp_path, text: str, **options) -> pl.DataFrame:
    path = tmp_path / f"doc-{len(list(tmp_path.iterdir()))}.txt"
    path.write_text(text, encoding="utf-8")
    return scan(str(path), **options)


def test_distinct_texts_are_exact_even_when_hashes_collide(monkeypatch):
    texts = pl.Series(["b", "a", None, "b", "c", "a", None])  # sites can be null
    expected = (["b", "a", None, "c"], [0, 1, 2, 0, 3, 1, 2])
    distinct, index = fingerprint.distinct_texts(texts)
    assert (distinct["raw"].to_list(), index.tolist()) == expected
    # Every text given one hash: the check against the texts must catch it and group them exactly.
    # A patch, as no honest input makes two short texts' 64-bit hashes collide, and a hash function
    # argument would exist for this test alone.
    monkeypatch.setattr(fingerprint, "first_ids", lambda h: (np.zeros(len(h), np.int64), np.zeros(1, np.int64)))
    distinct, index = fingerprint.distinct_texts(texts)
    assert (distinct["raw"].to_list(), index.tolist()) == expected
