"""Near-duplicate blocks and documents with known truth: precision and recall on a generated corpus.

Builds a corpus from real English prose that ships with Python itself -- the docstrings of the running
interpreter's standard library, split into paragraphs -- one paragraph per line, so lines are dedup's
blocks. Into it the script injects, with a fixed seed:
  * near-copies of blocks: a paragraph copied into 1-5 other documents (or later in its own one),
    each copy with known edits -- cosmetic only (case, punctuation, digits), words trimmed or added at
    an edge, or 1-3 word substitutions/deletions/insertions inside -- so true Jaccard spans 0.5-1.0;
  * near-copies of documents: a document re-published with word edits at a per-word rate of 0-20%,
    sometimes with a paragraph dropped or added.
It writes the corpus as JSON Lines to a temporary folder, runs ``dedup.scan`` (defaults), and scores
predicted pairs -- two blocks in one repeat/boilerplate/duplicate_block cluster, two documents in one
duplicate_doc cluster (the kept copy is a member) -- against truth computed here with Python sets and
difflib on the normalised texts (NFKC, lower case, digits to 0, punctuation to spaces, white space
collapsed):
  BLOCKS     true word 5-gram Jaccard >= 0.8 (issue 3 target: precision >= 0.95, recall >= 0.9);
             lines of documents dedup dropped as duplicate_doc are left out (dedup does not report them);
  DOCUMENTS  true aligned share >= 0.9 (difflib matching tokens / tokens of the longer text; dedup's
             definition), and true word 5-gram Jaccard >= 0.8.

    python benchmarks/synthetic_near.py [--docs 800] [--seed 7] [--keep DIR] [--option=value ...]

Extra ``--option=value`` pairs are passed to ``dedup.scan``.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import platform
import random
import re
import sysconfig
import tempfile
import time
from collections import Counter, defaultdict
from itertools import combinations, pairwise
from pathlib import Path

from _common import dedup, describe_dedup, normalise, parse_extra

NGRAM = 5
SKIP_PARTS = {"test", "tests", "testing", "idlelib", "site-packages", "dist-packages", "lib2to3", "__pycache__",
              "turtledemo", "_vendor", "vendored", "dedup"}
BINS = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0]


# ---------------------------------------------------------------- source text

def docstring_paragraphs(files: list[Path], seen: dict[str, str], need: int) -> None:
    """Add distinct prose paragraphs (>= 12 words) of the files' docstrings to ``seen``, until ``need``."""
    for path in files:
        if len(seen) >= need:
            return
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            doc = ast.get_docstring(node)
            if not doc:
                continue
            for para in re.split(r"\n\s*\n", doc):
                lines = [line.strip() for line in para.splitlines()]
                if any(line.startswith((">>>", "...", "$", "|", "+--", "::")) for line in lines):
                    continue
                text = " ".join(" ".join(lines).split())
                if len(text.split()) < 12 or sum(c.isalpha() or c == " " for c in text) / len(text) < 0.85:
                    continue
                seen.setdefault(normalise(text), text)


def source_paragraphs(need: int) -> tuple[list[str], str]:
    """Distinct paragraphs from the standard library's docstrings, in a fixed order; when ``need`` is more
    than they give, also from the installed packages' docstrings (site-packages, sorted by path)."""
    paths = sysconfig.get_paths()
    seen: dict[str, str] = {}
    where = []
    for key in ("stdlib", "purelib"):
        root = Path(paths[key])
        if len(seen) >= need and where:
            break
        files = sorted(p for p in root.rglob("*.py") if not SKIP_PARTS & set(p.relative_to(root).parts))
        before = len(seen)
        docstring_paragraphs(files, seen, need if key == "purelib" else float("inf"))
        where.append(f"{len(seen) - before} from {root}")
    return list(seen.values()), "; ".join(where)


# ---------------------------------------------------------------- edits

