"""The review page: one self-contained HTML file to look at what a run found, offline.

The page holds the run's summary, per-site counts, the most frequent boilerplate and three charts
(:mod:`dedup.report.charts`) as HTML, and the findings as JSON that its own script (no library, no
request) lists, filters by kind, site, similarity and words, and pages. For a sample of documents
(:mod:`dedup.report.review`) it also holds the whole text: the document view strikes out each
removed span, labelled with its rule (the report's ``rule`` column when it has one, else its kind),
and the cluster view sets the kept copy beside each removed one, the differing words marked (for
block clusters outside the sample: the findings' first characters beside the kept block's).
Findings beyond MAX_ROWS are sampled evenly, so 100k findings stay well under 20 MB.

Example:
    >>> changed_words("the cat sat", "the dog sat")
    ([(4, 7)], [(4, 7)])
"""

from __future__ import annotations

import difflib
import html
import json
import re
from importlib import resources
from pathlib import Path

import polars as pl

from dedup.config import Config
from dedup.io.publish import write_to
from dedup.io.sources import Source
from dedup.report import charts
from dedup.report.csv import safe_text
from dedup.report.review import Gathered, gather, sample_documents
from dedup.stats import RunStats

# Findings the page lists (beyond: an even sample), and the characters of each one's text it keeps.
MAX_ROWS = 150_000
ROW_TEXT_CHARS = 200
SITES_LISTED = 200
BOILERPLATE_LISTED = 50
_WORD = re.compile(r"\S+")


def write_html(report: pl.DataFrame, sources: list[Source], config: Config, target: Path, *,
               stats: RunStats | None = None, origin: str = "the report", title: str = "dedup review",
               read_back: bool = False, max_docs: int | None = None) -> RunStats:
    """Read ``sources`` once more for texts and sites, and write the page of ``report`` to ``target``
    (a file, whole or not at all, or a stream). ``stats``, a run's own, gives the documents and
    blocks without counting them again. ``read_back``: the report was read from its CSV, whose texts
    are already escaped and similarities rounded; a run's frame is made so here, so that both give
    the same page. ``max_docs``: the documents the page holds whole (default
    :data:`dedup.report.review.MAX_DOCS`). Returns the counts the page shows, as a run's stats."""
    charts.require()
    if not read_back:
        report = report.with_columns(text=safe_text(pl.col("text")), similarity=pl.col("similarity").round(4))
    gathered = gather(report, sources, config, sample_documents(report, max_docs), count_blocks=stats is None,
                      origin=origin)
    if stats is not None:
        gathered.blocks = stats.blocks
    # stdin and DataFrames are read from a copy in the work folder: named as given, not by that copy
    inputs = [str(s.path) if s.name == s.path.name else s.name for s in sources]
    page = render(report, gathered, title=title, inputs=inputs).encode()
    write_to(target, lambda out: out.write(page))
    summary = _summary(report, gathered)
    return RunStats(documents=summary["documents"], blocks=summary["blocks"], findings=summary["by_kind"],
                    chars_removed=summary["chars_removed"], docs_dropped=summary["docs_dropped"])


