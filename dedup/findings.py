"""Policies that turn matched blocks and documents into findings, and the report they make.

Kinds (DESIGN.md): ``repeat`` (a later copy inside one document), ``boilerplate`` (recurs in at least
``boilerplate_min_docs`` documents of its site; every copy goes), ``duplicate_block`` (also stands in
another document, below that count), ``duplicate_doc`` (the whole document is a copy), and on request
``repetitive_doc`` (a document that repeats itself beyond the limits of :mod:`dedup.docstats`).

Example:
    >>> import polars as pl
    >>> pl.select(safe_text(pl.lit("=SUM(A1)\\tx"))).item()
    "'=SUM(A1)\\\\tx"
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dedup.rules import DROP, KEEP

REPORT_SCHEMA = {
    "doc_id": pl.String, "block": pl.Int32, "start": pl.Int64, "end": pl.Int64, "kind": pl.String,
    "cluster": pl.Int64, "cluster_size": pl.Int64, "similarity": pl.Float64, "kept_doc": pl.String,
    "kept_block": pl.Int32, "action": pl.String, "text": pl.String,
}
KINDS = ("repeat", "boilerplate", "duplicate_block", "duplicate_doc", "repetitive_doc")
# Kinds whose finding is a whole document (its span: the whole text; its block: null).
DOCUMENT_KINDS = ("duplicate_doc", "repetitive_doc")
# Findings before pass 2 fills in ids and text: documents by number.
FINDING_SCHEMA = {
    "doc": pl.Int64, "block": pl.Int32, "start": pl.Int64, "end": pl.Int64, "kind": pl.String,
    "cluster": pl.Int64, "cluster_size": pl.Int64, "similarity": pl.Float64, "kept_doc": pl.Int64,
    "kept_block": pl.Int32, "action": pl.String,
}


def _numbered_clusters(frame: pl.DataFrame, also: pl.Expr | None = None) -> pl.DataFrame:
    """Clusters of more than one member (and single members where ``also``), numbered from 0 in
    order of their first member; ``cluster_size`` is counted unless ``frame`` has it."""
    if "cluster_size" not in frame.columns:
        frame = frame.with_columns(cluster_size=pl.len().over("rep"))
    return (
        frame.filter((pl.col("cluster_size") > 1) | (pl.lit(False) if also is None else also))
        .with_columns(cluster=pl.col("rep").rank("dense").cast(pl.Int64) - 1)
    )


def repetitive_findings(docs: pl.DataFrame, limits: dict[str, float]) -> pl.DataFrame:
    """``repetitive_doc`` rows for documents above any repetition limit (``docs``: doc, chars, stats)."""
    above = pl.any_horizontal([pl.col(name) > limit for name, limit in limits.items()])
    return (
        docs.filter(above)
        .select(
            "doc", block=pl.lit(None, pl.Int32), start=pl.lit(0, pl.Int64), end="chars",
            kind=pl.lit("repetitive_doc"), cluster=pl.lit(None, pl.Int64), cluster_size=pl.lit(None, pl.Int64),
            similarity=pl.lit(None, pl.Float64), kept_doc=pl.lit(None, pl.Int64), kept_block=pl.lit(None, pl.Int32),
            action=pl.lit("remove"),
        )
        .cast(FINDING_SCHEMA)
    )


def document_findings(docs: pl.DataFrame) -> pl.DataFrame:
    """``duplicate_doc`` rows for every member of a document cluster but its representative.

    ``docs``: occurrence, doc, chars, rep (occurrence of the representative), sim.
    """
    clusters = _numbered_clusters(docs)
    rep_doc = clusters.select(pl.col("occurrence").alias("rep"), pl.col("doc").alias("kept_doc"))
    return (
        clusters.filter(pl.col("occurrence") != pl.col("rep"))
        .join(rep_doc, on="rep", how="left")
        .select(
            "doc", block=pl.lit(None, pl.Int32), start=pl.lit(0, pl.Int64), end="chars",
            kind=pl.lit("duplicate_doc"), cluster="cluster", cluster_size="cluster_size",
            similarity="sim", kept_doc="kept_doc", kept_block=pl.lit(None, pl.Int32), action=pl.lit("remove"),
        )
        .cast(FINDING_SCHEMA)
    )


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
    columns = blocks.select("doc", "rep", "site", "occurrence", "block", "chars", "ntok", "site_pages")
    members = columns.filter(shared).select(
        (pl.col("doc").n_unique().over("rep", "site") < min_docs)
        & (pl.col("occurrence") == pl.col("occurrence").sort_by(order).first().over("rep", "doc"))
    ).to_series()
    kept = blocks.select(k=pl.repeat(True, pl.len()) & (pl.lit(1) < min_docs))["k"].scatter(shared.arg_true(), members)
    stays = blocks.select((pl.col("ntok") >= prose_words) & kept & (pl.col("rule") != DROP)).to_series()
    return blocks.select("doc", stays=stays).select(
        (_in_doc(pl.col("stays"), 1) & _in_doc(pl.col("stays"), -1)).fill_null(False)
    ).to_series()


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
    clusters = _numbered_clusters(blocks, also=pl.col("rule") == DROP)
    if clusters.is_empty():
        return pl.DataFrame(schema=FINDING_SCHEMA)
    clusters = clusters.with_columns(own_headline=own_headline(clusters)).with_columns(
        site_docs=pl.col("doc").n_unique().over("cluster", "site"),
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
            "doc", "block", "start", "end", "kind", "cluster", "cluster_size",
            similarity=pl.when(is_repeat).then("repeat_sim").otherwise("sim"),
            kept_doc=pl.when(is_repeat).then("doc").when(pl.col("kind") == "duplicate_block").then("rep_doc"),
            kept_block=pl.when(is_repeat).then("doc_kept_block")
            .when(pl.col("kind") == "duplicate_block").then("rep_block"),
            action=pl.when((pl.col("kind") != "duplicate_block") | drop_duplicate_blocks)
            .then(pl.lit("remove")).otherwise(pl.lit("keep")),
        )
        .cast(FINDING_SCHEMA)
    )


_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"} | {
    chr(c): f"\\x{c:02x}" for c in [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]
}


def safe_text(text: pl.Expr) -> pl.Expr:
    """A report cell: backslash and control characters escaped (a line break becomes ``\\n``), and
    never the start of a spreadsheet formula (a leading ``= + - @`` gets a ``'`` in front)."""
    escaped = text.str.replace_many(list(_ESCAPES), list(_ESCAPES.values()))
    return pl.when(escaped.str.contains(r"^[=+\-@]")).then(pl.lit("'") + escaped).otherwise(escaped)
