"""The four kinds of findings and the options that steer them (exact matches)."""

from __future__ import annotations

import polars as pl
from conftest import clean, read_jsonl, scan, sentence, write_jsonl

# The README's count: a block on 3 documents of its site is boilerplate. Tests about other behaviour
# pass it explicitly; test_line_on_two_documents_is_a_duplicate_block_kept_by_default checks the default.
MIN_DOCS = {"boilerplate_min_docs": 3}
NAV = "Home | World | Business | Sports | Weather | Contact us"
PAIR = sentence(12, seed=900)  # stands in exactly two documents


def _page(i: int, *extra: str) -> str:
    return "\n".join([sentence(25, 100 + i), *extra, sentence(18, 200 + i)]) + "\n"


def _folder(tmp_path, pages: dict[str, str]):
    root = tmp_path / "pages"
    for name, text in pages.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_line_on_three_documents_is_boilerplate_removed_everywhere(tmp_path):
    pages = {f"p{i}.txt": _page(i, NAV) for i in range(4)}
    src = _folder(tmp_path, pages)
    out = tmp_path / "out"
    found = clean(str(src), str(out))
    assert found.select("doc_id", "block", "kind", "action").rows() == [
        (f"p{i}.txt", 1, "boilerplate", "remove") for i in range(4)]
    assert found["cluster"].n_unique() == 1
    assert found["cluster_size"].to_list() == [4] * 4
    assert found["kept_doc"].null_count() == 4 and found["kept_block"].null_count() == 4
    for i in range(4):
        assert (out / f"p{i}.txt").read_text() == _page(i)


def test_line_on_two_pages_of_a_small_site_is_boilerplate_by_default(tmp_path):
    """README: the default count adapts to the site, max(2, ceil(sqrt(pages) / 2)): 2 for 3 pages."""
    pages = {"p0.txt": _page(0, PAIR), "p1.txt": _page(1, PAIR), "p2.txt": _page(2)}
    found = scan(str(_folder(tmp_path, pages)))  # default settings
    assert found.select("doc_id", "block", "kind", "action").rows() == [
        ("p0.txt", 1, "boilerplate", "remove"), ("p1.txt", 1, "boilerplate", "remove")]


def test_line_on_two_pages_of_a_larger_site_is_a_duplicate_block_kept_by_default(tmp_path):
    """With 40 pages the adaptive count is ceil(sqrt(40) / 2) = 4, so two pages are a duplicate block."""
    pages = {f"p{i:02d}.txt": _page(i, PAIR) if i < 2 else _page(i) for i in range(40)}
    src = _folder(tmp_path, pages)
    out = tmp_path / "out"
    found = clean(str(src), str(out))  # default settings
    assert found.select("doc_id", "block", "kind", "kept_doc", "kept_block", "action", "similarity").rows() == [
        ("p01.txt", 1, "duplicate_block", "p00.txt", 1, "keep", 1.0)]
    assert found["cluster_size"].to_list() == [2]
    for name, text in pages.items():
        assert (out / name).read_text() == text


def test_long_prose_shared_by_two_pages_is_protected_from_boilerplate(tmp_path):
    """A paragraph of 20+ words on two pages of a small site is a quotation, not a template."""
    quote = sentence(30, seed=4242)
    pages = {"p0.txt": _page(0, quote), "p1.txt": _page(1, quote), "p2.txt": _page(2)}
    found = scan(str(_folder(tmp_path, pages)))
    assert found.select("doc_id", "kind", "action").rows() == [("p1.txt", "duplicate_block", "keep")]


def test_drop_duplicate_blocks_removes_the_later_copies(tmp_path):
    pages = {"p0.txt": _page(0, PAIR), "p1.txt": _page(1, PAIR), "p2.txt": _page(2)}
    src = _folder(tmp_path, pages)
    out = tmp_path / "out"
    found = clean(str(src), str(out), drop_duplicate_blocks=True, **MIN_DOCS)
    assert found.select("doc_id", "kind", "action").rows() == [("p1.txt", "duplicate_block", "remove")]
    assert (out / "p0.txt").read_text() == pages["p0.txt"]
    assert (out / "p1.txt").read_text() == _page(1)


