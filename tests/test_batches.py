"""Pass 1's batches: JSON Lines read by polars give exactly the records the line-by-line reader gives.

Which batches polars reads (or, for Parquet, which come straight from the columns) is asked of the
deciding functions, ``polars_frame`` and ``straight_from_columns``, on the batches as pass 1 cuts them."""

from __future__ import annotations

import io
import itertools
import json
import random

import polars as pl
import pytest

from dedup.config import Config
from dedup.io.batches import record_batches
from dedup.io.formats import frames_of, iter_records
from dedup.io.jsonl import polars_frame
from dedup.io.parquet import parquet_schema, row_groups, straight_from_columns
from dedup.io.sites import PY_WHITESPACE, site_of, sites_of
from dedup.io.sources import Counters, InputError, open_sources

PLAIN = [
    b'{"id": "a1", "url": "https://www.One.example/x", "text": "First page.\\nSecond line."}\n',
    b'{"text": "no id here", "url": null, "meta": {"lang": "en", "tags": [1, 2.5, null]}}\n',
    b'{"id": 12, "text": "an integer id", "url": "blog"}\r\n',
    b'{"id": -0, "text": "caf\\u00e9 and \\ud83d\\ude00 escaped, \\u0007 too"}\n',
    b'\n',
    b'   \n',
    b'\x0b\x0c \n',
    '{"id": "é", "text": "  ", "url": "http://user@host.example:81/p"}\n'.encode(),
    b'{"id": null, "text": "\\u3000\\u2028", "extra": 123456789012345678901234}\n',
    b'{"id": 123456789012345678901234567890, "text": "a huge integer id"}\n',
]

ODD = {  # lines where polars and Python's json could part ways: the batch must fall back
    "duplicate key": b'{"text": "first", "text": "last"}\n',
    "duplicate id": b'{"id": "x", "text": "t", "id": null}\n',
    "float id": b'{"id": 1.0, "text": "t"}\n',
    "bool id": b'{"id": true, "text": "t"}\n',
    "object id": b'{"id": {"a": 1}, "text": "t"}\n',
    "integer site": b'{"url": 5, "text": "t"}\n',
    "escaped key": b'{"t\\u0065xt": "hidden", "text": "seen"}\n',
    "lone surrogate": b'{"text": "a\\ud800b"}\n',
    "lone low surrogate": b'{"text": "a\\udc00b"}\n',
    "escaped backslash": b'{"text": "C:\\\\users\\\\ud800"}\n',
    "nested text only": b'{"meta": {"text": "inner"}}\n',
    "array": b'[{"text": "in an array"}]\n',
    "NaN": b'{"text": "t", "x": NaN}\n',
    "huge float": b'{"text": "t", "x": 1e999}\n',
    "invalid utf-8": b'{"text": "caf\xe9"}\n',
    "numeric text": b'{"text": 42}\n',
    "no text": b'{"body": "t"}\n',
    "deep": b'{"text": "t", "x": ' + b"[" * 1100 + b"]" * 1100 + b"}\n",
    "trailing garbage": b'{"text": "t"} x\n',
}


def _batches(path, config):
    counters = Counters()
    frames = [b.docs for b in record_batches(open_sources([str(path)], config), config, counters)]
    return pl.concat(frames) if frames else None, counters


def _reference(path, config):
    counters = Counters()
    records = list(iter_records(open_sources([str(path)], config)[0], config, counters))
    counters.records_per_input.append(len(records))  # what record_batches counts for the one input
    return [(i, r.doc_id, r.text, r.site, 0, i) for i, r in enumerate(records)], counters  # one input: record = doc


def _same_as_reference(path, config):
    """The batches equal the line reader's records."""
    expected, expected_counters = _reference(path, config)
    frame, counters = _batches(path, config)
    assert (frame.rows() if frame is not None else []) == expected
    assert counters == expected_counters


