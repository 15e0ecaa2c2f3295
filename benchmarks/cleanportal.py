"""Boilerplate removal on CleanPortalEval: recall of recurring boilerplate, content lost, precision.

Runs ``dedup.scan`` over ``cleanportaleval/corpus.jsonl`` with ``site_field="site"`` (defaults
otherwise). A labelled line (labels.csv: id, block = 0-based line index, label, chars) counts as
removed when a report row of kind repeat, boilerplate or duplicate_block with action ``remove`` covers
its span (line spans come from splitting the page text on "\\n"), i.e. what ``dedup clean`` would cut.
Pages dropped whole as ``duplicate_doc`` are not counted as removals (their lines are not reported).

Figures, overall and per site:
  (a) recall of boilerplate lines that recur on another page of their site or within their page
      ("recur": equal after NFKC, lower case and white space collapsed -- the definition stats.txt
      uses; the script checks its counts against stats.txt), and recall of all boilerplate lines;
  (b) share of content characters removed;
  (c) precision of the removed lines, by count and by characters.
The same run scores the naive rule "remove every line seen (exact stripped text) on two pages of a
site, and later copies within a page" as a baseline.

    python benchmarks/cleanportal.py [--eval-dir DIR] [--boilerplate-min-docs 2 ...]

Extra ``--option=value`` (or ``--option value``) pairs are passed to ``dedup.scan``.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import re
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

from _common import DEFAULT_EVAL, dedup, describe_dedup, parse_extra

REMOVING_KINDS = ("repeat", "boilerplate", "duplicate_block")


def stats_key(line: str) -> str:
    """The equality stats.txt counts recurrence with: NFKC, lower case, white space collapsed."""
    return " ".join(unicodedata.normalize("NFKC", line).lower().split())


def load(eval_dir: Path):
    pages = []
    with open(eval_dir / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            pages.append(json.loads(line))
    labels = {}
    with open(eval_dir / "labels.csv", newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            labels[(r["id"], int(r["block"]))] = (r["label"], int(r["chars"]))
    return pages, labels


def lines_of(pages, labels):
    """Every labelled line: (page id, site, index, start, end, stripped text, label, chars)."""
    out = []
    for page in pages:
        at = 0
        for i, line in enumerate(page["text"].split("\n")):
            if (page["id"], i) in labels:
                label, chars = labels[(page["id"], i)]
                out.append((page["id"], page["site"], i, at, at + len(line), line, label, chars))
            at += len(line) + 1
    return out


def recurrence(lines, key):
    """Per line: (recurs on another page of its site, recurs within its page), lines compared by ``key``."""
    pages_with = defaultdict(set)
    in_page = Counter()
    for pid, site, _, _, _, text, _, _ in lines:
        k = key(text)
        pages_with[(site, k)].add(pid)
        in_page[(pid, k)] += 1
    return [
        (len(pages_with[(site, key(text))]) > 1, in_page[(pid, key(text))] > 1)
        for pid, site, _, _, _, text, _, _ in lines
    ]


def naive_removed(lines):
    """Baseline: lines whose stripped text is on >= 2 pages of the site, and later copies within a page."""
    pages_with = defaultdict(set)
    for pid, site, _, _, _, text, _, _ in lines:
        pages_with[(site, text.strip())].add(pid)
    seen, removed = set(), []
    for pid, site, _, _, _, text, _, _ in lines:
        k = text.strip()
        removed.append(len(pages_with[(site, k)]) >= 2 or (pid, k) in seen)
        seen.add((pid, k))
    return removed


def dedup_removed(lines, report):
    """Lines covered by a removing report row (repeat / boilerplate / duplicate_block with action remove)."""
    rows = report.filter(report["kind"].is_in(REMOVING_KINDS) & (report["action"] == "remove"))
    spans = defaultdict(list)
    for doc_id, start, end in rows.select("doc_id", "start", "end").iter_rows():
        spans[doc_id].append((start, end))
    for v in spans.values():
        v.sort()
    removed = []
    for pid, _, _, start, end, _, _, _ in lines:
        v = spans.get(pid, [])
        # a covering span starts at or before ``start``: look at the last few that do
        k = bisect.bisect_right(v, (start, float("inf")))
        removed.append(any(s <= start and e >= end for s, e in v[max(0, k - 8) : k]))
    return removed


def figures(lines, removed, recurs, only=None):
    """Scores over the lines (of one site when ``only`` is given)."""
    c = Counter()
    for line, rem, (site_rec, page_rec) in zip(lines, removed, recurs):
        _, site, _, _, _, _, label, chars = line
        if only is not None and site != only:
            continue
        bp = label == "boilerplate"
        c["blocks"] += 1
        if bp:
            c["bp"] += 1
            c["bp_removed"] += rem
            if site_rec or page_rec:
                c["bp_rec"] += 1
                c["bp_rec_removed"] += rem
        else:
            c["content_chars"] += chars
            c["content_chars_removed"] += chars * rem
            c["content_removed"] += rem
        if rem:
            c["removed"] += 1
            c["removed_chars"] += chars
            c["removed_bp"] += bp
            c["removed_bp_chars"] += chars * bp
    ratio = lambda a, b: c[a] / c[b] if c[b] else float("nan")
    return {
        "blocks": c["blocks"],
        "recall_recurring": ratio("bp_rec_removed", "bp_rec"),
        "recall_all": ratio("bp_removed", "bp"),
        "content_lost": ratio("content_chars_removed", "content_chars"),
        "content_lines": c["content_removed"],
        "precision": ratio("removed_bp", "removed"),
        "precision_chars": ratio("removed_bp_chars", "removed_chars"),
        "removed": c["removed"],
    }


def print_table(title, lines, removed, recurs, sites, pages_per_site):
    print(f"\n{title}")
    header = (f"{'site':<26} {'pages':>5} {'lines':>6} {'recall(recurring BP)':>21} {'recall(all BP)':>15}"
              f" {'content chars lost':>19} {'precision':>10} {'prec(chars)':>12} {'removed':>8}")
    print(header)
    print("-" * len(header))
    for site in [*sites, None]:
        f = figures(lines, removed, recurs, site)
        name = site if site else "ALL"
        pages = pages_per_site[site] if site else sum(pages_per_site.values())
        print(f"{name:<26} {pages:>5} {f['blocks']:>6} {f['recall_recurring']:>21.4f} {f['recall_all']:>15.4f}"
              f" {f['content_lost']:>11.2%} ({f['content_lines']:>3})"
              f" {f['precision']:>10.4f} {f['precision_chars']:>12.4f} {f['removed']:>8}")


def check_stats(lines, recurs, stats_path: Path) -> None:
    """Our recurrence counts next to stats.txt's first (whole-corpus) table."""
    ours = Counter()
    for line, (site_rec, page_rec) in zip(lines, recurs):
        label, chars = line[6], line[7]
        ours[(label, "all")] += 1
        ours[(label, "all_chars")] += chars
        ours[(label, "site")] += site_rec
        ours[(label, "site_chars")] += chars * site_rec
        ours[(label, "page")] += page_rec
        ours[(label, "page_chars")] += chars * page_rec
        ours[(label, "either")] += site_rec or page_rec
    theirs = {}
    if stats_path.exists():
        for text_line in stats_path.read_text().splitlines():
            m = re.match(r"\s+(boilerplate|content): (\d+) (\d+) \| (\d+) (\d+) \| (\d+) (\d+)", text_line)
            if m and m.group(1) not in theirs:  # the first table is the whole corpus
                theirs[m.group(1)] = tuple(int(x) for x in m.groups()[1:])
    print("\nRecurrence check (NFKC + lower case + white space collapsed), ours vs stats.txt:")
    print(f"{'label':<12} {'lines':>13} {'chars':>15} {'recur on site':>15} {'chars':>15} {'recur in page':>15}"
          f" {'chars':>13} {'either':>7}")
    for label in ("boilerplate", "content"):
        ref = theirs.get(label, ("?",) * 6)
        vals = [ours[(label, k)] for k in ("all", "all_chars", "site", "site_chars", "page", "page_chars")]
        cells = " ".join(f"{f'{v}/{r}':>{w}}" for v, r, w in zip(vals, ref, (13, 15, 15, 15, 15, 13)))
        ok = "" if tuple(vals) == ref else "  MISMATCH"
        print(f"{label:<12} {cells} {ours[(label, 'either')]:>7}{ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    args, extra = parser.parse_known_args()
    options = parse_extra(extra)
    data = args.eval_dir / "cleanportaleval"
    pages, labels = load(data)
    lines = lines_of(pages, labels)
    sites = sorted({p["site"] for p in pages})
    pages_per_site = Counter(p["site"] for p in pages)
    recurs = recurrence(lines, stats_key)

    config = {"site_field": "site", **options}
    clock = time.perf_counter()
    report = dedup.scan(str(data / "corpus.jsonl"), **config).findings
    seconds = time.perf_counter() - clock
    removed = dedup_removed(lines, report)
    dropped = report.filter(report["kind"] == "duplicate_doc")["doc_id"].to_list()

    clock = time.perf_counter()
    naive = naive_removed(lines)
    naive_seconds = time.perf_counter() - clock

    print(describe_dedup())
    print(f"cleanportaleval: {len(pages)} pages, {len(sites)} sites, {len(lines)} labelled lines; "
          f"dedup.scan({', '.join(f'{k}={v!r}' for k, v in config.items())}) in {seconds:.2f} s")
    kinds = report.group_by("kind", "action").len().sort("kind", "action").iter_rows()
    print("report rows: " + ", ".join(f"{k}/{a} {n}" for k, a, n in kinds))
    check_stats(lines, recurs, data / "stats.txt")

    print_table("dedup (lines covered by repeat/boilerplate/duplicate_block rows with action remove)",
                lines, removed, recurs, sites, pages_per_site)
    if dropped:
        dropped_set = set(dropped)
        keep = [line[0] not in dropped_set for line in lines]
        sub = lambda xs: [x for x, k in zip(xs, keep) if k]
        f = figures(sub(lines), sub(removed), sub(recurs))
        print(f"  pages dropped as duplicate_doc (not counted as removals above): {', '.join(dropped)}; "
              f"without them: recall(recurring) {f['recall_recurring']:.4f}, recall(all) {f['recall_all']:.4f}, "
              f"content lost {f['content_lost']:.2%}, precision {f['precision']:.4f}")
    print_table(f"naive baseline: exact stripped line on >= 2 pages of the site, or a later copy in the page "
                f"({naive_seconds:.2f} s)", lines, naive, recurs, sites, pages_per_site)
    print("\nrecall(recurring BP): boilerplate lines that recur on their site or in their page; "
          "content chars lost: share of content characters removed (lines); "
          "precision: removed lines labelled boilerplate.")


if __name__ == "__main__":
    main()