def test_boilerplate_min_docs_sets_the_count(tmp_path):
    pages = {f"p{i}.txt": _page(i, NAV) for i in range(3)}
    src = _folder(tmp_path, pages)
    assert set(scan(str(src))["kind"]) == {"boilerplate"}
    assert set(scan(str(src), boilerplate_min_docs=4)["kind"]) == {"duplicate_block"}


def test_boilerplate_is_matched_after_normalisation(tmp_path):
    variants = [NAV, NAV.upper(), NAV.replace("|", "·"), "  " + NAV + "  "]
    pages = {f"p{i}.txt": _page(i, v) for i, v in enumerate(variants)}
    found = scan(str(_folder(tmp_path, pages)))
    assert found.select("block", "kind").rows() == [(1, "boilerplate")] * 4
    assert found["text"].to_list() == variants


def test_site_field_counts_boilerplate_per_url_host(tmp_path):
    shared = sentence(12, seed=901)
    records = [
        {"id": "a1", "url": "https://www.news.example/one", "text": NAV + "\n" + _page(1, shared)},
        {"id": "a2", "url": "https://news.example/two", "text": NAV + "\n" + _page(2, shared)},
        {"id": "a3", "url": "http://NEWS.example:8080/three?x=1", "text": NAV + "\n" + _page(3)},
        {"id": "b1", "url": "https://blog.example/", "text": _page(4, shared)},
    ]
    src = write_jsonl(tmp_path / "c.jsonl", records)
    per_site = scan(str(src), site_field="url", **MIN_DOCS)
    kinds = {(d, k) for d, k in per_site.select("doc_id", "kind").rows()}
    # NAV is on the three pages of news.example (www. and port do not matter): boilerplate there.
    assert {("a1", "boilerplate"), ("a2", "boilerplate"), ("a3", "boilerplate")} <= kinds
    # ``shared`` is on 2 pages of news.example and 1 of blog.example: no site reaches 3.
    shared_rows = per_site.filter(pl.col("text") == shared)
    assert set(shared_rows["kind"]) == {"duplicate_block"}
    # Counted over the whole corpus, ``shared`` stands in 3 documents.
    whole = scan(str(src), **MIN_DOCS).filter(pl.col("text") == shared)
    assert whole.select("doc_id", "kind").rows() == [(d, "boilerplate") for d in ("a1", "a2", "b1")]


def test_txt_subfolder_is_the_site(tmp_path):
    pages = {"one/p0.txt": _page(0, NAV), "one/p1.txt": _page(1, NAV), "two/p2.txt": _page(2, NAV),
             "two/p3.txt": _page(3)}
    found = scan(str(_folder(tmp_path, pages)), **MIN_DOCS)
    assert set(found["kind"]) == {"duplicate_block"}
    found_all = scan(str(_folder(tmp_path / "flat", {f"p{i}.txt": _page(i, NAV) for i in range(3)})), **MIN_DOCS)
    assert set(found_all["kind"]) == {"boilerplate"}


def test_min_repeat_chars_leaves_short_repeats_alone(tmp_path):
    short = "Thank you!"  # 10 characters
    long_line = "Thank you very much for reading!"  # 32 characters
    text = "\n".join([short, sentence(20, 300), short, long_line, sentence(20, 301), long_line]) + "\n"
    src = tmp_path / "one.txt"
    src.write_text(text)
    assert scan(str(src)).select("block", "kind", "kept_block").rows() == [(5, "repeat", 3)]
    lowered = scan(str(src), min_repeat_chars=10)
    assert lowered.select("block", "kind", "kept_block").rows() == [(2, "repeat", 0), (5, "repeat", 3)]


