"""Cleaning twice changes nothing more: the output of ``clean``, cleaned again, is unchanged."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from conftest import SEED_FILE, clean, read_jsonl, sentence, write_jsonl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_LONG = [sentence(9, 1000 + k) for k in range(4)]
LINES = [
    *_LONG,
    _LONG[0][:-1] + " extra.",  # a near copy of the first long line
    sentence(24, 1010),  # prose (--prose-words): two, so a line can stand in running prose
    sentence(22, 1011),
    "Read more",  # short lines: below --min-repeat-chars and the n-gram size
    "Yes.",
]
DOCS = st.lists(st.lists(st.sampled_from(LINES), min_size=1, max_size=6), min_size=1, max_size=6)


def _write(folder: Path, name: str, docs: list[list[str]]) -> Path:
    return write_jsonl(folder / name, [{"id": i, "text": "\n".join(lines) + "\n"} for i, lines in enumerate(docs)])


@settings(max_examples=int(os.environ.get("DEDUP_PROPERTY_EXAMPLES", "50")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=DOCS, unit=st.sampled_from(["line", "paragraph"]),
       options=st.sampled_from([{}, {"boilerplate_min_docs": 3}, {"drop_duplicate_blocks": True}]))
def test_cleaning_the_cleaned_corpus_changes_nothing(docs, unit, options):
    """Exact matching (issue 2's scope). With near-duplicate documents on, removing blocks can bring
    two documents within --doc-threshold of each other; the README states that known gap."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = _write(folder, "in.jsonl", docs)
        once, twice = folder / "once.jsonl", folder / "twice.jsonl"
        clean(str(src), str(once), unit=unit, near=False, **options)
        found = clean(str(once), str(twice), unit=unit, near=False, **options)
        removing = found.filter(found["action"] == "remove").select("doc_id", "kind", "text").rows()
        assert removing == [], f"second clean still removes {removing}"
        assert read_jsonl(twice) == read_jsonl(once)
        assert twice.read_bytes() == once.read_bytes()


def test_removing_a_repeat_does_not_leave_a_duplicate_document_behind(tmp_path):
    # Doc 1 holds doc 0's only line twice: its second copy is a repeat (removed), its first a
    # duplicate block (kept). The cleaned doc 1 then equals doc 0, so a second clean drops it.
    line = _LONG[0]
    src = _write(tmp_path, "in.jsonl", [[line], [line, line], ["Yes."], ["Read more"], ["No."]])
    once, twice = tmp_path / "once.jsonl", tmp_path / "twice.jsonl"
    clean(str(src), str(once), boilerplate_min_docs=3)
    found = clean(str(once), str(twice), boilerplate_min_docs=3)
    assert found.select("doc_id", "kind").rows() == []
    assert twice.read_bytes() == once.read_bytes()


def test_clean_output_of_the_seed_cleans_to_itself(tmp_path):
    once, twice = tmp_path / "once.txt", tmp_path / "twice.txt"
    clean(str(SEED_FILE), str(once))
    found = clean(str(once), str(twice))
    assert found.is_empty()
    assert twice.read_bytes() == once.read_bytes()
