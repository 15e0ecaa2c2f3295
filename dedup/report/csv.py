"""The report CSV: findings with ids and text, cells made safe, written whole or not at all.

Example:
    >>> import polars as pl
    >>> pl.select(safe_text(pl.lit("=SUM(A1)\\tx"))).item()
    "'=SUM(A1)\\\\tx"
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

import polars as pl

from dedup.executors.threads import in_order
from dedup.fingerprint.collect import Prints
from dedup.fingerprint.docstats import STATS_SCHEMA
from dedup.io.publish import write_to
from dedup.schemas import REPORT_SCHEMA

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"} | {
    chr(c): f"\\x{c:02x}" for c in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]
}


def safe_text(text: pl.Expr) -> pl.Expr:
    """A report cell: backslash and control characters escaped (a line break becomes ``\\n``), and
    never the start of a spreadsheet formula (a leading ``= + - @`` gets a ``'`` in front)."""
    escaped = text.str.replace_many(list(_ESCAPES), list(_ESCAPES.values()))
    return pl.when(escaped.str.contains(r"^[=+\-@]")).then(pl.lit("'") + escaped).otherwise(escaped)


def report_frame(findings: pl.DataFrame, prints: Prints) -> pl.DataFrame:
    # Documents are numbered by their row in prints.docs: ids are gathered, not joined (faster).
    ids = prints.docs["doc_id"]
    return (
        findings.with_columns(doc_id=ids.gather(findings["doc"]), kept_doc=ids.gather(findings["kept_doc"]))
        .select(list(REPORT_SCHEMA))
        .cast(REPORT_SCHEMA)
    )


def write_csv(frame: pl.DataFrame, target: Path | IO[bytes]) -> None:
    """A CSV, to a file (whole or not at all) or a stream."""
    write_to(target, lambda out: frame.write_csv(out, quote_style="necessary"))


# Rows of the report formatted at a time by one thread.
REPORT_SLICE = 200_000


def write_report(report: pl.DataFrame, target: Path | IO[bytes], threads: int = 1) -> None:
    """The report CSV, to a file (whole or not at all) or a stream: text cells made safe, similarities
    to 4 places. Slices of at most REPORT_SLICE rows, at least one per thread, are formatted on
    ``threads`` threads (polars runs without the GIL) and written in order, a few at a time so that
    only their text is held."""
    rows = max(1, min(REPORT_SLICE, -(-len(report) // threads)))

    def formatted(start: int) -> bytes:
        out = io.BytesIO()
        report.slice(start, rows).with_columns(
            text=safe_text(pl.col("text")), similarity=pl.col("similarity").round(4),
        ).write_csv(out, quote_style="necessary", include_header=start == 0)
        return out.getvalue()

    def write(out: IO[bytes]) -> None:
        starts = range(0, max(len(report), 1), rows)  # an empty report still gets its header
        for group in range(0, len(starts), 2 * threads):
            out.writelines(in_order(formatted, starts[group:group + 2 * threads], threads))

    write_to(target, write)


def doc_stats_frame(docs: pl.DataFrame) -> pl.DataFrame:
    columns = [c for c in STATS_SCHEMA if c != "doc"]
    if docs.is_empty():
        return pl.DataFrame(schema={"doc_id": pl.String} | {c: STATS_SCHEMA[c] for c in columns})
    return docs.select("doc_id", *columns)
