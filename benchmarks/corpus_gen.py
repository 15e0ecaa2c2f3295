"""A deterministic corpus of real English text with known, injected duplication, for the benchmarks.

The text is English that ships on this machine: man pages (``/usr/share/man/man*``, roff stripped),
``/usr/share/common-licenses``, ``/usr/share/doc/*`` (copyright, README, NEWS and changelog files) and
the docstrings of the running Python's standard library. It is split into sentences, cleaned,
de-duplicated and shuffled with a fixed seed into a *sentence pool* (cached on disk, see
``cache_dir``). Documents are then drawn from the pool with ``random.Random(seed)``:

- a body of lines (blocks), each 2-3 pool sentences, so two body lines agree only by injection;
  sometimes a short heading (3 pool words, fewer than 5: matched exactly only);
- the boilerplate of the document's site: a navigation line, a tagline and a copyright line, each on
  most pages of the site (``url`` names the site: ``dedup --site-field url``);
- injected duplication, every instance counted (and, with ``truth``, listed):
  ``repeat_blocks`` (a line printed again later in the same document), ``dup_blocks`` (a line of an
  earlier document, verbatim), ``near_blocks`` (a line of an earlier document with one or two words
  changed; the word 5-gram Jaccard of each is measured and counted at 0.8 and above),
  ``dup_docs`` (an earlier document again, new id) and ``near_docs`` (an earlier document with a few
  words changed across it).

Earlier lines and documents are drawn from bounded reservoir samples of everything generated so far,
so copies can be far apart and memory stays flat: documents are written as they are made (JSON Lines,
``.gz`` optional) and never held together. Same pool + same seed + same size = same bytes.

Usage:
    python benchmarks/corpus_gen.py --docs 10000 --out /tmp/corpus.jsonl [--gzip] [--truth truth.jsonl]

From Python (``benchmarks`` on sys.path, as the other scripts there have it):
    from corpus_gen import corpus
    path, counts = corpus(10_000)     # cached under cache_dir(); counts as printed
"""

from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import json
import os
import random
import re
import sys
import sysconfig
import time
import unicodedata
from pathlib import Path

try:
    import orjson

    def _dumps(obj) -> bytes:
        return orjson.dumps(obj)
except ImportError:  # pragma: no cover - orjson is optional
    def _dumps(obj) -> bytes:
        return json.dumps(obj, ensure_ascii=False).encode("utf-8")

POOL_VERSION = 1
GENERATOR_VERSION = 2
MIN_WORDS, MAX_WORDS = 6, 45