def _read_by_polars(data: bytes, config) -> list[bool]:
    """Per batch of JSON Lines ``data`` as pass 1 cuts it (``config.batch_docs`` lines), whether polars reads it."""
    lines = io.BytesIO(data).readlines()
    size = config.batch_docs
    return [polars_frame(lines[i:i + size], i, config, Counters()) is not None for i in range(0, len(lines), size)]


def test_plain_lines_are_read_by_polars_as_the_line_reader_reads_them(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"".join(PLAIN))
    _same_as_reference(path, Config(site_field="url"))
    assert _read_by_polars(path.read_bytes(), Config(site_field="url")) == [True]  # every line went to polars


@pytest.mark.parametrize("name", ODD)
def test_a_batch_with_an_odd_line_is_read_line_by_line(tmp_path, name):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"".join(PLAIN) + ODD[name] + b"".join(PLAIN))
    config = Config(site_field="url", on_error="skip", batch_docs=len(PLAIN) + 3)
    _same_as_reference(path, config)
    assert _read_by_polars(path.read_bytes(), config) == [False, True]  # the next batch goes to polars again


def test_a_bad_line_in_a_polars_batch_is_named_as_the_line_reader_names_it(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"".join(PLAIN) * 3 + b'{"text": "no end\n' + b"".join(PLAIN))
    with pytest.raises(InputError, match=rf"c\.jsonl:{3 * len(PLAIN) + 1}: malformed JSON"):
        _batches(path, Config(batch_docs=4))


def test_other_field_names_and_no_site_field(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"doc.key": 7, "body": "x y", "text": 1}\n{"body": "z"}\n')
    config = Config(text_field="body", id_field="doc.key")
    _same_as_reference(path, config)
    assert _read_by_polars(path.read_bytes(), config) == [True]


def test_ids_without_a_field_count_records_across_batches_and_blank_lines(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"text": "a"}\n\n{"text": "b"}\n{"text": "c", "id": "named"}\n{"text": "d"}\n')
    frame, _ = _batches(path, Config(batch_docs=2))
    assert frame["doc_id"].to_list() == ["0", "1", "named", "3"]
    assert frame["doc"].to_list() == [0, 1, 2, 3]


def test_compressed_and_several_sources(tmp_path):
    import gzip

    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(b"".join(PLAIN)))
    (tmp_path / "b.jsonl").write_bytes(b"".join(PLAIN))
    config = Config(site_field="url", batch_docs=3)
    sources = open_sources([str(tmp_path / "a.jsonl.gz"), str(tmp_path / "b.jsonl")], config)
    ids = [i for s in sources for i in (f"{s.name}:{r.doc_id}" for r in iter_records(s, config, Counters()))]
    batches = list(record_batches(sources, config, Counters()))
    frame = pl.concat(b.docs for b in batches)
    assert frame["doc_id"].to_list() == ids
    assert frame["doc"].to_list() == list(range(len(ids)))
    assert sum(b.nbytes for b in batches) == sum(s.path.stat().st_size for s in sources)
    assert all(_read_by_polars(b"".join(PLAIN), config))


def test_python_whitespace_list_is_pythons():
    assert PY_WHITESPACE == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def test_sites_of_a_column_equal_site_of_each_value():
    parts = {
        "space": ["", " ", "\t", "\u3000", "\x1c"],
        "scheme": ["", "http://", "HTTPS://", "ftp://", "h ttp://", "://", "https:/"],
        "user": ["", "user@", "a@b@", "@"],
        "www": ["", "www.", "WWW.", "www"],
        "host": ["example.org", "Ex.COM", "", "ä.de", "[::1]", "[bad", "a b", "x.org\n", "Ξ.gr"],
        "port": ["", ":80", ":", ":x"],
        "rest": ["", "/", "/p?q#f", "?q", "#f", "/a://b"],
    }
    draw = random.Random(5)
    values = ["".join(p) for p in itertools.product(*(draw.sample(v, min(len(v), 3)) for v in parts.values()))]
    values += ["".join(draw.choice(v) for v in parts.values()) for _ in range(3000)] + [None]
    assert sites_of(pl.Series(values)).to_list() == [site_of(v) for v in values]