def test_every_later_copy_inside_a_document_is_a_repeat_of_the_first(tmp_path):
    line = sentence(10, 302)
    text = "\n".join([line, sentence(20, 303), line, line.lower(), sentence(20, 304)]) + "\n"
    src = tmp_path / "one.txt"
    src.write_text(text)
    found = scan(str(src))
    assert found.select("block", "kind", "kept_block", "similarity", "cluster_size").rows() == [
        (2, "repeat", 0, 1.0, 3), (3, "repeat", 0, 1.0, 3)]
    out = tmp_path / "clean.txt"
    clean(str(src), str(out))
    assert out.read_text() == "\n".join([line, sentence(20, 303), sentence(20, 304)]) + "\n"


def test_paragraph_unit_finds_a_repeated_paragraph(tmp_path):
    para = f"{sentence(10, 305)}\n{sentence(12, 306)}"
    text = f"{para}\n\n{sentence(30, 307)}\n\n{para}\n\n{sentence(8, 308)}\n"
    src = tmp_path / "one.txt"
    src.write_text(text)
    found = scan(str(src), unit="paragraph")
    assert found.select("block", "kind", "kept_block").rows() == [(2, "repeat", 0)]
    start, end = found.select("start", "end").row(0)
    assert text[start:end] == para


def test_identical_documents_are_duplicate_docs_and_the_first_is_kept(tmp_path):
    body = _page(10, sentence(30, 11), sentence(30, 12))
    same_normalised = body.upper().replace(".", "!")
    records = [{"id": "first", "text": body}, {"id": "other", "text": _page(13)},
               {"id": "copy", "text": body}, {"id": "shouting", "text": same_normalised}]
    src = write_jsonl(tmp_path / "c.jsonl", records)
    out = tmp_path / "o.jsonl"
    found = clean(str(src), str(out))
    assert found.select("doc_id", "block", "start", "end", "kind", "kept_doc", "similarity", "action").rows() == [
        ("copy", None, 0, len(body), "duplicate_doc", "first", 1.0, "remove"),
        ("shouting", None, 0, len(same_normalised), "duplicate_doc", "first", 1.0, "remove"),
    ]
    assert found["cluster_size"].to_list() == [3, 3]
    assert found["cluster"].n_unique() == 1
    assert found["text"].to_list() == [body[:200], same_normalised[:200]]
    # their blocks are not reported again, and clean drops the copies
    assert [r["id"] for r in read_jsonl(out)] == ["first", "other"]


def test_keep_longest_keeps_the_longest_copy_of_a_document(tmp_path):
    body = _page(20, sentence(30, 21))
    longer = body.replace(".", "...")
    src = write_jsonl(tmp_path / "c.jsonl", [{"id": "short", "text": body}, {"id": "long", "text": longer}])
    assert scan(str(src)).select("doc_id", "kept_doc").rows() == [("long", "short")]
    assert scan(str(src), keep="longest").select("doc_id", "kept_doc").rows() == [("short", "long")]


def test_clusters_are_filled_for_every_finding_and_shared_within_a_cluster(tmp_path):
    caption = sentence(14, 400)
    pages = {"p0.txt": _page(0, NAV, caption, caption), "p1.txt": _page(1, NAV, PAIR),
             "p2.txt": _page(2, NAV, PAIR)}
    found = scan(str(_folder(tmp_path, pages)), **MIN_DOCS)
    assert found["cluster"].null_count() == 0 and found["cluster_size"].null_count() == 0
    by_cluster = found.group_by("cluster").agg(pl.col("kind").unique(), pl.col("cluster_size").unique())
    for kinds, sizes in zip(by_cluster["kind"].to_list(), by_cluster["cluster_size"].to_list()):
        assert len(kinds) == 1 and len(sizes) == 1
    assert sorted(found.select("kind", "cluster_size").unique().rows()) == [
        ("boilerplate", 3), ("duplicate_block", 2), ("repeat", 2)]


def test_no_findings_on_a_corpus_without_duplicates(tmp_path):
    pages = {f"p{i}.txt": _page(i) for i in range(5)}
    found = scan(str(_folder(tmp_path, pages)))
    assert found.is_empty()
    assert found.columns == ["doc_id", "block", "start", "end", "kind", "cluster", "cluster_size", "similarity",
                             "kept_doc", "kept_block", "action", "text", "rule"]


