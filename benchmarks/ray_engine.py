"""`--engine ray` against the local engine, and on simulated clusters of 1, 2 and 4 nodes.

One generated corpus (corpus_gen.py) is cut into --shards JSON Lines shards of equal size; every
contender scans the same shards (a report to a temporary file, sites from `url`), each in its own
subprocess, one after another:

  local        dedup.api.run(..., workers=2): the local engine on the machine's two cores.
  ray          a local Ray with 2 CPUs started in the subprocess (`start-up`: ray.init), then the
               same run twice with engine="ray": the first pays for starting the worker processes
               and importing dedup in them (`first run`), the second finds them ready, as a job on a
               standing cluster would (`run`).
  cluster-N    ray.cluster_utils.Cluster with N nodes of one CPU each (all on this machine), then
               the run twice as above. With N = 4 the four CPUs share the machine's two cores.

Each run's report is checked byte for byte against the local engine's. `gathered` is what the
shards' tasks sent to the driver (RunStats.bytes_gathered: tables, band keys, streams, texts); on a
cluster of N nodes, the shards run on the other N - 1 nodes send theirs across the network.

`--breakdown` instead fingerprints the first shard in this process (engines.shards.shard_prints, one
core) and prints what its prints weigh per document, part by part: what a cluster job moves per
document, stage by stage (docs/scale.md builds on it).

Usage:
    python benchmarks/ray_engine.py --docs 200000 --shards 8
    python benchmarks/ray_engine.py --docs 200000 --shards 8 --breakdown
    python benchmarks/ray_engine.py --docs 20000 --contenders local,ray
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

ALL = ("local", "ray", "cluster-1", "cluster-2", "cluster-4")


def shards_of(docs: int, shards: int, folder: Path) -> list[Path]:
    """The generated corpus of ``docs`` documents cut into ``shards`` files of consecutive lines (made once)."""
    from corpus_gen import corpus

    whole, _ = corpus(docs, folder=folder)
    paths = [folder / f"{whole.stem}-part{k:03d}-of-{shards:03d}.jsonl" for k in range(shards)]
    if not all(p.exists() for p in paths):
        lines = whole.read_bytes().splitlines(keepends=True)
        per = -(-len(lines) // shards)
        for k, path in enumerate(paths):
            path.write_bytes(b"".join(lines[k * per:(k + 1) * per]))
    return paths


def child(spec: dict) -> dict:
    """One contender's runs, in this (fresh) process."""
    from dedup.api import run
    from dedup.config import Config

    shards = spec["shards"]
    out: dict = {}
    config = Config(site_field="url", workers=2)
    cluster = None
    if spec["name"] != "local":
        import ray

        clock = time.perf_counter()
        if spec["name"] == "ray":
            ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
        else:
            from ray.cluster_utils import Cluster

            cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
            for _ in range(int(spec["name"].split("-")[1]) - 1):
                cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            ray.init(address=cluster.address, logging_level="ERROR")
        out["startup"] = time.perf_counter() - clock
        config = config.with_(engine="ray")
    runs = 1 if spec["name"] == "local" else 2
    for attempt in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            report = Path(tmp) / "report.csv"
            clock = time.perf_counter()
            _, stats = run(shards, config, report=report)
            seconds = time.perf_counter() - clock
            digest = hashlib.sha256(report.read_bytes()).hexdigest()
        key = "run" if attempt == runs - 1 else "first_run"
        out[key] = seconds
        out["stages"] = stats.seconds
        out["report_sha256"] = digest
        out["gathered"] = stats.bytes_gathered
        out["documents"] = stats.documents
        out["workers"] = stats.workers
    if cluster is not None:
        import ray

        ray.shutdown()
        cluster.shutdown()
    return out


def breakdown(shard: Path) -> None:
    """Bytes per document of each part of one shard's prints, and the shard's pass-1 rate on one core."""
    from dedup.config import Config
    from dedup.engines.shards import shard_prints, shards_of
    from dedup.io.sources import open_sources

    config = Config(site_field="url", workers=1)
    source = open_sources([str(shard)], config)
    for keep_texts in (False, True):
        clock = time.perf_counter()
        done = shard_prints(shards_of(source)[0], config, keep_texts=keep_texts)
        seconds = time.perf_counter() - clock
        keyed, docs = done.keyed, done.records
        prints = keyed.prints
        parts = {"block table": prints.blocks.estimated_size(), "document table": prints.docs.estimated_size(),
                 "block band keys": keyed.block_keys.nbytes, "document band keys": keyed.doc_keys.nbytes,
                 "document token streams": prints.doc_tokens.nbytes,
                 "block shingle sets": prints.block_shingles.nbytes + prints.block_shingle_counts.nbytes}
        if keyed.texts is not None:
            parts["block texts (scan only)"] = keyed.texts.estimated_size()
        print(f"\nkeep_texts={keep_texts}: {docs:,} documents, {len(prints.blocks):,} blocks, "
              f"{keyed.block_keys.shape[1]:,} signed distinct blocks ({keyed.block_keys.shape[0]} bands), "
              f"{keyed.doc_keys.shape[1]:,} signed documents ({keyed.doc_keys.shape[0]} bands); input "
              f"{shard.stat().st_size / docs:,.0f} B/doc; pass 1 on one core {seconds:.2f} s = "
              f"{docs / seconds:,.0f} docs/s, {shard.stat().st_size / seconds / 2**20:.2f} MiB/s")
        print("| part | bytes per document |\n|---|---|")
        for name, size in parts.items():
            print(f"| {name} | {size / docs:,.0f} |")
        print(f"| **all** | **{sum(parts.values()) / docs:,.0f}** |")


def run_child(spec: dict) -> dict:
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{spec['name']} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=200_000)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--contenders", default=",".join(ALL))
    ap.add_argument("--folder", type=Path, default=Path(os.environ.get("DEDUP_BENCH_DIR", "/tmp/dedup-bench")))
    ap.add_argument("--breakdown", action="store_true", help="bytes per document of each part of a shard's prints")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    args.folder.mkdir(parents=True, exist_ok=True)
    shards = [str(p) for p in shards_of(args.docs, args.shards, args.folder)]
    if args.breakdown:
        breakdown(Path(shards[0]))
        return 0
    print(f"{args.docs:,} documents in {args.shards} shards; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}")
    results = {}
    for name in args.contenders.split(","):
        results[name] = run_child({"name": name, "shards": shards})
        r = results[name]
        print(json.dumps({name: r}), flush=True)
    base = results.get("local")
    print("\n| engine | start-up | first run | run | run / local | gathered | gathered per doc | report |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        same = "same" if base is None or r["report_sha256"] == base["report_sha256"] else "DIFFERENT"
        ratio = f"{r['run'] / base['run']:.2f}×" if base else ""
        startup = f"{r['startup']:.1f} s" if "startup" in r else ""
        first = f"{r['first_run']:.1f} s" if "first_run" in r else ""
        gathered = f"{r['gathered'] / 2**20:,.0f} MiB" if r["gathered"] else ""
        per_doc = f"{r['gathered'] / r['documents']:,.0f} B" if r["gathered"] else ""
        print(f"| {name} | {startup} | {first} | {r['run']:.1f} s | {ratio} | {gathered} | {per_doc} | {same} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
