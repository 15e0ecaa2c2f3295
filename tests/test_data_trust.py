"""Data a pipeline can trust: damaged streams named, byte order marks dropped, nothing half-read."""

from __future__ import annotations

import gzip
import io
import json

import polars as pl
import pytest
import zstandard
from conftest import (
    clean,
    read_bytes_decompressed,
    read_jsonl,
    read_report,
    scan,
    sentence,
    snapshot,
    write_jsonl,
)

import dedup
from dedup.io.jsonl import ZstdFrames
from dedup.report.review import read_report as review_report

LINE = sentence(12, seed=7)
BOM = "\ufeff".encode()


def test_zstd_frames_read_every_frame_and_refuse_a_cut_one():
    one, two = (zstandard.ZstdCompressor().compress(part) for part in (b"first\n" * 5000, b"second\n"))
    assert io.BufferedReader(ZstdFrames(io.BytesIO(one + two))).read() == b"first\n" * 5000 + b"second\n"
    assert io.BufferedReader(ZstdFrames(io.BytesIO(b""))).read() == b""
    for cut in (1, len(two) // 2, len(two) - 1):
        with pytest.raises(zstandard.ZstdError, match="truncated"):
            io.BufferedReader(ZstdFrames(io.BytesIO(one + two[:cut]))).read()


def test_a_truncated_zst_is_refused_even_when_skipping(tmp_path):
    data = b"".join(json.dumps({"id": i, "text": f"{sentence(9, i)}\n{LINE}\n"}).encode() + b"\n" for i in range(500))
    src = tmp_path / "c.jsonl.zst"
    src.write_bytes(zstandard.ZstdCompressor().compress(data)[:-10])
    with pytest.raises(dedup.InputError, match=r"c\.jsonl\.zst: cannot read the compressed stream \(truncated"):
        scan(str(src), on_error="skip")


def test_a_bom_is_not_part_of_a_jsonl_record(tmp_path):
    src = tmp_path / "b.jsonl"
    record = {"id": "a", "text": f"{LINE}\n{LINE}\n"}
    src.write_bytes(BOM + json.dumps(record).encode() + b"\n" + json.dumps({"id": "b", "text": "x"}).encode() + b"\n")
    found = scan(str(src))
    assert found.select("doc_id", "start", "end").rows() == [("a", len(LINE) + 1, 2 * len(LINE) + 1)]
    out = tmp_path / "o.jsonl"
    clean(str(src), str(out))
    assert out.read_bytes() == (json.dumps({"id": "a", "text": f"{LINE}\n"}, ensure_ascii=False).encode() + b"\n"
                                + json.dumps({"id": "b", "text": "x"}).encode() + b"\n")


def test_a_bom_in_compressed_jsonl_is_dropped_too(tmp_path):
    src = tmp_path / "b.jsonl.zst"
    src.write_bytes(zstandard.ZstdCompressor().compress(BOM + json.dumps({"id": "a", "text": "kept"}).encode() + b"\n"))
    out = tmp_path / "o.jsonl.zst"
    clean(str(src), str(out))
    assert read_bytes_decompressed(out) == b'{"id": "a", "text": "kept"}\n'


def test_a_bom_is_not_part_of_a_txt_document(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.txt").write_bytes(BOM + f"{LINE}\n{LINE}\n".encode())
    (pages / "b.txt").write_bytes(BOM + b"only this\n")
    found = dedup.scan(pages, workers=1).findings
    assert found.select("doc_id", "start", "end", "text").rows() == [("a.txt", len(LINE) + 1, 2 * len(LINE) + 1, LINE)]
    out = tmp_path / "clean"
    clean(str(pages), str(out))
    assert (out / "a.txt").read_bytes() == f"{LINE}\n".encode()
    assert (out / "b.txt").read_bytes() == b"only this\n"  # unchanged, but its text has no BOM


def test_errors_on_stdin_name_stdin(cli_inprocess):
    result = cli_inprocess("scan", "-", stdin=b'{"text": "fine"}\n{"text": "broken\n')
    assert result.code == 1
    assert result.stderr.startswith("dedup: error: <stdin>:2: malformed JSON")


def test_strict_utf8_on_stdin_names_stdin(cli_inprocess):
    result = cli_inprocess("scan", "-", "--strict", stdin=b'{"text": "caf\xe9"}\n')
    assert result.code == 1
    assert "dedup: error: <stdin>:1: invalid UTF-8" in result.stderr


def test_some_records_skipped_is_still_a_run(tmp_path):
    src = tmp_path / "c.jsonl"
    src.write_bytes(b"{bad\n" + json.dumps({"id": "a", "text": "fine"}).encode() + b"\n")
    result = dedup.scan(src, on_error="skip", workers=1)
    assert (result.stats.documents, result.stats.reader.records_skipped) == (1, 1)


def test_an_empty_corpus_is_not_an_error_when_nothing_was_skipped(tmp_path):
    src = tmp_path / "c.jsonl"
    src.write_bytes(b"\n\n")
    assert dedup.scan(src, on_error="skip", workers=1).stats.documents == 0


# --- the spreadsheet rule, for every cell ---------------------------------------------------------

FORMULA_IDS = ["=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tcmd", "\rcmd", "'=quoted", "plain"]


def _formula_corpus(tmp_path):
    src = tmp_path / "ids.jsonl"
    # documents 2k and 2k + 1 are copies (kept_doc names the first), and LINE stands in every one
    records = [{"id": doc_id, "text": f"{sentence(30, i // 2)}\n{LINE}\n"} for i, doc_id in enumerate(FORMULA_IDS)]
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return src


def _never_a_formula(cell: str) -> bool:
    return not cell or cell[0] not in "=+-@\t\r"


def test_no_report_cell_starts_a_formula(tmp_path):
    src = _formula_corpus(tmp_path)
    report = tmp_path / "r.csv"
    dedup.scan(src, report=report, boilerplate_min_docs=2, workers=1)
    _, rows = read_report(report)
    assert {row["doc_id"] for row in rows} >= {"'" + i if i != "plain" else i for i in FORMULA_IDS[1::2]}
    assert all(_never_a_formula(cell) for row in rows for cell in row.values())
    quoted = ["'" + i if i != "plain" else i for i in FORMULA_IDS]
    assert {row["kept_doc"] for row in rows if row["kind"] == "duplicate_doc"} == set(quoted[0::2])


def test_no_doc_stats_cell_starts_a_formula(tmp_path):
    src = _formula_corpus(tmp_path)
    stats = tmp_path / "s.csv"
    dedup.scan(src, doc_stats=stats, workers=1)
    _, rows = read_report(stats)
    assert sorted(row["doc_id"] for row in rows) == sorted("'" + i if i != "plain" else i for i in FORMULA_IDS)
    assert all(_never_a_formula(cell) for row in rows for cell in row.values())


def test_a_report_read_back_has_the_ids_of_the_run(tmp_path):
    src = _formula_corpus(tmp_path)
    report = tmp_path / "r.csv"
    found = dedup.scan(src, report=report, boilerplate_min_docs=2, workers=1).findings
    back = review_report(report)
    assert back.select("doc_id", "kept_doc").rows() == found.select("doc_id", "kept_doc").rows()
    assert set(found["doc_id"]) == set(FORMULA_IDS)  # the API's frame is never quoted


# --- a folder of shards is a corpus ---------------------------------------------------------------

FOOTER = "Subscribe to our newsletter for the latest updates from the desk"


def _dataset(root):
    """A Hugging Face-style dataset folder: two Parquet shards under data/, a JSON Lines shard beside
    them, and what such folders also hold (a README, .json metadata, a hidden cache)."""
    (root / "data").mkdir(parents=True)
    for k in range(2):
        pl.DataFrame({"id": [f"p{k}{i}" for i in range(3)],
                      "text": [f"{sentence(20, 10 * k + i)}\n{FOOTER}\n" for i in range(3)]}
                     ).write_parquet(root / "data" / f"train-0000{k}-of-00002.parquet")
    write_jsonl(root / "data" / "extra.jsonl.zst", [{"id": "j", "text": f"{sentence(20, 99)}\n{FOOTER}\n", "lang": "x"}])
    (root / "README.md").write_text("# a dataset\n")
    (root / "dataset_info.json").write_text('{"splits": 1}\n')
    (root / ".cache").mkdir()
    write_jsonl(root / ".cache" / "stale.jsonl", [{"id": "stale", "text": f"{FOOTER}\n"}])


SHARDS = ["data/extra.jsonl.zst", "data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"]


def test_a_folder_of_shards_is_read_as_one_corpus(tmp_path):
    _dataset(tmp_path / "ds")
    result = dedup.scan(tmp_path / "ds", workers=1)
    assert result.stats.documents == 7
    assert result.stats.reader.records_per_input == [1, 3, 3]  # one input per shard, in path order
    boiler = result.findings.filter(pl.col("kind") == "boilerplate")
    assert sorted(boiler["doc_id"]) == ["data/extra.jsonl.zst:j"] + [
        f"data/train-0000{k}-of-00002.parquet:p{k}{i}" for k in range(2) for i in range(3)]


def test_clean_writes_one_shard_per_input_shard_under_its_name(tmp_path):
    _dataset(tmp_path / "ds")
    before = snapshot(tmp_path / "ds")
    out = tmp_path / "clean"
    dedup.clean(tmp_path / "ds", out, workers=1)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == SHARDS
    shard = pl.read_parquet(out / SHARDS[1])
    assert shard.columns == ["id", "text"] and shard["id"].to_list() == ["p00", "p01", "p02"]
    assert not shard["text"].str.contains(FOOTER).any()
    assert read_jsonl(out / SHARDS[0]) == [{"id": "j", "text": f"{sentence(20, 99)}\n", "lang": "x"}]
    assert snapshot(tmp_path / "ds") == before


def test_a_folder_of_shards_among_other_inputs(tmp_path):
    _dataset(tmp_path / "ds")
    write_jsonl(tmp_path / "more.jsonl", [{"id": "m", "text": f"{sentence(20, 77)}\n{FOOTER}\n"}])
    out = tmp_path / "clean"
    found = dedup.clean([tmp_path / "ds", tmp_path / "more.jsonl"], out, workers=1).findings
    assert "ds/data/train-00001-of-00002.parquet:p12" in set(found["doc_id"])
    assert "more.jsonl:m" in set(found["doc_id"])
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(
        [f"ds/{s}" for s in SHARDS] + ["more.jsonl"])


def test_format_picks_one_kind_of_a_mixed_folder(tmp_path):
    _dataset(tmp_path / "ds")
    (tmp_path / "ds" / "notes.txt").write_text(f"{LINE}\n{LINE}\n")
    with pytest.raises(dedup.InputError, match="holds both .txt files"):
        dedup.scan(tmp_path / "ds")
    assert dedup.scan(tmp_path / "ds", format="parquet", workers=1).stats.documents == 6
    assert dedup.scan(tmp_path / "ds", format="jsonl", workers=1).stats.documents == 1
    assert dedup.scan(tmp_path / "ds", format="txt", workers=1).findings["doc_id"].to_list() == ["notes.txt"]


# --- the output's format follows its name -----------------------------------------------------------

def _pages(tmp_path, name="pages.jsonl"):
    records = [{"id": f"r{i}", "text": f"{sentence(15, 300 + i)}\n{FOOTER}\n", "meta": {"n": i, "tags": ["a"] * i}}
               for i in range(4)]
    records.append({"id": "short", "text": "no footer here\n"})  # no meta field
    return write_jsonl(tmp_path / name, records)


def test_jsonl_to_parquet_writes_parquet_with_every_field(tmp_path):
    out = tmp_path / "clean.parquet"
    dedup.clean(_pages(tmp_path), out, workers=1)
    table = pl.read_parquet(out)
    assert table.columns == ["id", "text", "meta"]
    assert table["id"].to_list() == ["r0", "r1", "r2", "r3", "short"]
    assert table["text"].to_list()[0] == f"{sentence(15, 300)}\n"
    assert table["meta"].to_list()[:2] == [{"n": 0, "tags": []}, {"n": 1, "tags": ["a"]}]
    assert table["meta"].to_list()[4] is None


@pytest.mark.parametrize(("name", "magic"), [("clean.jsonl.gz", b"\x1f\x8b"), ("clean.jsonl.zst", b"\x28\xb5\x2f\xfd"),
                                             ("clean.ndjson.zst", b"\x28\xb5\x2f\xfd"), ("clean.json.gz", b"\x1f\x8b"),
                                             ("clean.ndjson", b'{"id"'), ("clean.json", b'{"id"')])
def test_jsonl_is_compressed_as_the_output_name_says(tmp_path, name, magic):
    src = _pages(tmp_path)
    out = tmp_path / name
    dedup.clean(src, out, workers=1)
    assert out.read_bytes().startswith(magic)
    assert [r["id"] for r in read_jsonl(out)] == ["r0", "r1", "r2", "r3", "short"]


@pytest.mark.parametrize("name", ["in.ndjson.gz", "in.ndjson.zst", "in.json.zst", "in.json.gz", "in.ndjson"])
def test_every_json_lines_name_is_read(tmp_path, name):
    assert dedup.scan(_pages(tmp_path, name), workers=1).stats.documents == 5


def test_parquet_to_jsonl_and_txt_to_jsonl_and_parquet(tmp_path):
    src = tmp_path / "in.parquet"
    pl.DataFrame({"id": [1, 2], "text": [f"{LINE}\n{LINE}\n", "other\n"], "score": [0.5, 1.5]}).write_parquet(src)
    dedup.clean(src, tmp_path / "a.jsonl", workers=1)
    assert read_jsonl(tmp_path / "a.jsonl") == [{"id": 1, "text": f"{LINE}\n", "score": 0.5},
                                                 {"id": 2, "text": "other\n", "score": 1.5}]
    pages = tmp_path / "pages"
    (pages / "site").mkdir(parents=True)
    (pages / "site" / "a.txt").write_text(f"{LINE}\n{LINE}\n")
    (pages / "b.txt").write_text("other\n")
    dedup.clean(pages, tmp_path / "b.jsonl", workers=1)
    assert read_jsonl(tmp_path / "b.jsonl") == [{"id": "b.txt", "text": "other\n"}, {"id": "site/a.txt", "text": f"{LINE}\n"}]
    dedup.clean(pages, tmp_path / "c.parquet", workers=1)
    assert pl.read_parquet(tmp_path / "c.parquet").rows() == [("b.txt", "other\n"), ("site/a.txt", f"{LINE}\n")]


# --- clean --annotate -------------------------------------------------------------------------------

def _annotated_corpus(tmp_path):
    return write_jsonl(tmp_path / "in.jsonl", [
        {"id": "a", "text": f"{sentence(20, 1)}\n{LINE}\n{LINE}\n", "lang": "en"},
        {"id": "b", "text": f"{sentence(20, 1)}\n{LINE}\n{LINE}\n", "lang": "en"},  # a copy of a
        {"id": "c", "text": "nothing to see\n", "lang": "en"},
    ])


def test_annotate_keeps_every_text_and_adds_the_findings(tmp_path):
    src = _annotated_corpus(tmp_path)
    out = tmp_path / "out.jsonl"
    result = dedup.clean(src, out, annotate=True, workers=1)
    records = read_jsonl(out)
    assert [(r["id"], r["text"], r["lang"]) for r in records] == [(r["id"], r["text"], r["lang"]) for r in read_jsonl(src)]
    a, b, c = (r["dedup"] for r in records)
    start = len(sentence(20, 1)) + 1 + len(LINE) + 1
    assert a == [{"kind": "repeat", "block": 2, "start": start, "end": start + len(LINE),
                  "cluster": a[0]["cluster"], "similarity": 1.0, "action": "remove", "rule": "repeat exact"}]
    assert [(f["kind"], f["block"], f["start"], f["end"], f["action"]) for f in b] == [
        ("duplicate_doc", None, 0, len(records[1]["text"]), "remove")]
    assert c == []
    found = result.findings.sort("doc_id")
    assert [f["cluster"] for f in a + b] == found["cluster"].to_list()
    assert (result.stats.chars_removed, result.stats.docs_dropped) == (0, 0)


def test_annotate_to_parquet_is_a_list_of_structs(tmp_path):
    out = tmp_path / "out.parquet"
    dedup.clean(_annotated_corpus(tmp_path), out, annotate=True, workers=1)
    table = pl.read_parquet(out)
    assert table.columns == ["id", "text", "lang", "dedup"]
    assert table.schema["dedup"] == pl.List(pl.Struct({
        "kind": pl.String, "block": pl.Int32, "start": pl.Int64, "end": pl.Int64, "cluster": pl.Int64,
        "similarity": pl.Float64, "action": pl.String, "rule": pl.String}))
    assert table["dedup"].list.len().to_list() == [1, 1, 0]
    # and from Parquet input, with its schema kept (cluster ids differ: they are made from the input's name)
    table.drop("dedup").write_parquet(tmp_path / "in.parquet")
    again = tmp_path / "again.parquet"
    dedup.clean(tmp_path / "in.parquet", again, annotate=True, workers=1)
    without_clusters = pl.col("dedup").list.eval(pl.element().struct.with_fields(cluster=None))
    assert pl.read_parquet(again).with_columns(without_clusters).equals(table.with_columns(without_clusters))


def test_annotate_of_txt_input_writes_json_lines(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.txt").write_text(f"{LINE}\n{LINE}\n")
    out = tmp_path / "out.jsonl"
    dedup.clean(pages, out, annotate=True, workers=1)
    [record] = read_jsonl(out)
    assert record["id"] == "a.txt" and record["text"] == f"{LINE}\n{LINE}\n"
    assert [f["kind"] for f in record["dedup"]] == ["repeat"]


def test_annotate_of_documents_in_memory(tmp_path):
    cleaned = dedup.clean([f"{LINE}\n{LINE}\n", "other"], annotate=True, workers=1).cleaned
    assert cleaned["text"].to_list() == [f"{LINE}\n{LINE}\n", "other"]
    assert cleaned["dedup"].list.len().to_list() == [1, 0]


def test_annotate_is_not_for_scan():
    with pytest.raises(dedup.ConfigError, match="annotate is an option of clean"):
        dedup.scan(["text"], annotate=True)


def test_gzip_of_several_members_and_zstd_of_several_frames_are_read_whole(tmp_path):
    lines = [json.dumps({"id": i, "text": f"{sentence(9, i)}\n"}).encode() + b"\n" for i in range(4)]
    (tmp_path / "m.jsonl.gz").write_bytes(b"".join(gzip.compress(line) for line in lines))
    (tmp_path / "m.jsonl.zst").write_bytes(b"".join(zstandard.ZstdCompressor().compress(line) for line in lines))
    assert dedup.scan(tmp_path / "m.jsonl.gz", workers=1).stats.documents == 4
    assert dedup.scan(tmp_path / "m.jsonl.zst", workers=1).stats.documents == 4


def test_a_symlink_loop_in_a_folder_of_shards_is_not_followed(tmp_path):
    (tmp_path / "ds" / "a").mkdir(parents=True)
    (tmp_path / "ds" / "a" / "up").symlink_to("..")
    write_jsonl(tmp_path / "ds" / "a" / "s.jsonl", [{"text": "one"}])
    assert dedup.scan(tmp_path / "ds", workers=1).stats.reader.records_per_input == [1]
