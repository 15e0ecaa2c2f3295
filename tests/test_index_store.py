"""The index's storage: what is added is found again, whole or not at all, and bad states are named."""

from __future__ import annotations

import json
import multiprocessing
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dedup.config import Config
from dedup.index import IndexFault, counts, first, open_index
from dedup.index.entries import SELF, Entries, ref
from dedup.index.search import ranges
from dedup.index.settings import pinned

from _redis import redis_server, redis_url  # noqa: F401 (fixtures)

SETTINGS = pinned(Config())


def entries(name: str, seed: int, docs: int = 50) -> Entries:
    """A batch of made-up entries: ``docs`` documents, each with two items, keys drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    own = lambda rows: ref(SELF, rows)  # noqa: E731
    rows = np.arange(docs)
    hashes = rng.integers(0, 2**63, docs, dtype=np.uint64)
    tokens = [rng.integers(0, 2**32, 3 + i % 5, dtype=np.uint32) for i in range(docs)]
    return Entries(
        name=name, documents=docs, blocks=2 * docs,
        keyed={
            "doc_hash": (hashes, own(rows)),
            "doc_band": (np.concatenate([hashes ^ np.uint64(1), hashes ^ np.uint64(2)]), own(np.r_[rows, rows])),
            "block_hash": (hashes ^ np.uint64(3), own(rows)),
            "block_band": (hashes ^ np.uint64(4), own(rows)),
            "site_block": (np.array([7, 8], np.uint64), np.array([2, 5], np.uint64)),
            "site_pages": (np.array([7], np.uint64), np.array([docs], np.uint64)),
        },
        records={
            "docs": {"input": ["in.jsonl"] * docs, "record": rows, "doc_id": [f"d{i}é" for i in rows],
                     "site": ["s"] * docs, "chars": rows * 10, "hash": hashes, "ntok": rows + 1, "sig": rows,
                     "rep": own(rows)},
            "items": {"doc": own(rows), "block": np.zeros(docs, np.int32), "hash": hashes ^ np.uint64(3),
                      "chars": np.ones(docs, np.int32), "ntok": np.ones(docs, np.int32), "sig": rows,
                      "rep": own(rows)},
        },
        streams={"doc_tokens": (np.concatenate(tokens), np.array([len(t) for t in tokens])),
                 "block_shingles": (np.concatenate(tokens), np.array([len(t) for t in tokens]))},
    )


@pytest.fixture(params=["folder", "redis"])
def where(request, tmp_path):
    if request.param == "folder":
        return str(tmp_path / "idx")
    return request.getfixturevalue("redis_url")


def test_what_is_added_is_found_again_by_key_and_by_ref(where):
    index = open_index(where)
    one, two = entries("one", 1), entries("two", 2)
    index.add(one, SETTINGS)
    index.add(two, SETTINGS)
    index = open_index(where)  # a new process's view
    assert [b["name"] for b in index.batches] == ["one", "two"]
    segment_two = index.batches[1]["segment"]
    keys = two.keyed["doc_hash"][0][[5, 9]]
    at, values = first(index, "doc_hash", np.r_[keys, np.uint64(12345)])
    assert at.tolist() == [0, 1] and values.tolist() == ref(segment_two, [5, 9]).tolist()
    got = index.records("docs", values)
    assert got["doc_id"] == ["d5é", "d9é"] and got["chars"].tolist() == [50, 90]
    assert got["rep"].tolist() == values.tolist()  # a ref to the batch itself is placed in its segment
    flat, lengths = index.streams("doc_tokens", ref(segment_two, [5, 9]))
    assert lengths.tolist() == [3 + 5 % 5, 3 + 9 % 5]
    stored, sizes = two.streams["doc_tokens"]
    starts = np.r_[0, np.cumsum(sizes)]
    assert flat.tolist() == stored[starts[5]:starts[6]].tolist() + stored[starts[9]:starts[10]].tolist()
    assert counts(index, "site_block", np.array([8, 7, 9], np.uint64)).tolist() == [10, 4, 0]
    assert counts(index, "site_pages", np.array([7], np.uint64)).tolist() == [100]


def test_a_key_in_two_batches_answers_the_earliest_first(where):
    index = open_index(where)
    index.add(entries("one", 1), SETTINGS)
    index.add(entries("again", 1), SETTINGS)  # the same keys
    keys = entries("x", 1).keyed["doc_hash"][0][:3]
    at, values = first(index, "doc_hash", keys)
    assert (values >> np.uint64(32)).tolist() == [index.batches[0]["segment"]] * 3
    at, values = index.lookup("doc_band", np.sort(keys ^ np.uint64(1)))
    assert len(values) == 6  # every batch's entry is kept


def test_other_settings_are_refused_by_name(where):
    index = open_index(where)
    index.add(entries("one", 1), SETTINGS)
    other = pinned(Config(ngram=3, num_perm=64))
    with pytest.raises(IndexFault, match=r"ngram 5 \(this run: 3\), num-perm 128 \(this run: 64\)"):
        open_index(where).check(other)
    with pytest.raises(IndexFault, match="other settings"):
        open_index(where).add(entries("two", 2), other)


def test_a_batch_name_is_added_once(where):
    index = open_index(where)
    index.add(entries("one", 1), SETTINGS)
    with pytest.raises(IndexFault, match="'one' is in the index already"):
        index.add(entries("one", 2), SETTINGS)


def test_a_newer_format_is_refused(tmp_path):
    where = tmp_path / "idx"
    open_index(where).add(entries("one", 1), SETTINGS)
    manifest = json.loads((where / "manifest.json").read_text())
    manifest["format"] = 99
    (where / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFault, match="format 99, newer than this dedup reads"):
        open_index(where)


def test_a_corrupt_file_is_named_not_read(tmp_path):
    where = tmp_path / "idx"
    open_index(where).add(entries("one", 1), SETTINGS)
    target = where / "segments" / "000001" / "doc_hash.key"
    data = bytearray(target.read_bytes())
    data[3] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(IndexFault, match=r"doc_hash.key is corrupt"):
        open_index(where).lookup("doc_hash", np.array([1], np.uint64))


def test_a_corrupt_manifest_is_named(tmp_path):
    where = tmp_path / "idx"
    open_index(where).add(entries("one", 1), SETTINGS)
    text = (where / "manifest.json").read_text()
    (where / "manifest.json").write_text(text.replace('"documents": 50', '"documents": 51'))
    with pytest.raises(IndexFault, match="manifest.json is corrupt"):
        open_index(where)
    (where / "manifest.json").write_text(text[:40])
    with pytest.raises(IndexFault, match="manifest.json is corrupt"):
        open_index(where)


def test_a_second_writer_on_a_folder_fails_clearly_when_the_lock_stays_held(tmp_path):
    where = tmp_path / "idx"
    holder = open_index(where)
    with holder._locked():
        with pytest.raises(IndexFault, match="another dedup is adding a batch to this index"):
            open_index(where, lock_wait=0.2).add(entries("one", 1), SETTINGS)
    open_index(where, lock_wait=0.2).add(entries("one", 1), SETTINGS)  # free again


_KILLED = """
import os, signal, sys
sys.path[:0] = [{root!r}, {tests!r}]
from test_index_store import entries, SETTINGS
from dedup.index import open_index
batch = entries("big", 3, docs=20_000)
calls, real_fsync = [0], os.fsync

