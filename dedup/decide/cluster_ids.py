"""Cluster numbers of findings.
"""

from __future__ import annotations

import polars as pl


def numbered_clusters(frame: pl.DataFrame, also: pl.Expr | None = None) -> pl.DataFrame:
    """Clusters of more than one member (and single members where ``also``), numbered from 0 in
    order of their first member; ``cluster_size`` is counted unless ``frame`` has it."""
    if "cluster_size" not in frame.columns:
        frame = frame.with_columns(cluster_size=pl.len().over("rep"))
    return (
        frame.filter((pl.col("cluster_size") > 1) | (pl.lit(False) if also is None else also))
        .with_columns(cluster=pl.col("rep").rank("dense").cast(pl.Int64) - 1)
    )
