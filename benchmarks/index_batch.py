"""A new batch against a large folder index that is built once and kept: alone, checked, added.

The issue's target: a 10k-document batch added to an index of 1M documents takes at most 1.5x the
time of scanning that batch alone. Building the 1M index takes a while, so it is built once under
``--work`` (the corpus cut into ``--batches`` batches, each scanned and added; the time of each is
printed) and reused by later runs. Then, in one process, the new batch is scanned alone, checked
against the index (``--index-read-only``) and checked and added, ``--repeat`` times in turn with the
order rotating; after each add the index is put back as it was (its manifest and segments saved
before, restored after), so every repetition sees the same index. Medians and their ratios to the
median alone are printed, and one JSON line.

Usage:
    python benchmarks/index_batch.py --work /tmp/dedup-index-1m --docs 1010000 --batches 10 --new 10000
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from corpus_gen import corpus

from dedup.api import run
from dedup.config import Config
from dedup.index import open_index


def _timed(config: Config, path: Path, **index) -> float:
    clock = time.perf_counter()
    run([str(path)], config, report=None, **index)
    return time.perf_counter() - clock


def _build(work: Path, docs: int, batches: int, new: int, config: Config) -> tuple[list[Path], Path]:
    """The batches' files and the new batch's under ``work`` (cut once); the index holds the batches."""
    names = [work / f"batch{k:02d}.jsonl" for k in range(batches)] + [work / "new.jsonl"]
    if not all(n.exists() for n in names):
        path, _ = corpus(docs)
        per = (docs - new) // batches
        with open(path, "rb") as source:
            for name, size in zip(names, [per] * batches + [new]):
                with open(name, "wb") as f:
                    for _ in range(size):
                        f.write(source.readline())
    index = work / "idx"
    have = {b["name"] for b in open_index(index).batches}
    for k, name in enumerate(names[:-1]):
        if name.name not in have:
            seconds = _timed(config, name, index=str(index))
            print(f"built: batch {k} added in {seconds:.1f} s", flush=True)
    return names[:-1], names[-1]


def _saved(index: Path, keep: Path) -> None:
    """Keep what an add may change (the manifest; the segment names present) to put back later."""
    keep.mkdir(exist_ok=True)
    shutil.copy2(index / "manifest.json", keep / "manifest.json")
    (keep / "segments.json").write_text(json.dumps(sorted(p.name for p in (index / "segments").iterdir())))


def _restored(index: Path, keep: Path) -> None:
    """The index as :func:`_saved` saw it: segments added since are removed, the manifest put back."""
    before = set(json.loads((keep / "segments.json").read_text()))
    for p in (index / "segments").iterdir():
        if p.name not in before:
            shutil.rmtree(p)
    missing = before - {p.name for p in (index / "segments").iterdir()}
    if missing:
        raise SystemExit(f"an add removed segments {sorted(missing)}: the index cannot be put back; rebuild it")
    shutil.copy2(keep / "manifest.json", index / "manifest.json")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True, help="folder kept between runs")
    parser.add_argument("--docs", type=int, default=1_010_000)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    config = Config(site_field="url", workers=args.workers)
    args.work.mkdir(parents=True, exist_ok=True)
    _, new = _build(args.work, args.docs, args.batches, args.new, config)
    if args.build_only:
        return
    index, keep = args.work / "idx", args.work / "saved"
    held = sum(b["documents"] for b in open_index(index).batches)
    _timed(config, new)  # compiles and warms what every side uses
    _timed(config, new, index=str(index), index_read_only=True)
    times: dict[str, list[float]] = {"alone": [], "check": [], "add": []}
    sides = list(times)
    for r in range(args.repeat):
        for side in sides[r % 3:] + sides[:r % 3]:
            if side == "alone":
                times[side].append(_timed(config, new))
            elif side == "check":
                times[side].append(_timed(config, new, index=str(index), index_read_only=True))
            else:
                _saved(index, keep)
                try:
                    times[side].append(_timed(config, new, index=str(index), batch="timed-add"))
                finally:
                    _restored(index, keep)
    median = {side: statistics.median(t) for side, t in times.items()}
    print(f"a batch of {args.new:,} against {held:,} documents, median of {args.repeat}: "
          f"alone {median['alone']:.2f} s, checked {median['check']:.2f} s "
          f"({median['check'] / median['alone']:.2f}x), checked and added {median['add']:.2f} s "
          f"({median['add'] / median['alone']:.2f}x)")
    print(json.dumps({"documents": held, "times": times, "median": median,
                      "ratio_check": median["check"] / median["alone"], "ratio_add": median["add"] / median["alone"]}))


if __name__ == "__main__":
    main()
