"""The progress bar's numbers: documents per batch, and input bytes that add up to the known total."""

from __future__ import annotations

import gzip
import json

import polars as pl
from conftest import sentence, write_jsonl

from dedup.api import run
from dedup.config import Config


class Recorder:
    """Pass 1's documents, bytes and calls; and each later stage with the documents advanced in it."""

    def __init__(self) -> None:
        self.total: int | None = -1
        self.docs = self.bytes = self.calls = 0
        self.stages: list[list] = []

    def start(self, total_bytes: int | None) -> None:
        self.total = total_bytes

    def advance(self, docs: int, nbytes: int) -> None:
        if self.stages:
            assert nbytes == 0
            self.stages[-1][2] += docs
            return
        self.docs += docs
        self.bytes += nbytes
        self.calls += 1

    def stage(self, name: str, documents: int | None = None) -> None:
        self.stages.append([name, documents, 0])


def test_jsonl_bytes_add_up_to_the_file_size_batch_by_batch(tmp_path):
    records = [{"id": i, "text": sentence(10, i) + "\n"} for i in range(25)]
    src = write_jsonl(tmp_path / "c.jsonl", records)
    seen = Recorder()
    run([str(src)], Config(batch_docs=10, workers=1), report=None, progress=seen)
    assert (seen.docs, seen.calls) == (25, 3)
    assert seen.total == src.stat().st_size == seen.bytes


def test_txt_folder_bytes_add_up(tmp_path):
    folder = tmp_path / "pages"
    (folder / "site").mkdir(parents=True)
    for i in range(3):
        (folder / "site" / f"p{i}.txt").write_text(sentence(12, i) + "\n")
    seen = Recorder()
    run([str(folder)], Config(workers=1), report=None, progress=seen)
    assert seen.total == seen.bytes == sum(p.stat().st_size for p in (folder / "site").iterdir())


def test_compressed_input_counts_compressed_bytes_and_parquet_has_no_total(tmp_path):
    lines = "".join(json.dumps({"id": i, "text": sentence(30, i)}) + "\n" for i in range(2000))
    packed = tmp_path / "c.jsonl.gz"
    with gzip.open(packed, "wt") as f:
        f.write(lines)
    seen = Recorder()
    run([str(packed)], Config(workers=1, batch_docs=500), report=None, progress=seen)
    assert seen.total == packed.stat().st_size and seen.docs == 2000 and seen.calls == 4
    assert 0.5 * seen.total < seen.bytes <= seen.total  # read in chunks: the tail may not be counted

    table = tmp_path / "c.parquet"
    pl.DataFrame({"id": [1], "text": ["one line of text"]}).write_parquet(table)
    seen = Recorder()
    run([str(table)], Config(workers=1), report=None, progress=seen)
    assert seen.total is None and seen.docs == 1


def test_later_stages_are_named_and_cleaning_counts_the_documents_it_writes(tmp_path):
    records = [{"id": i, "text": sentence(10, i) + "\n"} for i in range(2500)]
    first = write_jsonl(tmp_path / "a.jsonl", records[:1500])
    second = write_jsonl(tmp_path / "b.jsonl", records[1500:])
    seen = Recorder()
    run([str(first), str(second)], Config(workers=1), report=None, out=tmp_path / "out", progress=seen)
    assert seen.stages == [["deciding", None, 0], ["writing the output", 2500, 2500],
                           ["writing the report", None, 0]]
    seen = Recorder()
    run([str(first)], Config(workers=1), report=None, progress=seen)
    assert seen.stages == [["deciding", None, 0], ["writing the report", None, 0]]
