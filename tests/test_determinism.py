"""Same input, same report and output byte for byte: across runs and across worker counts."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from conftest import sentence, snapshot, words

import dedup
from dedup.api import run
from dedup.config import Config
from dedup.match.lsh import band_keys
from dedup.store.bands import BandStore

NAV = "Home | Politics | Business | Science | Contact"


@pytest.fixture
def corpus(tmp_path):
    """A dozen pages with boilerplate, repeats, near repeats, duplicate blocks and documents."""
    root = tmp_path / "site"
    root.mkdir()
    shared = " ".join(words(30, 800)) + "."
    for i in range(12):
        caption = " ".join(words(40, 810 + i)) + "."
        near = caption.replace(caption.split(" ")[38], "Edited")
        lines = [NAV, sentence(30, 820 + i), caption, sentence(25, 840 + i), near]
        if i in (0, 6):
            lines.append(shared)
        (root / f"page{i:02d}.txt").write_text("\n".join(lines) + "\n")
    (root / "page99.txt").write_text((root / "page03.txt").read_text().replace("Home", "HOME"))
    return root


def _run(corpus, tmp_path, name, **options):
    report = tmp_path / f"{name}.csv"
    out = tmp_path / f"{name}-out"
    dedup.clean(str(corpus), str(out), report=report, boilerplate_min_docs=3, **options)
    return report.read_bytes(), snapshot(out)


def test_two_runs_give_identical_report_and_output(corpus, tmp_path):
    first = _run(corpus, tmp_path, "one", workers=1)
    second = _run(corpus, tmp_path, "two", workers=1)
    assert first == second
    kinds = {line.split(b",")[4] for line in first[0].splitlines()[1:]}
    assert kinds == {b"boilerplate", b"repeat", b"duplicate_doc", b"duplicate_block"}


def test_two_threads_give_the_same_report_as_one(corpus, tmp_path):
    single = _run(corpus, tmp_path, "single", workers=1)
    threaded = _run(corpus, tmp_path, "threaded", workers=2, batch_docs=1)  # 13 batches, finishing out of order
    assert threaded == single
    assert len(single[0].splitlines()) > 20
    assert run([str(corpus)], Config(workers=2, batch_docs=1), report=None)[1].workers == 2


def test_a_failing_item_is_raised_in_its_turn_on_any_number_of_threads():
    # Item 2 fails late and item 5 at once: the items before 2 come out, then item 2's error,
    # whichever thread finishes first.
    import time

    from dedup.executors.local import LocalThreads

    def work(number):
        if number in (2, 5):
            time.sleep(0.3 if number == 2 else 0)
            raise ValueError(f"item {number}")
        return number

    for workers in (1, 2):
        out = []
        with pytest.raises(ValueError, match="item 2"):
            for value in LocalThreads(workers).map(work, range(8)):
                out.append(value)
        assert out == [0, 1]


def test_stopping_early_drops_the_items_not_begun():
    # Closing the iterator (an error downstream, Ctrl-C) must not run every item first:
    # at most one item per thread waits ahead.
    import time

    from dedup.executors.local import LocalThreads

    started = []

    def work(number):
        started.append(number)
        time.sleep(0.2)
        return number

    results = LocalThreads(2).map(work, range(12))
    assert next(results) == 0
    results.close()
    assert len(started) <= 3


def test_a_scan_on_two_threads_fills_the_same_report_as_one(corpus, tmp_path):
    # A scan fills its report's texts from the batches' set-aside files, on the worker threads.
    reports = []
    for workers in (1, 2):
        report = tmp_path / f"scan-{workers}.csv"
        dedup.scan(str(corpus), report=report, boilerplate_min_docs=3, workers=workers, batch_docs=1)
        reports.append(report.read_bytes())
    assert reports[0] == reports[1]
    assert reports[0] == _run(corpus, tmp_path, "cleaned", workers=1)[0]  # as clean's second read fills it


def test_spilling_band_keys_to_disk_gives_the_same_report(corpus, tmp_path):
    held = _run(corpus, tmp_path, "held", workers=1, batch_docs=3)
    spilled = _run(corpus, tmp_path, "spilled", workers=1, batch_docs=3, memory_limit=64)
    assert spilled == held
    # The limit above really made the band keys go to disk (and none does without one).
    for limit, expected in ((64, True), (None, False)):
        _, stats = run([str(corpus)], Config(workers=1, batch_docs=3, memory_limit=limit), report=None)
        assert stats.band_keys_spilled is expected


def test_band_store_reads_back_what_it_spilled(tmp_path):
    sigs = np.random.default_rng(3).integers(0, 2**32, size=(50, 12), dtype=np.uint32)
    held = BandStore(bands=4, budget=None, folder=None)
    spilled = BandStore(bands=4, budget=100, folder=tmp_path)
    for lo in range(0, 50, 7):
        held.append(band_keys(sigs[lo:lo + 7], bands=4, rows=3))
        spilled.append(band_keys(sigs[lo:lo + 7], bands=4, rows=3))
    assert spilled.spilled and not held.spilled and len(spilled) == len(held) == 50
    for b in range(4):
        assert np.array_equal(spilled.band(b), held.band(b))
    # On disk as Parquet parts, one column per band, and nothing left held in memory.
    parts = sorted(tmp_path.glob("*.parquet"))
    assert len(parts) == 8 and spilled.held == 0
    assert pl.read_parquet_schema(parts[0]) == {f"band_{b:03d}": pl.UInt64 for b in range(4)}


@pytest.mark.parametrize("unit", ["line", "paragraph"])
def test_a_scan_reports_what_cleaning_reports_without_reading_the_input_again(corpus, tmp_path, unit):
    """A scan takes its report texts from pass 1; cleaning reads them again. Same rows, same texts,
    same count of characters removed (line breaks too, CRLF ones as well) and of documents dropped."""
    if unit == "paragraph":  # every line its own paragraph
        for page in corpus.glob("*.txt"):
            page.write_text(page.read_text().replace("\n", "\n\n"))
    (corpus / "page05.txt").write_bytes((corpus / "page05.txt").read_bytes().replace(b"\n", b"\r\n"))
    (corpus / "page07.txt").write_text((corpus / "page07.txt").read_text().rstrip("\n"))  # no final break
    config = Config(workers=1, boilerplate_min_docs=3, unit=unit)
    scanned, scan_stats = run([str(corpus)], config, report=tmp_path / "scan.csv")
    _, clean_stats = run([str(corpus)], config, report=tmp_path / "clean.csv", out=tmp_path / "out")
    assert (tmp_path / "scan.csv").read_bytes() == (tmp_path / "clean.csv").read_bytes()
    assert scanned["text"].null_count() == 0 and len(scanned) > 20
    assert (scan_stats.chars_removed, scan_stats.docs_dropped) == (clean_stats.chars_removed, clean_stats.docs_dropped)
    assert scan_stats.chars_removed > 0 and scan_stats.docs_dropped > 0


def test_band_store_spills_in_parts_of_about_a_quarter_of_its_budget(tmp_path):
    sigs = np.random.default_rng(4).integers(0, 2**32, size=(140, 12), dtype=np.uint32)
    store = BandStore(bands=4, budget=2000, folder=tmp_path)  # a batch of 7 rows is 224 bytes
    for lo in range(0, 140, 7):
        store.append(band_keys(sigs[lo:lo + 7], bands=4, rows=3))
    rows = [pl.read_parquet(part).height for part in sorted(tmp_path.glob("*.parquet"))]
    assert store.spilled and len(rows) > 3
    assert max(rows) * 4 * 8 <= 2000 // 4 + 224  # a quarter of the budget, plus at most one batch
    assert sum(rows) + store.held // (4 * 8) == 140
    assert np.array_equal(store.band(2), band_keys(sigs, bands=4, rows=3)[2])
