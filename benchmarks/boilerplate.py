"""Boilerplate removal on every labelled dev set, the naive rule beside it, per-rule ablation, per site.

Scores ``dedup.scan`` (``site_field="site"``, defaults otherwise) on ``cleanportaleval`` and ``l3s-dev``
the way benchmarks/cleanportal.py describes: a labelled line counts as removed when a removing row
(repeat, boilerplate, duplicate_block with action ``remove``) covers its span. In the same run:

- the naive rule (a line seen on two pages of its site, or a later copy within its page) as a contender;
- ``--ablation``: dedup again with one rule switched off at a time (the rule's function replaced in
  the running process for that run only), to show what each rule adds or costs;
- a per-site table (``--sites``: every site; otherwise sites grouped by how many pages they have);
- report gaps: lines left in although an equal copy (same stripped text, same site) is removed and
  that have no report row, and ``repeat`` rows whose kept block is itself removed.

    python benchmarks/boilerplate.py [--sets cleanportaleval,l3s-dev] [--ablation] [--sites] [--option=value ...]

Extra ``--option=value`` pairs are passed to ``dedup.scan``.
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
import time
from collections import Counter, defaultdict
from contextlib import ExitStack, contextmanager
from pathlib import Path

import polars as pl

from _common import DEFAULT_EVAL, dedup, describe_dedup, parse_extra
from cleanportal import dedup_removed, figures, lines_of, load, naive_removed, recurrence, stats_key

SETS = ("cleanportaleval", "l3s-dev")


@contextmanager
def replaced(modules: tuple[str, ...], attr: str, make):
    """Replace ``attr`` in every listed module that has it (``make(original)`` gives the stand-in)."""
    undo = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, attr):
            original = getattr(module, attr)
            undo.append((module, original))
            setattr(module, attr, make(original))
    if not undo:
        raise SystemExit(f"ablation: no module of {modules} has {attr}; update benchmarks/boilerplate.py")
    try:
        yield
    finally:
        for module, original in undo:
            setattr(module, attr, original)


def _all_false(original):
    def stand_in(frame, *args, **kwargs):
        return pl.repeat(False, len(frame), eager=True)
    return stand_in


def _unchanged_blocks(original):
    def stand_in(blocks, *args, **kwargs):
        return blocks
    return stand_in


BLOCK_RULES = ("dedup.decide.blocks", "dedup.findings")
STAGE = ("dedup.decide.stage", "dedup.pipeline")
FRAMES = ("dedup.decide.stage", "dedup.pipeline", "dedup.fingerprint.templates", "dedup.frames")

# name -> (scan options, [(modules, attr, stand-in maker)]): one rule off at a time.
ABLATIONS = {
    "no repeat rule (min_repeat_chars huge)": ({"min_repeat_chars": 10**9}, []),
    "no site boilerplate (min_docs huge)": ({"boilerplate_min_docs": 10**9}, []),
    "no near matching (exact_only)": ({"near": False}, []),
    "no running-prose protection": ({}, [(BLOCK_RULES, "in_running_prose", _all_false)]),
    "no own-headline protection": ({}, [(BLOCK_RULES, "own_headline", _all_false)]),
    "no template frames": ({}, [(FRAMES, "join_by_frame", _unchanged_blocks)]),
    "no prose count (prose_words huge)": ({"prose_words": 10**9}, []),
    "no short-run repeats (later copies among short lines)": ({}, [(BLOCK_RULES, "in_short_run", _all_false)]),
    "no page menus (short lines twice in a page, all copies)": ({}, [(BLOCK_RULES, "page_menu", _all_false)]),
}
def run_dedup(corpus: Path, config: dict, patches=()) -> tuple[pl.DataFrame, float]:
    with ExitStack() as stack:
        for modules, attr, make in patches:
            stack.enter_context(replaced(modules, attr, make))
        clock = time.perf_counter()
        report = dedup.scan(str(corpus), **config).findings
        return report, time.perf_counter() - clock


def second_clean(corpus: Path, config: dict) -> str:
    """What ``clean`` of the cleaned corpus removes (nothing, when cleaning is idempotent)."""
    with tempfile.TemporaryDirectory() as tmp:
        once = Path(tmp) / "once.jsonl"
        dedup.clean(str(corpus), str(once), **config)
        again = dedup.scan(str(once), **config).findings
    gone = again.filter(pl.col("action") == "remove")
    return f"{len(gone)} rows" + (f" ({', '.join(gone['text'].head(4).to_list())})" if len(gone) else "")


def report_gaps(lines, removed, report) -> tuple[int, int, int]:
    """(lines left without a row although an equal line of the site is removed, and not named as the
    kept copy of a repeat row nor in a dropped page; their chars; repeat rows whose kept block is
    removed)."""
    removed_text = {(line[1], line[5].strip()) for line, rem in zip(lines, removed) if rem}
    rows = set(zip(report["doc_id"].to_list(), report["start"].to_list()))
    repeats = report.filter(pl.col("kind") == "repeat")
    kept = set(zip(repeats["kept_doc"].to_list(), repeats["kept_block"].to_list()))  # named by a repeat row
    dropped = set(report.filter(pl.col("kind") == "duplicate_doc")["doc_id"].to_list())  # a row for the page
    gaps = [line for line, rem in zip(lines, removed)
            if not rem and (line[1], line[5].strip()) in removed_text and (line[0], line[3]) not in rows
            and (line[0], line[2]) not in kept and line[0] not in dropped]
    removing = report.filter(pl.col("action") == "remove")
    gone = set(zip(removing["doc_id"].to_list(), removing["block"].to_list()))
    bad = sum((d, k) in gone for d, k in zip(repeats["kept_doc"].to_list(), repeats["kept_block"].to_list()))
    return len(gaps), sum(line[7] for line in gaps), bad


ROW = "{:<58} {:>9} {:>8} {:>9} {:>8} {:>10} {:>8}"


def summary_row(name, f, extra=""):
    return ROW.format(name, f"{f['recall_recurring']:.4f}", f"{f['recall_all']:.4f}", f"{f['content_lost']:.2%}",
                      f"{f['content_lines']}", f"{f['precision']:.4f}", f"{f['removed']}") + extra


def site_groups(pages_per_site, every: bool):
    if every or len(pages_per_site) <= 12:
        return [(site, {site}) for site in sorted(pages_per_site)]
    buckets = defaultdict(set)
    for site, n in pages_per_site.items():
        buckets["1 page" if n == 1 else "2 pages" if n == 2 else "3-5 pages" if n <= 5 else "6+ pages"].add(site)
    return [(f"sites of {k} ({len(buckets[k])} sites)", buckets[k])
            for k in ("1 page", "2 pages", "3-5 pages", "6+ pages") if k in buckets]


def per_site(lines, contenders, recurs, pages_per_site, every):
    print(f"\n  per site: recall(recurring) / precision / content lost, "
          + " | ".join(contenders))
    for name, sites in site_groups(pages_per_site, every):
        keep = [line[1] in sites for line in lines]
        cells = []
        for removed in contenders.values():
            sub = lambda xs: [x for x, k in zip(xs, keep) if k]
            f = figures(sub(lines), sub(removed), sub(recurs))
            cells.append(f"{f['recall_recurring']:.3f} / {f['precision']:.3f} / {f['content_lost']:>6.2%}")
        pages = sum(pages_per_site[s] for s in sites)
        print(f"  {name:<40} {pages:>4} pages  " + " | ".join(cells))


def score_set(eval_dir: Path, name: str, options: dict, ablation: bool, every_site: bool) -> None:
    data = eval_dir / name
    pages, labels = load(data)
    lines = lines_of(pages, labels)
    pages_per_site = Counter(p["site"] for p in pages)
    recurs = recurrence(lines, stats_key)
    config = {"site_field": "site", **options}
    report, seconds = run_dedup(data / "corpus.jsonl", config)
    removed = dedup_removed(lines, report)
    naive = naive_removed(lines)

    print(f"\n=== {name}: {len(pages)} pages, {len(pages_per_site)} sites, {len(lines)} labelled lines; "
          f"dedup.scan({', '.join(f'{k}={v!r}' for k, v in config.items())}) in {seconds:.2f} s")
    kinds = report.group_by("kind", "action").len().sort("kind", "action").iter_rows()
    print("report rows: " + ", ".join(f"{k}/{a} {n}" for k, a, n in kinds))
    print(ROW.format("contender", "rec(rec)", "rec(all)", "cont.lost", "c.lines", "precision", "removed"))
    print(summary_row("dedup", figures(lines, removed, recurs)))
    print(summary_row("naive rule (2 pages of site, or later copy in page)", figures(lines, naive, recurs)))
    gaps, gap_chars, bad = report_gaps(lines, removed, report)
    print(f"report gaps: {gaps} lines ({gap_chars} chars) kept without a row while an equal line of their site "
          f"is removed; {bad} repeat rows keep a removed block")
    print(f"idempotence: a second clean of the cleaned {name} removes {second_clean(data / 'corpus.jsonl', config)}")
    per_site(lines, {"dedup": removed, "naive": naive}, recurs, pages_per_site, every_site)

    if ablation:
        print(f"\n  ablation on {name} (one rule off; deltas against dedup as it is)")
        base = figures(lines, removed, recurs)
        for label, (opts, patches) in ABLATIONS.items():
            rep, _ = run_dedup(data / "corpus.jsonl", {**config, **opts}, patches)
            f = figures(lines, dedup_removed(lines, rep), recurs)
            print(summary_row("  " + label, f,
                              f"   d.rec {f['recall_recurring'] - base['recall_recurring']:+.4f}"
                              f" d.prec {f['precision'] - base['precision']:+.4f}"
                              f" d.lost {f['content_lost'] - base['content_lost']:+.2%}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--ablation", action="store_true")
    parser.add_argument("--sites", action="store_true", help="every site on its own line")
    args, extra = parser.parse_known_args()
    options = parse_extra(extra)
    print(describe_dedup())
    for name in args.sets.split(","):
        score_set(args.eval_dir, name, options, args.ablation, args.sites)
    print("\nrec(rec): recall of boilerplate lines that recur on their site or in their page (stats.txt); "
          "rec(all): of all boilerplate lines; cont.lost: share of content characters removed (c.lines: "
          "content lines removed); precision: removed lines labelled boilerplate.")


if __name__ == "__main__":
    main()
