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


def prose_that_stays(blocks: pl.DataFrame, prose_words: int, min_docs: pl.Expr, order: list[pl.Expr]) -> pl.Series:
    """Whether each block is prose that nothing removes (``blocks``: every block of each document, in
    order, with occurrence, doc, block, chars, ntok, rep, cluster_size (members of its cluster), rule,
    site, site_pages): at least ``prose_words`` words, not boilerplate by its count (``min_docs``), not
    a later copy inside its document (``order`` picks the kept copy), and no drop rule matches it.
    The protections below look at such neighbours, so cleaning leaves a protected line between the
    same neighbours, and a second clean protects it again."""
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
    return blocks.select((pl.col("ntok") >= prose_words) & kept & (pl.col("rule") != DROP)).to_series()


def in_running_prose(blocks: pl.DataFrame, stays: pl.Series) -> pl.Series:
    """Whether each block stands between two blocks of prose that stay (``stays``:
    :func:`prose_that_stays`), in its document (``blocks`` has doc, in document order).

    Content protection: a line in the middle of an article's running text is part of that text, even
    when other pages of the site carry it too (a quoted paragraph, a teaser of another story).
    Template lines sit among other template lines: menus, bylines, link lists, footers.
    """
    return blocks.select("doc", stays=stays).select(
        (_in_doc(pl.col("stays"), 1) & _in_doc(pl.col("stays"), -1)).fill_null(False)
    ).to_series()


def _earlier_docs(blocks: pl.DataFrame) -> pl.Expr:
    """Documents of earlier batches of the site holding the block's cluster (``earlier_docs``, set by a
    run against an index, :mod:`dedup.index.run`); none otherwise."""
    return pl.col("earlier_docs") if "earlier_docs" in blocks.columns else pl.lit(0, pl.Int64).alias("earlier_docs")


def in_short_run(blocks: pl.DataFrame, stays: pl.Series, order: list[pl.Expr], prose_words: int) -> pl.Series:
    """Whether each block is a later copy, inside its document, in a run of short lines: with no prose
    that stays (``stays``: :func:`prose_that_stays`) on either side, or next to another later copy
    shorter than ``prose_words`` words (``blocks``: every block of each document, in order, with
    occurrence, doc, rep, ntok).

    A menu printed in a page's header and again in its footer repeats a run of short lines ("Home",
    "|", "Business"): each is below ``--min-repeat-chars``, but among other short lines, or next to
    the rest of the run printed again, it is the menu, not text. A short line repeated in running
    prose ("Yes.") has prose beside it and stays.
    """
    # Windows over the blocks that share their cluster only: the others have no copy at all.
    shared = blocks["cluster_size"] > 1
    later = _scattered(shared, blocks.filter(shared).select(
        pl.col("occurrence") != pl.col("occurrence").sort_by(order).first().over("rep", "doc")).to_series())
    steps = blocks.select("doc", later=later, stays=stays, short_later=later & (blocks["ntok"] < prose_words))
    prose_beside = _in_doc(pl.col("stays"), 1).fill_null(False) | _in_doc(pl.col("stays"), -1).fill_null(False)
    copy_beside = _in_doc(pl.col("short_later"), 1).fill_null(False) | _in_doc(pl.col("short_later"), -1).fill_null(False)
    return steps.select(pl.col("later") & (~prose_beside | copy_beside)).to_series()


HEADLINE_WORDS = 4


def page_menu(blocks: pl.DataFrame, stays: pl.Series, prose_words: int) -> pl.Series:
    """Whether each block is a short line printed more than once in its document, every time in a run
    of short lines: no prose that stays (``stays``: :func:`prose_that_stays`) on either side, or next
    to another such repeated short line (``blocks``: every block of each document, in order, with doc,
    rep, ntok).

    A menu printed in the header and again in the footer is page furniture in both places: the first
    printing is no more the page's text than the second. A line repeated in running prose ("Yes.")
    has prose beside it in one place at least, and is not a menu.
    """
    # Windows over the short lines that share their cluster only (the others cannot repeat).
    short = (blocks["cluster_size"] > 1) & (blocks["ntok"] < HEADLINE_WORDS)
    repeated = _scattered(short, blocks.filter(short).select(pl.len().over("rep", "doc") > 1).to_series())
    steps = blocks.select("doc", repeated=repeated, stays=stays)
    prose_beside = _in_doc(pl.col("stays"), 1).fill_null(False) | _in_doc(pl.col("stays"), -1).fill_null(False)
    copy_beside = _in_doc(pl.col("repeated"), 1).fill_null(False) | _in_doc(pl.col("repeated"), -1).fill_null(False)
    in_run = steps.select(~prose_beside | copy_beside).to_series()
    copies = blocks.select("rep", "doc", in_run=in_run).filter(repeated)
    return _scattered(repeated, copies.select(pl.col("in_run").all().over("rep", "doc")).to_series())


