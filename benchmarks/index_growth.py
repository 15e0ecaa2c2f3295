"""The index as it grows: time per batch, a 10k batch against a large index, bytes per block.

One generated corpus (corpus_gen: copies are drawn from anywhere earlier, so batches share text) is
cut into ``--batches`` batches plus a final batch of ``--new`` documents. In one run:

1. Each batch is scanned alone and then scanned through the folder index and added to it
   (alternating which goes first): seconds, the ratio, the index's size and bytes per block.
2. The final batch against the full index: scanning it alone, checking it (``--index-read-only``)
   and adding it, alternating, ``--repeat`` times.
3. With ``--redis``: the first ``--redis-batches`` batches added to a Redis index (a redis-server
   started here on a loopback port), and datasketch's MinHashLSH with its Redis storage fed the
   signatures of the same batches' distinct blocks (what a datasketch user inserts): bytes per block
   for both, as Redis counts them (MEMORY USAGE of every key under each prefix).

Usage:
    python benchmarks/index_growth.py --docs 200000 --batches 10 --new 10000 --redis
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from corpus_gen import corpus  # noqa: E402

from dedup.api import run  # noqa: E402
from dedup.config import Config  # noqa: E402
from dedup.index import open_index  # noqa: E402


def _slices(path: Path, sizes: list[int], folder: Path) -> list[Path]:
    out, names = open(path, "rb"), []
    for k, size in enumerate(sizes):
        name = folder / f"batch{k:02d}.jsonl"
        with open(name, "wb") as f:
            for _ in range(size):
                f.write(out.readline())
        names.append(name)
    return names


def _timed(config: Config, batch: Path, **index) -> tuple[float, int]:
    clock = time.perf_counter()
    _, stats = run([str(batch)], config, report=None, **index)
    return time.perf_counter() - clock, stats.blocks


def _redis(port: int, folder: Path) -> subprocess.Popen:
    server = subprocess.Popen([shutil.which("redis-server"), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                               "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    import redis

    for _ in range(100):
        try:
            redis.Redis(port=port).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return server


def _memory(client, prefix: bytes) -> int:
    return sum(client.memory_usage(k, samples=0) or 0 for k in client.scan_iter(match=prefix + b"*", count=1000))


def _datasketch(batches: list[Path], config: Config, port: int) -> tuple[int, int, float]:
    """Insert the distinct signed blocks of ``batches`` into datasketch's MinHashLSH on Redis."""
    import polars as pl
    from datasketch import MinHash, MinHashLSH

    from dedup.fingerprint.stage import fingerprint

    lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm,
                     storage_config={"type": "redis", "basename": b"dsk", "redis": {"host": "127.0.0.1", "port": port}})
    inserted, seconds = 0, 0.0
    for k, batch in enumerate(batches):
        docs = pl.read_ndjson(batch).select(pl.col("id").cast(pl.String).alias("doc_id"), "text",
                                            pl.col("url").alias("site")).with_row_index("doc").cast({"doc": pl.Int64})
        prints = fingerprint(docs, config)
        clock = time.perf_counter()
        with lsh.insertion_session(buffer_size=50_000) as session:
            for row, sig in enumerate(prints.block_sigs):
                session.insert(f"{k}:{row}", MinHash(num_perm=config.num_perm, hashvalues=sig, scheme="affine32"))
        seconds += time.perf_counter() - clock
        inserted += len(prints.block_sigs)
    return inserted, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=200_000, help="documents of the corpus (batches + the new one)")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--redis-batches", type=int, default=2)
    args = parser.parse_args()
    config = Config(site_field="url", workers=args.workers)
    path, _ = corpus(args.docs)
    per = (args.docs - args.new) // args.batches
    work = Path(tempfile.mkdtemp(prefix="dedup-index-bench-"))
    try:
        *batches, new = _slices(path, [per] * args.batches + [args.new], work)
        index = work / "idx"
        results: dict = {"docs_per_batch": per, "growth": []}
        print(f"{args.batches} batches of {per:,} documents, then one of {args.new:,}; workers {args.workers}")
        print("batch  documents in index  alone s  indexed s  ratio  index MiB  bytes/block")
        in_index = blocks_in_index = 0
        for k, batch in enumerate(batches):
            if k % 2:
                alone, blocks = _timed(config, batch)
                indexed, _ = _timed(config, batch, index=str(index))
            else:
                indexed, blocks = _timed(config, batch, index=str(index))
                alone, _ = _timed(config, batch)
            in_index += per
            blocks_in_index += blocks
            size = open_index(index).size()
            row = {"batch": k, "documents": in_index, "alone": alone, "indexed": indexed, "bytes": size,
                   "bytes_per_block": size / blocks_in_index}
            results["growth"].append(row)
            print(f"{k:5d}  {in_index:18,}  {alone:7.2f}  {indexed:9.2f}  {indexed / alone:5.2f}  "
                  f"{size / 2**20:9.1f}  {size / blocks_in_index:11.1f}")

        alone_t, check_t = [], []
        for r in range(args.repeat):
            pair = [("alone", {}), ("check", {"index": str(index), "index_read_only": True})]
            for name, options in (pair if r % 2 == 0 else pair[::-1]):
                (alone_t if name == "alone" else check_t).append(_timed(config, new, **options)[0])
        add_t = _timed(config, new, index=str(index))[0]
        alone_best, check_best = min(alone_t), min(check_t)
        results["new_batch"] = {"alone": alone_t, "check": check_t, "add": add_t}
        print(f"new batch of {args.new:,} against {in_index:,} documents: alone {alone_best:.2f} s, "
              f"checked {check_best:.2f} s ({check_best / alone_best:.2f}x), checked and added {add_t:.2f} s "
              f"({add_t / alone_best:.2f}x)  [best of {args.repeat}; all: alone {alone_t}, checked {check_t}]")

        if args.redis:
            import redis

            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            server = _redis(port, work)
            try:
                url = f"redis://127.0.0.1:{port}/0?prefix=bench"
                client = redis.Redis(port=port)
                ours, blocks = [], 0
                for batch in batches[:args.redis_batches]:
                    seconds, b = _timed(config, batch, index=url)
                    ours.append(seconds)
                    blocks += b
                mine = _memory(client, b"bench:")
                inserted, ds_seconds = _datasketch(batches[:args.redis_batches], config, port)
                theirs = _memory(client, b"dsk")
                results["redis"] = {"blocks": blocks, "dedup_bytes": mine, "dedup_seconds": ours,
                                    "datasketch_bytes": theirs, "datasketch_keys": inserted,
                                    "datasketch_insert_seconds": ds_seconds}
                print(f"Redis, {args.redis_batches} batches ({blocks:,} blocks): dedup {mine / 2**20:.1f} MiB = "
                      f"{mine / blocks:.1f} bytes/block (scan + add {sum(ours):.1f} s); datasketch MinHashLSH "
                      f"{theirs / 2**20:.1f} MiB = {theirs / blocks:.1f} bytes/block for {inserted:,} signed "
                      f"distinct blocks ({ds_seconds:.1f} s to insert): {theirs / mine:.1f}x dedup's")
            finally:
                server.terminate()
                server.wait(10)
        (work / "results.json").write_text(json.dumps(results, indent=1))
        print(json.dumps(results))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