def word_edits(words: list[str], rate: float, rng: random.Random, vocab: list[str]) -> list[str]:
    """Each word is, with probability ``rate``, substituted, deleted, or followed by an inserted word."""
    out = []
    for w in words:
        x = rng.random()
        if x < rate / 3:
            out.append(rng.choice(vocab))
        elif x < 2 * rate / 3:
            continue
        elif x < rate:
            out.extend((w, rng.choice(vocab)))
        else:
            out.append(w)
    return out or words[:1]


def cosmetic(text: str, rng: random.Random) -> str:
    """Changes dedup's normalisation removes: case, punctuation, digits, spacing."""
    words = text.split()
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(words))
        choice = rng.random()
        if choice < 0.4:
            words[i] = words[i].upper()
        elif choice < 0.7:
            words[i] = words[i] + rng.choice([",", ";", " --", "!", ":"])
        else:
            words[i] = f"({words[i]})"
    text = "  ".join(words) if rng.random() < 0.3 else " ".join(words)
    return re.sub(r"\d", lambda m: str((int(m.group()) + 3) % 10), text)


def block_copy(text: str, rng: random.Random, vocab: list[str]) -> tuple[str, str]:
    """A near-copy of a paragraph and the kind of edit made."""
    words = text.split()
    x = rng.random()
    if x < 0.2:
        return cosmetic(text, rng), "cosmetic"
    if x < 0.55:
        t = rng.randint(1, min(8, max(1, len(words) - 6)))
        if rng.random() < 0.5:  # trim
            words = words[t:] if rng.random() < 0.5 else words[:-t]
        else:  # extend
            extra = [rng.choice(vocab) for _ in range(t)]
            words = extra + words if rng.random() < 0.5 else words + extra
        return " ".join(words), "edge"
    k = rng.choice([1, 1, 2, 3])
    for _ in range(k):
        i = rng.randrange(len(words))
        op = rng.random()
        if op < 0.5:
            words[i] = rng.choice(vocab)
        elif op < 0.75 and len(words) > 6:
            del words[i]
        else:
            words.insert(i, rng.choice(vocab))
    return " ".join(words), "inside"


# ---------------------------------------------------------------- corpus

def build_corpus(n_docs: int, seed: int, paragraphs: list[str]):
    rng = random.Random(seed)
    supply = paragraphs[:]
    rng.shuffle(supply)
    reused = 0
    vocab = list(dict.fromkeys(w for p in paragraphs for w in p.split() if w.isalpha()))

    def take() -> str:
        nonlocal supply, reused
        if not supply:
            supply = paragraphs[:]
            rng.shuffle(supply)
            reused += 1
        return supply.pop()

    docs = [[take() for _ in range(rng.randint(3, 10))] for _ in range(n_docs)]

    # near-copies of blocks
    block_edits = Counter()
    for _ in range(int(0.6 * n_docs)):
        src_doc = rng.randrange(n_docs)
        src_line = rng.randrange(len(docs[src_doc]))
        text = docs[src_doc][src_line]
        copies = rng.choices([1, 2, 3, 4, 5], weights=[65, 20, 7, 5, 3])[0]
        for _ in range(copies):
            if rng.random() < 0.2:  # later in its own document: a repeat
                target, low = src_doc, src_line + 1
            else:
                target, low = rng.randrange(n_docs), 0
            new, kind = block_copy(text, rng, vocab)
            block_edits[kind] += 1
            docs[target].insert(rng.randint(low, len(docs[target])), new)

    # near-copies of documents
    copies = []
    doc_rates = []
    for d in range(n_docs):
        x = rng.random()
        n_copies = 1 if x < 0.25 else 2 if x < 0.30 else 0
        for _ in range(n_copies):
            rate = rng.uniform(0.0, 0.03) if rng.random() < 0.4 else rng.uniform(0.03, 0.2)
            lines = [" ".join(word_edits(line.split(), rate, rng, vocab)) for line in docs[d]]
            if rng.random() < 0.3:
                lines = [cosmetic(line, rng) if rng.random() < 0.3 else line for line in lines]
            s = rng.random()
            if s < 0.15 and len(lines) > 3:
                del lines[rng.randrange(len(lines))]
            elif s < 0.3:
                lines.insert(rng.randint(0, len(lines)), take())
            copies.append(lines)
            doc_rates.append(rate)
    all_docs = docs + copies
    order = list(range(len(all_docs)))
    rng.shuffle(order)
    texts = ["\n".join(all_docs[i]) for i in order]
    info = {"base": n_docs, "copies": len(copies), "block_edits": block_edits, "reused_supply": reused}
    return texts, info