def test_jsonl_written_by_json_dumps_goes_to_polars(tmp_path):
    records = [{"id": f"r{i}", "url": f"https://s{i % 3}.example/{i}", "text": f"Text {i} — with “quotes”.\n"}
               for i in range(50)]
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))  # ensure_ascii: \u escapes
    config = Config(site_field="url", batch_docs=7)
    _same_as_reference(path, config)
    assert all(_read_by_polars(path.read_bytes(), config))


def _straight_from_columns(path, config) -> list[bool]:
    """Per batch of a Parquet file as pass 1 cuts it, whether it comes straight from the columns."""
    source = open_sources([str(path)], config)[0]
    schema = parquet_schema(source, config)
    return [straight_from_columns(rows, schema, config) for rows in row_groups(source, config.batch_docs)]


TEXTS = ["First page.\nSecond line.", "  ", "\u3000", "", "caf\u00e9 \U0001f600", "plain words here"]


@pytest.mark.parametrize("ids", [
    pl.Series(["a", None, "c", "d", None, "f"]),
    pl.Series([5, -0, None, 12345678901234, 7, 8], dtype=pl.Int64),
    pl.Series([1, 2, 3, 4, 5, 2**64 - 1], dtype=pl.UInt64),
    None,
])
def test_parquet_columns_typed_as_records_need_go_straight_to_frames(tmp_path, ids):
    columns = {"text": TEXTS, "url": ["https://www.A.org/x", None, "blog", "http://u@h.example:8/", "ftp://x.y/z", ""]}
    if ids is not None:
        columns["id"] = ids
    path = tmp_path / "c.parquet"
    pl.DataFrame(columns).write_parquet(path)
    config = Config(site_field="url", batch_docs=4)
    _same_as_reference(path, config)
    assert _straight_from_columns(path, config) == [True, True]


@pytest.mark.parametrize("columns", [
    {"text": TEXTS[:3] + [None] + TEXTS[4:], "id": ["a", "b", "c", "d", "e", "f"]},  # a row without text
    {"text": TEXTS, "id": [1.0, 2.5, None, 1e20, 5.0, 6.0]},  # float ids: str(1e20) is Python's
    {"text": TEXTS, "id": [True, False, True, None, True, False]},
    {"text": TEXTS, "url": [1, 2, 3, 4, 5, 6]},
])
def test_other_parquet_columns_are_read_row_by_row(tmp_path, columns):
    path = tmp_path / "c.parquet"
    pl.DataFrame(columns).write_parquet(path)
    config = Config(site_field="url", batch_docs=4, on_error="skip")
    _same_as_reference(path, config)
    assert not all(_straight_from_columns(path, config))


def test_a_batch_of_blank_lines_only_changes_nothing(tmp_path):
    import dedup

    line = "The same caption printed twice in one article appears here again"
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps({"id": i, "text": f"{line}\nown words of record {i}"}) + "\n" for i in range(3))
                    + "\n" * 5 + json.dumps({"id": 9, "text": line}) + "\n\n\n")
    whole = dedup.scan(str(path), workers=1).findings
    for workers in (1, 2):
        assert dedup.scan(str(path), batch_docs=2, workers=workers).findings.equals(whole)
    assert whole["doc_id"].to_list() == ["0", "1", "2", "9"]


def test_each_frame_comes_with_the_bytes_of_its_own_lines(tmp_path):
    lines = [json.dumps({"id": i, "text": "word " * i}).encode() + b"\n" for i in range(10)]
    path = tmp_path / "c.jsonl"
    path.write_bytes(b"".join(lines))
    config = Config(batch_docs=4)
    frames = list(frames_of(open_sources([str(path)], config)[0], config, Counters()))
    assert [len(frame) for frame, _ in frames] == [4, 4, 2]
    assert [nbytes for _, nbytes in frames] == [sum(map(len, lines[i:i + 4])) for i in (0, 4, 8)]
