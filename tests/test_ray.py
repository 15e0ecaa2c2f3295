"""--engine ray: the local engine's report and cleaned outputs byte for byte, on a local Ray with two
CPUs; a worker killed in the middle of a job; a driver that stops, then resumes from its work folder.

One Ray session serves the whole module (starting Ray takes seconds). The cluster of three nodes
is in test_ray_cluster.py.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from conftest import read_bytes_decompressed, sentence, snapshot, words

import dedup
from dedup.config import ConfigError
from dedup.io.sources import InputError

ray = pytest.importorskip("ray")

SHARDS = 5
DOCS = 60  # per shard


@pytest.fixture(scope="module", autouse=True)
def ray_session():
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield
    ray.shutdown()


def _page(shard: int, i: int) -> str:
    site = i % 3
    lines = [f"Home | News | Sport | Weather | Site {site} menu", sentence(18, 10_000 * shard + i)]
    if i % 7 == 0:  # a paragraph shared across shards, below the boilerplate count
        lines.append(" ".join(words(30, 77 + i % 2)) + ".")
    if i % 5 == 0:  # a repeat inside the page
        lines.append(lines[1])
    lines.append(f"Copyright {site} Example Media, all rights reserved, no reuse without asking.")
    return "\n".join(lines) + "\n"


def _records(shard: int) -> list[dict]:
    records = [{"id": f"{shard}-{i}", "url": f"https://www.site{i % 3}.example/{shard}/{i}", "text": _page(shard, i)}
               for i in range(DOCS)]
    if shard:  # a near copy of a page of the shard before: one word changed
        text = _page(shard - 1, 4).replace(" ", " edited ", 1)
        records.append({"id": f"{shard}-copy", "url": "https://site1.example/copy", "text": text})
    return records


def write_shards(folder: Path) -> list[Path]:
    """Five shards in three formats: JSON Lines, gzipped JSON Lines, Parquet."""
    folder.mkdir()
    paths = []
    for shard in range(SHARDS):
        records = _records(shard)
        if shard == 3:
            path = folder / "part-3.parquet"
            pl.DataFrame(records).write_parquet(path)
        else:
            path = folder / (f"part-{shard}.jsonl.gz" if shard == 1 else f"part-{shard}.jsonl")
            data = b"".join(json.dumps(r).encode() + b"\n" for r in records)
            path.write_bytes(gzip.compress(data) if shard == 1 else data)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def shards(tmp_path_factory) -> list[Path]:
    return write_shards(tmp_path_factory.mktemp("ray") / "shards")


def _scan_bytes(shards, report: Path, **options) -> bytes:
    dedup.scan(shards, report=report, site_field="url", workers=2, **options)
    return report.read_bytes()


@pytest.mark.parametrize("exact_only", [False, True])
def test_a_scan_on_ray_writes_the_local_report_byte_for_byte(shards, tmp_path, exact_only):
    local = _scan_bytes(shards, tmp_path / "local.csv", exact_only=exact_only)
    on_ray = dedup.scan(shards, report=tmp_path / "ray.csv", site_field="url", exact_only=exact_only, engine="ray")
    assert (tmp_path / "ray.csv").read_bytes() == local
    assert on_ray.stats.workers == 2 and on_ray.stats.documents == SHARDS * DOCS + SHARDS - 1
    kinds = set(on_ray.findings["kind"])
    assert {"repeat", "boilerplate", "duplicate_block"} <= kinds
    assert ("duplicate_doc" in kinds) != exact_only  # the near copies need MinHash


def test_clean_on_ray_writes_the_local_outputs_and_report(shards, tmp_path):
    runs = {}
    for engine in ("local", "ray"):
        dedup.clean(shards, tmp_path / f"{engine}-out", report=tmp_path / f"{engine}.csv", site_field="url",
                    engine=engine)
        out = tmp_path / f"{engine}-out"
        # gzip's header holds the time it was written: the bytes compared are those inside
        runs[engine] = ({name: read_bytes_decompressed(out / name) for name in snapshot(out)},
                        (tmp_path / f"{engine}.csv").read_bytes())
    assert runs["ray"] == runs["local"]
    assert sorted(runs["ray"][0]) == sorted(p.name for p in shards)  # one output per input shard


def test_a_bad_record_in_a_shard_fails_as_on_the_local_engine(shards, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": broken\n')
    messages = []
    for engine in ("local", "ray"):
        with pytest.raises(InputError) as failure:
            dedup.scan([*shards[:2], bad], engine=engine)
        messages.append(str(failure.value))
    assert messages[0] == messages[1] and f"{bad}:2: malformed JSON" in messages[0]


def _own_processes_named(prefix: bytes) -> list[int]:
    """Processes below this one (Ray's workers descend from the raylet this process started) whose
    command line starts with ``prefix``: Ray titles a worker ``ray::<task>`` while it runs one."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found = []
    for pid in parents:
        ancestor, hops = parents.get(pid), 0
        while ancestor not in (None, 0, 1, os.getpid()) and hops < 20:
            ancestor, hops = parents.get(ancestor), hops + 1
        if ancestor == os.getpid():
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(prefix):
                    found.append(pid)
            except OSError:
                continue
    return found


def test_a_worker_killed_in_the_middle_of_a_job_still_gives_the_same_report(tmp_path):
    # Larger shards, so that a task runs long enough to be caught running.
    big = []
    for shard in range(4):
        path = tmp_path / f"big-{shard}.jsonl"
        path.write_text("".join(json.dumps({"id": i, "text": _page(shard, i) * 3}) + "\n" for i in range(2500)))
        big.append(path)
    local = _scan_bytes(big, tmp_path / "local.csv")
    killed = []

    def kill_one_worker():
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            for pid in _own_processes_named(b"ray::shard_prints"):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.005)

    killer = threading.Thread(target=kill_one_worker)
    killer.start()
    try:
        dedup.scan(big, report=tmp_path / "ray.csv", engine="ray")
    finally:
        killed.append(None)  # stops the killer if it found nothing
        killer.join()
    assert isinstance(killed[0], int), "no worker was caught running a shard"
    assert (tmp_path / "ray.csv").read_bytes() == local