def _scattered(where: pl.Series, values: pl.Series) -> pl.Series:
    """``values`` at the rows where ``where`` holds, False elsewhere."""
    return pl.repeat(False, len(where), eager=True).scatter(where.arg_true(), values)


def _in_doc(column: pl.Expr, by: int) -> pl.Expr:
    """``column`` shifted by ``by`` rows, null where that crosses into another document: the same as
    ``shift(by).over("doc")`` on rows sorted by document, without grouping."""
    return pl.when(pl.col("doc").shift(by) == pl.col("doc")).then(column.shift(by))


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
    """Findings for blocks of the documents that stay, each with its ``rule``.

    ``blocks``: occurrence (row number), doc, block, start, end, chars, ntok, site, site_pages, item, rep,
    sim (null for lines joined by a template frame), rule: every block of each document, in order.
    ``min_docs`` gives the boilerplate count (see :func:`boilerplate_min_docs`); :func:`in_running_prose`
    and :func:`own_headline` protect content, and a copy they keep while others of its site go gets a
    ``boilerplate`` row with action ``keep`` naming the protection. :func:`in_short_run` makes short
    repeats of a menu repeats. A repeat's kept copy is the first copy of its document that stays.
    ``similarity(items_a, items_b)`` compares items (to report a repeat's similarity to its kept copy).
    """
    order = [pl.col("block")] if keep == "first" else [-pl.col("chars"), pl.col("block")]
    rep = blocks["rep"].to_numpy()
    blocks = blocks.with_columns(cluster_size=pl.Series(np.bincount(rep)[rep], dtype=pl.UInt32))  # 8x a window
    stays = prose_that_stays(blocks, prose_words, min_docs, order)
    blocks = blocks.with_columns(in_prose=in_running_prose(blocks, stays), in_menu=in_short_run(blocks, stays, order, prose_words),
                                 page_menu=page_menu(blocks, stays, prose_words),
                                 before=_in_doc(pl.col("item"), 1), after=_in_doc(pl.col("item"), -1))
    clusters = numbered_clusters(blocks, also=pl.col("rule") == DROP)
    if clusters.is_empty():
        return pl.DataFrame(schema=FINDING_SCHEMA)
    clusters = clusters.with_columns(own_headline=own_headline(clusters)).with_columns(
        site_docs=pl.col("doc").n_unique().over("cluster", "site") + _earlier_docs(clusters), need=min_docs)
    by_count = (pl.col("site_docs") >= pl.col("need")) & (pl.col("rule") != KEEP)
    protected = by_count & (pl.col("rule") != DROP) & (pl.col("in_prose") | pl.col("own_headline"))
    removed = (pl.col("rule") == DROP) | (by_count & ~protected) | (pl.col("page_menu") & (pl.col("rule") != KEEP))
    # The copy a document keeps: its first (by ``order``) that is not removed as boilerplate, or a
    # removed one when none stays (then it keeps none).
    rank = pl.col("block").cast(pl.Int64) if keep == "first" else (
        pl.col("block").cast(pl.Int64) - pl.col("chars").cast(pl.Int64) * (1 << 32))
    clusters = clusters.with_columns(bp=removed, protected=protected, by_count=by_count).with_columns(
        doc_kept=pl.col("occurrence").sort_by(rank + pl.col("bp").cast(pl.Int64) * (1 << 62)).first()
        .over("cluster", "doc"))
    rep = clusters.select(
        pl.col("occurrence").alias("rep"), pl.col("doc").alias("rep_doc"), pl.col("block").alias("rep_block"))
    kept = clusters.select(
        pl.col("occurrence").alias("doc_kept"), pl.col("block").alias("doc_kept_block"),
        pl.col("item").alias("doc_kept_item"), (~pl.col("bp")).alias("kept_stays"))
    clusters = clusters.join(rep, on="rep", how="left").join(kept, on="doc_kept", how="left")
    later = pl.col("kept_stays") & (pl.col("occurrence") != pl.col("doc_kept"))
    repeat = later & ((pl.col("chars") >= min_repeat_chars) | pl.col("in_menu")) & (pl.col("rule") != KEEP)
    clusters = clusters.with_columns(site_bp=pl.col("bp").any().over("cluster", "site"),
                                     site_repeat=repeat.any().over("cluster", "site"))
    kind = (
        pl.when(pl.col("bp")).then(pl.lit("boilerplate"))
        .when(repeat).then(pl.lit("repeat"))
        # a copy that stays while others of its site go: reported, with what kept it (a document's
        # kept copy of its repeats is named by their rows)
        .when(pl.col("site_bp") | (pl.col("site_repeat") & later)).then(pl.lit("kept"))
        .when(pl.col("rule") == KEEP).then(pl.lit(None, pl.String))
        .when(later).then(pl.lit(None, pl.String))
        .when(pl.col("doc") != pl.col("rep_doc")).then(pl.lit("duplicate_block"))
    )
    flagged = clusters.with_columns(kind=kind).filter(pl.col("kind").is_not_null())
    is_kept = pl.col("kind") == "kept"
    is_repeat = (pl.col("kind") == "repeat") | (is_kept & ~pl.col("site_bp"))
    repeat_sim = similarity(flagged["item"].to_numpy(), flagged["doc_kept_item"].to_numpy())
    flagged = flagged.with_columns(pages=pl.format("site {} of {} pages", "site_docs", "site_pages"))
    pages = pl.col("pages")
    rule = (
        pl.when(pl.col("rule") == DROP).then(pl.lit("drop-file"))
        .when(is_kept).then(
            pl.when(pl.col("rule") == KEEP).then(pl.lit("kept: keep-file"))
            .when("in_prose").then("kept: running prose, " + pages)
            .when("own_headline").then("kept: own headline, " + pages)
            .when(pl.col("chars") < min_repeat_chars).then(pl.lit(f"kept: repeat under {min_repeat_chars} chars"))
            .otherwise("kept: " + pages))
        .when((pl.col("kind") == "boilerplate") & ~pl.col("by_count"))
        .then(pl.format("menu printed {} times in the page", pl.len().over("cluster", "doc")))
        .when(pl.col("kind") == "boilerplate")
        .then(pl.when(pl.col("sim").is_null()).then("template frame, " + pages).otherwise(pages))
        .when(is_repeat).then(
            pl.when(pl.col("repeat_sim") >= 1.0).then(pl.lit("repeat exact"))
            .otherwise(pl.format("repeat near {}", pl.col("repeat_sim").round(2)))
            + pl.when(pl.col("chars") < min_repeat_chars).then(pl.lit(", among short lines")).otherwise(pl.lit("")))
        .otherwise(pages + ", below " + pl.col("need").cast(pl.String))
    )
    return (
        flagged.with_columns(repeat_sim=pl.Series(repeat_sim, dtype=pl.Float64))
        .select(
            "doc", "block", "start", "end",
            kind=pl.when(is_kept).then(pl.when("site_bp").then(pl.lit("boilerplate")).otherwise(pl.lit("repeat")))
            .otherwise("kind"),
            cluster=packed(pl.col("rep_doc"), pl.col("rep_block")), cluster_size="cluster_size",
            similarity=pl.when(is_repeat).then("repeat_sim").otherwise("sim"),
            kept_doc=pl.when(is_repeat).then("doc").when(pl.col("kind") == "duplicate_block").then("rep_doc"),
            kept_block=pl.when(is_repeat).then("doc_kept_block")
            .when(pl.col("kind") == "duplicate_block").then("rep_block"),
            action=pl.when(is_kept | ((pl.col("kind") == "duplicate_block") & (not drop_duplicate_blocks)))
            .then(pl.lit("keep")).otherwise(pl.lit("remove")),
            rule=rule,
        )
        .cast(FINDING_SCHEMA)
    )
