"""Hostile data, one row per case: what a careless or hostile user feeds in, and what must happen.

Each case sets up files in a fresh folder, runs the command (the ``dedup`` entry point, in this
process), and checks the exit code, a fragment of the one error line (naming the file), that no
traceback was shown, and that no output was left behind. Outputs that must be refused are listed
in ``absent``; ``"<", FILE`` at the end of a command feeds FILE on stdin. (The output half of the hostile cases, paths and writing, is tests/test_hostile.py.)
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
import zstandard
from conftest import sentence

LINE = sentence(12, seed=7)


def _records(n: int = 600) -> bytes:
    return b"".join(json.dumps({"id": f"r{i}", "text": f"{sentence(10, 100 + i)}\n{LINE}\n"}).encode() + b"\n"
                    for i in range(n))


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return setup


def _both(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(root: Path) -> None:
        for one in setups:
            one(root)
    return setup


def _zst(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def _flipped(data: bytes, at: float, count: int = 1) -> bytes:
    damaged = bytearray(data)
    for k in range(int(len(data) * at), int(len(data) * at) + count):
        damaged[k] ^= 0xFF
    return bytes(damaged)


def _parquet(rows: int = 3000) -> bytes:
    out = io.BytesIO()
    pl.DataFrame({"id": [f"d{i}" for i in range(rows)],
                  "text": [f"{sentence(10, i)}\n{LINE}\n" for i in range(rows)]}).write_parquet(out, row_group_size=500)
    return out.getvalue()


def _parquet_of(columns: dict, schema: dict) -> bytes:
    out = io.BytesIO()
    pl.DataFrame(columns, schema=schema).write_parquet(out)
    return out.getvalue()


RECORDS = _records()

# name, setup, command, exit code, message fragment, paths that must not exist afterwards
CASES = [
    ("truncated zst", _write("c.jsonl.zst", _zst(RECORDS)[:len(_zst(RECORDS)) // 2]),
     ["clean", "c.jsonl.zst", "--out", "o.jsonl.zst"], 1, "c.jsonl.zst: cannot read the compressed stream (truncated",
     ["o.jsonl.zst", "dedup-report.csv"]),
    ("truncated zst, even when skipping bad records", _write("c.jsonl.zst", _zst(RECORDS)[:len(_zst(RECORDS)) // 2]),
     ["clean", "c.jsonl.zst", "--out", "o.jsonl.zst", "--on-error", "skip"], 1, "c.jsonl.zst: cannot read the compressed",
     ["o.jsonl.zst", "dedup-report.csv"]),
    ("truncated zst cut at a line's end", _write("c.jsonl.zst", _zst(RECORDS)[:-3]),
     ["scan", "c.jsonl.zst", "--on-error", "skip"], 1, "c.jsonl.zst: cannot read the compressed stream (truncated",
     ["dedup-report.csv"]),
    ("truncated gz, when skipping", _write("c.jsonl.gz", gzip.compress(RECORDS)[:len(gzip.compress(RECORDS)) // 2]),
     ["clean", "c.jsonl.gz", "--out", "o.jsonl.gz", "--on-error", "skip"], 1, "c.jsonl.gz: cannot read the compressed",
     ["o.jsonl.gz", "dedup-report.csv"]),
    ("corrupt gz: named as a stream, not as a malformed line", _write("c.jsonl.gz", _flipped(gzip.compress(RECORDS), 0.5)),
     ["scan", "c.jsonl.gz"], 1, "c.jsonl.gz: cannot read the compressed stream", ["dedup-report.csv"]),
    ("corrupt gz, when skipping", _write("c.jsonl.gz", _flipped(gzip.compress(RECORDS), 0.5)),
     ["scan", "c.jsonl.gz", "--on-error", "skip"], 1, "c.jsonl.gz: cannot read the compressed stream",
     ["dedup-report.csv"]),
    ("corrupt zst", _write("c.jsonl.zst", _flipped(_zst(RECORDS), 0.5, 4)),
     ["clean", "c.jsonl.zst", "--out", "o.jsonl", "--on-error", "skip"], 1, "c.jsonl.zst: cannot read the compressed",
     ["o.jsonl", "dedup-report.csv"]),
    ("a .gz that is not gzip", _write("c.jsonl.gz", RECORDS),
     ["scan", "c.jsonl.gz"], 1, "c.jsonl.gz: cannot read the compressed stream", ["dedup-report.csv"]),
    ("a .zst that is not zstd", _write("c.jsonl.zst", RECORDS),
     ["scan", "c.jsonl.zst"], 1, "c.jsonl.zst: cannot read the compressed stream", ["dedup-report.csv"]),
    ("corrupt Parquet page, scan", _write("p.parquet", _flipped(_parquet(), 0.4, 200)),
     ["scan", "p.parquet"], 1, "p.parquet: a damaged Parquet file", ["dedup-report.csv"]),
    ("corrupt Parquet page, clean", _write("p.parquet", _flipped(_parquet(), 0.4, 200)),
     ["clean", "p.parquet", "--out", "o.parquet", "--on-error", "skip"], 1, "p.parquet: a damaged Parquet file",
     ["o.parquet", "dedup-report.csv"]),
    ("truncated Parquet", _write("p.parquet", _parquet()[:20000]),
     ["scan", "p.parquet"], 1, "p.parquet: not a readable Parquet file", ["dedup-report.csv"]),
    ("every record skipped", _write("c.jsonl", b"{bad\n[1, 2]\n" + b'{"id": 1}\n'),
     ["clean", "c.jsonl", "--out", "o.jsonl", "--on-error", "skip"], 1, "every record was skipped (3)",
     ["o.jsonl", "dedup-report.csv"]),
    ("every record of every input skipped", _both(_write("a.jsonl", b"{bad\n"), _write("b.jsonl", b'{"text": 3}\n')),
     ["scan", "a.jsonl", "b.jsonl", "--on-error", "skip"], 1, "every record was skipped (2)", ["dedup-report.csv"]),
    ("every Parquet row skipped", _write("p.parquet", _parquet_of({"text": [None, None]}, {"text": pl.String})),
     ["scan", "p.parquet", "--on-error", "skip"], 1, "every record was skipped (2)", ["dedup-report.csv"]),
    ("empty folder", _write("d/.keep", b""), ["scan", "d"], 1,
     "d: no .txt, .jsonl(.gz|.zst), .ndjson(.gz|.zst) or .parquet files (found 1 file: .keep)", ["dedup-report.csv"]),
    ("folder of nothing readable", _both(_write("d/a.csv", b"x"), _write("d/b.md", b"y"), _write("d/c.tsv", b"z"),
                                         _write("d/e/f.bin", b"w")),
     ["clean", "d", "--out", "o", "--quiet"], 1, "(found 4 files: a.csv, b.md, c.tsv, ...)", ["o", "dedup-report.csv"]),
    ("folder of .json metadata only", _write("d/dataset_info.json", b'{"a": 1}'),
     ["scan", "d"], 1, "a .json file in a folder is not read", ["dedup-report.csv"]),
    ("folder mixing .txt and shards", _both(_write("d/a.txt", b"text"), _write("d/b.jsonl", RECORDS)),
     ["scan", "d"], 1, "d: holds both .txt files (1 file: a.txt) and shards (1 file: b.jsonl); use --format",
     ["dedup-report.csv"]),
    ("--format parquet on a folder of JSON Lines", _write("d/b.jsonl", RECORDS),
     ["scan", "d", "--format", "parquet"], 1, "d: no .parquet files (found 1 file: b.jsonl)", ["dedup-report.csv"]),
    ("--format txt on a folder of shards", _write("d/b.jsonl", RECORDS),
     ["scan", "d", "--format", "txt"], 1, "d: no .txt files (found 1 file: b.jsonl)", ["dedup-report.csv"]),
    ("--out inside a folder of shards", _write("d/b.jsonl", RECORDS),
     ["clean", "d", "--out", "d/clean"], 1, "d/clean (--out): is inside the input folder d", ["d/clean", "dedup-report.csv"]),
    ("a damaged shard of a folder is named", _both(_write("d/a.jsonl", RECORDS), _write("d/x/b.jsonl.zst", _zst(RECORDS)[:99])),
     ["clean", "d", "--out", "o"], 1, "d/x/b.jsonl.zst: cannot read the compressed stream", ["o", "dedup-report.csv"]),
    ("JSON Lines to a .txt output", _write("c.jsonl", RECORDS),
     ["clean", "c.jsonl", "--out", "o.txt"], 1, "o.txt: a .txt output is written from .txt input only", ["o.txt"]),
    ("records that make no one Parquet table", _write("c.jsonl", RECORDS + b'{"id": [1, {"a": 2}], "text": "x"}\n'),
     ["clean", "c.jsonl", "--out", "o.parquet"], 1, "c.jsonl: its records make no one Parquet table",
     ["o.parquet", "dedup-report.csv"]),
    ("--annotate to a .txt output", _write("a.txt", b"text\n"),
     ["clean", "a.txt", "--out", "o.txt", "--annotate"], 1, "--annotate adds the findings to each record, which needs",
     ["o.txt", "dedup-report.csv"]),
    ("--annotate of a .txt folder into a folder", _write("d/a.txt", b"text\n"),
     ["clean", "d", "--out", "o", "--annotate"], 1, "o: --annotate adds the findings", ["o", "dedup-report.csv"]),
    ("--annotate of records that have the field", _write("c.jsonl", b"".join(RECORDS.splitlines(keepends=True)[:4]) + b'{"text": "x", "dedup": 1}\n'),
     ["clean", "c.jsonl", "--out", "o.jsonl", "--annotate"], 1, "c.jsonl: record 4 already has a 'dedup' field",
     ["o.jsonl", "dedup-report.csv"]),
    ("a BOM inside a file (concatenated files) is a malformed line", _write("c.jsonl", b'{"text": "a"}\n'
     + "\ufeff".encode() + b'{"text": "b"}\n'), ["scan", "c.jsonl"], 1, "c.jsonl:2: malformed JSON (Unexpected UTF-8 BOM",
     ["dedup-report.csv"]),
    ("UTF-16 JSON Lines", _write("c.jsonl", '{"text": "hi"}\n'.encode("utf-16")),
     ["scan", "c.jsonl"], 1, "c.jsonl:1: malformed JSON", ["dedup-report.csv"]),
    ("gzip with garbage after its members", _write("c.jsonl.gz", gzip.compress(RECORDS) + b"garbage"),
     ["clean", "c.jsonl.gz", "--out", "o.jsonl.gz"], 1, "c.jsonl.gz: cannot read the compressed stream (Not a gzipped",
     ["o.jsonl.gz", "dedup-report.csv"]),
    ("bad line on stdin names <stdin>", _write("in.jsonl", RECORDS[:200] + b"{bad\n"),
     ["scan", "-", "<", "in.jsonl"], 1, "<stdin>:", ["dedup-report.csv"]),
]


@pytest.mark.parametrize(("name", "setup", "command", "code", "message", "absent"), CASES, ids=[c[0] for c in CASES])
def test_hostile_data(cli_inprocess, tmp_path, name, setup, command, code, message, absent):
    setup(tmp_path)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    stdin = None
    if "<" in command:  # the file after "<" is fed on stdin
        command, stdin = command[:command.index("<")], (tmp_path / command[-1]).read_bytes()
    result = cli_inprocess(*command, stdin=stdin)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.code == code, result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1 and lines[0].startswith("dedup: error: "), result.stderr
    assert message in lines[0]
    for path in absent:
        assert not (tmp_path / path).exists(), path
    assert {p: p.read_bytes() for p in before} == before  # no input changed
    assert not [p for p in tmp_path.rglob(".*") if p not in before]  # no temporaries left