def fsync_then_die(fd):  # each fsync is a step of the add: die at the chosen one
    real_fsync(fd)
    calls[0] += 1
    if calls[0] == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)

os.fsync = fsync_then_die
open_index(sys.argv[1]).add(batch, SETTINGS)
print(calls[0], flush=True)
"""


def _run_killed(where: Path, step: int) -> subprocess.CompletedProcess:
    script = _KILLED.format(root=str(Path(__file__).parents[1]), tests=str(Path(__file__).parent))
    return subprocess.run([sys.executable, "-c", script, str(where), str(step)], capture_output=True, text=True)


def test_sigkill_at_each_step_of_an_add_leaves_the_index_as_it_was(tmp_path):
    steps = int(_run_killed(tmp_path / "count", 0).stdout)  # a whole add: how many fsyncs it makes
    # The manifest is renamed into place after the last fsync but one (the folder's is the last).
    # Steps: the first file, one midway, the segment's folder renamed, the manifest written, renamed.
    for step in sorted({1, steps // 2, steps - 2, steps - 1, steps}):
        where = tmp_path / f"idx{step}"
        open_index(where).add(entries("one", 1), SETTINGS)
        before = (where / "manifest.json").read_bytes()
        assert _run_killed(where, step).returncode == -signal.SIGKILL
        index = open_index(where)
        if step == steps:
            assert [b["name"] for b in index.batches] == ["one", "big"]
        else:
            assert (where / "manifest.json").read_bytes() == before, step
        assert len(first(index, "doc_hash", entries("x", 1).keyed["doc_hash"][0])[0]) == 50
        index.add(entries("two", 2), SETTINGS)  # the next writer sweeps what the killed one left
        segments = {p.name for p in (where / "segments").iterdir()}
        assert segments == {f"{b['segment']:06d}" for b in open_index(where).batches}


def _add_one(url: str, k: int) -> None:
    open_index(url).add(entries(f"w{k}", 100 + k, docs=3000), SETTINGS)


def test_four_concurrent_writers_on_redis_all_land(redis_url):
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.starmap(_add_one, [(redis_url, k) for k in range(4)])
    index = open_index(redis_url)
    assert sorted(b["name"] for b in index.batches) == ["w0", "w1", "w2", "w3"]
    for batch in index.batches:
        k = int(batch["name"][1:])
        keys = entries("x", 100 + k, docs=3000).keyed["doc_band"][0]
        at, values = index.lookup("doc_band", keys)
        assert len(values) == len(keys) and set((values >> np.uint64(32)).tolist()) == {batch["segment"]}
    assert counts(index, "site_pages", np.array([7], np.uint64)).tolist() == [12000]


def test_redis_keys_stay_under_the_prefix_and_hold_no_pickle(redis_url):
    import redis

    index = open_index(redis_url)
    index.add(entries("one", 1), SETTINGS)
    client = redis.Redis.from_url(redis_url.split("?")[0])
    keys = list(client.scan_iter(count=1000))
    prefix = redis_url.split("prefix=")[1]
    mine = [k for k in keys if k.startswith(prefix.encode() + b":")]
    assert mine and all(not k.startswith(prefix.encode()) or k in mine for k in keys)
    for key in mine:
        kind = client.type(key)
        values = [client.get(key)] if kind == b"string" else list(client.hgetall(key).values())
        assert not any(v.startswith(b"\x80") for v in values if v)  # a pickle begins with PROTO 0x80


def test_a_redis_writer_killed_before_its_commit_adds_nothing(redis_url, monkeypatch):
    index = open_index(redis_url)
    index.add(entries("one", 1), SETTINGS)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # as if the process died after writing its data, before the commit

    monkeypatch.setattr(index, "_commit", killed)
    with pytest.raises(KeyboardInterrupt):
        index.add(entries("two", 2), SETTINGS)
    fresh = open_index(redis_url)
    assert [b["name"] for b in fresh.batches] == ["one"]
    keys = entries("x", 2).keyed["doc_hash"][0]
    assert len(fresh.lookup("doc_hash", keys)[0]) == 0
    assert counts(fresh, "site_pages", np.array([7], np.uint64)).tolist() == [50]


def test_the_galloping_search_finds_what_a_binary_search_finds():
    rng = np.random.default_rng(5)
    for n, q in [(0, 5), (7, 0), (1000, 30), (200, 2000), (5000, 5000)]:
        stored = np.sort(rng.integers(0, 300, n, dtype=np.uint64))  # small keys: many repeats
        wanted = np.unique(rng.integers(0, 300, q, dtype=np.uint64))
        lo, hi = np.searchsorted(stored, wanted, "left"), np.searchsorted(stored, wanted, "right")
        held = np.flatnonzero(hi > lo)
        got = ranges(stored, wanted)
        assert [g.tolist() for g in got] == [held.tolist(), lo[held].tolist(), hi[held].tolist()]
