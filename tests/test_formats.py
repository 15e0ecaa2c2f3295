"""Every input format is read and written back in its own format, keeping other fields and order."""

from __future__ import annotations

import json

import polars as pl
import pytest
from conftest import clean, read_bytes_decompressed, read_jsonl, scan, sentence, snapshot, write_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st

CAPTION = sentence(14, seed=1)
DOC_A = f"{sentence(30, 2)}\n\n{CAPTION}\n{CAPTION}\n\n{sentence(20, 3)}\n"
DOC_A_CLEAN = f"{sentence(30, 2)}\n\n{CAPTION}\n\n{sentence(20, 3)}\n"
DOC_B = f"Ünïcödé — “quoted” 中文 text.\r\n{sentence(25, 4)}\r\n"
DOC_C = f"{sentence(18, 5)}\n{sentence(22, 6)}"
TEXTS = {"a": DOC_A, "b": DOC_B, "c": DOC_C}
CLEANED = {"a": DOC_A_CLEAN, "b": DOC_B, "c": DOC_C}
ORDER = ["c", "a", "b"]  # not sorted, to show record order is kept


def _records() -> list[dict]:
    return [{"id": k, "url": f"https://example.org/{k}", "meta": {"rank": i, "tags": ["x", k]},
             "text": TEXTS[k]} for i, k in enumerate(ORDER)]


@pytest.mark.parametrize("name", ["corpus.jsonl", "corpus.jsonl.gz", "corpus.jsonl.zst"])
def test_jsonl_round_trip_keeps_fields_order_and_unchanged_bytes(tmp_path, name):
    src = write_jsonl(tmp_path / name, _records())
    before = src.read_bytes()
    out = tmp_path / f"out-{name}"
    found = clean(str(src), str(out))
    assert rows_of(found) == [("a", "repeat")]
    magic = {"corpus.jsonl.gz": b"\x1f\x8b", "corpus.jsonl.zst": b"\x28\xb5\x2f\xfd"}.get(name, b"{")
    assert out.read_bytes().startswith(magic), "the output is compressed as its name says"
    got = read_jsonl(out)
    assert [r["id"] for r in got] == ORDER
    for original, written in zip(_records(), got):
        assert written == {**original, "text": CLEANED[original["id"]]}
    # records with nothing removed keep their original bytes
    in_lines = read_bytes_decompressed(src).splitlines()
    out_lines = read_bytes_decompressed(out).splitlines()
    assert out_lines[0] == in_lines[0] and out_lines[2] == in_lines[2]
    assert src.read_bytes() == before


def test_jsonl_without_id_field_numbers_records_from_zero(tmp_path):
    src = write_jsonl(tmp_path / "c.jsonl", [{"text": TEXTS[k]} for k in ORDER])
    found = scan(str(src))
    assert found.select("doc_id", "kind").rows() == [("1", "repeat")]


def test_jsonl_custom_text_and_id_fields(tmp_path):
    src = write_jsonl(tmp_path / "c.jsonl", [{"key": k, "body": TEXTS[k], "text": "ignored"} for k in ORDER])
    out = tmp_path / "o.jsonl"
    found = clean(str(src), str(out), text_field="body", id_field="key")
    assert rows_of(found) == [("a", "repeat")]
    assert [(r["key"], r["body"], r["text"]) for r in read_jsonl(out)] == [
        (k, CLEANED[k], "ignored") for k in ORDER]


def test_parquet_round_trip_keeps_schema_fields_and_order(tmp_path):
    frame = pl.DataFrame({
        "id": ORDER,
        "text": [TEXTS[k] for k in ORDER],
        "score": [0.5, 1.5, 2.5],
        "n": pl.Series([1, 2, 3], dtype=pl.Int32),
        "tags": [["x"], [], ["y", "z"]],
    })
    src = tmp_path / "corpus.parquet"
    frame.write_parquet(src)
    out = tmp_path / "clean.parquet"
    found = clean(str(src), str(out))
    assert rows_of(found) == [("a", "repeat")]
    got = pl.read_parquet(out)
    assert got.schema == frame.schema
    assert got.drop("text").equals(frame.drop("text"))
    assert got["text"].to_list() == [CLEANED[k] for k in ORDER]


def test_txt_folder_round_trip_keeps_relative_paths_and_bytes(tmp_path):
    src = tmp_path / "pages"
    (src / "site1" / "deep").mkdir(parents=True)
    (src / "a.txt").write_text(DOC_A, encoding="utf-8")
    (src / "site1" / "b.txt").write_bytes(DOC_B.encode("utf-8"))
    (src / "site1" / "deep" / "c.txt").write_text(DOC_C, encoding="utf-8")
    (src / "notes.md").write_text("not a txt file")
    before = snapshot(src)
    out = tmp_path / "clean"
    found = clean(str(src), str(out))
    assert rows_of(found) == [("a.txt", "repeat")]
    assert snapshot(out) == {
        "a.txt": DOC_A_CLEAN.encode("utf-8"),
        "site1/b.txt": DOC_B.encode("utf-8"),
        "site1/deep/c.txt": DOC_C.encode("utf-8"),
    }
    assert snapshot(src) == before


