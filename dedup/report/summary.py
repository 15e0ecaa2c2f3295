"""The summary a person reads after a run: counts by kind, what was repaired or skipped, and the most
frequent boilerplate, printed on stderr.

Example:
    >>> import polars as pl
    >>> frame = pl.DataFrame({"kind": ["boilerplate"] * 3, "cluster": [7, 7, 9], "text": ["Home", "Home", "Share"],
    ...                       "action": ["remove"] * 3})
    >>> top_boilerplate(frame).rows()
    [(2, 'Home'), (1, 'Share')]
"""

from __future__ import annotations

import polars as pl

from dedup.schemas import KINDS
from dedup.stats import RunStats


def top_boilerplate(frame: pl.DataFrame, count: int = 5) -> pl.DataFrame:
    """The ``count`` boilerplate clusters with the most copies removed: copies and one copy's text."""
    return (frame.filter((pl.col("kind") == "boilerplate") & (pl.col("action") == "remove")).group_by("cluster")
            .agg(copies=pl.len(), text=pl.col("text").first())
            .sort(["copies", "cluster"], descending=[True, False]).head(count).select("copies", "text"))


def print_summary(frame: pl.DataFrame, stats: RunStats, report: str | None, out: str | None) -> None:
    """The summary tables and warnings on stderr (``report``/``out``: where they went; ``-`` is stdout)."""
    from rich.console import Console
    from rich.table import Table

    err = Console(stderr=True)
    table = Table(title="dedup summary", show_header=False, title_justify="left")
    table.add_row("documents", f"{stats.documents:,}")
    table.add_row("blocks", f"{stats.blocks:,}")
    for kind in KINDS:
        table.add_row(f"  {kind}", f"{stats.findings.get(kind, 0):,}")
    kept = int(frame["rule"].str.starts_with("kept: ").sum()) if "rule" in frame.columns else 0
    if kept:  # reported, not counted above
        table.add_row("  copies kept by a protection", f"{kept:,}")
    table.add_row("characters removed" if out else "characters that clean would remove", f"{stats.chars_removed:,}")
    reader = stats.reader
    for label, n in (("records skipped", reader.records_skipped), ("binary files skipped", reader.binary_files_skipped),
                     ("documents with invalid UTF-8 (replaced)", reader.invalid_utf8_docs),
                     ("empty documents", reader.empty_docs)):
        if n:
            table.add_row(label, f"{n:,}")
    err.print(table)
    top = top_boilerplate(frame)
    if len(top):
        boiler = Table(title="most frequent boilerplate", title_justify="left")
        # The counts keep their width and the text gets the rest of the line (at 80 columns a fixed
        # 80-character text column took it all and hid the counts); borders and padding take 7.
        counts = [f"{n:,}" for n in top["copies"]]
        width = max(len("copies"), *map(len, counts))
        boiler.add_column("copies", justify="right", no_wrap=True, min_width=width)
        boiler.add_column("text", overflow="ellipsis", no_wrap=True, max_width=max(20, min(80, err.width - width - 8)))
        for n, text in zip(counts, top["text"]):
            boiler.add_row(n, text)
        err.print(boiler)
    for problem in reader.problems[:5]:
        err.print(f"[yellow]warning:[/] {problem}", highlight=False)
    if stats.documents == 0:
        err.print("[yellow]warning:[/] the corpus has no documents", highlight=False)
    if report:
        err.print(f"report: {'stdout' if report == '-' else report}", highlight=False)
    if out:
        err.print(f"cleaned corpus: {'stdout' if out == '-' else out}", highlight=False)