def test_a_line_inside_running_prose_is_content_on_that_page(tmp_path):
    """Content protection: the teaser is a template line on p1 and p2 (first line) but in p0 it stands
    between two paragraphs of 20+ words, so p0 keeps it; the others lose it."""
    teaser = sentence(12, seed=77)
    pages = {
        "p0.txt": "\n".join([sentence(25, 1), teaser, sentence(22, 2)]) + "\n",
        "p1.txt": teaser + "\n" + _page(3),
        "p2.txt": teaser + "\n" + _page(4),
    }
    out = tmp_path / "out"
    found = clean(str(_folder(tmp_path, pages)), str(out), **MIN_DOCS)
    assert found.select("doc_id", "kind", "action", "rule").rows() == [
        ("p0.txt", "boilerplate", "keep", "kept: running prose, site 3 of 3 pages"),
        ("p1.txt", "boilerplate", "remove", "site 3 of 3 pages"), ("p2.txt", "boilerplate", "remove", "site 3 of 3 pages")]
    assert (out / "p0.txt").read_text() == pages["p0.txt"]


def test_a_story_title_is_kept_on_its_own_page_and_removed_from_link_lists(tmp_path):
    """Every page ends with the same "Recent posts" list and a share line; p0's own title opens p0,
    next to p0's own byline: there it is the page's headline. The share line, also out of its usual
    place on p0, is too short (under 4 words) for that protection."""
    titles = [sentence(7, seed=500 + k).rstrip(".") for k in range(3)]
    footer = "\n".join(["Recent posts", *titles, "Share this story"])
    pages = {f"p{i}.txt": _page(i) + footer + "\n" for i in range(1, 4)}
    pages["p0.txt"] = "\n".join([titles[0], "By A. Reporter, 3 May", "Share this story", _page(0).rstrip("\n"),
                                 "Recent posts", *titles]) + "\n"
    found = scan(str(_folder(tmp_path, pages)), **MIN_DOCS)
    title_rows = found.filter(pl.col("text") == titles[0])
    assert title_rows.select("doc_id", "block", "kind", "action").rows() == [
        ("p0.txt", 0, "boilerplate", "keep"), ("p0.txt", 6, "boilerplate", "remove"),
        *[(f"p{i}.txt", 3, "boilerplate", "remove") for i in range(1, 4)]]
    assert title_rows["rule"][0] == "kept: own headline, site 4 of 4 pages"
    share_rows = found.filter(pl.col("text") == "Share this story")
    assert share_rows.select("doc_id", "kind").rows() == [(f"p{i}.txt", "boilerplate") for i in range(4)]


def test_templated_lines_with_names_dates_and_numbers_are_boilerplate(tmp_path):
    """Frames: the byline differs in date, name and count on every page, yet it is one template."""
    bylines = ["Posted 17 Jan 2019 by Ann Lee | 12 comments", "Posted 3 Feb 2020 by Bo Ek | 1 comments",
               "Posted 28 March 2021 by Carla | 140 comments"]
    # Title-case headlines have no frame ("0 on 0" masks more than it keeps): never joined.
    headlines = ["Barroso Backs Ban on Naked CDS", "Roma Turn Up on EU Summit", "Obama Talks on Syria"]
    pages = {f"p{i}.txt": "\n".join([headlines[i], bylines[i], _page(i).rstrip("\n")]) + "\n" for i in range(3)}
    found = scan(str(_folder(tmp_path, pages)), **MIN_DOCS)
    assert found.select("doc_id", "block", "kind", "action").rows() == [
        (f"p{i}.txt", 1, "boilerplate", "remove") for i in range(3)]
    assert found["cluster"].n_unique() == 1 and found["similarity"].null_count() == 3