def test_a_txt_folder_reads_the_files_its_kind_was_told_by(tmp_path):
    # The folder is a .txt folder because of files ending .txt in any case; those same files are read,
    # and a folder reached through a symlink is not entered (the output checks rely on that).
    src = tmp_path / "pages"
    (src / "sub").mkdir(parents=True)
    (src / "A.TXT").write_text(DOC_A, encoding="utf-8")
    (src / "sub" / "c.txt").write_text(DOC_C, encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "b.txt").write_text(DOC_A, encoding="utf-8")
    (src / "linked").symlink_to(elsewhere, target_is_directory=True)
    found = scan(str(src))
    assert rows_of(found) == [("A.TXT", "repeat")], "b.txt, behind the symlink, is not read: no duplicate of A"
    out = tmp_path / "clean"
    clean(str(src), str(out))
    assert snapshot(out) == {"A.TXT": DOC_A_CLEAN.encode("utf-8"), "sub/c.txt": DOC_C.encode("utf-8")}


def test_single_txt_file_round_trip(tmp_path):
    src = tmp_path / "one.txt"
    src.write_text(DOC_A, encoding="utf-8")
    out = tmp_path / "one-clean.txt"
    found = clean(str(src), str(out))
    assert rows_of(found) == [("one.txt", "repeat")]
    assert out.read_text(encoding="utf-8") == DOC_A_CLEAN
    assert src.read_text(encoding="utf-8") == DOC_A


def test_format_option_forces_jsonl_for_an_unknown_extension(tmp_path):
    src = write_jsonl(tmp_path / "corpus.data", _records())
    found = scan(str(src), format="jsonl")
    assert rows_of(found) == [("a", "repeat")]


def test_stdin_to_stdout_round_trip(cli, tmp_path):
    data = b"".join(json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in _records())
    result = cli("clean", "-", "--out", "-", "--quiet", "--report", tmp_path / "r.csv", stdin=data)
    assert result.code == 0, result.stderr
    got = [json.loads(line) for line in result.stdout.splitlines()]
    assert got == [{**r, "text": CLEANED[r["id"]]} for r in _records()]
    assert result.stdout.splitlines()[0] == data.splitlines()[0]


def test_txt_folder_to_stdout_writes_json_lines_with_id_and_text(cli_inprocess, tmp_path):
    src = tmp_path / "pages"
    src.mkdir()
    (src / "a.txt").write_text(DOC_A, encoding="utf-8")
    (src / "c.txt").write_text(DOC_C, encoding="utf-8")
    result = cli_inprocess("clean", "pages", "--out", "-", "--quiet", "--report", "r.csv")
    assert result.code == 0, result.stderr
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"id": "a.txt", "text": DOC_A_CLEAN}, {"id": "c.txt", "text": DOC_C}]


def test_several_inputs_form_one_corpus_with_prefixed_ids(tmp_path):
    shared = sentence(16, seed=40)
    one = write_jsonl(tmp_path / "one.jsonl", [{"id": "x", "text": f"{sentence(20, 41)}\n{shared}\n"}])
    two = write_jsonl(tmp_path / "two.jsonl", [{"id": "x", "text": f"{shared}\n{sentence(20, 42)}\n"}])
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "p.txt").write_text(DOC_A)
    out = tmp_path / "out"
    found = clean([str(one), str(two), str(folder)], str(out), boilerplate_min_docs=3)
    assert found.select("doc_id", "kind", "kept_doc").rows() == [
        ("two.jsonl:x", "duplicate_block", "one.jsonl:x"),
        ("pages:p.txt", "repeat", "pages:p.txt"),
    ]
    assert sorted(p.name for p in out.iterdir()) == ["one.jsonl", "pages", "two.jsonl"]
    assert read_jsonl(out / "one.jsonl") == read_jsonl(one)
    assert read_jsonl(out / "two.jsonl") == read_jsonl(two)  # duplicate blocks are kept by default
    assert (out / "pages" / "p.txt").read_text() == DOC_A_CLEAN


def rows_of(found: pl.DataFrame) -> list[tuple]:
    return found.select("doc_id", "kind").rows()


def test_jsonl_records_python_json_reads_are_read_and_kept_byte_for_byte(tmp_path):
    """orjson reads strict JSON; a record only Python's json takes (NaN, an integer beyond 64 bits, a
    lone surrogate escape) is read the same way and written back unchanged."""
    extras = ['"score": NaN', '"big": 123456789012345678901234567890', '"odd": "\\ud800"']
    lines = [f'{{"id": "{k}", {extra}, "text": {json.dumps(TEXTS[k])}}}' for k, extra in zip(ORDER, extras)]
    src = tmp_path / "c.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o.jsonl"
    found = clean(str(src), str(out))
    assert rows_of(found) == [("a", "repeat")]
    written = out.read_text().splitlines()
    assert [written[0], written[2]] == [lines[0], lines[2]]  # c and b: nothing removed
    assert json.loads(written[1]) == {**json.loads(lines[1]), "text": CLEANED["a"]}


