"""The seed article: a wire story whose photo caption is printed twice on consecutive lines."""

from __future__ import annotations

import shutil

from conftest import SEED_FILE, clean, read_report, scan, snapshot

import dedup


def _caption_lines(text: str) -> tuple[int, int, str]:
    """(line index among non-empty lines, start offset, text) of the second copy of the caption."""
    offset = 0
    seen: dict[str, int] = {}
    index = 0
    for line in text.split("\n"):
        if line.strip():
            if line in seen:
                return index, offset, line
            seen[line] = index
            index += 1
        offset += len(line) + 1
    raise AssertionError("the seed article has no repeated line")


def test_seed_scan_flags_exactly_the_second_caption_as_a_repeat(seed_text):
    block, start, caption = _caption_lines(seed_text)
    assert block == 5
    found = scan(str(SEED_FILE.parent))
    assert found.height == 1
    row = found.row(0, named=True)
    assert row["kind"] == "repeat"
    assert row["block"] == 5
    assert row["doc_id"] == SEED_FILE.name
    assert (row["start"], row["end"]) == (start, start + len(caption))
    assert seed_text[row["start"]:row["end"]] == caption
    assert row["text"] == caption
    assert row["action"] == "remove"
    assert row["kept_doc"] == SEED_FILE.name and row["kept_block"] == 4
    assert row["similarity"] == 1.0
    assert row["cluster_size"] == 2


def test_seed_clean_removes_only_the_second_caption_line(tmp_path, seed_text):
    corpus = tmp_path / "seeds"
    shutil.copytree(SEED_FILE.parent, corpus)
    before = snapshot(corpus)
    out = tmp_path / "clean"
    clean(str(corpus), str(out))
    _, start, caption = _caption_lines(seed_text)
    expected = seed_text[:start] + seed_text[start + len(caption) + 1:]
    cleaned = (out / SEED_FILE.name).read_bytes()
    assert cleaned == expected.encode("utf-8")
    assert len(seed_text) - len(cleaned.decode("utf-8")) == len(caption) + 1
    assert snapshot(corpus) == before


def test_seed_report_csv_has_one_row_naming_the_caption(tmp_path, seed_text):
    report = tmp_path / "report.csv"
    dedup.scan(str(SEED_FILE.parent), report=report, workers=1)
    header, body = read_report(report)
    assert header[0] == "doc_id" and len(body) == 1
    _, start, caption = _caption_lines(seed_text)
    assert body[0]["kind"] == "repeat"
    assert body[0]["block"] == "5"
    assert (int(body[0]["start"]), int(body[0]["end"])) == (start, start + len(caption))
    assert body[0]["text"] == caption


def test_seed_cli_scan_writes_default_report_and_exits_zero(cli, tmp_path):
    result = cli("scan", SEED_FILE.parent)
    assert result.code == 0, result.stderr
    _, body = read_report(tmp_path / "dedup-report.csv")
    assert [(r["kind"], r["block"]) for r in body] == [("repeat", "5")]
