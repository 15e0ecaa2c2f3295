"""Segmentation of documents into blocks with exact character spans, and block normalisation.

A block is a non-empty line (``unit="line"``) or a run of non-empty lines between blank lines
(``unit="paragraph"``). ``start``/``end`` are Python ``str`` offsets into the document's text,
end exclusive, without the line break (a ``\\r`` before the ``\\n`` is not part of the block).
Only ``\\n`` ends a line. All work is columnar (polars); there is no Python loop per block.

Example:
    >>> import polars as pl
    >>> docs = pl.DataFrame({"doc": [0], "text": ["Hello\\n\\nHello again\\r\\n"]})
    >>> segment(docs, "line").select("block", "start", "end").rows()
    [(0, 0, 5), (1, 7, 18)]
"""

from __future__ import annotations

import polars as pl

BLOCK_SCHEMA = {"doc": pl.Int64, "block": pl.Int32, "start": pl.Int64, "end": pl.Int64, "raw": pl.String}


def segment(docs: pl.DataFrame, unit: str) -> pl.DataFrame:
    """Blocks of ``docs`` (columns ``doc``, ``text``; rows of a document together): one row per block
    with doc, block, start, end, raw.

    ``raw`` is the block's text as it stands in the document (``text[start:end]``).
    """
    # Eager steps, not one lazy query: next to another thread's polars work a lazy plan slows down far
    # more than eager steps do (benchmarks/RESULTS.md).
    lines = docs.select("doc", pl.col("text").str.split("\n").alias("raw")).explode("raw")
    lines = lines.with_columns(width=pl.col("raw").str.len_chars().cast(pl.Int64))
    lines = lines.with_columns(offset=(pl.col("width") + 1).cum_sum() - pl.col("width") - 1)  # in all the batch's text
    lines = lines.with_columns(start=pl.col("offset") - _at_document_start(pl.col("offset")),
                               blank=pl.col("raw").str.strip_chars().str.len_chars() == 0)
    if unit == "paragraph":
        lines = (
            lines.with_columns(para=pl.col("blank").cum_sum())  # numbers paragraphs across documents
            .filter(~pl.col("blank"))
            .group_by("doc", "para", maintain_order=True)
            .agg(pl.col("start").first(), pl.col("raw").str.join("\n"))
        )
    else:
        lines = lines.filter(~pl.col("blank"))
    row = pl.int_range(pl.len(), dtype=pl.Int32)
    lines = lines.with_columns(raw=pl.col("raw").str.strip_suffix("\r"))
    lines = lines.with_columns(end=pl.col("start") + pl.col("raw").str.len_chars(), block=row - _at_document_start(row))
    return lines.select(list(BLOCK_SCHEMA)).cast(BLOCK_SCHEMA)


def _at_document_start(column: pl.Expr) -> pl.Expr:
    """``column``'s value at the first row of each row's document: what ``column.first().over("doc")``
    gives on rows grouped by document, without grouping (faster)."""
    return pl.when(pl.col("doc").ne_missing(pl.col("doc").shift(1))).then(column).forward_fill()
