"""Within-document repetition statistics, in the spirit of the Gopher quality rules.

Per document: the share of its lines (and of its paragraphs) that repeat an earlier one of the same
document after normalisation, and the share of the document's characters those repeats hold.
``DEFAULT_LIMITS`` are the Gopher paper's thresholds (Rae et al. 2021): a document above any of them
is ``repetitive_doc`` when dropping is asked for.

Example:
    >>> import polars as pl
    >>> docs = pl.DataFrame({"doc": [0], "text": ["a b c\\na b c\\nd e f"]})
    >>> repetition_stats(docs).select("lines", "dup_line_frac").rows()
    [(3, 0.3333)]
"""

from __future__ import annotations

import polars as pl

from dedup.fingerprint.normalise import normalised
from dedup.fingerprint.segment import segment

STATS_SCHEMA = {"doc": pl.Int64, "lines": pl.Int64, "dup_line_frac": pl.Float64, "dup_line_char_frac": pl.Float64,
                "paragraphs": pl.Int64, "dup_para_frac": pl.Float64, "dup_para_char_frac": pl.Float64}


DEFAULT_LIMITS = {"dup_line_frac": 0.30, "dup_para_frac": 0.30, "dup_line_char_frac": 0.20, "dup_para_char_frac": 0.20}


def _unit_stats(docs: pl.DataFrame, unit: str, prefix: str) -> pl.DataFrame:
    blocks = segment(docs, unit).with_columns(
        norm=normalised(pl.col("raw")), chars=pl.col("end") - pl.col("start"))
    repeated = ~pl.col("norm").is_first_distinct().over("doc")
    return blocks.group_by("doc").agg(
        pl.len().alias(f"{prefix}s"),
        (repeated.sum() / pl.len()).alias(f"dup_{prefix}_frac"),
        (pl.col("chars").filter(repeated).sum() / pl.col("chars").sum().clip(1)).alias(f"dup_{prefix}_char_frac"),
    )


def repetition_stats(docs: pl.DataFrame) -> pl.DataFrame:
    """One row per document of ``docs`` (doc, text): counts and duplicate shares (rounded to 4 places)."""
    lines = _unit_stats(docs, "line", "line")
    paras = _unit_stats(docs, "paragraph", "para").rename({"paras": "paragraphs"})
    return (
        docs.select("doc").join(lines, on="doc", how="left").join(paras, on="doc", how="left")
        .fill_null(0)
        .with_columns(pl.col(pl.Float64).round(4))
        .select(list(STATS_SCHEMA))
        .cast(STATS_SCHEMA)
    )
