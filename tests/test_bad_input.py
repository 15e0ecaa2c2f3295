"""Bad input gets a clear error or a counted skip, never a traceback, a partial output or a changed input."""

from __future__ import annotations

import json

import polars as pl
import pytest
from conftest import REPORT_HEADER, clean, csv_text, read_jsonl, scan, sentence, snapshot, write_jsonl

import dedup
from dedup.api import run
from dedup.config import Config

LINE = sentence(12, seed=7)


def _stats(inputs, **options):
    return run([str(i) for i in inputs], Config(workers=1, **options), report=None)


def _good(i: int) -> dict:
    return {"id": f"r{i}", "text": f"{sentence(15, 60 + i)}\n{LINE}\n{LINE}\n"}


# --- invalid UTF-8 ------------------------------------------------------------------------------


def test_invalid_utf8_is_replaced_and_counted(tmp_path):
    src = tmp_path / "pages"
    src.mkdir()
    bad = f"{LINE}\n".encode() + b"caf\xe9 au lait is served with a smile here\n" * 2
    (src / "bad.txt").write_bytes(bad)
    (src / "good.txt").write_text(sentence(20, 8) + "\n")
    frame, stats = _stats([src])
    assert stats.reader.invalid_utf8_docs == 1
    assert stats.documents == 2
    assert frame.select("doc_id", "block", "kind").rows() == [("bad.txt", 2, "repeat")]
    assert frame["text"].item() == "caf\ufffd au lait is served with a smile here"


def test_invalid_utf8_document_is_cleaned_with_replacement_characters(tmp_path):
    src = tmp_path / "bad.txt"
    src.write_bytes(b"caf\xe9 au lait is served with a smile here\n" * 2)
    out = tmp_path / "clean.txt"
    clean(str(src), str(out))
    assert out.read_text(encoding="utf-8") == "caf\ufffd au lait is served with a smile here\n"
    assert src.read_bytes() == b"caf\xe9 au lait is served with a smile here\n" * 2


def test_strict_fails_naming_the_file_and_byte_offset(tmp_path):
    src = tmp_path / "bad.txt"
    src.write_bytes(b"first line is fine\nsecond \xff\xfe line\n")
    with pytest.raises(dedup.InputError, match=r"bad\.txt.*byte 26"):
        scan(str(src), strict=True)


def test_strict_on_jsonl_names_the_file_and_line(tmp_path):
    src = tmp_path / "c.jsonl"
    src.write_bytes(json.dumps(_good(0)).encode() + b"\n" + b'{"id": "x", "text": "bad \xff byte"}\n')
    with pytest.raises(dedup.InputError, match=r"c\.jsonl:2\b.*byte \d+"):
        scan(str(src), strict=True)


# --- malformed records --------------------------------------------------------------------------


def _with_bad_line(tmp_path, bad: bytes):
    lines = [json.dumps(_good(i)).encode() for i in range(4)]
    lines.insert(2, bad)
    src = tmp_path / "c.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    return src


@pytest.mark.parametrize("bad", [b'{"id": "broken", "text": "no end', b"[1, 2, 3]", b"not json at all"])
def test_malformed_json_line_fails_naming_file_and_line(tmp_path, bad):
    src = _with_bad_line(tmp_path, bad)
    with pytest.raises(dedup.InputError, match=r"c\.jsonl:3\b"):
        scan(str(src))


