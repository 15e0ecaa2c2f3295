"""Which library draws the review page's charts: the size of one chart, its time, and the install weight.

The same chart (a histogram of 4,000 similarities in four kinds) is drawn as SVG by matplotlib and
by Vega-Lite (altair, rendered by vl-convert), in this process, each library measured if importable;
the install weight is the bytes of the files each distribution lists, with its dependencies that
dedup does not already need (numpy and polars are). For Vega-Lite in the browser instead, the
script bundle the page would have to carry is measured too.

Usage (install either library, or both into a folder given by PYTHONPATH):
    python benchmarks/chart_libraries.py
"""

from __future__ import annotations

import io
import re
import time
from importlib import metadata

import numpy as np
import polars as pl

KINDS = ["repeat", "boilerplate", "duplicate_block", "duplicate_doc"]
ALREADY = {"numpy", "polars", "typing-extensions", "packaging"}  # dedup needs these anyway


def weight(name: str, seen: set[str] | None = None) -> int:
    """Bytes of ``name``'s installed files and of its dependencies not in ALREADY."""
    seen = set() if seen is None else seen
    key = name.lower().replace("_", "-")
    if key in seen or key in ALREADY:
        return 0
    seen.add(key)
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return 0
    total = sum(f.size or 0 for f in dist.files or [])
    for requirement in dist.requires or []:
        if "extra ==" in requirement:
            continue
        total += weight(re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0], seen)
    return total


def data() -> pl.DataFrame:
    rng = np.random.default_rng(0)
    return pl.DataFrame({"kind": [k for k in KINDS for _ in range(1000)],
                         "similarity": np.concatenate([rng.uniform(0.8, 1, 1000) for _ in KINDS])})


def matplotlib_svg(frame: pl.DataFrame) -> str:
    import matplotlib
    from matplotlib.figure import Figure

    matplotlib.rcParams["svg.fonttype"] = "none"
    figure = Figure(figsize=(4, 2.6))
    axes = figure.add_subplot()
    for (kind,), part in sorted(frame.partition_by("kind", as_dict=True).items()):
        axes.hist(part["similarity"].to_numpy(), bins=20, histtype="step", label=kind)
    axes.legend()
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def vega_svg(frame: pl.DataFrame) -> str:
    import altair
    import vl_convert

    chart = altair.Chart(frame).mark_bar().encode(altair.X("similarity:Q", bin=altair.Bin(maxbins=20)),
                                                  y="count()", color="kind:N")
    return vl_convert.vegalite_to_svg(chart.to_json())


def main() -> int:
    frame = data()
    for name, draw, dists in (("matplotlib", matplotlib_svg, ["matplotlib"]),
                              ("altair + vl-convert", vega_svg, ["altair", "vl-convert-python"])):
        try:
            clock = time.perf_counter()
            draw(frame)  # the first draw imports and warms up
            first = time.perf_counter() - clock
            clock = time.perf_counter()
            svg = draw(frame)
            again = time.perf_counter() - clock
        except ImportError as missing:
            print(f"{name}: not installed ({missing})")
            continue
        seen: set[str] = set()
        installed = sum(weight(d, seen) for d in dists)
        print(f"{name}: SVG {len(svg) / 1024:.0f} KiB; first chart {first:.2f} s (imports included), "
              f"next {again:.3f} s; installed {installed / 2**20:.0f} MiB")
    try:
        import vl_convert

        print(f"Vega-Lite in the page instead: a {len(vl_convert.javascript_bundle()) / 1024:.0f} KiB script to inline")
    except ImportError:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