def test_integers_beyond_64_bits_nested_in_a_cleaned_record_are_written_digit_for_digit(tmp_path):
    big = 123456789012345678901234567890
    lines = [json.dumps({"id": k, "meta": {"n": [big + i, 1.5]}, "text": TEXTS[k]}) for i, k in enumerate(ORDER)]
    src = tmp_path / "c.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o.jsonl"
    clean(str(src), str(out))
    written = out.read_text().splitlines()
    assert json.loads(written[1]) == {**json.loads(lines[1]), "text": CLEANED["a"]}  # a, the second, is cleaned
    assert str(big + 1) in written[1]


@pytest.mark.parametrize("big", [False, True])
def test_a_cleaned_record_nested_as_deep_as_orjson_reads_is_written_not_a_crash(tmp_path, big):
    # orjson reads up to 1,024 levels; json writes (and reads) about 1,000 within Python's recursion limit
    nested = "[" * 1020 + (str(1 << 70) if big else "1") + "]" * 1020
    lines = [f'{{"id": "{k}", "deep": {nested}, "f": 1.5, "text": {json.dumps(TEXTS[k])}}}' for k in ORDER]
    src = tmp_path / "c.jsonl"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o.jsonl"
    clean(str(src), str(out))
    written = out.read_text().splitlines()
    assert written[0] == lines[0] and written[2] == lines[2]
    assert written[1] == lines[1].replace(json.dumps(TEXTS["a"]), json.dumps(CLEANED["a"]))  # a is cleaned


def test_an_id_beyond_64_bits_is_reported_digit_for_digit(tmp_path):
    src = tmp_path / "c.jsonl"
    big = 123456789012345678901234567890
    src.write_text("\n".join(f'{{"id": {big + i}, "text": {json.dumps(TEXTS[k])}}}' for i, k in enumerate(ORDER)))
    assert scan(str(src))["doc_id"].to_list() == [str(big + 1)]  # a is the second record


@pytest.mark.parametrize("url", [
    "https://www.Example.org/a/b?c#d", "http://example.org", "HTTP://Example.ORG:8080/x", "https://user:pw@host.net/p",
    "https://a@b@host.net:1/", "https://host.net?q=1", "https://host.net#frag", "https://", "https://www.",
    "http://[::1]:80/x", "ftp://files.example.org/x", "https://ex ample.org/x", " https://pad.org/ ",
    "https://tab\t.org/", "https://host.net:notaport/", "mailto://x@y.org", "https://例え.jp/パス",
])
def test_site_of_a_url_is_its_host_as_urlsplit_reads_it(url):
    from urllib.parse import urlsplit

    from dedup.io.sites import site_of

    expected = (urlsplit(url.strip()).hostname or "").lower().removeprefix("www.") or None
    assert site_of(url) == expected


def test_site_of_a_malformed_ipv6_url_is_none_not_a_crash():
    from dedup.io.sites import site_of

    assert site_of("http://[::1/x") is None
    assert site_of("news.example.org") == "news.example.org"


def test_a_rewritten_record_keeps_an_integer_below_minus_2_to_the_63(tmp_path):
    """orjson reads -9223372036854775809 (19 digits) as a float; the record is re-read exactly."""
    src = tmp_path / "c.jsonl"
    src.write_text('{"id": "a", "n": -9223372036854775809, "text": "Same line here twice\\nSame line here twice\\nend"}\n')
    clean(str(src), str(tmp_path / "o.jsonl"))
    assert '"n": -9223372036854775809' in (tmp_path / "o.jsonl").read_text()


def test_invalid_utf8_with_a_float_id_is_read_not_a_crash(tmp_path):
    src = tmp_path / "c.jsonl"
    src.write_bytes(b'{"id": 1.5, "text": "caf\xe9 ok"}\n{"id": 2, "text": "caf\xe9 ok"}\n')
    found = scan(str(src))
    assert found.select("doc_id", "kind").rows() == [("2", "duplicate_doc")]


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.just('"\x00dedup\x00') | st.just("\x00dedup\x00"),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6) | st.just("\x00dedup\x00"), _JSON_VALUES, max_size=5),
       st.sampled_from(["text", "body"]), st.text() | st.just("\x00dedup\x00"))
def test_a_cleaned_json_line_is_what_json_dumps_writes(obj, field, text):
    from dedup.io.jsonl import json_line

    assert json_line(obj, field, text) == json.dumps({**obj, field: text}, ensure_ascii=False).encode("utf-8")