class StopAfter:
    """A progress display that stops the run (as a killed driver would) after ``shards`` shards."""

    def __init__(self, shards: int) -> None:
        self.left = shards

    def start(self, total_bytes):
        pass

    def advance(self, docs, nbytes):
        self.left -= 1
        if not self.left:
            raise KeyboardInterrupt

    def stage(self, name, documents=None):
        pass


def test_a_rerun_with_resume_skips_the_shards_already_fingerprinted(shards, tmp_path):
    work = tmp_path / "work"
    options = {"site_field": "url", "engine": "ray", "work_dir": work}
    with pytest.raises(KeyboardInterrupt):
        dedup.scan(shards, progress=StopAfter(2), **options)
    markers = sorted(work.glob("shard-*/done.json"))
    assert [m.parent.name for m in markers][:2] == ["shard-00000", "shard-00001"]
    stamps = {m: m.stat().st_mtime_ns for m in markers}
    with pytest.raises(ConfigError, match="--resume"):
        dedup.scan(shards, **options)
    resumed = dedup.scan(shards, report=tmp_path / "resumed.csv", resume=True, **options)
    assert resumed.stats.shards_resumed == len(markers) >= 2
    assert all(m.stat().st_mtime_ns == stamp for m, stamp in stamps.items())  # taken, not done again
    assert len(list(work.glob("shard-*/done.json"))) == SHARDS
    assert (tmp_path / "resumed.csv").read_bytes() == _scan_bytes(shards, tmp_path / "local.csv")
    again = dedup.scan(shards, report=tmp_path / "again.csv", resume=True, **options)
    assert again.stats.shards_resumed == SHARDS
    assert (tmp_path / "again.csv").read_bytes() == (tmp_path / "resumed.csv").read_bytes()


def test_a_work_folder_refuses_another_job(shards, tmp_path):
    work = tmp_path / "work"
    dedup.scan(shards[:2], engine="ray", work_dir=work)
    with pytest.raises(ConfigError, match="another job.*--ngram"):
        dedup.scan(shards[:2], engine="ray", work_dir=work, resume=True, ngram=4)
    with pytest.raises(ConfigError, match="another job.*other inputs"):
        dedup.scan(shards[:3], engine="ray", work_dir=work, resume=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a dedup work folder"):
        dedup.scan(shards[:2], engine="ray", work_dir=tmp_path / "other")


def test_the_command_runs_on_ray_with_its_options(shards, tmp_path, cli_inprocess):
    done = cli_inprocess("scan", *shards, "--site-field", "url", "--engine", "ray", "--work-dir", tmp_path / "w",
                         "--report", tmp_path / "cli.csv", "--quiet")
    assert done.code == 0, done.stderr
    assert (tmp_path / "cli.csv").read_bytes() == _scan_bytes(shards, tmp_path / "local.csv")


def test_an_index_is_checked_and_added_by_the_driver_as_on_the_local_engine(shards, tmp_path):
    reports = {}
    for engine in ("local", "ray"):
        index = tmp_path / f"{engine}-index"
        dedup.scan(shards[:2], index=index, site_field="url", engine=engine)
        dedup.scan(shards[2:], index=index, site_field="url", engine=engine, report=tmp_path / f"{engine}.csv")
        reports[engine] = (tmp_path / f"{engine}.csv").read_bytes()
    assert reports["ray"] == reports["local"]
    assert b",part-0.jsonl+part-1.jsonl.gz:" in reports["ray"]  # a copy kept in the earlier batch
