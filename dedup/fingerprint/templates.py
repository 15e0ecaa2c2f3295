"""Template frames: short lines that differ only in names, numbers or dates inside a fixed frame.

"Posted 17 Jan 2019 by Ann Lee | 12 comments" and "Posted 3 Feb 2020 by Bo | 1 comment" share the
frame ``posted 0 by 0 0 comments`` after names (runs of capitalised words), month and day names and
numbers become ``0``. Normalisation alone (digits to 0) matches the numbers but not the names, and
near-duplicate matching cannot help: a line of six words that differs in one name shares too few
shingles (measured in benchmarks/RESULTS.md). A frame only counts for boilerplate, never for
duplicates, and only when it is short (at most ``FRAME_MAX_TOKENS`` tokens) and keeps at least as
many plain lower-case words as it masks, so headlines in title case ("Barroso Backs Ban on Naked
CDS" would be ``0 on 0``) have no frame.

Example:
    >>> import polars as pl
    >>> lines = pl.DataFrame({"raw": ["Ann Lee wrote :", "DINO wrote :", "Barroso Backs Ban on Naked CDS"]})
    >>> lines.select(frame_text(pl.col("raw"))).to_series().to_list()
    ['0 wrote', '0 wrote', None]
"""

from __future__ import annotations

import numpy as np
import polars as pl

from dedup.match.clusters import components

FRAME_MAX_TOKENS = 8


_DATE_WORDS = (
    r"(?i:\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:rs(?:day)?)?"
    r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\b\.?)"
)


def frame_text(raw: pl.Expr) -> pl.Expr:
    """The frame of each line: names, dates and numbers as ``0``, punctuation dropped, lower case; null
    when the line has no frame (too long, nothing masked, or more masked runs than plain words)."""
    return _framed(_masked(raw), raw)


def _masked(raw: pl.Expr) -> pl.Expr:
    return (
        raw.str.replace_all(_DATE_WORDS, " 0 ")
        .str.replace_all(r"\b\p{Lu}[\p{L}\p{M}\p{N}'’.-]*", " 0 ")
        .str.replace_all(r"\p{N}+", " 0 ")
        .str.to_lowercase()
        .str.replace_all(r"[\p{P}\p{S}\s]+", " ")
        .str.replace_all(r"\b0(?: 0)+\b", "0")
        .str.strip_chars()
    )


def _framed(masked: pl.Expr, raw: pl.Expr) -> pl.Expr:
    tokens = masked.str.count_matches(" ") + 1
    masks = masked.str.count_matches(r"\b0\b")
    ok = (tokens <= FRAME_MAX_TOKENS) & (masks >= 1) & (tokens - masks >= masks) & (raw.str.len_chars() <= 120)
    return pl.when(ok).then(masked)


def frame_hashes(lines: pl.DataFrame) -> pl.Series:
    """A 64-bit key of each line's :func:`frame_text` (null without a frame), for grouping within one
    run. ``lines`` has raw and ntok (normalised words), best one row per distinct raw text. Masked runs
    collapse, so a frame of ``FRAME_MAX_TOKENS`` can come from up to twice as many words; longer lines
    are not looked at."""
    short = lines.select((pl.col("ntok") <= 2 * FRAME_MAX_TOKENS).alias("short"))["short"]
    # Eager steps, the masked text (used three times) first: a lazy query slows down next to other
    # threads' polars work (see dedup.fingerprint.segment.segment).
    masked = lines.filter(short).select("raw", masked=_masked(pl.col("raw")))
    frame = _framed(pl.col("masked"), pl.col("raw"))
    keys = masked.select(pl.when(frame.is_not_null()).then(frame.hash(seed=0))).to_series()
    return pl.Series("frame", [None] * len(lines), dtype=pl.UInt64).scatter(short.arg_true(), keys)


def join_by_frame(blocks: pl.DataFrame, min_docs: pl.Expr) -> pl.DataFrame:
    """Merge the clusters of lines that share a frame on at least ``min_docs`` documents of their site.

    ``blocks`` has occurrence, doc, site, site_pages, ntok, frame, rep, sim. Clusters with a member in
    such a frame are merged whole, with each other and with the frame's other clusters: "Also in the
    News" and "Also in the news" are one line whose frames differ ("0 in the 0", "0 in the news"), so
    joining members one by one would split them, and a second clean would find the copies that were
    left. Merged blocks get the lowest representative (occurrences are numbered in input order) and a
    null ``sim`` (a frame is not a similarity); everything else is unchanged.
    """
    framed = blocks["frame"].is_not_null()  # an eighth of the lines on the speed corpus: windows over those
    members = blocks.filter(framed).select(
        "rep",
        joined=pl.col("doc").n_unique().over("frame", "site") >= min_docs,
        first=pl.col("occurrence").min().over("frame", "site").cast(pl.UInt32),
    ).filter("joined")
    if members.is_empty():
        return blocks
    rep = blocks["rep"].to_numpy()
    left, right = members["rep"].to_numpy(), rep[members["first"].to_numpy()]
    apart = left != right
    label = components(len(blocks), left[apart], right[apart])  # each rep's lowest rep in its merge
    merged = label[rep]
    return blocks.with_columns(
        rep=pl.Series(merged, dtype=pl.UInt32),
        sim=pl.when(pl.Series(merged != rep) | pl.Series(np.isin(rep, left[apart]) | np.isin(rep, right[apart])))
        .then(pl.lit(None, pl.Float64)).otherwise("sim"),
    )
