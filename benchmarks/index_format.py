"""Why the folder index stores raw sorted columns: the same keyed table written and searched three ways.

A batch adds keyed entries (64-bit key -> 64-bit value: exact hashes and LSH band keys, about 30 per
block); a new batch looks up all of its own keys. Compared on the same random keys, in one run:

- columns: the keys sorted with numpy, written raw; looked up by binary search of a memory map
  (dedup.index.folder);
- SQLite: a WITHOUT ROWID table keyed by (key, value), filled by executemany, looked up by joining
  a temporary table of the wanted keys;
- Parquet: the sorted columns in a Parquet file (polars), read back and searched (a lookup must
  read the column: Parquet pages are compressed and cannot be binary-searched in place).

Usage: python benchmarks/index_format.py [--entries 2000000] [--lookups 200000]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl


def columns(folder: Path, keys, values, wanted):
    clock = time.perf_counter()
    order = np.argsort(keys)
    keys[order].tofile(folder / "k.bin")
    values[order].tofile(folder / "v.bin")
    write = time.perf_counter() - clock
    clock = time.perf_counter()
    k = np.memmap(folder / "k.bin", np.uint64, "r")
    v = np.memmap(folder / "v.bin", np.uint64, "r")
    lo, hi = np.searchsorted(k, wanted, "left"), np.searchsorted(k, wanted, "right")
    found = int((hi - lo).sum())
    _ = v[lo[hi > lo]]
    return write, time.perf_counter() - clock, found, (folder / "k.bin").stat().st_size * 2


def sqlite(folder: Path, keys, values, wanted):
    path = folder / "t.db"
    clock = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (k INTEGER, v INTEGER, PRIMARY KEY (k, v)) WITHOUT ROWID")
    with db:
        db.executemany("INSERT OR IGNORE INTO t VALUES (?, ?)",
                       zip(keys.view(np.int64).tolist(), values.view(np.int64).tolist()))
    write = time.perf_counter() - clock
    clock = time.perf_counter()
    db.execute("CREATE TEMP TABLE q (k INTEGER PRIMARY KEY)")
    db.executemany("INSERT OR IGNORE INTO q VALUES (?)", ((k,) for k in wanted.view(np.int64).tolist()))
    found = len(db.execute("SELECT t.k, t.v FROM q JOIN t ON t.k = q.k").fetchall())
    lookup = time.perf_counter() - clock
    db.close()
    return write, lookup, found, path.stat().st_size


def parquet(folder: Path, keys, values, wanted):
    clock = time.perf_counter()
    order = np.argsort(keys)
    pl.DataFrame({"k": keys[order], "v": values[order]}).write_parquet(folder / "t.parquet", statistics=True)
    write = time.perf_counter() - clock
    clock = time.perf_counter()
    frame = pl.read_parquet(folder / "t.parquet")
    k = frame["k"].to_numpy()
    lo, hi = np.searchsorted(k, wanted, "left"), np.searchsorted(k, wanted, "right")
    found = int((hi - lo).sum())
    return write, time.perf_counter() - clock, found, (folder / "t.parquet").stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2_000_000)
    parser.add_argument("--lookups", type=int, default=200_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 2**64 - 1, args.entries, dtype=np.uint64)
    values = rng.integers(0, 2**64 - 1, args.entries, dtype=np.uint64)
    wanted = np.unique(np.concatenate([rng.choice(keys, args.lookups // 2),
                                       rng.integers(0, 2**64 - 1, args.lookups // 2, dtype=np.uint64)]))
    print(f"{args.entries:,} entries, {len(wanted):,} keys looked up (half of them stored)")
    results = {}
    for name, way in (("columns", columns), ("sqlite", sqlite), ("parquet", parquet)):
        with tempfile.TemporaryDirectory() as tmp:
            results[name] = way(Path(tmp), keys.copy(), values.copy(), wanted)
    base = results["columns"]
    for name, (write, lookup, found, size) in results.items():
        print(f"{name:8} write {write:6.2f} s ({write / base[0]:5.1f}x)  lookup {lookup:6.3f} s "
              f"({lookup / base[1]:6.1f}x)  found {found:,}  {size / args.entries:5.1f} bytes/entry")


if __name__ == "__main__":
    main()
