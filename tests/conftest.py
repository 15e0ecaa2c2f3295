"""Shared helpers: small corpora built in tmp_path, readers for outputs and reports, a CLI runner.

Every corpus here is made by the tests themselves from a fixed pseudo-random vocabulary, so the
words of unrelated paragraphs never line up by accident.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import zstandard
from typer.testing import CliRunner

import dedup
from dedup.cli import main
from dedup.config import Config
from dedup.fingerprint.stage import fingerprint
from dedup.schemas import DOCUMENTS

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = next(SEEDS.glob("*.txt"))

REPORT_HEADER = [
    "doc_id", "block", "start", "end", "kind", "cluster", "cluster_size", "similarity",
    "kept_doc", "kept_block", "action", "text", "rule",
]

# One thread unless a test is about threads.
API = {"workers": 1}

_SYLLABLES = ["ka", "lo", "mi", "ner", "sto", "vi", "tu", "ran", "pel", "dor", "qui", "zen", "fa", "gor", "hu", "bex"]


def vocabulary(size: int = 4000, seed: int = 12345) -> list[str]:
    """Distinct made-up words (never digits, never punctuation)."""
    rnd = random.Random(seed)
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rnd.choice(_SYLLABLES) for _ in range(rnd.randint(2, 4))))
    return sorted(words)


VOCAB = vocabulary()


def words(n: int, seed: int) -> list[str]:
    """``n`` words drawn from the vocabulary by a seeded generator (different seeds: unrelated text)."""
    rnd = random.Random(seed)
    return [rnd.choice(VOCAB) for _ in range(n)]


def sentence(n: int, seed: int) -> str:
    """A capitalised line of ``n`` words ending with a full stop."""
    w = words(n, seed)
    return " ".join(w).capitalize() + "."


def write_jsonl(path: Path, records: list[dict]) -> Path:
    """JSON Lines, compressed as the name says (.gz, .zst)."""
    data = b"".join(json.dumps(r, ensure_ascii=False).encode("utf-8") + b"\n" for r in records)
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    elif path.name.endswith(".zst"):
        data = zstandard.ZstdCompressor().compress(data)
    path.write_bytes(data)
    return path


def read_bytes_decompressed(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        return gzip.decompress(data)
    if path.name.endswith(".zst"):
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in read_bytes_decompressed(path).splitlines() if line.strip()]


def read_report(path: Path) -> tuple[list[str], list[dict]]:
    """The report's header and rows (as strings), read with the csv module (RFC 4180)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    return header, [dict(zip(header, r)) for r in body]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (to show inputs are never changed)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass
class Result:
    code: int
    stdout: bytes
    stderr: str


def run_cli(args: list[str], cwd: Path, stdin: bytes | None = None, timeout: float = 120) -> Result:
    """``python -m dedup ARGS`` in a subprocess (no terminal, so no progress bar)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(NO_COLOR="1", PYTHONIOENCODING="utf-8")
    done = subprocess.run([sys.executable, "-m", "dedup", *args], check=False, cwd=cwd, input=stdin, capture_output=True,
                          timeout=timeout, env=env)
    return Result(done.returncode, done.stdout, done.stderr.decode("utf-8", errors="replace"))


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


@pytest.fixture
def cli(tmp_path):
    """Run the CLI in a subprocess with tmp_path as the working folder."""

    def call(*args: str, stdin: bytes | None = None) -> Result:
        return run_cli([str(a) for a in args], cwd=tmp_path, stdin=stdin)

    return call


@pytest.fixture
def cli_inprocess(tmp_path, monkeypatch):
    """Run the same entry point as the ``dedup`` script (``dedup.cli.main``) in this process, with
    tmp_path as the working folder: much faster than a subprocess, same exit codes and messages."""
    monkeypatch.chdir(tmp_path)

    def call(*args: str, stdin: bytes | None = None) -> Result:
        runner = CliRunner()
        with runner.isolation(input=stdin) as streams:
            out, err = streams[0], streams[1]
            monkeypatch.setattr(sys, "argv", ["dedup", *[str(a) for a in args]])
            try:
                main()
                code = 0
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            except Exception as problem:  # noqa: BLE001 - what a user would see as a traceback
                err.write(f"Traceback (uncaught {type(problem).__name__}: {problem})\n".encode())
                code = -1
            return Result(code, out.getvalue(), err.getvalue().decode("utf-8", errors="replace"))

    return call


def _paths(inputs):
    """Inputs as the API reads paths: one path, or a list of Path (a list of str would be documents)."""
    return inputs if isinstance(inputs, (str, Path)) else [Path(i) for i in inputs]


def scan(inputs, **options):
    """dedup.scan's findings in this process (no CSV unless asked)."""
    return dedup.scan(_paths(inputs), **{**API, **options}).findings


def clean(inputs, out, **options):
    """dedup.clean's findings in this process (no CSV unless asked)."""
    return dedup.clean(_paths(inputs), out, **{**API, **options}).findings


@pytest.fixture
def seed_text() -> str:
    return SEED_FILE.read_text(encoding="utf-8")


def block_signatures(lines: list[str], **options) -> np.ndarray:
    """dedup's MinHash signature of each line (one document, unit line), one row per line."""
    docs = pl.DataFrame(
        {"doc": [0], "doc_id": ["d"], "text": ["\n".join(lines) + "\n"], "site": [None], "input": [0], "record": [0]},
        schema=DOCUMENTS,
    )
    prints = fingerprint(docs, Config(workers=1, **options))
    rows = prints.blocks.sort("block")["sig"].to_numpy()
    assert (rows >= 0).all(), "every line here is long enough to be signed"
    return prints.block_sigs[rows]


def csv_text(path: Path) -> str:
    return open(path, encoding="utf-8", newline="").read()