def test_a_line_nested_too_deeply_for_any_json_reader_is_malformed_not_a_crash(tmp_path):
    src = _with_bad_line(tmp_path, b'{"id": "deep", "text": "a", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    with pytest.raises(dedup.InputError, match=r"c\.jsonl:3: malformed JSON \(nested too deeply\)"):
        scan(str(src))
    _, stats = _stats([src], on_error="skip")
    assert stats.reader.records_skipped == 1 and stats.documents == 4


def test_a_lone_surrogate_escape_is_replaced_and_counted_or_named_when_strict(tmp_path):
    src = _with_bad_line(tmp_path, b'{"id": "s\\udc00", "text": "half an emoji \\ud83d here\\n' + LINE.encode() + b'\\n"}')
    frame, stats = _stats([src])
    assert stats.reader.invalid_utf8_docs == 1 and stats.documents == 5
    assert "s\ufffd" in frame["doc_id"].to_list()
    with pytest.raises(dedup.InputError, match=r"c\.jsonl:3: .*lone surrogate"):
        scan(str(src), strict=True)


def test_cleaning_a_record_with_a_lone_surrogate_elsewhere_writes_it_escaped_again(tmp_path):
    twice = sentence(11, 99).encode()
    src = tmp_path / "c.jsonl"
    src.write_bytes(b'{"id": "s\\udc00", "meta": "m\\ud800", "text": "' + twice + b"\\n" + twice + b'\\nown words"}\n'
                    + json.dumps(_good(1)).encode() + b"\n")
    out = tmp_path / "o.jsonl"
    clean(str(src), str(out))
    first = json.loads(out.read_text(encoding="ascii").splitlines()[0])
    assert first == {"id": "s\udc00", "meta": "m\ud800", "text": f"{twice.decode()}\nown words"}


@pytest.mark.parametrize("where", [b'"x": ', b'"id": '])
def test_an_integer_longer_than_python_reads_is_malformed_not_a_crash(tmp_path, where):
    src = _with_bad_line(tmp_path, b'{"text": "a", ' + where + b"9" * 5000 + b"}")
    with pytest.raises(dedup.InputError, match=r"c\.jsonl:3: malformed JSON \(an integer of more than \d+ digits\)"):
        scan(str(src))
    _, stats = _stats([src], on_error="skip")
    assert stats.reader.records_skipped == 1 and stats.documents == 4


def test_a_record_cut_short_is_reported_at_the_column_where_it_ends(tmp_path):
    src = _with_bad_line(tmp_path, b'{"id": "x", "text": ')
    with pytest.raises(dedup.InputError, match=r"c\.jsonl:3: malformed JSON \(Expecting value at column 21\)"):
        scan(str(src))


def test_on_error_skip_skips_and_counts_malformed_lines(tmp_path):
    src = _with_bad_line(tmp_path, b'{"id": "broken", "text": "no end')
    out = tmp_path / "o.jsonl"
    frame, stats = run([str(src)], Config(workers=1, on_error="skip"), report=None, out=out)
    assert stats.reader.records_skipped == 1
    assert stats.documents == 4
    assert sorted(frame["doc_id"].unique()) == ["r0", "r1", "r2", "r3"]
    assert [r["id"] for r in read_jsonl(out)] == ["r0", "r1", "r2", "r3"]


@pytest.mark.parametrize("record", [{"id": "x", "body": "text under another name"}, {"id": "x", "text": 42},
                                    {"id": "x", "text": None}])
def test_record_without_text_field_fails_naming_file_and_line(tmp_path, record):
    src = _with_bad_line(tmp_path, json.dumps(record).encode())
    with pytest.raises(dedup.InputError, match=r"c\.jsonl:3\b.*'text'"):
        scan(str(src))
    _, stats = _stats([src], on_error="skip")
    assert stats.reader.records_skipped == 1 and stats.documents == 4


def test_parquet_without_text_column_is_refused(tmp_path):
    src = tmp_path / "c.parquet"
    pl.DataFrame({"id": ["a"], "body": ["x"]}).write_parquet(src)
    with pytest.raises(dedup.InputError, match=r"c\.parquet.*'text'"):
        scan(str(src))


def test_file_that_is_not_parquet_is_refused(tmp_path):
    src = tmp_path / "c.parquet"
    src.write_bytes(b"this is not parquet at all")
    with pytest.raises(dedup.InputError, match=r"c\.parquet"):
        scan(str(src))


def test_corrupt_gzip_is_refused_naming_the_file(tmp_path):
    src = tmp_path / "c.jsonl.gz"
    src.write_bytes(b"\x1f\x8b\x08\x00garbage that is not deflate")
    with pytest.raises(dedup.InputError, match=r"c\.jsonl\.gz"):
        scan(str(src))


def test_unknown_extension_asks_for_format(tmp_path):
    src = tmp_path / "c.csv"
    src.write_text("a,b\n")
    with pytest.raises(dedup.InputError, match=r"c\.csv.*--format"):
        scan(str(src))


def test_missing_path_is_refused(tmp_path):
    with pytest.raises(dedup.InputError, match=r"nowhere\.jsonl"):
        scan(str(tmp_path / "nowhere.jsonl"))


# --- empty and binary files ---------------------------------------------------------------------


def test_empty_files_are_counted_as_empty_documents(tmp_path):
    src = tmp_path / "pages"
    src.mkdir()
    (src / "empty.txt").write_bytes(b"")
    (src / "blank.txt").write_text("\n \n\t\n")
    (src / "real.txt").write_text(f"{LINE}\n{LINE}\n")
    frame, stats = _stats([src])
    assert stats.reader.empty_docs == 2
    assert stats.documents == 3
    assert frame.select("doc_id", "kind").rows() == [("real.txt", "repeat")]


def test_empty_jsonl_file_gives_a_header_only_report(tmp_path):
    src = tmp_path / "empty.jsonl"
    src.write_bytes(b"")
    report = tmp_path / "r.csv"
    found = dedup.scan(str(src), report=report, workers=1).findings
    assert found.is_empty()
    assert csv_text(report).splitlines() == [",".join(REPORT_HEADER)]


def test_empty_corpus_gives_a_header_only_report_and_a_warning(cli, tmp_path):
    (tmp_path / "nothing.jsonl").write_bytes(b"\n")  # (an empty folder is an error: tests/test_hostile_data.py)
    result = cli("scan", "nothing.jsonl", "--report", "r.csv")
    assert result.code == 0, result.stderr
    assert csv_text(tmp_path / "r.csv").splitlines() == [",".join(REPORT_HEADER)]
    assert "warning" in result.stderr.lower() and "no documents" in result.stderr


def test_binary_txt_files_are_skipped_and_counted(tmp_path):
    src = tmp_path / "pages"
    src.mkdir()
    (src / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (src / "real.txt").write_text(f"{LINE}\n{LINE}\n")
    frame, stats = _stats([src])
    assert stats.reader.binary_files_skipped == 1
    assert stats.documents == 1
    assert frame.select("doc_id", "kind").rows() == [("real.txt", "repeat")]


# --- failures leave nothing behind --------------------------------------------------------------


def test_failed_clean_leaves_no_output_and_no_temporary_files(tmp_path):
    src = _with_bad_line(tmp_path, b"{broken")
    before = snapshot(tmp_path)
    with pytest.raises(dedup.InputError):
        dedup.clean(str(src), str(tmp_path / "out.jsonl"), report=tmp_path / "r.csv", workers=1)
    assert snapshot(tmp_path) == before


def test_inputs_are_never_changed_by_clean(tmp_path):
    records = [_good(i) for i in range(3)] + [_good(0)]
    src = write_jsonl(tmp_path / "c.jsonl", records)
    before = src.read_bytes()
    clean(str(src), str(tmp_path / "o.jsonl"))
    assert src.read_bytes() == before


def test_report_may_not_overwrite_an_input(tmp_path):
    src = write_jsonl(tmp_path / "c.jsonl", [_good(0)])
    before = src.read_bytes()
    with pytest.raises(dedup.InputError, match="report"):
        dedup.scan(str(src), report=src, workers=1)
    assert src.read_bytes() == before


# --- an input that changes between clean's two reads ----------------------------------------------


class _ChangeBetweenTheReads:
    """A progress listener (the API's ``progress``) that calls ``change`` when the run starts deciding:
    after pass 1 has read the inputs, before clean's second read."""

    def __init__(self, change) -> None:
        self.change = change

    def start(self, total_bytes) -> None:
        pass

    def advance(self, docs, nbytes) -> None:
        pass

    def stage(self, name, documents=None) -> None:
        if name == "deciding":
            self.change()


@pytest.mark.parametrize("second_read", ["shorter", "broken"])
def test_an_input_changed_between_the_two_reads_is_refused_and_leaves_no_output(tmp_path, second_read):
    src = write_jsonl(tmp_path / "c.jsonl", [_good(i) for i in range(4)])
    changed = {"shorter": src.read_bytes().splitlines(keepends=True)[0],
               "broken": src.read_bytes().replace(b'"r2"', b'"r2', 1)}[second_read]
    with pytest.raises(dedup.InputError, match=r"c\.jsonl: changed since it was first read"):
        dedup.clean(str(src), str(tmp_path / "out.jsonl"), report=tmp_path / "r.csv", workers=1,
                    progress=_ChangeBetweenTheReads(lambda: src.write_bytes(changed)))
    assert snapshot(tmp_path) == {"c.jsonl": changed}, "no output, no report, no temporary file"


def test_of_several_inputs_the_one_that_changed_is_named(tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", [_good(i) for i in range(3)])
    second = write_jsonl(tmp_path / "b.jsonl", [_good(i) for i in range(3, 6)])
    # a.jsonl loses a record and b.jsonl gains one: the total stays, the documents do not line up
    change = _ChangeBetweenTheReads(lambda: (
        write_jsonl(first, [_good(i) for i in range(2)]), write_jsonl(second, [_good(i) for i in range(2, 6)])))
    with pytest.raises(dedup.InputError, match=r"a\.jsonl: changed since it was first read"):
        dedup.clean([first, second], str(tmp_path / "out"), report=tmp_path / "r.csv", workers=1, progress=change)
    assert not (tmp_path / "out").exists() and not (tmp_path / "r.csv").exists()


def test_an_input_edited_in_place_with_as_many_records_is_refused(tmp_path):
    src = write_jsonl(tmp_path / "c.jsonl", [_good(i) for i in range(4)])
    change = _ChangeBetweenTheReads(lambda: write_jsonl(src, [_good(i) for i in range(1, 5)]))
    with pytest.raises(dedup.InputError, match=r"c\.jsonl: changed since it was first read \(its size"):
        dedup.clean(str(src), str(tmp_path / "out.jsonl"), report=tmp_path / "r.csv", workers=1, progress=change)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl"]


@pytest.mark.parametrize("on_error", ["skip", "fail"])
def test_a_record_refused_for_its_site_field_is_refused_by_both_reads(tmp_path, on_error):
    # A float site makes the line be read again by Python's json, which refuses arrays this deep: the
    # second read uses the run's own reader settings, so it refuses (skips) the record as the first did.
    deep = b'{"id": "deep", "url": 1.5, "x": ' + b"[" * 1000 + b"]" * 1000 + b', "text": "deep doc"}\n'
    records = [_good(i) | {"url": f"https://s.org/{i}"} for i in range(4)]
    src = write_jsonl(tmp_path / "c.jsonl", records)
    lines = src.read_bytes().splitlines(keepends=True)
    src.write_bytes(b"".join(lines[:2] + [deep] + lines[2:]))
    if on_error == "fail":
        with pytest.raises(dedup.InputError, match=r"c\.jsonl:3: malformed JSON \(nested too deeply\)"):
            clean(str(src), str(tmp_path / "out.jsonl"), site_field="url", on_error=on_error)
        assert not (tmp_path / "out.jsonl").exists()
        return
    found = clean(str(src), str(tmp_path / "out.jsonl"), site_field="url", on_error=on_error)
    assert [r["id"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["r0", "r1", "r2", "r3"]
    assert found["doc_id"].unique().sort().to_list() == ["r0", "r1", "r2", "r3"]
    assert set(found["text"]) == {LINE}, "every finding's text is the repeated line, read from its own record"
