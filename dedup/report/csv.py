"""The report CSV: findings with ids and text, cells made safe, written whole or not at all.

The spreadsheet rule holds for every string cell of every CSV dedup writes (the report, the
``--doc-stats`` file): no cell starts a formula. A cell that starts with ``= + - @``, a tab or a
carriage return (after any ``'``) gets one ``'`` in front, which a spreadsheet shows as text and
:func:`unsafe_cell` takes off again; the ``text`` column has its control characters escaped first.

Example:
    >>> import polars as pl
    >>> pl.select(safe_text(pl.lit("=SUM(A1)\\tx"))).item()
    "'=SUM(A1)\\\\tx"
    >>> safe_cells(pl.DataFrame({"doc_id": ["-1", "@a", "ok", "'+x"], "block": [1, 2, 3, 4]})).rows()
    [("'-1", 1), ("'@a", 2), ('ok', 3), ("''+x", 4)]
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


# What a spreadsheet would take for the start of a formula, after any quotes already in front.
_FORMULA = r"^'*[=+\-@\t\r]"


def safe_cell(cell: pl.Expr) -> pl.Expr:
    """A string cell that never starts a spreadsheet formula: one ``'`` in front when it would."""
    return pl.when(cell.str.contains(_FORMULA)).then(pl.lit("'") + cell).otherwise(cell)


def unsafe_cell(cell: pl.Expr) -> pl.Expr:
    """The value :func:`safe_cell` was given (reading a report back)."""
    return pl.when(cell.str.contains(_FORMULA) & cell.str.starts_with("'")).then(cell.str.slice(1)).otherwise(cell)


def safe_text(text: pl.Expr) -> pl.Expr:
    """A report's text cell: backslash and control characters escaped (a line break becomes
    ``\\n``), and never the start of a spreadsheet formula (:func:`safe_cell`)."""
    return safe_cell(text.str.replace_many(list(_ESCAPES), list(_ESCAPES.values())))


def safe_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` as a CSV of dedup's writes it: every string column made safe (:func:`safe_cell`), the
    ``text`` column escaped too (:func:`safe_text`)."""
    return frame.with_columns((safe_text if name == "text" else safe_cell)(pl.col(name)).alias(name)
                              for name, kind in frame.schema.items() if kind == pl.String)


def report_frame(findings: pl.DataFrame, prints: Prints) -> pl.DataFrame:
    # Documents are numbered by their row in prints.docs: ids are gathered, not joined (faster).
    ids = prints.docs["doc_id"]
    return (
        findings.with_columns(doc_id=ids.gather(findings["doc"]), kept_doc=ids.gather(findings["kept_doc"]))
        .select(list(REPORT_SCHEMA))
        .cast(REPORT_SCHEMA)
    )


def write_csv(frame: pl.DataFrame, target: Path) -> None:
    """A CSV of string cells made safe (:func:`safe_cells`), to a file (whole or not at all) or a stream."""
    write_to(target, lambda out: safe_cells(frame).write_csv(out, quote_style="necessary"))


# Rows of the report formatted at a time by one thread.
REPORT_SLICE = 200_000


def write_report(report: pl.DataFrame, target: Path, threads: int = 1,
                 slice_rows: int = REPORT_SLICE) -> None:
    """The report CSV, to a file (whole or not at all) or a stream: cells made safe, similarities
    to 4 places. Slices of at most ``slice_rows`` rows, at least one per thread, are formatted on
    ``threads`` threads (polars runs without the GIL) and written in order, a few at a time so that
    only their text is held."""
    rows = max(1, min(slice_rows, -(-len(report) // threads)))

    def formatted(start: int) -> bytes:
        out = io.BytesIO()
        safe_cells(report.slice(start, rows)).with_columns(similarity=pl.col("similarity").round(4)).write_csv(
            out, quote_style="necessary", include_header=start == 0)
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
