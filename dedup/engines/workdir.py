"""A job's work folder (``--work-dir``): each input shard's pass-1 prints kept with a completion
marker, so that a rerun with ``--resume`` skips the shards already fingerprinted.

Layout: ``job.json`` (what the job is: its inputs and every setting that changes pass 1) and one
folder per shard, ``shard-00000/``, holding its tables as Arrow IPC (``blocks.arrow``,
``docs.arrow``, ``texts.arrow``), its arrays as ``arrays.npz`` and, written last under a temporary
name and then renamed, its marker ``done.json`` (records, input bytes and reader counters). A
shard without a marker is done again; a marker is only ever whole. Plain formats only: nothing
read back is unpickled, so a work folder cannot run code.

A work folder belongs to one job: a rerun with other inputs or settings is refused naming what
differs, and a folder holding work is refused without ``--resume``.

Example:
    >>> import tempfile, pathlib
    >>> from dedup.config import Config
    >>> from dedup.io.sources import open_sources
    >>> from dedup.engines.shards import shard_prints, shards_of
    >>> config = Config()
    >>> shards = shards_of(open_sources(["seeds"], config))
    >>> work = WorkDir(pathlib.Path(tempfile.mkdtemp()), shards, config, keep_texts=False, resume=False)
    >>> work.load(shards[0]) is None
    True
    >>> work.save(shards[0], shard_prints(shards[0], config))
    >>> work.load(shards[0]).records
    1
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import polars as pl

from dedup.config import FINGERPRINT_FIELDS, Config, ConfigError
from dedup.engines.shards import Shard, ShardPrints
from dedup.fingerprint.stage import BatchPrints, KeyedBatch
from dedup.io.sources import Counters

MARKER = "done.json"
# Settings that change what pass 1 reads or keeps, beyond those that change fingerprints.
READ_FIELDS = ("format", "text_field", "id_field", "site_field", "strict", "on_error", "batch_docs", "rules",
               "doc_stats", "drop_repetitive")
_ARRAYS = ("block_keys", "doc_keys", "doc_tokens", "block_shingles", "block_shingle_counts")


def job_identity(shards: list[Shard], config: Config, keep_texts: bool) -> dict:
    """What a work folder's shards depend on: the inputs (path, size and modification time) and the
    settings of pass 1."""
    settings = {name: getattr(config, name) for name in FINGERPRINT_FIELDS + READ_FIELDS}
    settings["rules"] = None if config.rules is None else repr(config.rules)
    return {
        "inputs": [{"path": str(s.source.path.resolve()), "kind": s.source.kind,
                    "stamp": list(s.source.stamp) if s.source.stamp else None} for s in shards],
        "settings": settings,
        "keep_texts": keep_texts,
    }


class WorkDir:
    """The work folder of one job (created when missing)."""

    def __init__(self, folder: Path, shards: list[Shard], config: Config, keep_texts: bool, resume: bool) -> None:
        self.folder = folder
        self.num_perm = config.num_perm
        identity = job_identity(shards, config, keep_texts)
        job = folder / "job.json"
        if job.exists():
            earlier = json.loads(job.read_text())
            if earlier != identity:
                raise ConfigError(f"--work-dir {folder}: it holds the work of another job ({_difference(earlier, identity)}); "
                                  "give an empty folder")
            if not resume:
                raise ConfigError(f"--work-dir {folder}: it holds the work of an earlier run of this job; "
                                  "add --resume to go on from it, or give an empty folder")
        elif folder.exists() and any(folder.iterdir()):
            raise ConfigError(f"--work-dir {folder}: not empty and not a dedup work folder")
        else:
            folder.mkdir(parents=True, exist_ok=True)
            _write_whole(job, json.dumps(identity, indent=1).encode())

    def _shard_folder(self, shard: Shard) -> Path:
        return self.folder / f"shard-{shard.index:05d}"

    def load(self, shard: Shard) -> ShardPrints | None:
        """The shard's prints when it was finished before, else None."""
        where = self._shard_folder(shard)
        if not (where / MARKER).exists():
            return None
        marker = json.loads((where / MARKER).read_text())
        counters = Counters(**marker["counters"])
        if marker["empty"]:
            return ShardPrints(None, counters, marker["records"])
        with np.load(where / "arrays.npz", allow_pickle=False) as arrays:
            a = {name: arrays[name] for name in _ARRAYS}
        no_sigs = np.empty((0, self.num_perm), np.uint32)
        prints = BatchPrints(pl.read_ipc(where / "blocks.arrow"), no_sigs,
                             pl.read_ipc(where / "docs.arrow"), no_sigs, a["doc_tokens"],
                             a["block_shingles"], a["block_shingle_counts"])
        texts = pl.read_ipc(where / "texts.arrow") if (where / "texts.arrow").exists() else None
        return ShardPrints(KeyedBatch(prints, a["block_keys"], a["doc_keys"], texts, marker["nbytes"]), counters,
                           marker["records"])

    def save(self, shard: Shard, done: ShardPrints) -> None:
        """Keep a finished shard: its files, then its marker (so a marker is only there when all is)."""
        where = self._shard_folder(shard)
        where.mkdir(exist_ok=True)
        (where / MARKER).unlink(missing_ok=True)
        keyed = done.keyed
        if keyed is not None:
            prints = keyed.prints
            prints.blocks.write_ipc(where / "blocks.arrow")
            prints.docs.write_ipc(where / "docs.arrow")
            if keyed.texts is not None:
                keyed.texts.write_ipc(where / "texts.arrow")
            arrays = {"block_keys": keyed.block_keys, "doc_keys": keyed.doc_keys, "doc_tokens": prints.doc_tokens,
                      "block_shingles": prints.block_shingles, "block_shingle_counts": prints.block_shingle_counts}
            with open(where / "arrays.npz", "wb") as out:
                np.savez(out, **arrays)
        marker = {"records": done.records, "nbytes": 0 if keyed is None else keyed.nbytes, "empty": keyed is None,
                  "counters": dataclasses.asdict(done.counters)}
        _write_whole(where / MARKER, json.dumps(marker).encode())


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that the file is either absent or whole, even if killed midway."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    with open(partial, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def _difference(earlier: dict, now: dict) -> str:
    if earlier.get("inputs") != now["inputs"]:
        return "other inputs, or inputs changed since"
    if earlier.get("keep_texts") != now["keep_texts"]:
        return "a scan's work is not a clean's"
    changed = sorted(k for k in now["settings"] if earlier.get("settings", {}).get(k) != now["settings"][k])
    return "other settings: " + ", ".join(f"--{name.replace('_', '-')}" for name in changed)
