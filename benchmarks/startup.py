"""Start-up and install size of dedup as `pip install` leaves it, against `python -c "import polars, numpy"`.

For each source tree given (default: this checkout), round after round with the trees alternating:

  install     a fresh venv in a temporary folder, then `pip install TREE` (not timed); the venv's size
              on disk over an empty venv's, and its five largest packages.
  first run   the first `dedup scan TREE/seeds/ --report ...` after that install: whatever the package
              does on first use (compiling, caching) is in it.
  seed run    `dedup scan TREE/seeds/ --report ...` again: the median of --repeat runs.
  --help      `dedup --help`: the median of --repeat runs.
  bare        `python -c "import polars, numpy"` in the same venv: the median of --repeat runs.

The seed runs, --help and bare imports are interleaved, so the ratios to the bare import compare times
taken together. Commands run from an empty folder with no PYTHONPATH: only the venv's packages count.

Usage:
    python benchmarks/startup.py                       # this checkout
    python benchmarks/startup.py /tmp/old /work/main --rounds 2 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BARE = "import polars, numpy"


def disk_usage(path: Path) -> int:
    """Bytes on disk under ``path`` (allocated blocks, each hard-linked file once)."""
    seen, total = set(), 0
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            st = os.lstat(os.path.join(root, name))
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


def largest_packages(venv: Path, count: int = 5) -> list[tuple[str, int]]:
    site = next(venv.glob("lib/python*/site-packages"))
    sizes = [(p.name, disk_usage(p) if p.is_dir() else p.stat().st_size) for p in site.iterdir()
             if not p.name.endswith((".dist-info", ".pth")) and p.name != "__pycache__"]
    return sorted(sizes, key=lambda item: -item[1])[:count]


def timed(command: list[str], env: dict, cwd: Path) -> float:
    clock = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - clock


def measure(tree: Path, repeat: int, empty: int, scratch: Path) -> dict:
    venv = scratch / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    clock = time.perf_counter()
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(tree)], check=True)
    installed = time.perf_counter() - clock
    size = disk_usage(venv) - empty
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"}
    work = scratch / "cwd"
    work.mkdir()
    report = str(scratch / "report.csv")
    scan = [str(venv / "bin" / "dedup"), "scan", str(tree / "seeds"), "--report", report]
    first = timed(scan, env, work)
    runs: dict[str, list[float]] = {"seed run": [], "--help": [], "bare": []}
    for _ in range(repeat):
        runs["bare"].append(timed([str(venv / "bin" / "python"), "-c", BARE], env, work))
        runs["--help"].append(timed([str(venv / "bin" / "dedup"), "--help"], env, work))
        runs["seed run"].append(timed(scan, env, work))
    medians = {name: statistics.median(values) for name, values in runs.items()}
    return {"tree": str(tree), "install_seconds": installed, "size": size, "largest": largest_packages(venv),
            "first run": first, **medians}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("trees", nargs="*", type=Path, default=[HERE.parent], help="source trees to pip install")
    ap.add_argument("--rounds", type=int, default=1, help="fresh installs of every tree, alternating")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each later command per install (the median counts)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="dedup-startup-") as tmp:
        subprocess.run([sys.executable, "-m", "venv", f"{tmp}/empty"], check=True)
        empty = disk_usage(Path(tmp) / "empty")
        for r in range(args.rounds):
            for k, tree in enumerate(args.trees):
                scratch = Path(tmp) / f"r{r}-t{k}"
                scratch.mkdir()
                m = measure(tree.resolve(), args.repeat, empty, scratch)
                bare = m["bare"]
                print(f"round {r + 1}, {m['tree']}: installed in {m['install_seconds']:.0f} s, "
                      f"{m['size'] / 2**20:,.0f} MiB over an empty venv "
                      f"({', '.join(f'{name} {size / 2**20:.0f}' for name, size in m['largest'])} MiB)")
                print(f"  bare `python -c \"{BARE}\"` {bare:.2f} s; " + "; ".join(
                    f"{name} {m[name]:.2f} s ({m[name] / bare:.2f}x)" for name in ("first run", "seed run", "--help")),
                    flush=True)
                subprocess.run(["rm", "-rf", str(scratch)], check=True)


if __name__ == "__main__":
    main()