# ---------------------------------------------------------------------------------------------------
# Sentence pool
# ---------------------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where pools and generated corpora are kept: $DEDUP_BENCH_DIR, else /tmp/dedup-bench."""
    path = Path(os.environ.get("DEDUP_BENCH_DIR", "/tmp/dedup-bench"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _read(path: Path) -> str:
    try:
        if path.suffix == ".gz":
            with gzip.open(path) as f:
                data = f.read()
        else:
            data = path.read_bytes()
    except (OSError, EOFError):
        return ""
    if b"\0" in data[:4096]:
        return ""
    return data.decode("utf-8", "replace")


_ROFF_FONT_MACROS = {"B", "I", "R", "BR", "BI", "IB", "IR", "RB", "RI", "SM", "SB"}
_ROFF_NOFILL = {"nf": "fi", "EX": "EE", "Vb": "Ve", "Bd": "Ed", "TS": "TE", "EQ": "EN", "PS": "PE"}
_ROFF_SPECIALS = {"em": "-", "en": "-", "aq": "'", "lq": '"', "rq": '"', "oq": "'", "cq": "'", "dq": '"',
                  "hy": "-", "mi": "-", "co": "(c)", "rg": "(R)", "tm": "(TM)"}
_ROFF_ESCAPES = re.compile(
    r"\\f(?:\[[^\]]*\]|\(..|.)"      # fonts
    r"|\\s[+-]?(?:\d+|\[[^\]]*\]|\(..)"  # sizes
    r"|\\\*(?:\[[^\]]*\]|\(..|.)"    # strings
    r"|\\[nk](?:\[[^\]]*\]|\(..|.)"  # registers
    r"|\\[hvwlLoDbxXZRSN]'[^']*'"    # motions and the like
    r"|\\\((..)"                     # special characters \(xx
    r"|\\\[([^\]]*)\]"               # special characters \[xx]
    r"|\\(.)"                        # everything else
)


def _roff_escape(m: re.Match) -> str:
    special = m.group(1) or m.group(2)
    if special is not None:
        return _ROFF_SPECIALS.get(special, "")
    char = m.group(3)
    if char is None:
        return ""
    return {"-": "-", "e": "\\", " ": " ", "~": " ", "0": " ", "'": "'", "`": "`", ".": "."}.get(char, "")


def _roff_paragraphs(text: str):
    """Running text of a man page, paragraph by paragraph; no-fill (example) regions are dropped."""
    para: list[str] = []
    skip_until = None
    for line in text.splitlines():
        if line.startswith((".\\\"", "'\\\"", '.\\"')):
            continue
        if line.startswith((".", "'")):
            parts = line[1:].strip().split(None, 1)
            macro = parts[0] if parts else ""
            if skip_until is not None:
                if macro == skip_until:
                    skip_until = None
                continue
            if macro in _ROFF_NOFILL:
                skip_until = _ROFF_NOFILL[macro]
                if para:
                    yield " ".join(para)
                    para = []
                continue
            if macro in _ROFF_FONT_MACROS and len(parts) > 1:
                para.append(parts[1].replace('"', ""))
                continue
            if para:
                yield " ".join(para)
                para = []
            continue
        if skip_until is not None:
            continue
        if not line.strip():
            if para:
                yield " ".join(para)
                para = []
            continue
        para.append(line.strip())
    if para:
        yield " ".join(para)


def _plain_paragraphs(text: str):
    para: list[str] = []
    for line in text.splitlines():
        stripped = line.strip().lstrip("*-+#>|").strip()
        if not stripped or set(stripped) <= set("-=*_~#"):
            if para:
                yield " ".join(para)
                para = []
            continue
        para.append(stripped)
    if para:
        yield " ".join(para)


def _docstrings(path: Path):
    try:
        tree = ast.parse(_read(path))
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield from _plain_paragraphs(doc)


_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\"'][.!?])\s+(?=[A-Z\"'(])")
_GOOD = re.compile(r"^[A-Z][A-Za-z0-9 ,;:'\"()\-./!?%&]*[.!?]$")


def _sentences(paragraph: str):
    paragraph = re.sub(r"\s+", " ", paragraph).strip()
    for sentence in _SENTENCE_END.split(paragraph):
        sentence = sentence.strip()
        words = sentence.split(" ")
        if not MIN_WORDS <= len(words) <= MAX_WORDS or not _GOOD.match(sentence):
            continue
        letters = sum(c.isalpha() for c in sentence)
        if letters < 0.8 * (len(sentence) - sentence.count(" ")):
            continue
        if any(len(w) > 25 for w in words) or sum(w[:1].isupper() for w in words) > len(words) // 2:
            continue
        yield sentence


def _sources():
    """(kind, path) of every text source, in a fixed order."""
    man = sorted(p for d in sorted(Path("/usr/share/man").glob("man[1-9]")) for p in d.iterdir()
                 if p.is_file() and not p.is_symlink())
    for p in man:
        yield "man", p
    licenses = Path("/usr/share/common-licenses")
    if licenses.is_dir():
        for p in sorted(licenses.iterdir()):
            if p.is_file():
                yield "plain", p
    docs = Path("/usr/share/doc")
    if docs.is_dir():
        names = re.compile(r"^(copyright|README.*|NEWS.*|changelog.*|.*\.txt|.*\.md|.*\.rst)(\.gz)?$", re.IGNORECASE)
        for p in sorted(docs.rglob("*")):
            if p.is_file() and not p.is_symlink() and names.match(p.name):
                yield "plain", p
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for p in sorted(stdlib.rglob("*.py")):
        rel = p.relative_to(stdlib).parts
        if rel[0] in ("test", "site-packages", "idlelib", "lib2to3") or "tests" in rel:
            continue
        yield "python", p


def build_pool(path: Path | None = None, refresh: bool = False, verbose: bool = True) -> list[str]:
    """The shuffled, de-duplicated sentence pool (one sentence a line in ``path``, built if missing)."""
    path = path or cache_dir() / f"sentences-v{POOL_VERSION}.txt"
    if path.exists() and not refresh:
        return path.read_text(encoding="utf-8").splitlines()
    clock = time.perf_counter()
    seen: set[str] = set()
    pool: list[str] = []
    per_kind: dict[str, int] = {}
    for kind, p in _sources():
        text = _read(p)
        if kind == "man":
            paragraphs = (_ROFF_ESCAPES.sub(_roff_escape, para) for para in _roff_paragraphs(text))
        elif kind == "python":
            paragraphs = _docstrings(p)
        else:
            paragraphs = _plain_paragraphs(text)
        for para in paragraphs:
            for sentence in _sentences(unicodedata.normalize("NFC", para)):
                key = _norm(sentence)
                if key not in seen:
                    seen.add(key)
                    pool.append(sentence)
                    per_kind[kind] = per_kind.get(kind, 0) + 1
    random.Random(12345).shuffle(pool)
    tmp = path.with_suffix(".partial")
    tmp.write_text("\n".join(pool) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    if verbose:
        print(f"sentence pool: {len(pool):,} distinct sentences ({per_kind}) in "
              f"{time.perf_counter() - clock:.1f}s -> {path}", file=sys.stderr)
    return pool


def _norm(text: str) -> str:
    """Close to dedup's normalisation (NFKC, lower, digits to 0, punctuation to spaces); for counting only."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\d", "0", text)
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def jaccard5(a: str, b: str, n: int = 5) -> float:
    """Word n-gram Jaccard of two lines after normalisation (what dedup's 0.8 threshold is about)."""
    wa, wb = _norm(a).split(), _norm(b).split()
    sa = {tuple(wa[i : i + n]) for i in range(len(wa) - n + 1)}
    sb = {tuple(wb[i : i + n]) for i in range(len(wb) - n + 1)}
    if not sa or not sb:
        return 1.0 if wa == wb else 0.0
    return len(sa & sb) / len(sa | sb)


# ---------------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------------

RATES = {
    "repeat_block": 0.04,  # per document: one of its lines printed again further down
    "dup_block": 0.08,     # per document: a verbatim line of an earlier document
    "near_block": 0.08,    # per document: an earlier document's line with a word or two changed
    "dup_doc": 0.02,       # per document: it is an exact copy of an earlier document (new id)
    "near_doc": 0.02,      # per document: it is an earlier document with a few words changed
    "heading": 0.3,        # per document: a short heading line (3 words)
    "boilerplate": 0.85,   # per boilerplate line of the site: the page carries it
}


class _Reservoir:
    """A uniform sample of at most ``size`` items of a stream (Algorithm R)."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size, self.rng, self.items, self.seen = size, rng, [], 0

    def add(self, item) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(item)
        else:
            j = self.rng.randrange(self.seen)
            if j < self.size:
                self.items[j] = item

    def pick(self):
        return self.rng.choice(self.items) if self.items else None


def _substitute(line: str, rng: random.Random, vocab: list[str], edits: int, edge: bool) -> str:
    words = line.split(" ")
    alpha = [i for i, w in enumerate(words) if w.isalpha()]
    if not alpha:
        return line + " " + rng.choice(vocab)
    for _ in range(edits):
        if edge:
            ends = [i for i in alpha if i < 2 or i >= len(words) - 2] or alpha
            i = rng.choice(ends)
        else:
            i = rng.choice(alpha)
        new = rng.choice(vocab)
        while new.lower() == words[i].lower():
            new = rng.choice(vocab)
        words[i] = new
    return " ".join(words)


def generate(out: Path | str, docs: int, seed: int = 0, *, pool: list[str] | None = None,
             truth: Path | str | None = None, compress: bool | None = None, blocks_per_doc: int = 10,
             rates: dict | None = None, verbose: bool = False) -> dict:
    """Write ``docs`` JSON Lines documents (id, url, text) to ``out``; return the counts of what is in it.

    ``compress`` defaults to ``out`` ending in ``.gz``. ``truth`` (JSON Lines) lists every injection:
    kind, doc, block and the source doc/block it copies (with the measured Jaccard for near blocks).
    """
    rates = {**RATES, **(rates or {})}
    pool = pool if pool is not None else build_pool(verbose=verbose)
    rng = random.Random(seed)
    sites = max(5, docs // 250)
    if len(pool) < 3 * sites + 1000:
        raise ValueError(f"sentence pool of {len(pool)} is too small for {sites} sites")
    taglines, body = pool[:sites], pool[sites:]
    vocab = sorted({w for s in body[:20000] for w in s.split(" ") if w.isalpha() and w.islower() and len(w) > 2})
    site_names = [f"site{k:05d}.example" for k in range(sites)]
    site_lines = []
    for k in range(sites):
        nav = " | ".join(w.capitalize() for w in rng.sample(vocab, rng.randint(3, 4)))
        copyright_line = (f"Copyright {rng.randint(1998, 2024)} {site_names[k]}. "
                          f"{rng.choice(['All rights reserved.', 'Some rights reserved.', 'Terms of use apply.'])}")
        site_lines.append((nav, taglines[k], copyright_line))
    lines_sample = _Reservoir(50_000, rng)
    docs_sample = _Reservoir(5_000, rng)
    counts = {k: 0 for k in ("docs", "blocks", "bytes", "sites", "boilerplate_lines", "boilerplate_distinct",
                             "headings", "repeat_blocks", "dup_blocks", "near_blocks", "near_blocks_j80",
                             "dup_docs", "near_docs")}
    counts["sites"] = sites
    boiler_used: set[tuple[int, int]] = set()
    out = Path(out)
    compress = out.name.endswith(".gz") if compress is None else compress
    tmp = out.with_name(out.name + ".partial")
    sink = gzip.open(tmp, "wb", compresslevel=1) if compress else open(tmp, "wb", buffering=1 << 20)  # noqa: SIM115
    truth_sink = open(truth, "wb", buffering=1 << 20) if truth else None  # noqa: SIM115
    said = 0

    def note(**event) -> None:
        if truth_sink is not None:
            truth_sink.write(_dumps(event) + b"\n")

    clock = time.perf_counter()
    try:
        for d in range(docs):
            doc_id = f"d{d:07d}"
            site = rng.randrange(sites)
            roll = rng.random()
            earlier = docs_sample.pick()
            if earlier is not None and roll < rates["dup_doc"] + rates["near_doc"]:
                src_id, src_site, src_lines = earlier
                lines = list(src_lines)
                if roll < rates["dup_doc"]:
                    counts["dup_docs"] += 1
                    note(kind="dup_doc", doc=doc_id, source=src_id)
                else:
                    for _ in range(rng.randint(2, 4)):
                        i = rng.randrange(len(lines))
                        lines[i] = _substitute(lines[i], rng, vocab, 1, edge=False)
                    counts["near_docs"] += 1
                    note(kind="near_doc", doc=doc_id, source=src_id)
                site = src_site if rng.random() < 0.5 else site
            else:
                nav, tagline, copyright_line = site_lines[site]
                header, footer = [], []
                for j, line in enumerate((nav, tagline)):
                    if rng.random() < rates["boilerplate"]:
                        header.append([line, None])
                        boiler_used.add((site, j))
                if rng.random() < rates["boilerplate"]:
                    footer.append([copyright_line, None])
                    boiler_used.add((site, 2))
                counts["boilerplate_lines"] += len(header) + len(footer)
                n_body = max(3, blocks_per_doc - len(header) - len(footer) + rng.randint(-2, 2))
                # entries are [text, injection]; injection = (kind, source doc, source block or entry, jaccard)
                entries: list[list] = []
                if rng.random() < rates["heading"]:
                    entries.append([" ".join(rng.sample(vocab, 3)).capitalize(), None])
                    counts["headings"] += 1
                while len(entries) < n_body:
                    entries.append([" ".join(rng.sample(body, rng.randint(2, 3))), None])
                fresh = list(entries)
                if rng.random() < rates["dup_block"] and lines_sample.items:
                    src_doc, src_block, src_text = lines_sample.pick()
                    entries.insert(rng.randrange(len(entries) + 1),
                                   [src_text, ("dup_block", src_doc, src_block, None)])
                if rng.random() < rates["near_block"] and lines_sample.items:
                    src_doc, src_block, src_text = lines_sample.pick()
                    long = len(src_text.split(" ")) >= 50
                    edited = _substitute(src_text, rng, vocab, 2 if long and rng.random() < 0.5 else 1,
                                         edge=rng.random() < 0.5)
                    entries.insert(rng.randrange(len(entries) + 1),
                                   [edited, ("near_block", src_doc, src_block, jaccard5(src_text, edited))])
                if rng.random() < rates["repeat_block"] and len(fresh) > 1:
                    original = rng.choice(fresh[:-1])
                    at = rng.randrange(entries.index(original) + 1, len(entries) + 1)
                    entries.insert(at, [original[0], ("repeat_block", doc_id, original, None)])
                entries = header + entries + footer
                position = {id(e): k for k, e in enumerate(entries)}
                for k, (_, injection) in enumerate(entries):
                    if injection is None:
                        continue
                    kind, src_doc, src_block, jac = injection
                    if kind == "repeat_block":
                        src_block = position[id(src_block)]
                    counts[kind + "s"] += 1
                    if jac is not None and jac >= 0.8:
                        counts["near_blocks_j80"] += 1
                    note(kind=kind, doc=doc_id, block=k, source=src_doc, source_block=src_block,
                         jaccard=None if jac is None else round(jac, 4))
                for e in fresh:
                    if rng.random() < 0.2:
                        lines_sample.add((doc_id, position[id(e)], e[0]))
                lines = [e[0] for e in entries]
            docs_sample.add((doc_id, site, lines))
            text = "\n".join(lines)
            record = _dumps({"id": doc_id, "url": f"https://www.{site_names[site]}/news/{doc_id}.html",
                             "text": text}) + b"\n"
            sink.write(record)
            counts["docs"] += 1
            counts["blocks"] += len(lines)
            counts["bytes"] += len(record)
            if verbose and d + 1 >= said + max(1, docs // 10):
                said = d + 1
                rate = (d + 1) / (time.perf_counter() - clock)
                print(f"  {d + 1:,} docs ({rate:,.0f}/s)", file=sys.stderr)
        sink.close()
        os.replace(tmp, out)
    finally:
        sink.close()
        if truth_sink is not None:
            truth_sink.close()
        if tmp.exists():
            tmp.unlink()
    counts["boilerplate_distinct"] = len(boiler_used)
    counts["pool_sentences"] = len(pool)
    counts["seconds"] = round(time.perf_counter() - clock, 2)
    return counts


def pool_digest(pool: list[str]) -> str:
    return hashlib.sha256("\n".join(pool).encode("utf-8")).hexdigest()[:12]


def corpus(docs: int, seed: int = 0, compress: bool = False, folder: Path | None = None,
           verbose: bool = True) -> tuple[Path, dict]:
    """A generated corpus of ``docs`` documents, made once and reused (keyed by size, seed and pool)."""
    folder = folder or cache_dir()
    pool = build_pool(verbose=verbose)
    stem = f"corpus-g{GENERATOR_VERSION}-{pool_digest(pool)}-s{seed}-{docs}"
    path = folder / (stem + (".jsonl.gz" if compress else ".jsonl"))
    meta = folder / (stem + ".counts.json")
    if path.exists() and meta.exists():
        return path, json.loads(meta.read_text())
    if verbose:
        print(f"generating {docs:,} documents -> {path}", file=sys.stderr)
    counts = generate(path, docs, seed, pool=pool, compress=compress, verbose=verbose)
    meta.write_text(json.dumps(counts, indent=1))
    return path, counts


def format_counts(counts: dict) -> str:
    c = counts
    return (f"{c['docs']:,} docs, {c['blocks']:,} blocks, {c['bytes'] / 2**20:,.1f} MiB, {c['sites']:,} sites; "
            f"injected: {c['repeat_blocks']:,} repeated blocks, {c['dup_blocks']:,} exact duplicate blocks, "
            f"{c['near_blocks']:,} near-duplicate blocks ({c['near_blocks_j80']:,} with 5-gram Jaccard >= 0.8), "
            f"{c['boilerplate_lines']:,} boilerplate lines ({c['boilerplate_distinct']:,} distinct), "
            f"{c['dup_docs']:,} exact duplicate docs, {c['near_docs']:,} near-duplicate docs; "
            f"{c['headings']:,} short headings; pool of {c.get('pool_sentences', 0):,} sentences")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="output path (default: cached under $DEDUP_BENCH_DIR or /tmp/dedup-bench)")
    ap.add_argument("--gzip", action="store_true", help="gzip the output (implied by an --out ending in .gz)")
    ap.add_argument("--truth", type=Path, help="also write every injection as JSON Lines here")
    ap.add_argument("--refresh-pool", action="store_true", help="rebuild the sentence pool")
    args = ap.parse_args(argv)
    pool = build_pool(refresh=args.refresh_pool)
    if args.out is None and args.truth is None:
        path, counts = corpus(args.docs, args.seed, args.gzip)
    else:
        path = args.out or cache_dir() / f"corpus-s{args.seed}-{args.docs}.jsonl{'.gz' if args.gzip else ''}"
        counts = generate(path, args.docs, args.seed, pool=pool, truth=args.truth,
                          compress=args.gzip or path.name.endswith(".gz"), verbose=True)
    print(path)
    print(format_counts(counts))
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
