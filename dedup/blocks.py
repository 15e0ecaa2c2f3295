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
    # Eager steps, not one lazy query: next to another thread's polars work the lazy plan took 1.6x
    # its time alone, the eager steps 1.1x (summed over two threads segmenting batches side by side).
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
    gives on rows grouped by document, without grouping (1.3-1.8x faster segmentation)."""
    return pl.when(pl.col("doc").ne_missing(pl.col("doc").shift(1))).then(column).forward_fill()


# A run of punctuation, symbols and white space, except a lone space (which already reads as one
# space): every word gap would otherwise be a match to replace, three times slower on news text.
_SEPARATOR_RUN = r"[\p{P}\p{S}\s]*[\p{P}\p{S}[^\S ]][\p{P}\p{S}\s]*|\s\s+"


def normalised(raw: pl.Expr) -> pl.Expr:
    """The text a block is compared by: NFKC, lower case, digits to 0, punctuation and symbols to
    spaces, white space collapsed. A block that normalises to nothing (``* * *``) keeps its stripped
    raw text, so it still equals only itself.

    Example: ``"Posted Jan 17, 2019 — by AP"`` -> ``"posted jan 00 0000 by ap"``.
    """
    ascii_only = raw.str.len_bytes() == raw.str.len_chars()
    folded = pl.when(ascii_only).then(raw).otherwise(raw.str.normalize("NFKC")).str.to_lowercase()  # NFKC leaves ASCII as it is
    # Any decimal digit becomes 0; on ASCII lines only 0-9 can be one, and that class is 4x faster.
    zeroed = pl.when(ascii_only).then(folded.str.replace_all("[0-9]", "0")).otherwise(folded.str.replace_all(r"\d", "0"))
    return (
        zeroed
        .str.replace_all(_SEPARATOR_RUN, " ")
        .str.strip_chars()
        .replace("", None)  # written once: a when/then on it would compute it twice
        .fill_null(raw.str.strip_chars())
    )
