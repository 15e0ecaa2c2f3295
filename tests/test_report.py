"""The report CSV: exact header, RFC 4180 quoting, cells safe for spreadsheets."""

from __future__ import annotations

import polars as pl
from conftest import REPORT_HEADER, csv_text, read_report, sentence

import dedup


def _scan_to_csv(tmp_path, text: str):
    src = tmp_path / "doc.txt"
    src.write_text(text, encoding="utf-8", newline="")
    report = tmp_path / "report.csv"
    dedup.scan(str(src), report=report, workers=1)
    return read_report(report)


def test_report_header_is_exactly_the_contract(tmp_path):
    line = sentence(10, 1)
    header, body = _scan_to_csv(tmp_path, f"{line}\n{line}\n")
    assert header == REPORT_HEADER
    assert csv_text(tmp_path / "report.csv").split("\n", 1)[0].rstrip("\r") == ",".join(REPORT_HEADER)
    assert len(body) == 1


def test_cells_never_start_a_formula(tmp_path):
    lines = ["=SUM(A1:A9) is the total of the column", "+1 555 0100 call this number today",
             "-5 degrees expected overnight in the valley", "@everyone please read the new rules now"]
    text = "\n".join(lines + lines) + "\n"
    _, body = _scan_to_csv(tmp_path, text)
    assert [r["text"] for r in body] == ["'" + line for line in lines]
    assert [(int(r["start"]), int(r["end"])) for r in body] == [
        (text.index(line, text.index(line) + 1), text.index(line, text.index(line) + 1) + len(line))
        for line in lines]


def test_control_characters_are_escaped_in_text_cells(tmp_path):
    line = "Tab\there, bell\x07 and escape\x1b[0m and a lone\rreturn, \"quoted\", back\\slash"
    _, body = _scan_to_csv(tmp_path, f"{line}\n{line}\n")
    cell = body[0]["text"]
    assert cell == "Tab\\there, bell\\x07 and escape\\x1b[0m and a lone\\rreturn, \"quoted\", back\\\\slash"
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in cell)
    raw = csv_text(tmp_path / "report.csv")
    assert "\x07" not in raw and "\x1b" not in raw and raw.count("\n") == 2


def test_report_offsets_and_text_agree_with_the_document(tmp_path):
    line = "Ünïcödé caption with “quotes” and 中文 characters, twice"
    text = f"{sentence(15, 2)}\r\n{line}\r\n\r\n{line}\r\n"
    _, body = _scan_to_csv(tmp_path, text)
    start, end = int(body[0]["start"]), int(body[0]["end"])
    assert text[start:end] == line == body[0]["text"]
    assert body[0]["block"] == "2" and body[0]["kept_block"] == "1"


def test_existing_report_is_replaced(tmp_path):
    report = tmp_path / "report.csv"
    report.write_text("old content that is longer than the new report will be\n" * 100)
    src = tmp_path / "doc.txt"
    src.write_text(sentence(12, 3) + "\n")
    dedup.scan(str(src), report=report, workers=1)
    assert csv_text(report) in (",".join(REPORT_HEADER) + "\n", ",".join(REPORT_HEADER) + "\r\n")


