"""Trimmed copies of real stories: does ``duplicate_doc`` catch a republished story with a cut and edits?

Builds a corpus at run time (in a temporary folder, never in the repo) from real text: the content
paragraphs (lines labelled ``content`` with at least 12 words) of the cleanportaleval and l3s-dev
pages, and the seed article's paragraphs. Every page with at least 6 such paragraphs gives an
*original* of 6-12 consecutive paragraphs (pages sharing a paragraph with an earlier page are left
out: the same story on two sites), and a *trimmed copy*: one paragraph dropped, 2-6 words replaced
by words drawn from the whole pool. Two kinds of near miss go in too: an *excerpt* (the first third
of an original, as a teaser) and a *splice* (the first half of one original followed by the second
half of another). Everything is seeded; ``--seeds`` corpora are built and scanned one by one, and
their pairs pooled.

Truth is word 5-gram Jaccard (exact sets of shingles over dedup's normalised words): a pair is
positive at ``J >= 0.8``. Predicted: both documents in one ``duplicate_doc`` cluster (the kept
representative counts). Precision: flagged positives over flagged positives and false alarms (any
other flagged pair), with trimmed copies below 0.8 set aside (they are copies all the same, and
their count is shown); the strict figure that counts them as false is printed too.

The same run scores candidate document measures on every generated pair and on copycat-dev's
judged pairs, to choose one by measuring: aligned share of the longer document (dedup until now),
of the shorter one (containment), aligned share of the union, Jaccard, and the longer's share
with one cut passage left aside (dedup's measure now).

    python benchmarks/trimmed_copies.py [--seeds 1-5] [--no-measures] [--keep-corpus DIR] [--option=value ...]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

from rapidfuzz.distance import LCSseq

from _common import DEFAULT_EVAL, REPO, dedup, describe_dedup, normalise, parse_extra

MIN_WORDS = 12
SOURCES = ("cleanportaleval", "l3s-dev")


def content_paragraphs(eval_dir: Path) -> list[list[str]]:
    """Per page, its content lines of at least MIN_WORDS words, in page order; then the seed's paragraphs."""
    pages = []
    for name in SOURCES:
        content = set()
        with open(eval_dir / name / "labels.csv", newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if r["label"] == "content":
                    content.add((r["id"], int(r["block"])))
        with open(eval_dir / name / "corpus.jsonl", encoding="utf-8") as f:
            for line in f:
                page = json.loads(line)
                paras = [t.strip() for i, t in enumerate(page["text"].split("\n"))
                         if (page["id"], i) in content and len(t.split()) >= MIN_WORDS]
                # a page's own repeats (the story printed twice) would make a copy of itself
                pages.append(list(dict.fromkeys(paras)))
    for seed in sorted((REPO / "seeds").glob("*.txt")):
        paras = [p.strip() for p in seed.read_text(encoding="utf-8").split("\n") if len(p.split()) >= MIN_WORDS]
        pages.append(list(dict.fromkeys(paras)))
    return pages


def build(pages: list[list[str]], rng: random.Random):
    """Documents {id: text} and the generated relations {(a, b): kind}."""
    vocabulary = sorted({w for page in pages for p in page for w in p.split()})
    docs, relation, originals = {}, {}, []
    seen = set()
    for n, paras in enumerate(pages):
        if len(paras) < 6:
            continue
        k = rng.randint(6, min(12, len(paras)))
        start = rng.randint(0, len(paras) - k)
        body = paras[start:start + k]
        keys = {normalise(p) for p in body}
        if keys & seen:  # the same story on two pages (two URLs, or a wire story on two sites)
            continue
        seen |= {normalise(p) for p in paras}
        orig = f"p{n}-original"
        docs[orig] = "\n".join(body)
        originals.append((orig, body))
        # trimmed copy: one paragraph dropped, 2-6 words replaced
        drop = rng.randrange(k)
        words = [p.split() for i, p in enumerate(body) if i != drop]
        places = [(i, j) for i, p in enumerate(words) for j in range(len(p))]
        for i, j in rng.sample(places, rng.randint(2, 6)):
            words[i][j] = rng.choice(vocabulary)
        copy = f"p{n}-copy"
        docs[copy] = "\n".join(" ".join(p) for p in words)
        relation[(orig, copy)] = "trimmed copy"
        excerpt = f"p{n}-excerpt"
        docs[excerpt] = "\n".join(body[: max(2, k // 3)])
        relation[(orig, excerpt)] = "excerpt"
        relation[(copy, excerpt)] = "excerpt"
    for (a, body_a), (b, body_b) in zip(originals, originals[1:]):
        splice = a.replace("original", "splice")
        docs[splice] = "\n".join(body_a[: len(body_a) // 2] + body_b[len(body_b) // 2:])
        relation[(a, splice)] = "splice"
        relation[(b, splice)] = "splice"
    return docs, relation


def shingles(words: list[str], n: int = 5) -> set:
    return {tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}


class Measures:
    """Exact pair measures over normalised words, cached per document."""

    def __init__(self, texts: dict[str, str], tokenised: bool = False):
        self.words = {d: (t.split() if tokenised else normalise(t).split()) for d, t in texts.items()}
        self.sets = {}

    def jaccard(self, a: str, b: str) -> float:
        for d in (a, b):
            if d not in self.sets:
                self.sets[d] = shingles(self.words[d])
        x, y = self.sets[a], self.sets[b]
        return len(x & y) / len(x | y) if x or y else 1.0

    def aligned(self, a: str, b: str) -> tuple[int, int, int, list[int]]:
        """(aligned tokens in runs of >= 2, shorter length, longer length, the sizes of the stretches
        between aligned runs, each by its larger side)."""
        x, y = self.words[a], self.words[b]
        aligned, gaps, gap_x, gap_y = 0, [], 0, 0
        for op in [*LCSseq.opcodes(x, y), None]:
            n = op.src_end - op.src_start if op is not None else 0
            if op is None or (op.tag == "equal" and n >= 2):
                aligned += n
                if max(gap_x, gap_y):
                    gaps.append(max(gap_x, gap_y))
                gap_x = gap_y = 0
            else:
                gap_x += n
                gap_y += op.dest_end - op.dest_start
        return aligned, min(len(x), len(y)), max(len(x), len(y)), gaps

    def all(self, a: str, b: str) -> dict[str, float]:
        al, short, long_, gaps = self.aligned(a, b)
        union = al / (short + long_ - al) if long_ else 1.0
        out = {
            "aligned/longer": al / long_ if long_ else 1.0,
            "aligned/shorter": al / short if short else 1.0,
            "aligned/union": union,
            "jaccard": self.jaccard(a, b),
        }
        for size in (3, 5):  # passages: differing stretches of at least this many tokens
            passages = [g for g in gaps if g >= size]
            for most in (1, 2):
                cut = max(passages) if union >= 0.8 and len(passages) <= most and passages else 0
                out[f"cut aside {most}x{size}"] = al / (long_ - cut) if long_ - cut else 1.0
        return out


# Candidate document measures, each with its threshold. "cut aside KxN": the aligned share of the
# longer, leaving out the largest differing passage when at least 0.8 of both line up and at most K
# stretches of N tokens or more differ (dedup's measure is 1x5, see dedup/match/verify.py).
CANDIDATES = {
    "aligned/longer >= 0.9 (dedup before)": lambda v: v["aligned/longer"] >= 0.9,
    "aligned/longer >= 0.85": lambda v: v["aligned/longer"] >= 0.85,
    "aligned/shorter >= 0.9 (containment)": lambda v: v["aligned/shorter"] >= 0.9,
    "aligned/union >= 0.8": lambda v: v["aligned/union"] >= 0.8,
    "aligned/union >= 0.85": lambda v: v["aligned/union"] >= 0.85,
    "jaccard >= 0.8": lambda v: v["jaccard"] >= 0.8,
    "jaccard >= 0.7": lambda v: v["jaccard"] >= 0.7,
    "jaccard >= 0.8 or aligned/longer >= 0.9": lambda v: v["jaccard"] >= 0.8 or v["aligned/longer"] >= 0.9,
    "cut aside 2x3 >= 0.9": lambda v: v["cut aside 2x3"] >= 0.9,
    "cut aside 1x3 >= 0.9": lambda v: v["cut aside 1x3"] >= 0.9,
    "cut aside 2x5 >= 0.9": lambda v: v["cut aside 2x5"] >= 0.9,
    "cut aside 1x5 >= 0.9 (dedup now)": lambda v: v["cut aside 1x5"] >= 0.9,
}


def clusters_of(report) -> dict[str, int]:
    member = {}
    rows = report.filter(report["kind"] == "duplicate_doc").select("doc_id", "kept_doc", "cluster")
    for doc_id, kept, cluster in rows.iter_rows():
        member[doc_id] = cluster
        member[kept] = cluster
    return member


def copycat_pairs(eval_dir: Path):
    data = eval_dir / "copycat-dev"
    texts = {}
    with open(data / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            texts[r["id"]] = r["text"]
    with open(data / "pairs.csv", newline="", encoding="utf-8") as f:
        pairs = [(r["a"], r["b"], r["label"]) for r in csv.DictReader(f)]
    return texts, pairs


def scan_one(seed: int, paragraphs, options: dict, keep_corpus: Path | None):
    """One generated corpus: its measures, relations, flagged pairs and scan time."""
    docs, relation = build(paragraphs, random.Random(seed))
    docs = {f"s{seed}-{d}": t for d, t in docs.items()}
    relation = {tuple(sorted((f"s{seed}-{a}", f"s{seed}-{b}"))): k for (a, b), k in relation.items()}
    with tempfile.TemporaryDirectory() as tmp:
        folder = keep_corpus or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        corpus = folder / f"trimmed-{seed}.jsonl"
        with open(corpus, "w", encoding="utf-8") as f:
            for doc_id, text in docs.items():
                f.write(json.dumps({"id": doc_id, "text": text}) + "\n")
        clock = time.perf_counter()
        report = dedup.scan(str(corpus), **options).findings
        seconds = time.perf_counter() - clock
    by_cluster = defaultdict(list)
    for d, c in clusters_of(report).items():
        by_cluster[c].append(d)
    flagged = {tuple(sorted(p)) for ds in by_cluster.values() for p in combinations(sorted(ds), 2)}
    return Measures(docs), relation, flagged, seconds, len(docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL)
    parser.add_argument("--seeds", default="1-5", help="generated corpora, pooled: 1-5 or 3,7")
    parser.add_argument("--keep-corpus", type=Path, help="write the generated corpora here (outside the repo)")
    parser.add_argument("--show-false", action="store_true", help="list the falsely flagged pairs")
    parser.add_argument("--no-measures", action="store_true", help="skip the table of candidate measures")
    args, extra = parser.parse_known_args()
    options = parse_extra(extra)
    lo, _, hi = args.seeds.partition("-")
    seeds = list(range(int(lo), int(hi) + 1)) if hi else [int(x) for x in args.seeds.split(",")]
    paragraphs = content_paragraphs(args.eval_dir)

    related, flagged, jac, values, seconds, n_docs, measures_of = {}, set(), {}, {}, 0.0, 0, {}
    per_seed = []
    for seed in seeds:
        measures, relation, flags, secs, n = scan_one(seed, paragraphs, options, args.keep_corpus)
        for p in set(relation) | flags:
            jac[p] = measures.jaccard(*p)
            measures_of[p] = measures
        if not args.no_measures:
            values.update({p: measures.all(*p) for p in relation})
        pos = {p for p in set(relation) | flags if jac[p] >= 0.8}
        per_seed.append((seed, len(pos & flags) / max(1, len(pos))))
        related.update(relation)
        flagged |= flags
        seconds += secs
        n_docs += n
    pairs = set(related) | flagged
    positive = {p for p in pairs if jac[p] >= 0.8}
    # pairs neither positive nor a generated trimmed copy: flagging them is a false alarm
    false = {p for p in flagged if p not in positive and related.get(p) != "trimmed copy"}
    between = {p for p in flagged if p not in positive and related.get(p) == "trimmed copy"}
    tp = len(positive & flagged)

    print(describe_dedup())
    print(f"trimmed copies, seeds {args.seeds}: {n_docs} documents, "
          + ", ".join(f"{n} {k} pairs" for k, n in sorted(Counter(related.values()).items()))
          + f"; dedup.scan({', '.join(f'{k}={v!r}' for k, v in options.items()) or 'defaults'}) {seconds:.2f} s in all")
    print(f"pairs with J5 >= 0.8: {len(positive)}; flagged pairs: {len(flagged)}; "
          f"recall {tp / max(1, len(positive)):.3f} (per seed: {', '.join(f'{r:.3f}' for _, r in per_seed)}); "
          f"precision {tp / max(1, tp + len(false)):.3f} with trimmed copies below 0.8 set aside "
          f"({len(between)} of them flagged), {tp / max(1, len(flagged)):.3f} counting them as false")
    print(f"\n{'generated pair':<16} {'pairs':>6} {'J5>=0.8':>8} {'mean J5':>8} {'flagged':>8} {'flagged J5>=0.8':>16}")
    for kind in ("trimmed copy", "excerpt", "splice"):
        ps = [p for p, k in related.items() if k == kind]
        pos = [p for p in ps if p in positive]
        print(f"{kind:<16} {len(ps):>6} {len(pos):>8} {sum(jac[p] for p in ps) / max(1, len(ps)):>8.3f} "
              f"{sum(p in flagged for p in ps):>8} {sum(p in flagged for p in pos):>16}")
    print(f"{'unrelated':<16} {'':>6} {'':>8} {'':>8} {len(flagged - set(related)):>8}")
    if args.show_false:
        for p in sorted(false):
            print("  false:", p, related.get(p, "unrelated"), {k: round(v, 3) for k, v in measures_of[p].all(*p).items()})

    if args.no_measures:
        return
    # Candidate measures, exactly, on the generated pairs and on copycat-dev's judged pairs.
    texts, cc_pairs = copycat_pairs(args.eval_dir)
    cc = Measures(texts, tokenised=True)
    cc_values = [(label, cc.all(a, b)) for a, b, label in cc_pairs if label in ("3", "0.5", "2", "1")]
    print("\ncandidate measures (exact, outside dedup): trimmed copies with J5>=0.8 caught, trimmed copies below "
          "0.8 caught, excerpts and splices caught (should be few), copycat label-3 recall, label-0.5 flagged, "
          "labels 2 / 1 flagged")
    pos = [p for p in related if p in positive]
    low = [p for p, k in related.items() if k == "trimmed copy" and p not in positive]
    ex = [p for p, k in related.items() if k == "excerpt" and p not in positive]
    sp = [p for p, k in related.items() if k == "splice" and p not in positive]
    for name, hit in CANDIDATES.items():
        cc_rate = {}
        for label in ("3", "0.5", "2", "1"):
            vs = [v for lab, v in cc_values if lab == label]
            cc_rate[label] = sum(hit(v) for v in vs) / max(1, len(vs))
        print(f"  {name:<42} J>=0.8 {sum(hit(values[p]) for p in pos) / max(1, len(pos)):.3f}"
              f" copies J<0.8 {sum(hit(values[p]) for p in low):>4}/{len(low):<4}"
              f" excerpts {sum(hit(values[p]) for p in ex):>3}/{len(ex):<4} splices {sum(hit(values[p]) for p in sp):>3}"
              f"/{len(sp):<4} copycat L3 {cc_rate['3']:.3f} L0.5 {cc_rate['0.5']:.3f} L2 {cc_rate['2']:.3f}"
              f" L1 {cc_rate['1']:.3f}")


if __name__ == "__main__":
    main()
