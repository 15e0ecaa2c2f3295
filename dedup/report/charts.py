"""The review page's charts, drawn by matplotlib as SVG text that the page carries inline.

matplotlib is chosen by measurement (benchmarks/RESULTS.md, "Review page"): its SVG of a histogram
was 19 KB in 0.06 s, where Vega-Lite through altair and vl-convert made 33 KB in 0.75-3 s (or 0.9 MB
of script to inline), for a like install weight (~100 MB each beside numpy). It is the optional
extra ``dedup[html]``; :func:`require` names it in one line when it is missing. Text stays text in
the SVG (no glyph paths) and ids are salted by a constant, so a page is the same bytes every run.

Example:
    >>> import polars as pl
    >>> report = pl.DataFrame({"kind": ["repeat"], "cluster": [0], "similarity": [1.0]})
    >>> similarity_svg(report).startswith("<svg")
    True
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import polars as pl

from dedup.config import ConfigError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KIND_COLOURS = {"repeat": "#4c72b0", "boilerplate": "#dd8452", "duplicate_block": "#55a868",
                "duplicate_doc": "#c44e52", "repetitive_doc": "#8172b3"}
SITES_SHOWN = 15


def require() -> None:
    """Raise a one-line :class:`ConfigError` when matplotlib, the ``html`` extra, is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ConfigError("--html needs matplotlib: pip install 'dedup[html]'") from None


def _figure(width: float = 4.0, height: float = 2.6) -> Figure:
    require()
    from matplotlib import rcParams
    from matplotlib.figure import Figure

    rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "dedup", "font.size": 8,
                     "font.family": "sans-serif", "axes.spines.top": False, "axes.spines.right": False})
    return Figure(figsize=(width, height), layout="constrained")


def _svg(figure: Figure) -> str:
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    return text[text.index("<svg"):]  # the page holds it inline: no XML prologue or doctype


def _plain_numbers(axes, *which: str) -> None:
    """Log axes labelled 1, 2, 5, 10, 20, 50 ... (not 10^0); other minor ticks unlabelled."""
    from matplotlib.ticker import FuncFormatter

    def label(value: float, _) -> str:
        return f"{value:,.0f}" if f"{value:.0e}"[0] in "125" else ""

    for name in which:
        axis = getattr(axes, f"{name}axis")
        axis.set_major_formatter(FuncFormatter(label))
        axis.set_minor_formatter(FuncFormatter(label))


def _empty(figure: Figure, title: str, note: str) -> str:
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_title(title, loc="left")
    axes.text(0.5, 0.5, note, ha="center", va="center", color="#666")
    return _svg(figure)


def similarity_svg(report: pl.DataFrame) -> str:
    """Histogram of ``similarity`` per kind (log counts), from the lowest similarity seen to 1."""
    figure = _figure()
    title = "Similarity to the kept copy, per kind"
    sims = report.select("kind", "similarity").drop_nulls()
    if sims.is_empty():
        return _empty(figure, title, "no similarities in this report")
    low = min(float(sims["similarity"].min()), 0.99)
    bins = [low + (1 - low) * i / 20 for i in range(21)]
    axes = figure.add_subplot()
    for kind, part in sorted(sims.partition_by("kind", as_dict=True).items()):
        axes.hist(part["similarity"].to_numpy(), bins=bins, histtype="step", linewidth=1.4,
                  label=f"{kind[0]} ({len(part):,})", color=KIND_COLOURS.get(kind[0]))
    axes.set_yscale("log")
    _plain_numbers(axes, "y")
    axes.set_xlabel("similarity")
    axes.set_ylabel("findings")
    axes.set_title(title, loc="left")
    axes.legend(frameon=False, loc="upper left")
    return _svg(figure)


def cluster_sizes_svg(report: pl.DataFrame) -> str:
    """Clusters per size (both axes logarithmic), one line per kind."""
    figure = _figure()
    title = "Cluster sizes"
    sizes = (report.filter(pl.col("cluster").is_not_null())
             .group_by("kind", "cluster").agg(size=pl.col("cluster_size").first() if "cluster_size" in report.columns
                                              else pl.len())
             .group_by("kind", "size").len().sort("kind", "size"))
    if sizes.is_empty():
        return _empty(figure, title, "no clusters in this report")
    axes = figure.add_subplot()
    for kind, part in sorted(sizes.partition_by("kind", as_dict=True).items()):
        axes.plot(part["size"].to_numpy(), part["len"].to_numpy(), marker="o", markersize=4, linestyle="none",
                  label=kind[0], color=KIND_COLOURS.get(kind[0]), alpha=0.8)
    axes.set_xscale("log")
    axes.set_yscale("log")
    _plain_numbers(axes, "x", "y")
    axes.set_xlabel("copies in the cluster")
    axes.set_ylabel("clusters")
    axes.set_title(title, loc="left")
    axes.legend(frameon=False)
    return _svg(figure)


def boilerplate_svg(per_site: pl.DataFrame) -> str:
    """Boilerplate findings of the SITES_SHOWN sites with most, as horizontal bars; ``per_site`` has
    ``site`` and ``boilerplate`` columns."""
    title = "Boilerplate per site"
    top = per_site.filter(pl.col("boilerplate") > 0).sort(["boilerplate", "site"], descending=[True, False],
                                                          nulls_last=True).head(SITES_SHOWN)
    figure = _figure(height=max(2.6, 0.9 + 0.16 * len(top)))
    if top.is_empty():
        return _empty(figure, title, "no boilerplate in this report")
    axes = figure.add_subplot()
    labels = [(s if len(s) <= 28 else s[:27] + "…") for s in top["site"].fill_null("(no site)")]
    axes.barh(range(len(top)), top["boilerplate"].to_numpy(), color=KIND_COLOURS["boilerplate"])
    axes.set_yticks(range(len(top)), labels)
    axes.invert_yaxis()
    axes.set_xlabel("boilerplate findings")
    more = len(per_site.filter(pl.col("boilerplate") > 0)) - len(top)
    axes.set_title(title + (f" (top {len(top)}, {more:,} more)" if more > 0 else ""), loc="left")
    return _svg(figure)
