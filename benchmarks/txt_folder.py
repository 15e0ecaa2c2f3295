"""A folder of .txt files against the same documents as one JSON Lines file: `dedup scan` on each.

The documents come from corpus_gen.py; the folder holds one file per document, named by its id, so
both inputs carry the same texts. Each round runs `python -m dedup scan INPUT --workers N --quiet
--report R` on the JSON Lines file and then on the folder, in fresh processes; the ratio of the
medians (wall clock, and CPU time of the child: user + system) is the .txt folder's cost.

Usage:
    python benchmarks/txt_folder.py --docs 20000 --rounds 5 [--workers 1] [--unit line] [--trees A,B]

With ``--trees``, each round runs every tree (a checkout of dedup, its extension built in place)
one after another, so their ratios come from the same stretch of the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from corpus_gen import corpus


def write_folder(jsonl: Path, folder: Path) -> int:
    """One .txt file per record of ``jsonl``, named by its id (folder made once and reused)."""
    done = folder / ".complete"
    if done.exists():
        return int(done.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    with jsonl.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            (folder / f"{record['id']}.txt").write_text(record["text"], encoding="utf-8")
            count += 1
    done.write_text(str(count))
    return count


def timed_scan(tree: Path, target: Path, workers: int, unit: str, report: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one `dedup scan` of the dedup in ``tree``, in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dedup", "scan", str(target), "--workers", str(workers), "--unit", unit,
                    "--quiet", "--report", str(report)], check=True, cwd=tree,
                   env={**os.environ, "PYTHONPATH": str(tree)}, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--unit", default="line", choices=("line", "paragraph"))
    ap.add_argument("--trees", default=str(HERE.parent), help="comma list of dedup checkouts (default: this one)")
    args = ap.parse_args()
    trees = [Path(t).resolve() for t in args.trees.split(",")]
    jsonl, _ = corpus(args.docs, verbose=False)
    folder = jsonl.with_suffix(".txt-folder")
    files = write_folder(jsonl, folder)
    print(f"{files:,} documents; load {os.getloadavg()[0]:.2f}; workers {args.workers}; unit {args.unit}")
    times = {(tree, kind): [] for tree in trees for kind in ("jsonl", "txt")}
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "r.csv"
        for _ in range(args.rounds):
            for tree in trees:
                times[tree, "jsonl"].append(timed_scan(tree, jsonl, args.workers, args.unit, report))
                times[tree, "txt"].append(timed_scan(tree, folder, args.workers, args.unit, report))
    for tree in trees:
        print(tree)
        for kind in ("jsonl", "txt"):
            walls, cpus = zip(*times[tree, kind])
            print(f"  {kind:6} wall {' '.join(f'{w:.2f}' for w in walls)}  cpu {' '.join(f'{c:.2f}' for c in cpus)}")
        median = {(kind, i): statistics.median(run[i] for run in times[tree, kind]) for kind in ("jsonl", "txt")
                  for i in (0, 1)}
        print(f"  txt folder / JSON Lines, medians: wall {median['txt', 0] / median['jsonl', 0]:.2f}x, "
              f"cpu {median['txt', 1] / median['jsonl', 1]:.2f}x (target <= 1.1)")

if __name__ == "__main__":
    main()