def test_report_is_byte_identical_across_runs(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    nav = "Menu: Home | About | Archive | Subscribe"
    for i in range(6):
        caption = sentence(12, 50 + i)
        (folder / f"p{i}.txt").write_text("\n".join([nav, sentence(20, i), caption, caption]) + "\n")
    (folder / "copy.txt").write_text((folder / "p1.txt").read_text())
    reports = []
    for n in range(2):
        report = tmp_path / f"r{n}.csv"
        dedup.scan(str(folder), report=report, workers=1)
        reports.append(report.read_bytes())
    assert reports[0] == reports[1]
    # header; p1 dropped as a copy of copy.txt (read first); nav and a repeat in each of the 6 others
    assert reports[0].count(b"\n") == 1 + 1 + 6 + 6
    assert b"p1.txt,,0," in reports[0]


def test_report_written_in_slices_on_threads_is_the_report_written_whole(tmp_path):
    from dedup.report.csv import write_report

    lines = [sentence(9, 30 + i) for i in range(7)]
    src = tmp_path / "docs"
    src.mkdir()
    for d in range(4):
        (src / f"{d}.txt").write_text("\n".join(lines[d:] + lines[:d] + ['=x', '"q", \\ \t']) + "\n")
    whole, sliced = tmp_path / "whole.csv", tmp_path / "sliced.csv"
    report = dedup.scan(str(src), report=whole, workers=1).findings
    write_report(report, sliced, threads=2, slice_rows=3)
    assert len(read_report(whole)[1]) > 3 * 2 * 2  # several groups of slices
    assert sliced.read_bytes() == whole.read_bytes()


def test_the_text_store_deletes_every_batch_of_texts_once_the_findings_have_them(tmp_path):
    from dedup.store.texts import TEXT_SCHEMA, TextStore

    store = TextStore(tmp_path / "texts")
    for first in (0, 2, 4):  # three batches of two documents; the middle one will have no findings
        store.write(pl.DataFrame({"doc": [first, first, first + 1], "block": [-1, 0, -1],
                                  "text": [f"doc {first}", f"block {first}", f"doc {first + 1}"], "gap": [0, 1, 0]},
                                 schema=TEXT_SCHEMA))
    assert len(list(store.folder.iterdir())) == 3
    findings = pl.DataFrame({"doc": [0, 5], "block": [0, None], "start": [0, 0], "end": [7, 5],
                             "action": ["remove", "remove"]}, schema_overrides={"block": pl.Int32})
    filled, chars, dropped = store.fill(findings, threads=2)
    assert filled["text"].to_list() == ["block 0", "doc 5"]
    assert (chars, dropped) == (7 + 1 + 5, 1)  # the block and its line break; the whole document
    assert list(store.folder.iterdir()) == []


def _rules(found) -> list[tuple]:
    return found.select("doc_id", "kind", "action", "rule").rows()


def test_every_row_names_its_rule_and_evidence(tmp_path):
    from conftest import scan, write_jsonl

    from dedup.fingerprint.rules import UserRules

    nav = "Home | World | Business | Sports | Weather"
    byline = ["Posted 17 Jan 2019 by Ann Lee | 12 comments", "Posted 3 Feb 2020 by Bo Ek | 1 comments",
              "Posted 28 March 2021 by Carla | 140 comments"]
    story = [sentence(40, 700 + k) for k in range(3)]
    pair = sentence(12, 710)
    records = [{"id": f"p{i}", "site": "a.example", "text": "\n".join(
        [nav, byline[i], story[i], *([pair] if i < 2 else []), sentence(25, 720 + i)]) + "\n"} for i in range(3)]
    records[0]["text"] += story[0] + "\n"  # a repeat inside p0
    records.append({"id": "copy", "site": "b.example", "text": records[1]["text"]})  # p1 again, elsewhere
    drop = tmp_path / "drop.txt"
    drop.write_text("# what always goes\nre:^Posted 28\n", encoding="utf-8")
    found = scan(str(write_jsonl(tmp_path / "c.jsonl", records)), site_field="site", boilerplate_min_docs=3,
                 rules=UserRules.load(None, drop))
    by_text = {(d, t): r for d, t, r in found.select("doc_id", "text", "rule").rows()}
    assert by_text[("copy", records[1]["text"][:200])] == "doc exact"
    assert {by_text[(f"p{i}", nav)] for i in range(3)} == {"site 3 of 3 pages"}
    assert {by_text[(f"p{i}", byline[i])] for i in range(2)} == {"template frame, site 3 of 3 pages"}
    assert by_text[("p2", byline[2])] == "drop-file line 2"
    assert by_text[("p0", story[0])] == "repeat exact"
    assert by_text[("p1", pair)] == "site 2 of 3 pages, below 3"  # p0 holds the kept copy
    assert found.filter(pl.col("kind") == "duplicate_block").select("kept_doc", "action").rows() == [("p0", "keep")]
    assert found["rule"].null_count() == 0
