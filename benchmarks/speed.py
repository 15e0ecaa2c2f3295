"""Throughput and peak memory of `dedup scan` against datasketch and rensa, on one generated corpus.

Every contender runs in its own subprocess (so peak RSS is its own), one after another, on the same
corpus made by corpus_gen.py (real English from this machine, with injected duplication):

  dedup-w1 / dedup-w2   dedup.api.run(..., workers=1 or 2), report written to a temp file.
                        Timed end to end: reading the JSON Lines, blocks, fingerprints, exact and
                        near-duplicate blocks and documents, clusters, the report.
  datasketch-update     word 5-gram shingle strings in Python, MinHash(num_perm=128).update() per
                        shingle (utf-8), MinHashLSH(threshold=0.8, num_perm=128) insert + query.
                        Slow: timed on a subsample of the blocks, the rate extrapolated.
  datasketch-bulk       the same shingles, MinHash.bulk(hashfunc=xxhash.xxh32_intdigest), same LSH.
  rensa                 the same shingles, RMinHash(num_perm=128, seed=1).update(shingles), then
                        RMinHashLSH(threshold=0.8, num_perm=128, num_bands=16) insert + query.
  rensa-bulk            rensa's fastest path: RMinHash.digest_matrix_from_token_sets, insert_matrix,
                        query_duplicate_flags_matrix (flags only, no candidate lists: less work).

The alternatives start from blocks already read, segmented and normalised by dedup's own code (the
same normalised lines dedup signs), untimed; their clock covers shingling, signatures and LSH only.
By default they get each *distinct* normalised block of at least --ngram words once (what needs
signing; dedup also hashes, matches and reports the rest), yet their blocks/s counts every block of
the corpus. Both choices favour the alternatives: the ratios are conservative for dedup.

Single-core contenders (dedup-w1 and all alternatives) are pinned to one CPU with one polars/rayon
thread; dedup-w2 gets the machine. "ratio" is dedup-w1 blocks/s / the contender's blocks/s.

Usage:
    python benchmarks/speed.py --docs 10000
    python benchmarks/speed.py --docs 100000 --contenders dedup-w1,rensa --repeat 3
    python benchmarks/speed.py --memory-only --docs 100000,1000000 [--memory-limit 2G]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from dedup.config import parse_size

ALL = ("dedup-w1", "dedup-w2", "datasketch-update", "datasketch-bulk", "rensa", "rensa-bulk")
_DEDUP = re.compile(r"dedup-w(\d+)")
NUM_PERM, THRESHOLD, BANDS, SEED = 128, 0.8, 16, 1
SINGLE_THREAD_ENV = {"POLARS_MAX_THREADS": "1", "RAYON_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                     "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# ---------------------------------------------------------------------------------------------------
# Child side: one contender, result as one JSON line on stdout
# ---------------------------------------------------------------------------------------------------


def _rss_kib(field: str = "VmRSS") -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _usage() -> dict:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"peak_rss_kib": me.ru_maxrss, "children_peak_rss_kib": kids.ru_maxrss,
            "cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime}


def load_blocks(path: Path, ngram: int, distinct: bool) -> tuple[list[str], int, int]:
    """(normalised blocks with >= ngram words, documents, all blocks), using dedup's segmentation."""
    import gzip

    import orjson
    import polars as pl

    from dedup.fingerprint.normalise import normalised
    from dedup.fingerprint.segment import segment

    parts, docs, blocks = [], 0, 0

    def flush(texts: list[str]) -> None:
        nonlocal docs, blocks
        frame = pl.DataFrame({"doc": range(docs, docs + len(texts)), "text": texts},
                             schema={"doc": pl.Int64, "text": pl.String})
        norm = segment(frame, "line").select(normalised(pl.col("raw")).alias("norm"))["norm"]
        docs += len(texts)
        blocks += len(norm)
        parts.append(norm.filter(norm.str.count_matches(" ", literal=True) + 1 >= ngram))

    opener = gzip.open if path.name.endswith(".gz") else open
    texts: list[str] = []
    with opener(path, "rb") as f:
        for line in f:
            texts.append(orjson.loads(line)["text"])
            if len(texts) == 5000:
                flush(texts)
                texts = []
    if texts:
        flush(texts)
    norm = pl.concat(parts) if parts else pl.Series("norm", [], dtype=pl.String)
    if distinct:
        norm = norm.unique(maintain_order=True)
    return norm.to_list(), docs, blocks


def _shingles(text: str, n: int) -> list[str]:
    words = text.split(" ")
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


