"""Runs against an index: what an earlier batch makes of a new one, read-only checks, refusals."""

from __future__ import annotations

import json

import pytest
from conftest import error_lines, read_report, sentence, snapshot, write_jsonl

from _redis import redis_server, redis_url  # noqa: F401 (fixtures)

FOOTER = "copyright the example daily all rights reserved"


def _page(i: int, site: str = "news.org", footer: bool = True) -> dict:
    lines = [sentence(14, 1000 + i), sentence(16, 2000 + i)] + ([FOOTER] if footer else [])
    return {"id": f"p{i}", "url": f"http://{site}/{i}", "text": "\n".join(lines)}


@pytest.fixture
def day1(tmp_path):
    return write_jsonl(tmp_path / "day1.jsonl", [_page(i) for i in range(30)])


def test_a_footer_on_earlier_pages_of_a_site_is_boilerplate_on_one_new_page(tmp_path, day1, cli_inprocess):
    write_jsonl(tmp_path / "day2.jsonl", [_page(100)])
    assert cli_inprocess("index", "add", "idx", "day1.jsonl", "--site-field", "url", "-q").code == 0
    alone = cli_inprocess("scan", "day2.jsonl", "--site-field", "url", "--report", "alone.csv", "-q")
    assert alone.code == 0 and read_report(tmp_path / "alone.csv")[1] == []
    result = cli_inprocess("scan", "day2.jsonl", "--site-field", "url", "--index", "idx", "-q")
    assert result.code == 0, result.stderr
    rows = read_report(tmp_path / "dedup-report.csv")[1]
    assert [(r["doc_id"], r["block"], r["kind"]) for r in rows] == [("p100", "2", "boilerplate")]


def test_a_copy_of_an_earlier_document_is_the_duplicate_and_names_the_earlier_one_with_its_batch(
        tmp_path, day1, cli_inprocess):
    copy = dict(_page(7), id="again")
    write_jsonl(tmp_path / "day2.jsonl", [copy, _page(200, site="other.org", footer=False)])
    assert cli_inprocess("index", "add", "idx", "day1.jsonl", "-q").code == 0
    assert cli_inprocess("clean", "day2.jsonl", "--out", "clean.jsonl", "--index", "idx", "-q").code == 0
    rows = read_report(tmp_path / "dedup-report.csv")[1]
    assert [(r["doc_id"], r["kind"], r["kept_doc"]) for r in rows] == [("again", "duplicate_doc", "day1.jsonl:p7")]
    assert [json.loads(line)["id"] for line in (tmp_path / "clean.jsonl").read_text().splitlines()] == ["p200"]
    info = json.loads(cli_inprocess("index", "info", "idx", "--json").stdout)
    assert [(b["name"], b["documents"]) for b in info["batches"]] == [("day1.jsonl", 30), ("day2.jsonl", 2)]


def test_a_near_copy_of_an_earlier_line_is_a_duplicate_block_kept_in_the_earlier_batch(tmp_path, cli_inprocess):
    words = sentence(40, 5).split()
    edited = " ".join(words[:-2] + ["zebra", words[-1]])
    line = " ".join(words)
    write_jsonl(tmp_path / "a.jsonl", [{"id": "x", "text": f"{sentence(12, 6)}\n{line}"}])
    write_jsonl(tmp_path / "b.jsonl", [{"id": "y", "text": f"{sentence(12, 7)}\n{edited}"}])
    assert cli_inprocess("index", "add", "idx", "a.jsonl", "--batch", "first", "-q").code == 0
    assert cli_inprocess("scan", "b.jsonl", "--index", "idx", "-q").code == 0
    (row,) = read_report(tmp_path / "dedup-report.csv")[1]
    assert (row["doc_id"], row["block"], row["kind"], row["kept_doc"], row["kept_block"]) == \
        ("y", "1", "duplicate_block", "first:x", "1")
    assert 0.8 <= float(row["similarity"]) < 1.0


def test_read_only_checks_without_adding(tmp_path, day1, cli_inprocess):
    write_jsonl(tmp_path / "test-set.jsonl", [dict(_page(3), id="leak")])
    assert cli_inprocess("index", "add", "idx", "day1.jsonl", "-q").code == 0
    before = snapshot(tmp_path / "idx")
    result = cli_inprocess("scan", "test-set.jsonl", "--index", "idx", "--index-read-only", "-q")
    assert result.code == 0
    assert [r["kind"] for r in read_report(tmp_path / "dedup-report.csv")[1]] == ["duplicate_doc"]
    assert snapshot(tmp_path / "idx") == before


def test_other_settings_are_refused_naming_them_and_nothing_is_written(tmp_path, day1, cli_inprocess):
    assert cli_inprocess("index", "add", "idx", "day1.jsonl", "-q").code == 0
    before = snapshot(tmp_path / "idx")
    result = cli_inprocess("scan", "day1.jsonl", "--index", "idx", "--batch", "again", "--num-perm", "64",
                           "--unit", "paragraph")
    assert result.code == 1 and "Traceback" not in result.stderr
    (line,) = error_lines(result.stderr)
    assert "other settings" in line and "unit line (this run: paragraph)" in line and "num-perm 128 (this run: 64)" in line
    assert not (tmp_path / "dedup-report.csv").exists() and snapshot(tmp_path / "idx") == before


def test_a_failed_run_adds_nothing(tmp_path, day1, cli_inprocess):
    assert cli_inprocess("index", "add", "idx", "day1.jsonl", "-q").code == 0
    before = snapshot(tmp_path / "idx")
    (tmp_path / "bad.jsonl").write_text('{"id": "a", "text": "fine"}\n{"id": "b", "text": \n')
    result = cli_inprocess("scan", "bad.jsonl", "--index", "idx", "-q")
    assert result.code == 1 and "bad.jsonl:2" in result.stderr
    assert snapshot(tmp_path / "idx") == before


def test_a_batch_name_cannot_be_added_twice(tmp_path, day1, cli_inprocess):
    assert cli_inprocess("index", "add", "idx", "day1.jsonl", "-q").code == 0
    result = cli_inprocess("scan", "day1.jsonl", "--index", "idx", "-q")
    assert result.code == 1 and "a batch named 'day1.jsonl' is in the index already" in result.stderr


def test_info_on_a_folder_that_is_no_index_fails_clearly(tmp_path, cli_inprocess):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("x")
    result = cli_inprocess("index", "info", "notes")
    assert result.code == 1 and "not a dedup index" in result.stderr
    result = cli_inprocess("index", "info", "missing")
    assert result.code == 1 and "no dedup index there" in result.stderr


def test_a_redis_index_finds_what_a_folder_index_finds(tmp_path, day1, cli_inprocess, redis_url):
    write_jsonl(tmp_path / "day2.jsonl", [dict(_page(7), id="again"), _page(100), _page(101, site="b.org")])
    reports = []
    for where in ("idx", redis_url):
        assert cli_inprocess("index", "add", where, "day1.jsonl", "--site-field", "url", "-q").code == 0
        result = cli_inprocess("scan", "day2.jsonl", "--site-field", "url", "--index", where, "-q")
        assert result.code == 0, result.stderr
        reports.append(read_report(tmp_path / "dedup-report.csv")[1])
    assert reports[0] == reports[1]
    assert {r["kind"] for r in reports[0]} == {"duplicate_doc", "boilerplate", "duplicate_block"}
    info = json.loads(cli_inprocess("index", "info", redis_url, "--json").stdout)
    assert info["documents"] == 33 and info["bytes"] > 0