def test_running_prose_takes_a_fixed_document_count_as_well_as_one_per_row():
    from dedup.decide.blocks import in_running_prose, prose_that_stays

    blocks = pl.DataFrame({
        "occurrence": [0, 1, 2, 3, 4, 5], "doc": [0, 0, 0, 1, 1, 1], "block": [0, 1, 2, 0, 1, 2],
        "chars": [90] * 6, "ntok": [30, 2, 30, 30, 2, 30], "rep": [0, 1, 2, 3, 1, 5],
        "cluster_size": pl.Series([1, 2, 1, 1, 2, 1], dtype=pl.UInt32), "rule": pl.Series([0] * 6, dtype=pl.Int8),
        "site": [0] * 6, "site_pages": [2] * 6,
    })
    found = in_running_prose(blocks, prose_that_stays(blocks, 20, pl.lit(3), [pl.col("block")])).to_list()
    assert found == [False, True, False, False, True, False]  # the shared short line sits between prose


def test_copies_of_a_line_stay_one_cluster_when_some_share_a_frame_with_other_lines(tmp_path):
    # "Also in the News" shares the frame "0 in the 0" with "Also in the Arts"; "Also in the news"
    # (another frame) is the same line once normalised. Every copy goes, in one cluster.
    lines = ["Also in the news", "Also in the Arts", "Also in the News", "Also in the News"]
    src = _folder(tmp_path, {f"p{i}.txt": _page(i, line) for i, line in enumerate(lines)})
    found = scan(str(src), **MIN_DOCS)
    assert found.select("doc_id", "block", "kind", "action").rows() == [
        (f"p{i}.txt", 1, "boilerplate", "remove") for i in range(4)]
    assert found["cluster"].n_unique() == 1


def test_a_menu_printed_in_header_and_footer_goes_in_both_places_though_its_lines_are_short(tmp_path):
    menu = ["Home", "Business", "Sport", "Weather"]
    text = "\n".join([*menu, sentence(25, 310), sentence(22, 311), *menu]) + "\n"
    src = tmp_path / "one.txt"
    src.write_text(text)
    found = scan(str(src))
    assert found.select("block", "kind", "action").rows() == [
        (k, "boilerplate", "remove") for k in [0, 1, 2, 3, 6, 7, 8, 9]]
    assert set(found["rule"]) == {"menu printed 2 times in the page"}


def test_a_short_line_said_in_prose_and_repeated_in_a_link_list_goes_from_the_list_only(tmp_path):
    text = "\n".join([sentence(25, 312), "Read more", sentence(22, 313), "Contact us", "Read more", "Site map"]) + "\n"
    src = tmp_path / "one.txt"
    src.write_text(text)
    found = scan(str(src))
    assert found.select("block", "kind", "kept_block", "rule").rows() == [
        (4, "repeat", 1, "repeat exact, among short lines")]


def test_a_short_line_repeated_in_running_prose_stays(tmp_path):
    text = "\n".join([sentence(25, 320), "Yes.", sentence(24, 321), "Yes.", sentence(22, 322)]) + "\n"
    src = tmp_path / "one.txt"
    src.write_text(text)
    assert scan(str(src)).is_empty()


def test_a_repeat_keeps_the_copy_that_stays_not_one_removed_as_boilerplate(tmp_path):
    """The line is boilerplate among template lines (first on p1..p3, and first on p0), but p0 also
    has it twice in running prose: those copies stay, the first of them is the kept one."""
    line = sentence(12, 330)
    pages = {f"p{i}.txt": line + "\n" + _page(i) for i in range(1, 4)}
    pages["p0.txt"] = "\n".join([line, sentence(25, 331), line, sentence(24, 332), line, sentence(22, 333)]) + "\n"
    found = scan(str(_folder(tmp_path, pages)), **MIN_DOCS)
    p0 = found.filter(pl.col("doc_id") == "p0.txt")
    assert p0.select("block", "kind", "action", "kept_block").rows() == [
        (0, "boilerplate", "remove", None), (2, "boilerplate", "keep", None), (4, "repeat", "remove", 2)]
    assert p0["rule"][1] == "kept: running prose, site 4 of 4 pages"