def run_datasketch_update(texts: list[str], n: int) -> int:
    from datasketch import MinHash

    sigs = []
    for text in texts:
        m = MinHash(num_perm=NUM_PERM, seed=SEED)
        words = text.split(" ")
        for i in range(len(words) - n + 1):
            m.update(" ".join(words[i : i + n]).encode("utf-8"))
        sigs.append(m)
    return _datasketch_lsh(sigs)


def run_datasketch_bulk(texts: list[str], n: int) -> int:
    import xxhash
    from datasketch import MinHash

    sigs = MinHash.bulk(([s.encode("utf-8") for s in _shingles(t, n)] for t in texts),
                        num_perm=NUM_PERM, seed=SEED, hashfunc=xxhash.xxh32_intdigest)
    return _datasketch_lsh(sigs)


def _datasketch_lsh(sigs) -> int:
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for key, m in enumerate(sigs):
            session.insert(key, m, check_duplication=False)
    return sum(len(lsh.query(m)) for m in sigs)


def run_rensa(texts: list[str], n: int) -> int:
    from rensa import RMinHash, RMinHashLSH

    lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=BANDS)
    sigs = []
    for key, text in enumerate(texts):
        m = RMinHash(num_perm=NUM_PERM, seed=SEED)
        m.update(_shingles(text, n))
        lsh.insert(key, m)
        sigs.append(m)
    return sum(len(lsh.query(m)) for m in sigs)


def run_rensa_bulk(texts: list[str], n: int) -> int:
    from rensa import RMinHash, RMinHashLSH

    lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=BANDS)
    matrix = RMinHash.digest_matrix_from_token_sets([_shingles(t, n) for t in texts], NUM_PERM, SEED)
    lsh.insert_matrix(matrix, 0)
    return sum(lsh.query_duplicate_flags_matrix(matrix))


ALTERNATIVES = {"datasketch-update": run_datasketch_update, "datasketch-bulk": run_datasketch_bulk,
                "rensa": run_rensa, "rensa-bulk": run_rensa_bulk}


def child(spec: dict) -> dict:
    if spec.get("pin") is not None:
        os.sched_setaffinity(0, {spec["pin"]})
    corpus = Path(spec["corpus"])
    name = spec["name"]
    if name.startswith("dedup"):
        from dedup.api import run
        from dedup.config import Config

        options = {"workers": spec["workers"], "site_field": "url", "ngram": spec["ngram"]}
        if spec.get("memory_limit"):
            options["memory_limit"] = spec["memory_limit"]
        config = Config(**options)
        start_rss = _rss_kib()
        with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
            report = Path(tmp) / "report.csv"
            profiler = None
            if spec.get("profile"):
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            clock = time.perf_counter()
            _, stats = run([str(corpus)], config, report=report)
            seconds = time.perf_counter() - clock
            if profiler is not None:
                import io
                import pstats

                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
                print(f"--- cProfile of {name} (cumulative) ---\n{out.getvalue()}", file=sys.stderr)
            report_bytes = report.stat().st_size
        return {"name": name, "seconds": seconds, "measured_seconds": seconds, "extrapolated": False,
                "docs": stats.documents, "blocks": stats.blocks, "items": stats.blocks, "measured_items": stats.blocks,
                "start_rss_kib": start_rss, "stages": dict(stats.seconds), "findings": dict(stats.findings),
                "report_bytes": report_bytes, **_usage()}

    texts, docs, blocks = load_blocks(corpus, spec["ngram"], spec["distinct"])
    import datasketch  # noqa: F401  (imports outside the clock)
    import rensa  # noqa: F401
    import xxhash  # noqa: F401

    total = len(texts)
    cap = spec.get("sample") or 0
    if cap and cap < total:
        step = math.ceil(total / cap)
        texts = texts[::step]
    start_rss = _rss_kib()
    clock = time.perf_counter()
    candidates = ALTERNATIVES[name](texts, spec["ngram"])
    measured = time.perf_counter() - clock
    seconds = measured * total / max(1, len(texts))
    return {"name": name, "seconds": seconds, "measured_seconds": measured, "extrapolated": len(texts) < total,
            "docs": docs, "blocks": blocks, "items": total, "measured_items": len(texts),
            "candidates": int(candidates), "start_rss_kib": start_rss, **_usage()}


# ---------------------------------------------------------------------------------------------------
# Parent side
# ---------------------------------------------------------------------------------------------------