def changed_words(a: str, b: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Character ranges of the words of ``a`` and of ``b`` that the other does not share, in order
    (adjacent changed words form one range)."""
    words_a, words_b = list(_WORD.finditer(a)), list(_WORD.finditer(b))
    matcher = difflib.SequenceMatcher(None, [w.group() for w in words_a], [w.group() for w in words_b],
                                      autojunk=len(words_b) > 2000)
    ranges_a, ranges_b = [], []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if i2 > i1:
            ranges_a.append((words_a[i1].start(), words_a[i2 - 1].end()))
        if j2 > j1:
            ranges_b.append((words_b[j1].start(), words_b[j2 - 1].end()))
    return ranges_a, ranges_b


def render(report: pl.DataFrame, gathered: Gathered, *, title: str = "dedup review",
           inputs: list[str] = (), max_rows: int = MAX_ROWS) -> str:
    """The page's HTML for ``report`` and what :func:`gather` found; beyond ``max_rows`` findings the
    page lists a sample (counted whole)."""
    has_rule = "rule" in report.columns
    sites = _per_site(report, gathered)
    summary = _summary(report, gathered)
    listed = _listed(report, gathered, max_rows)
    data = _rows(listed, gathered, has_rule, len(report)) | {
        "summary": summary,
        "pairs": _pairs(listed, gathered),
        "has_rule": has_rule,
        "site_list": [s if s is not None else "" for s in sites["site"].head(SITES_LISTED)],
    }
    template = resources.files("dedup.report").joinpath("page.html").read_text(encoding="utf-8")
    parts = {
        "title": html.escape(title),
        "inputs": html.escape(", ".join(inputs)),
        "summary": _summary_html(summary),
        "charts": "".join(f'<figure class="chart">{svg}</figure>' for svg in (
            charts.similarity_svg(report), charts.cluster_sizes_svg(report), charts.boilerplate_svg(sites))),
        "sites": _sites_html(sites),
        "boilerplate": _boilerplate_html(report, has_rule),
        "data": _script_json(data),
    }
    return re.sub(r"<!--@(\w+)-->", lambda m: parts[m.group(1)], template)


def _script_json(data: dict) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<`` can end it early."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _summary(report: pl.DataFrame, gathered: Gathered) -> dict:
    by_kind = dict(sorted(report.group_by("kind").len().iter_rows()))
    dropped = report.filter(pl.col("block").is_null() & (pl.col("action") == "remove"))["doc_id"].n_unique()
    return {"documents": gathered.documents, "blocks": gathered.blocks, "findings": len(report),
            "by_kind": by_kind, "chars_removed": sum(gathered.chars_removed.values()), "docs_dropped": dropped,
            "sites": len(gathered.site_documents), "documents_with_text": len(gathered.texts)}


def _per_site(report: pl.DataFrame, gathered: Gathered) -> pl.DataFrame:
    """One row per site: documents, findings, findings of each kind of the report and characters
    removed, the sites with most findings first."""
    docs = pl.DataFrame({"doc_id": list(gathered.sites), "site": list(gathered.sites.values()),
                         "removed": [gathered.chars_removed.get(d, 0) for d in gathered.sites]},
                        schema={"doc_id": pl.String, "site": pl.String, "removed": pl.Int64})
    kinds = sorted({*report["kind"].unique(), "boilerplate"})  # the boilerplate chart reads its column
    counts = report.select("doc_id", "kind").join(docs.select("doc_id", "site"), on="doc_id", how="left").group_by(
        "site").agg(pl.len().alias("findings"), *((pl.col("kind") == k).sum().alias(k) for k in kinds))
    sizes = pl.DataFrame({"site": list(gathered.site_documents), "documents": list(gathered.site_documents.values())},
                         schema={"site": pl.String, "documents": pl.Int64})
    return (sizes.join(counts, on="site", how="left", nulls_equal=True)
            .join(docs.group_by("site").agg(chars_removed=pl.col("removed").sum()), on="site", how="left",
                  nulls_equal=True)
            .select("site", "documents", "findings", *kinds, "chars_removed")
            .fill_null(0)
            .sort(["findings", "documents", "site"], descending=[True, True, False], nulls_last=True))


def _listed(report: pl.DataFrame, gathered: Gathered, max_rows: int) -> pl.DataFrame:
    """The findings the page lists, with their ``row`` in the report: all of them, or beyond
    ``max_rows`` an even sample and every finding of the documents it holds whole."""
    rows = report.with_row_index("row")
    if len(report) <= max_rows:
        return rows
    step = -(-len(report) // max_rows)
    texts = pl.Series(list(gathered.texts), dtype=pl.String).implode()
    return rows.filter((pl.col("row") % step == 0) | pl.col("doc_id").is_in(texts))


def _rows(rows: pl.DataFrame, gathered: Gathered, has_rule: bool, total: int) -> dict:
    """The ``rows`` listed (of ``total``) as columns of numbers: documents, sites, clusters, kinds,
    actions, texts and rules by their index in a list of each."""
    doc_ids = pl.concat([rows["doc_id"], rows["kept_doc"].drop_nulls()]).unique(maintain_order=True)
    doc_index = {d: i for i, d in enumerate(doc_ids)}
    site_names = sorted({gathered.sites.get(d) or "" for d in doc_ids})
    site_index = {s: i for i, s in enumerate(site_names)}
    strings: dict[str, int] = {}

    def coded(values: list[str | None]) -> list[int]:
        return [-1 if v is None else strings.setdefault(v, len(strings)) for v in values]

    cluster_index: dict[int, int] = {}  # 63-bit ids would lose digits as JavaScript numbers
    kinds = sorted(rows["kind"].unique())
    actions = sorted(rows["action"].unique())
    columns = {
        "doc": [doc_index[d] for d in rows["doc_id"]],
        "block": rows["block"].fill_null(-1).to_list(),
        "start": rows["start"].to_list(),
        "end": rows["end"].to_list(),
        "kind": [kinds.index(k) for k in rows["kind"]],
        "cluster": [-1 if c is None else cluster_index.setdefault(c, len(cluster_index)) for c in rows["cluster"]],
        "size": rows["cluster_size"].fill_null(0).to_list(),
        "sim": [None if s is None else round(s, 4) for s in rows["similarity"]],
        "kept_doc": [-1 if d is None else doc_index[d] for d in rows["kept_doc"]],
        "kept_block": rows["kept_block"].fill_null(-1).to_list(),
        "action": [actions.index(a) for a in rows["action"]],
        "text": coded(rows["text"].str.slice(0, ROW_TEXT_CHARS).to_list()),
    }
    if has_rule:
        columns["rule"] = coded(rows["rule"].to_list())
    kept = pl.DataFrame({"kept_doc": [d for d, _ in gathered.kept_blocks],
                         "kept_block": [b for _, b in gathered.kept_blocks],
                         "kept_text": [text for _, _, text in gathered.kept_blocks.values()]},
                        schema={"kept_doc": pl.String, "kept_block": pl.Int32, "kept_text": pl.String})
    kept_texts = rows.select("kept_doc", "kept_block").join(kept, on=["kept_doc", "kept_block"], how="left",
                                                             maintain_order="left")
    columns["kept_text"] = coded(kept_texts.select(
        safe_text(pl.col("kept_text")).str.slice(0, ROW_TEXT_CHARS).alias("kept_text"))["kept_text"].to_list())
    return {"rows": columns, "row_numbers": rows["row"].to_list() if len(rows) < total else None,
            "rows_total": total, "row_text_chars": ROW_TEXT_CHARS, "clusters": [str(c) for c in cluster_index],
            "kinds": kinds, "actions": actions, "docs": doc_ids.to_list(),
            "doc_site": [site_index[gathered.sites.get(d) or ""] for d in doc_ids], "sites": site_names,
            "strings": list(strings),
            "texts": {str(doc_index[d]): t for d, t in gathered.texts.items() if d in doc_index}}


def _pairs(rows: pl.DataFrame, gathered: Gathered) -> dict[str, list]:
    """For each listed finding (by its place among ``rows``) whose copy and kept copy the page holds
    whole: the kept copy's span and the changed words of both, ``[kept_start, kept_end,
    kept_changes, changes]`` (changes flat, offsets into each document's text)."""
    texts = gathered.texts
    held = pl.Series(list(texts), dtype=pl.String).implode()
    pairs = {}
    for row in rows.with_row_index("at").filter(pl.col("doc_id").is_in(held) & pl.col("kept_doc").is_in(held)).iter_rows(
            named=True):
        text, kept_text = texts[row["doc_id"]], texts[row["kept_doc"]]
        if row["block"] is None:
            kept_span = (0, len(kept_text))
        elif (block := gathered.kept_blocks.get((row["kept_doc"], row["kept_block"]))) is not None:
            kept_span = block[:2]
        else:
            continue
        start, end = row["start"], row["end"]
        kept_changes, changes = changed_words(kept_text[kept_span[0]:kept_span[1]], text[start:end])
        pairs[str(row["at"])] = [*kept_span, [o + kept_span[0] for r in kept_changes for o in r],
                                 [o + start for r in changes for o in r]]
    return pairs


def _summary_html(summary: dict) -> str:
    cards = [("documents", summary["documents"]), ("blocks", summary["blocks"]), ("findings", summary["findings"]),
             *summary["by_kind"].items(), ("characters removed", summary["chars_removed"]),
             ("documents dropped", summary["docs_dropped"]), ("sites", summary["sites"])]
    return "".join(f'<div class="card"><b data-count="{html.escape(name)}">{value:,}</b>{html.escape(name)}</div>'
                   for name, value in cards)


def _sites_html(sites: pl.DataFrame) -> str:
    names = ["characters removed" if c == "chars_removed" else c.replace("_", " ") for c in sites.columns]
    head = "<tr>" + "".join(f"<th>{html.escape(n)}</th>" for n in names) + "</tr>"
    body = "".join(
        f"<tr><td>{html.escape(site) if site is not None else '<i>(no site)</i>'}</td>"
        + "".join(f"<td>{n:,}</td>" for n in numbers) + "</tr>"
        for site, *numbers in sites.head(SITES_LISTED).iter_rows())
    more = f'<p class="note">{len(sites) - SITES_LISTED:,} more sites not listed.</p>' if len(sites) > SITES_LISTED else ""
    return f'<table class="grid" id="site-table">{head}{body}</table>{more}'


def _boilerplate_html(report: pl.DataFrame, has_rule: bool) -> str:
    found = report.filter(pl.col("kind") == "boilerplate")
    if found.is_empty():
        return '<p class="note">No boilerplate in this report.</p>'
    top = (found.group_by("cluster").agg(copies=pl.len(), documents=pl.col("doc_id").n_unique(),
                                          rule=pl.col("rule").first() if has_rule else pl.lit(""),
                                          text=pl.col("text").first())
           .sort(["copies", "cluster"], descending=[True, False]).head(BOILERPLATE_LISTED))
    head = f"<tr><th>copies</th><th>documents</th>{'<th>rule</th>' if has_rule else ''}<th>text</th></tr>"
    body = "".join(
        f"<tr><td>{n:,}</td><td>{d:,}</td>" + (f"<td>{html.escape(r or '')}</td>" if has_rule else "")
        + f"<td class=\"text\">{html.escape(t or '')}</td></tr>"
        for n, d, r, t in top.select("copies", "documents", "rule", "text").iter_rows())
    return f'<table class="grid" id="boilerplate-table">{head}{body}</table>'