# ---------------------------------------------------------------- truth

def shingles(tokens: list[str]) -> set[str]:
    return {" ".join(tokens[i : i + NGRAM]) for i in range(len(tokens) - NGRAM + 1)}


def jaccard_sets(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if (a or b) else 1.0


def shared_counts(sets: list[set]) -> Counter:
    """(i, j) -> shared shingles, for every pair of sets sharing at least one (inverted index)."""
    postings = defaultdict(list)
    for i, s in enumerate(sets):
        for sh in s:
            postings[sh].append(i)
    counts = Counter()
    for ids in postings.values():
        if len(ids) > 1:
            counts.update(combinations(ids, 2))
    return counts


def aligned(a: list[str], b: list[str]) -> float:
    longer = max(len(a), len(b))
    if not longer:
        return 1.0
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(x.size for x in m.get_matching_blocks()) / longer


def block_truth(texts: list[str], excluded_docs: set[int]):
    """Blocks (doc, line) and {(i, j): true Jaccard} for pairs with J >= 0.3 (i < j, block numbers)."""
    blocks, keys = [], []
    for d, text in enumerate(texts):
        if d in excluded_docs:
            continue
        for line_no, line in enumerate(text.split("\n")):
            blocks.append((d, line_no))
            keys.append(normalise(line))
    distinct = list(dict.fromkeys(keys))
    index = {k: i for i, k in enumerate(distinct)}
    toks = [k.split() for k in distinct]
    sets = [shingles(t) for t in toks]
    members = defaultdict(list)
    for b, k in enumerate(keys):
        members[index[k]].append(b)
    jac = {}
    for (i, j), shared in shared_counts(sets).items():
        value = shared / (len(sets[i]) + len(sets[j]) - shared)
        if value >= 0.3:
            for x in members[i]:
                for y in members[j]:
                    jac[(min(x, y), max(x, y))] = value
    for group in members.values():  # exact copies (short blocks too)
        for x, y in combinations(group, 2):
            jac[(x, y)] = 1.0

    def exact(x: int, y: int) -> float:  # for predicted pairs outside ``jac``
        a, b = index[keys[x]], index[keys[y]]
        if a == b:
            return 1.0
        if len(toks[a]) < NGRAM or len(toks[b]) < NGRAM:
            return 0.0
        return jaccard_sets(sets[a], sets[b])

    return blocks, jac, exact


def doc_truth(texts: list[str]):
    """{(i, j): (aligned share, Jaccard)} for every pair that could reach aligned >= 0.9 or J >= 0.8."""
    toks = [normalise(t).split() for t in texts]
    sets = [shingles(t) for t in toks]
    truth = {}
    candidates = set(shared_counts(sets))
    short = [i for i, t in enumerate(toks) if len(t) <= 40]  # may align without sharing a 5-gram
    candidates.update(combinations(short, 2))
    for i, j in candidates:
        la, lb = len(toks[i]), len(toks[j])
        j5 = jaccard_sets(sets[i], sets[j])
        if min(la, lb) >= 0.9 * max(la, lb):  # otherwise the aligned share is below 0.9
            truth[(i, j)] = (aligned(toks[i], toks[j]), j5)
        elif j5 >= 0.3:
            truth[(i, j)] = (min(la, lb) / max(la, lb), j5)  # an upper bound, below 0.9
    return toks, sets, truth


# ---------------------------------------------------------------- predictions

def cluster_pairs(members: dict[int, set]) -> set[tuple]:
    pairs = set()
    for group in members.values():
        for x, y in combinations(sorted(group), 2):
            pairs.add((x, y))
    return pairs


def predicted(report, doc_number: dict[str, int], block_number: dict[tuple, int]):
    """Same-cluster pairs of documents and of blocks, and the block pairs a row states (row, its kept copy)."""
    docs, blocks, stated = defaultdict(set), defaultdict(set), set()
    for doc_id, block, kind, cluster, kept_doc, kept_block in report.select(
            "doc_id", "block", "kind", "cluster", "kept_doc", "kept_block").iter_rows():
        if kind == "duplicate_doc":
            docs[cluster].update((doc_number[doc_id], doc_number[kept_doc]))
            continue
        blocks[cluster].add(block_number[(doc_number[doc_id], block)])
        if kept_doc is not None and kept_block is not None:
            x, y = block_number[(doc_number[doc_id], block)], block_number[(doc_number[kept_doc], kept_block)]
            blocks[cluster].add(y)
            stated.add((min(x, y), max(x, y)))
    return cluster_pairs(docs), cluster_pairs(blocks), stated


# ---------------------------------------------------------------- scoring and printing

def prf(pred: set, truth: set) -> tuple[int, int, int, float, float]:
    tp = len(pred & truth)
    return len(truth), len(pred), tp, tp / len(pred) if pred else float("nan"), tp / len(truth) if truth else float("nan")


def print_prf(name: str, pred: set, truth: set, target: str = "") -> None:
    n_true, n_pred, tp, p, r = prf(pred, truth)
    print(f"  {name:<38} {n_true:>7} {n_pred:>7} {tp:>7} {p:>9.4f} {r:>7.4f}  {target}")


def print_bins(title: str, values: dict, pred: set) -> None:
    print(f"  {title:<13} {'pairs':>7} {'predicted':>10} {'share':>7}")
    edges = BINS + [1.0000001]
    for lo, hi in pairwise(edges):
        inside = [k for k, v in values.items() if lo <= v < hi]
        if not inside:
            continue
        hit = sum(k in pred for k in inside)
        label = "1.0 (exact)" if lo == 1.0 else f"[{lo:.2f},{hi:.2f})"
        print(f"  {label:<13} {len(inside):>7} {hit:>10} {hit / len(inside):>7.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=800, help="base documents (near-copies come on top)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="also write the generated corpus to this folder")
    args, extra = parser.parse_known_args()
    options = parse_extra(extra)

    clock = time.perf_counter()
    paragraphs, where = source_paragraphs(need=args.docs * 7)
    texts, info = build_corpus(args.docs, args.seed, paragraphs)
    gen_seconds = time.perf_counter() - clock

    with tempfile.TemporaryDirectory(prefix="dedup-synthetic-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "synthetic.jsonl"
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"id": f"doc{i:05d}", "text": text}, ensure_ascii=False) + "\n"
                         for i, text in enumerate(texts))
        clock = time.perf_counter()
        report = dedup.scan(str(path), report=None, **options)
        scan_seconds = time.perf_counter() - clock

    clock = time.perf_counter()
    doc_number = {f"doc{i:05d}": i for i in range(len(texts))}
    dropped = {doc_number[d] for d in report.filter(report["kind"] == "duplicate_doc")["doc_id"].to_list()}
    blocks, block_jac, block_exact = block_truth(texts, dropped)
    block_number = {b: i for i, b in enumerate(blocks)}
    doc_pred, block_pred, block_stated = predicted(report, doc_number, block_number)
    toks, sets, doc_values = doc_truth(texts)
    for pair in doc_pred - set(doc_values):  # predicted pairs the candidate filter left out
        i, j = pair
        doc_values[pair] = (aligned(toks[i], toks[j]), jaccard_sets(sets[i], sets[j]))
    for pair in block_pred - set(block_jac):
        block_jac[pair] = block_exact(*pair)
    truth_seconds = time.perf_counter() - clock

    n_lines = sum(t.count("\n") + 1 for t in texts)
    kinds = report.group_by("kind").len().sort("kind").iter_rows()
    print(describe_dedup())
    print(f"source: {len(paragraphs)} distinct docstring paragraphs (>= 12 words), Python "
          f"{platform.python_version()}: {where}"
          + (f"; supply reused {info['reused_supply']}x" if info["reused_supply"] else ""))
    print(f"corpus (seed {args.seed}): {len(texts)} documents = {info['base']} base + {info['copies']} near-copies, "
          f"{n_lines} lines; injected block copies: "
          + ", ".join(f"{k} {v}" for k, v in sorted(info["block_edits"].items())))
    print(f"dedup.scan({', '.join(f'{k}={v!r}' for k, v in options.items()) or 'defaults'}): {scan_seconds:.2f} s; "
          + ", ".join(f"{k} {n}" for k, n in kinds)
          + f"  (generation {gen_seconds:.1f} s, truth {truth_seconds:.1f} s)")

    print(f"\n  {'':<38} {'true':>7} {'pred':>7} {'tp':>7} {'precision':>9} {'recall':>7}")
    print("BLOCKS (pairs in one repeat/boilerplate/duplicate_block cluster; lines of dropped documents left out)")
    truth_blocks = {k for k, v in block_jac.items() if v >= 0.8}
    print_prf("true word-5-gram Jaccard >= 0.8", block_pred, truth_blocks, "target P >= 0.95, R >= 0.9")
    near_only = {k for k in truth_blocks if block_jac[k] < 1.0}
    not_exact = {k for k in block_pred if block_jac[k] < 1.0}
    print_prf("  near only: 0.8 <= J < 1 (pred: J < 1)", not_exact, near_only)
    print("DOCUMENTS (pairs in one duplicate_doc cluster, the kept copy included)")
    truth_aligned = {k for k, (a, _) in doc_values.items() if a >= 0.9}
    truth_j = {k for k, (_, j) in doc_values.items() if j >= 0.8}
    print_prf("true aligned share >= 0.9", doc_pred, truth_aligned)
    print_prf("true word-5-gram Jaccard >= 0.8", doc_pred, truth_j)
    missed = [doc_values[k][1] for k in truth_aligned - doc_pred]
    print(f"  missed aligned >= 0.9 pairs: {sum(j < 0.5 for j in missed)} of true J < 0.5 (under dedup's candidate "
          f"filter), {sum(j >= 0.5 for j in missed)} of J >= 0.5")

    print("\nBlock pairs by true Jaccard (pairs of J >= 0.5):")
    print_bins("bin", {k: v for k, v in block_jac.items() if v >= 0.5}, block_pred)
    wrong = Counter(round(block_jac[k], 2) for k in block_pred if block_jac[k] < 0.8)
    if wrong:
        n_stated = sum(block_jac[k] < 0.8 for k in block_stated)
        print(f"  predicted block pairs below 0.8: {sum(wrong.values())} ({n_stated} a report row and its kept copy, "
              "the rest co-members of a cluster); by true J: "
              + ", ".join(f"{j:.2f}: {n}" for j, n in sorted(wrong.items(), reverse=True)[:12]))
    print("\nDocument pairs by true aligned share (pairs of share >= 0.5):")
    print_bins("bin", {k: a for k, (a, _) in doc_values.items() if a >= 0.5}, doc_pred)
    print("\nDocument pairs by true word-5-gram Jaccard (pairs of J >= 0.5):")
    print_bins("bin", {k: j for k, (_, j) in doc_values.items() if j >= 0.5}, doc_pred)


if __name__ == "__main__":
    main()
