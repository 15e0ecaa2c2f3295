"""Policies that turn matched blocks into findings: ``repeat`` (a later copy inside one document),
``boilerplate`` (recurs in enough documents of its site; every copy goes) and ``duplicate_block``
(also stands in another document, below that count), with the protections of content.

Example:
    >>> import polars as pl
    >>> sites = pl.DataFrame({"site_pages": [10, 100, 100], "ntok": [3, 3, 40]})
    >>> sites.select(boilerplate_min_docs(None, prose_words=20)).to_series().to_list()
    [2, 5, 50]
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dedup.decide.cluster_ids import numbered_clusters, packed
from dedup.fingerprint.rules import DROP, KEEP
from dedup.schemas import FINDING_SCHEMA


def boilerplate_min_docs(fixed: int | None, prose_words: int) -> pl.Expr:
    """How many documents of its site a block must stand in to be boilerplate (over columns
    ``site_pages`` and ``ntok``).

    - Adaptive (``fixed`` None): ``max(2, ceil(sqrt(pages) / 2))``: 2 on a site of up to 16 pages, 5 at
      100, 50 at 10,000. On a small site two pages sharing a line is strong evidence of a template; on
      a large one, a handful of pages can share a quotation or a headline.
    - Content protection: a block of at least ``prose_words`` words reads as prose, and prose shared
      by a few pages is usually quoted content, so it must stand in at least half of its site's pages,
      and in at least 3 documents (two pages sharing a paragraph are a quotation, not a template).
    """
    count = pl.lit(fixed) if fixed is not None else pl.max_horizontal(
        pl.lit(2), (pl.col("site_pages").sqrt() / 2).ceil().cast(pl.Int64))
    half = (pl.col("site_pages") / 2).ceil().cast(pl.Int64)
    return pl.when(pl.col("ntok") >= prose_words).then(pl.max_horizontal(count, half, pl.lit(3))).otherwise(count)


def in_running_prose(blocks: pl.DataFrame, prose_words: int, min_docs: pl.Expr, order: list[pl.Expr]) -> pl.Series:
    """Whether each block stands between two blocks of prose that stay, in its document (``blocks``:
    every block of each document, in order, with occurrence, doc, block, chars, ntok, rep, cluster_size
    (members of its cluster), rule, site, site_pages).

    Content protection: a line in the middle of an article's running text is part of that text, even
    when other pages of the site carry it too (a quoted paragraph, a teaser of another story).
    Template lines sit among other template lines: menus, bylines, link lists, footers. A neighbour
    counts when it has at least ``prose_words`` words and nothing removes it: it is not boilerplate by
    its count (``min_docs``), not a later copy inside its document (``order`` picks the kept copy), and
    no drop rule matches it. So cleaning leaves the protected line between the same neighbours, and a
    second clean protects it again.
    """
    # Windows over the blocks that share their cluster only (a quarter to a third of them, measured on
    # the speed corpus): a block alone in its cluster stands in one document and is its only copy.
    shared = blocks["cluster_size"] > 1
    columns = blocks.select("doc", "rep", "site", "occurrence", "block", "chars", "ntok", "site_pages",
                            _earlier_docs(blocks))
    members = columns.filter(shared).select(
        (pl.col("doc").n_unique().over("rep", "site") + pl.col("earlier_docs") < min_docs)
        & (pl.col("occurrence") == pl.col("occurrence").sort_by(order).first().over("rep", "doc"))
    ).to_series()
    kept = blocks.select(k=pl.repeat(True, pl.len()) & (pl.lit(1) < min_docs))["k"].scatter(shared.arg_true(), members)
    stays = blocks.select((pl.col("ntok") >= prose_words) & kept & (pl.col("rule") != DROP)).to_series()
    return blocks.select("doc", stays=stays).select(
        (_in_doc(pl.col("stays"), 1) & _in_doc(pl.col("stays"), -1)).fill_null(False)
    ).to_series()


def _earlier_docs(blocks: pl.DataFrame) -> pl.Expr:
    """Documents of earlier batches of the site holding the block's cluster (``earlier_docs``, set by a
    run against an index, :mod:`dedup.index.run`); none otherwise."""
    return pl.col("earlier_docs") if "earlier_docs" in blocks.columns else pl.lit(0, pl.Int64).alias("earlier_docs")


def _in_doc(column: pl.Expr, by: int) -> pl.Expr:
    """``column`` shifted by ``by`` rows, null where that crosses into another document: the same as
    ``shift(by).over("doc")`` on rows sorted by document, without grouping."""
    return pl.when(pl.col("doc").shift(by) == pl.col("doc")).then(column.shift(by))


HEADLINE_WORDS = 4


def own_headline(clusters: pl.DataFrame) -> pl.Series:
    """Whether an occurrence of a recurring block is its page's own headline rather than a copy in a
    template (``clusters`` has cluster, doc, site, ntok, in_prose (:func:`in_running_prose`), and
    before/after: the items of the blocks either side of it in its document).

    A link list ("Recent posts", "Most read") repeats the titles of a site's stories on many pages,
    always among the same neighbours; on the story's own page the title stands among that page's own
    lines. So: an occurrence of at least ``HEADLINE_WORDS`` words whose neighbours on *both* sides are
    shared with no other document of its cluster, when exactly one document of the site has such an
    occurrence (a story has one page) and at least two share a neighbour (a template exists). Shorter
    lines ("Search", "« Previous") are navigation, whatever stands next to them.
    """
    copy = ~pl.col("in_prose")  # a copy in running prose is that page's text, not a template copy
    in_template = clusters.select(
        copy & ((pl.col("doc").filter(copy).n_unique().over("cluster", "before") >= 2)
                | (pl.col("doc").filter(copy).n_unique().over("cluster", "after") >= 2))
    ).to_series()
    # Computed in steps: a window inside another window's expression is evaluated once per group.
    steps = clusters.select("cluster", "site", "doc", inside=in_template,
                            outside=~in_template & (pl.col("ntok") >= HEADLINE_WORDS))
    return steps.select(
        pl.col("outside")
        & (pl.col("doc").filter("outside").n_unique().over("cluster", "site") == 1)
        & (pl.col("doc").filter("inside").n_unique().over("cluster", "site") >= 2)
    ).to_series()


def block_findings(blocks: pl.DataFrame, similarity, min_repeat_chars: int, min_docs: pl.Expr,
                   drop_duplicate_blocks: bool, keep: str, prose_words: int) -> pl.DataFrame:
    """Findings for blocks of the documents that stay.

    ``blocks``: occurrence (row number), doc, block, start, end, chars, ntok, site, site_pages, item, rep,
    sim, rule: every block of each document, in order. ``min_docs`` gives the boilerplate count (see
    :func:`boilerplate_min_docs`); :func:`in_running_prose` and :func:`own_headline` protect content.
    ``similarity(items_a, items_b)`` compares items (to report a repeat's similarity to its kept copy).
    """
    order = [pl.col("block")] if keep == "first" else [-pl.col("chars"), pl.col("block")]
    rep = blocks["rep"].to_numpy()
    blocks = blocks.with_columns(cluster_size=pl.Series(np.bincount(rep)[rep], dtype=pl.UInt32))  # 8x a window
    blocks = blocks.with_columns(in_prose=in_running_prose(blocks, prose_words, min_docs, order),
                                 before=_in_doc(pl.col("item"), 1), after=_in_doc(pl.col("item"), -1))
    clusters = numbered_clusters(blocks, also=pl.col("rule") == DROP)
    if clusters.is_empty():
        return pl.DataFrame(schema=FINDING_SCHEMA)
    clusters = clusters.with_columns(own_headline=own_headline(clusters)).with_columns(
        site_docs=pl.col("doc").n_unique().over("cluster", "site") + _earlier_docs(clusters),
        doc_kept=pl.col("occurrence").sort_by(order).first().over("cluster", "doc"),
    )
    rep = clusters.select(
        pl.col("occurrence").alias("rep"), pl.col("doc").alias("rep_doc"), pl.col("block").alias("rep_block"),
        pl.col("item").alias("rep_item"))
    kept = clusters.select(
        pl.col("occurrence").alias("doc_kept"), pl.col("block").alias("doc_kept_block"),
        pl.col("item").alias("doc_kept_item"))
    clusters = clusters.join(rep, on="rep", how="left").join(kept, on="doc_kept", how="left")
    kind = (
        pl.when(pl.col("rule") == KEEP).then(pl.lit(None, pl.String))
        .when((pl.col("rule") == DROP)
              | ((pl.col("site_docs") >= min_docs) & ~pl.col("in_prose") & ~pl.col("own_headline")))
        .then(pl.lit("boilerplate"))
        .when(pl.col("occurrence") != pl.col("doc_kept"))
        .then(pl.when(pl.col("chars") >= min_repeat_chars).then(pl.lit("repeat")))
        .when(pl.col("doc") != pl.col("rep_doc")).then(pl.lit("duplicate_block"))
    )
    flagged = clusters.with_columns(kind=kind).filter(pl.col("kind").is_not_null())
    is_repeat = pl.col("kind") == "repeat"
    repeat_sim = similarity(flagged["item"].to_numpy(), flagged["doc_kept_item"].to_numpy())
    return (
        flagged.with_columns(repeat_sim=pl.Series(repeat_sim, dtype=pl.Float64))
        .select(
            "doc", "block", "start", "end", "kind", packed(pl.col("rep_doc"), pl.col("rep_block")).alias("cluster"),
            "cluster_size",
            similarity=pl.when(is_repeat).then("repeat_sim").otherwise("sim"),
            kept_doc=pl.when(is_repeat).then("doc").when(pl.col("kind") == "duplicate_block").then("rep_doc"),
            kept_block=pl.when(is_repeat).then("doc_kept_block")
            .when(pl.col("kind") == "duplicate_block").then("rep_block"),
            action=pl.when((pl.col("kind") != "duplicate_block") | drop_duplicate_blocks)
            .then(pl.lit("remove")).otherwise(pl.lit("keep")),
        )
        .cast(FINDING_SCHEMA)
    )
