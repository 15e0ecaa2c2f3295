"""Scanning batches one after another through an index finds, for the last batch, what one scan of
all of them finds with --keep first (README: "An index that outlives a run")."""

from __future__ import annotations

import json
import string

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.api import run
from dedup.config import Config

# Lower-case words that are no month or day name, so no line has a template frame; lines of at most
# three words, so that no line can be a page's own headline (README lists both as differences).
WORDS = ["apple", "river", "stone", "cloud", "green", "quiet", "table", "house", "light", "water", "bread", "north"]
LINES = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
COMPARED = ["doc_id", "block", "kind", "cluster", "kept_doc", "kept_block", "action", "similarity"]


def _unique_line(n: int) -> str:
    """Three words no other document has (letters only: digits would all normalise to 0)."""
    letters = "".join(string.ascii_lowercase[int(d)] for d in str(n))
    return f"zq{letters} zr{letters} zs{letters}"


@st.composite
def batches(draw):
    pool = draw(st.lists(LINES, min_size=2, max_size=10, unique=True))
    made: list[dict] = []
    out = []
    for b in range(draw(st.integers(2, 3))):
        docs = []
        for _ in range(draw(st.integers(1, 5))):
            n = len(made)
            how = draw(st.sampled_from(["new", "copy", "near"])) if made else "new"
            if how == "new":
                lines = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=14))
                lines.insert(draw(st.integers(0, len(lines))), _unique_line(n))
                doc = {"id": f"d{n}", "url": f"http://s{draw(st.integers(0, 1))}.org/{n}", "lines": lines}
            else:
                source = draw(st.sampled_from(made))
                lines = [(_unique_line(n) if how == "near" and line == _unique_line(int(source["id"][1:]))
                          else line) for line in source["lines"]]
                doc = {"id": f"d{n}", "url": source["url"], "lines": lines}
            made.append(doc)
            docs.append(doc)
        out.append([{"id": d["id"], "url": d["url"], "text": "\n".join(d["lines"])} for d in docs])
    return out


def _write(batch: list[dict], name: str) -> str:
    with open(name, "w") as f:
        f.writelines(json.dumps(record) + "\n" for record in batch)
    return name


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpus=batches())
def test_the_last_batch_through_an_index_finds_what_one_scan_of_all_batches_finds(corpus, tmp_path_factory,
                                                                                  monkeypatch):
    folder = tmp_path_factory.mktemp("eq")
    monkeypatch.chdir(folder)
    config = Config(site_field="url", workers=1, keep="first")
    names = [_write(batch, f"b{k}.jsonl") for k, batch in enumerate(corpus)]
    for name in names:
        indexed, _ = run([name], config, report=None, index="idx")
    together, _ = run(names, config, report=None)
    last = names[-1]
    expected = together.filter(pl.col("doc_id").str.starts_with(f"{last}:")).with_columns(
        pl.col("doc_id").str.strip_prefix(f"{last}:"),
        pl.col("kept_doc").str.strip_prefix(f"{last}:"))
    assert indexed.select(COMPARED).sort("doc_id", "block").rows() == expected.select(COMPARED).sort(
        "doc_id", "block").rows()
