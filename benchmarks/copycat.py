"""Document near-duplicates on Webis CopyCat (copycat-dev): precision and recall of ``duplicate_doc``.

Runs ``dedup.scan`` over ``copycat-dev/corpus.jsonl`` with default settings (id field ``id``, no report
file). A judged pair is predicted a duplicate when both documents are in the same ``duplicate_doc``
cluster; the kept representative (``kept_doc`` of the cluster's rows) counts as a member. Label 3 is
positive, 0.5 negative; labels 1 and 2 (graded in between) and ``unknown`` are shown separately.

The same run scores a baseline on the same pairs: plain word 5-gram Jaccard >= 0.8 computed exactly
with Python sets (tokens: the text split on white space).

    python benchmarks/copycat.py [--eval-dir ../shared/eval] [--threshold 0.8] [--option=value ...]

Extra ``--option=value`` pairs are passed to ``dedup.scan`` (``--doc-threshold=0.85``).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import defaultdict
from pathlib import Path

from _common import DEFAULT_EVAL, dedup, describe_dedup, parse_extra

LABELS = ("3", "2", "1", "0.5", "unknown")


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = text.split()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def dedup_clusters(report) -> dict[str, int]:
    """doc_id -> duplicate_doc cluster, representatives included."""
    member: dict[str, int] = {}
    rows = report.filter(report["kind"] == "duplicate_doc").select("doc_id", "kept_doc", "cluster")
    for doc_id, kept, cluster in rows.iter_rows():
        member[doc_id] = cluster
        member[kept] = cluster
    return member


def score(pairs: list[tuple[str, str, str]], predicted) -> dict:
    by_label = defaultdict(lambda: [0, 0])  # label -> [flagged, total]
    for a, b, label in pairs:
        by_label[label][1] += 1
        by_label[label][0] += bool(predicted(a, b))
    tp, pos = by_label["3"]
    fp, neg = by_label["0.5"]
    return {
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / pos if pos else float("nan"),
        "neg_flagged": fp / neg if neg else float("nan"),
        "by_label": dict(by_label),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--baseline-threshold", type=float, default=0.8)
    args, extra = parser.parse_known_args()
    options = parse_extra(extra)
    data = args.eval_dir / "copycat-dev"
    corpus = data / "corpus.jsonl"

    texts = {}
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            texts[record["id"]] = record["text"]
    with open(data / "pairs.csv", newline="", encoding="utf-8") as f:
        pairs = [(r["a"], r["b"], r["label"]) for r in csv.DictReader(f)]

    clock = time.perf_counter()
    report = dedup.scan(str(corpus), id_field="id", **options).findings
    seconds = time.perf_counter() - clock
    member = dedup_clusters(report)

    def by_dedup(a: str, b: str) -> bool:
        return a in member and member.get(a) == member.get(b)

    clock = time.perf_counter()
    cache = {}

    def sh(doc: str) -> set:
        if doc not in cache:
            cache[doc] = shingles(texts[doc])
        return cache[doc]

    jac = {(a, b): jaccard(sh(a), sh(b)) for a, b, _ in pairs}
    base_seconds = time.perf_counter() - clock

    def by_jaccard(a: str, b: str) -> bool:
        return jac[(a, b)] >= args.baseline_threshold

    results = {
        "dedup.scan (" + (", ".join(f"{k}={v}" for k, v in options.items()) or "defaults") + ")": (score(pairs, by_dedup), seconds),
        f"word 5-gram Jaccard >= {args.baseline_threshold} (sets)": (score(pairs, by_jaccard), base_seconds),
    }
    counts = {label: sum(1 for p in pairs if p[2] == label) for label in LABELS}

    n_docs = len(texts)
    n_dup = int((report["kind"] == "duplicate_doc").sum())
    print(describe_dedup())
    print(f"copycat-dev: {n_docs} documents, {len(pairs)} judged pairs "
          + ", ".join(f"label {k}: {v}" for k, v in counts.items()))
    print(f"dedup: {n_dup} duplicate_doc rows in {report.filter(report['kind'] == 'duplicate_doc')['cluster'].n_unique()}"
          f" clusters; scan {seconds:.2f} s\n")
    header = (f"{'method':<44} {'prec':>6} {'recall':>6} {'0.5 flagged':>11} "
              + " ".join(f"{'L' + k:>7}" for k in ("3", "2", "1", "0.5", "unknown")) + f" {'time':>7}")
    print(header)
    print("-" * len(header))
    for name, (s, secs) in results.items():
        cells = []
        for label in ("3", "2", "1", "0.5", "unknown"):
            flagged, total = s["by_label"].get(label, (0, 0))
            cells.append(f"{flagged:>3}/{total:<3}")
        print(f"{name:<44} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['neg_flagged']:>11.1%} "
              + " ".join(cells) + f" {secs:>6.2f}s")
    print("\nL<k>: pairs of label k flagged as duplicates / pairs of that label. "
          "prec/recall: label 3 positive, 0.5 negative.")

    # Where the labels fall: mean exact Jaccard per label and dedup's flag rate.
    print(f"\n{'label':<8} {'pairs':>5} {'mean J5':>8} {'J5>=0.8':>8} {'dedup':>6}")
    for label in LABELS:
        js = [jac[(a, b)] for a, b, l in pairs if l == label]
        if not js:
            continue
        flagged = sum(by_dedup(a, b) for a, b, l in pairs if l == label)
        print(f"{label:<8} {len(js):>5} {sum(js) / len(js):>8.3f} "
              f"{sum(j >= args.baseline_threshold for j in js):>8} {flagged:>6}")


if __name__ == "__main__":
    main()