def _spawn(spec: dict, single_core: bool, pin: int | None) -> dict:
    env = dict(os.environ)
    if single_core:
        env.update(SINGLE_THREAD_ENV)
        spec = {**spec, "pin": pin}
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)],
                          env=env, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{spec['name']} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _best(results: list[dict]) -> dict:
    best = min(results, key=lambda r: r["seconds"])
    best["runs_s"] = [round(r["seconds"], 3) for r in results]
    best["peak_rss_kib"] = max(r["peak_rss_kib"] for r in results)
    return best


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f}"


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("dedup", "datasketch", "rensa", "polars", "numpy", "xxhash"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "-"
    return out


def _machine() -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def _warm(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def speed(args, docs: int) -> dict:
    from corpus_gen import corpus, format_counts

    path, counts = corpus(docs, args.seed, args.gzip)
    print(f"corpus: {path}\n  {format_counts(counts)}", flush=True)
    _warm(path)
    cpus = sorted(os.sched_getaffinity(0))
    pin = None if args.no_pin else cpus[-1]
    names = [c.strip() for c in args.contenders.split(",") if c.strip()]
    for name in names:
        if name not in ALL and not _DEDUP.fullmatch(name):
            raise SystemExit(f"unknown contender {name!r}; choose from {', '.join(ALL)} (or dedup-wN)")
    specs = {}
    for name in names:
        spec = {"name": name, "corpus": str(path), "ngram": args.ngram, "distinct": args.alt_blocks == "distinct",
                "memory_limit": args.memory_limit, "profile": args.profile and name == "dedup-w1"}
        if name.startswith("dedup-w"):
            spec["workers"] = int(_DEDUP.fullmatch(name).group(1))
            single = spec["workers"] == 1
        else:
            spec["sample"] = args.update_sample if name == "datasketch-update" else args.sample
            single = True
        specs[name] = (spec, single)
    # Round by round (every contender once, then again): this VM's speed drifts over minutes, and
    # interleaving lets each contender's fastest run come from the same stretch of time.
    runs = {name: [] for name in names}
    for round_ in range(1, args.repeat + 1):
        for name, (spec, single) in specs.items():
            runs[name].append(_spawn(spec, single, pin))
            if args.repeat > 1:
                print(f"  round {round_}: {name:<18} {runs[name][-1]['seconds']:8.2f} s", flush=True)
    results = {}
    for name, (_, single) in specs.items():
        r = results[name] = _best(runs[name])
        r["cores"] = 1 if single else len(cpus)
        note = f"  (measured on {r['measured_items']:,} of {r['items']:,}, extrapolated)" if r["extrapolated"] else ""
        print(f"  {name:<18} {r['seconds']:8.2f} s{note}", flush=True)
    _table(results, counts, args)
    return {"docs": docs, "corpus": str(path), "corpus_counts": counts, "results": results}


def _table(results: dict, counts: dict, args) -> None:
    base = results.get("dedup-w1")
    base_rate = base["blocks"] / base["seconds"] if base else None
    rows = [("contender", "cores", "blocks signed", "seconds", "blocks/s", "docs/s", "peak RSS MiB",
             "ratio", "note")]
    for name, r in results.items():
        rate = r["blocks"] / r["seconds"]
        if name.startswith("dedup"):
            items = "-"
            rss = _mib(r["peak_rss_kib"])
            if r["children_peak_rss_kib"]:
                rss += f" + {_mib(r['children_peak_rss_kib'])}/worker"
            note = "end to end, report written"
            if base and name != "dedup-w1":
                note += f"; {base['seconds'] / r['seconds']:.2f}x dedup-w1"
            ratio = "1.00" if name == "dedup-w1" else "-"
        else:
            items = f"{r['items']:,}"
            rss = f"{_mib(r['peak_rss_kib'])} ({_mib(r['peak_rss_kib'] - r['start_rss_kib'])} own)"
            note = f"sampled {r['measured_items']:,}, extrapolated" if r["extrapolated"] else "all"
            if name == "rensa-bulk":
                note += "; flags only"
            ratio = f"{base_rate / rate:.2f}" if base_rate else "-"
        rows.append((name, str(r["cores"]), items, f"{r['seconds']:.2f}", f"{rate:,.0f}",
                     f"{r['docs'] / r['seconds']:,.0f}", rss, ratio, note))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for k, row in enumerate(rows):
        print("  ".join(cell.ljust(w) if i in (0, 8) else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print(f"\nblocks/s and docs/s count all {counts['blocks']:,} blocks and {counts['docs']:,} docs of the corpus for "
          f"every contender; alternatives sign the {'distinct ' if args.alt_blocks == 'distinct' else ''}blocks of "
          f">= {args.ngram} words ('blocks signed') from pre-loaded normalised text; ratio = dedup-w1 blocks/s / "
          f"contender blocks/s (both one core). peak RSS of alternatives includes the loaded blocks; 'own' is "
          f"the growth during the timed part.")
    for name, r in results.items():
        if name.startswith("dedup") and r.get("stages"):
            total = r["seconds"]
            stages = ", ".join(f"{k} {v:.2f}s ({v / total:.0%})" for k, v in r["stages"].items())
            print(f"{name} stages: {stages}; other {total - sum(r['stages'].values()):.2f}s; "
                  f"findings {r['findings']}")
    if base:
        checks = []
        for name, target in (("rensa", 1.3), ("datasketch-update", 15.0)):
            if name in results:
                ratio = base_rate / (results[name]["blocks"] / results[name]["seconds"])
                checks.append(f"dedup-w1 / {name} = {ratio:.2f} (target >= {target})")
        if "dedup-w1" in results and "dedup-w2" in results:
            speedup = results["dedup-w1"]["seconds"] / results["dedup-w2"]["seconds"]
            checks.append(f"dedup-w2 speed-up over dedup-w1 = {speedup:.2f} (target >= 1.7)")
        if checks:
            print("targets: " + "; ".join(checks))


def memory(args, sizes: list[int]) -> list[dict]:
    from corpus_gen import corpus, format_counts

    workers = int(args.workers) if args.workers else (os.cpu_count() or 1)
    out = []
    for docs in sizes:
        path, counts = corpus(docs, args.seed, args.gzip)
        print(f"corpus: {path}\n  {format_counts(counts)}", flush=True)
        spec = {"name": f"dedup-w{workers}", "corpus": str(path), "ngram": args.ngram, "workers": workers,
                "memory_limit": args.memory_limit}
        r = _spawn(spec, False, None)
        total = r["peak_rss_kib"]  # workers are threads of this one process
        r.update(docs=docs, corpus_bytes=counts["bytes"], peak_total_bound_kib=total)
        print(f"  dedup workers={workers}: {r['seconds']:.1f} s, {r['docs'] / r['seconds']:,.0f} docs/s, "
              f"peak RSS {_mib(total)} MiB ({total * 1024 / counts['bytes']:.2f} x the corpus bytes); "
              f"stages {', '.join(f'{k} {v:.1f}s' for k, v in r['stages'].items())}", flush=True)
        out.append(r)
    if len(out) > 1:
        a, b = out[0], out[-1]
        print(f"memory growth {b['peak_total_bound_kib'] / a['peak_total_bound_kib']:.2f}x for "
              f"{b['docs'] / a['docs']:.1f}x the documents")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--docs", default="10000", help="documents in the generated corpus (a comma list with --memory-only)")
    ap.add_argument("--contenders", default=",".join(ALL), help=f"comma list from {', '.join(ALL)} (or dedup-wN)")
    ap.add_argument("--workers", help="with --memory-only: dedup's workers (default all cores); otherwise a comma "
                                      "list of worker counts, shorthand for the dedup-wN contenders")
    ap.add_argument("--seed", type=int, default=0, help="corpus seed")
    ap.add_argument("--gzip", action="store_true", help="benchmark a .jsonl.gz corpus (dedup decompresses it)")
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--alt-blocks", choices=("distinct", "all"), default="distinct",
                    help="alternatives sign every distinct block once (default) or every block occurrence")
    ap.add_argument("--update-sample", type=int, default=10_000,
                    help="blocks the datasketch update loop is timed on (rate extrapolated; 0 = all)")
    ap.add_argument("--sample", type=int, default=0, help="cap on the blocks other alternatives are timed on (0 = all)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of runs (each contender once a round); the fastest counts")
    ap.add_argument("--no-pin", action="store_true", help="do not pin single-core contenders to one CPU")
    ap.add_argument("--memory-limit", type=parse_size, help="passed to dedup (bytes, or 512M, 2G...)")
    ap.add_argument("--memory-only", action="store_true", help="run dedup alone and report its peak RSS")
    ap.add_argument("--profile", action="store_true", help="cProfile dedup-w1 (stderr); its time then includes profiling")
    ap.add_argument("--json", type=Path, help="also write every figure, the machine and the versions here")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    sizes = [int(s.replace("_", "")) for s in args.docs.split(",")]
    head = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": _machine(),
            "load_average": os.getloadavg(), "versions": _versions(), "argv": sys.argv[1:]}
    print(f"{head['date']}  {head['machine']}  load {head['load_average'][0]:.2f}\n"
          f"versions: {', '.join(f'{k} {v}' for k, v in head['versions'].items())}", flush=True)
    if args.memory_only:
        head["memory"] = memory(args, sizes)
    else:
        if args.workers:
            rest = [c for c in args.contenders.split(",") if not re.fullmatch(r"dedup-w\d+", c)]
            args.contenders = ",".join([f"dedup-w{w}" for w in args.workers.split(",")] + rest)
        head["speed"] = [speed(args, docs) for docs in sizes]
    if args.json:
        args.json.write_text(json.dumps(head, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
