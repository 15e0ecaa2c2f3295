"""The review page (dedup.report.html): its data checked in Python, its script in headless Chromium.

The browser tests drive Debian's chromium through Playwright (no browser download) and are skipped
only when chromium or Playwright is absent; .ci/run installs both.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import error_lines, sentence, write_jsonl

import dedup
from dedup.api import run
from dedup.config import Config, ConfigError
from dedup.io.sources import InputError, open_sources
from dedup.report.html import changed_words, render, write_html
from dedup.report.review import gather, sample_documents

CHROMIUM = "/usr/bin/chromium"
CONFIG = Config(site_field="url", workers=1)
EDITED_WORD = "Zanzibarquox"
NEAR_WORD = "Quuxlemonade"


def review_corpus(path: Path) -> Path:
    """Three sites of six pages, each page with its site's menu and a copyright line (boilerplate);
    one page repeats a body line (repeat), one page is republished with a word changed
    (duplicate_doc), one long line stands in two pages (a near duplicate_block, its second word
    changed), and one site's copyright line carries an emoji (offsets beyond UTF-16)."""
    records = []
    for site in range(3):
        for number in range(6):
            body = [sentence(30, 1000 * site + 10 * number + k) for k in range(5)]
            lines = [f"Home | News | Sport | Weather {site}", *body,
                     "Copyright 2024 The Example Times, all rights reserved" + (" \U0001F600" if site == 2 else "")]
            if number == 2:
                lines.insert(4, body[1])
            if site == 1 and number in (3, 4):
                long_line = sentence(60, 777)
                words = long_line.split(" ")
                lines.insert(2, long_line if number == 3 else " ".join([words[0], NEAR_WORD, *words[2:]]))
            records.append({"id": f"s{site}-{number}", "url": f"https://site{site}.example/{number}",
                            "text": "\n".join(lines) + "\n"})
    copy = dict(records[1], id="copy", url="https://site0.example/copy")
    words = copy["text"].split(" ")
    words[12] = EDITED_WORD
    copy["text"] = " ".join(words)
    return write_jsonl(path, [*records, copy])


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """The corpus, its report (CSV and frame), the run's stats and its page."""
    folder = tmp_path_factory.mktemp("review")
    corpus = review_corpus(folder / "corpus.jsonl")
    frame, stats = run([str(corpus)], CONFIG, report=folder / "report.csv")
    target = folder / "page.html"
    write_html(frame, open_sources([str(corpus)], CONFIG), CONFIG, target, stats=stats)
    return corpus, frame, stats, target


def page_data(target: Path) -> dict:
    import json

    text = target.read_text(encoding="utf-8")
    return json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.DOTALL).group(1))


def test_changed_words_marks_only_the_words_that_differ():
    kept, removed = changed_words("one two three four", "one two 3 four five")
    assert kept == [(8, 13)]
    assert removed == [(8, 9), (15, 19)]
    assert changed_words("same words", "same words") == ([], [])


def test_sample_takes_every_kind_in_turn_and_the_kept_copy():
    report = pl.DataFrame({"doc_id": ["a", "b", "c", "d", "e"], "kind": ["boilerplate"] * 3 + ["duplicate_doc"] * 2,
                           "cluster": [0, 0, 0, 1, 2], "kept_doc": [None, None, None, "k", "m"]})
    assert sample_documents(report, max_docs=4) == ["a", "b", "c", "d"]
    assert sample_documents(report, max_docs=10) == ["a", "b", "c", "d", "k", "e", "m"]


def test_page_counts_are_the_reports_and_the_runs(scanned):
    _, frame, stats, target = scanned
    summary = page_data(target)["summary"]
    assert summary["by_kind"] == dict(frame.group_by("kind").len().iter_rows())
    assert summary["findings"] == len(frame) == sum(stats.findings.values())
    assert (summary["documents"], summary["blocks"]) == (stats.documents, stats.blocks)
    # counted again from the texts, as cleaning counts them
    assert summary["chars_removed"] == stats.chars_removed > 0
    assert summary["docs_dropped"] == stats.docs_dropped == 1


def test_review_of_the_report_csv_makes_the_same_page_as_the_run(scanned, tmp_path):
    corpus, _, stats, target = scanned
    again = tmp_path / "again.html"
    # no stats: documents and blocks are counted anew
    result = dedup.review(corpus, report=corpus.parent / "report.csv", html=again, site_field="url")
    summary = page_data(again)["summary"]
    assert (summary["documents"], summary["blocks"], summary["chars_removed"]) == (
        stats.documents, stats.blocks, stats.chars_removed)
    assert (result.stats.documents, result.stats.blocks, result.stats.chars_removed, result.stats.findings) == (
        stats.documents, stats.blocks, stats.chars_removed, stats.findings)
    assert again.read_bytes() == target.read_bytes()


def test_cli_scan_clean_and_review_write_the_page(cli_inprocess, tmp_path):
    corpus = review_corpus(tmp_path / "c.jsonl")
    scanned = cli_inprocess("scan", corpus, "--site-field", "url", "--workers", "1", "--html", "scan.html")
    assert scanned.code == 0 and "review page: scan.html" in scanned.stderr
    cleaned = cli_inprocess("clean", corpus, "--out", "clean.jsonl", "--site-field", "url", "--workers", "1",
                            "--report", "clean.csv", "--html", "clean.html", "--quiet")
    assert cleaned.code == 0 and cleaned.stderr == ""
    reviewed = cli_inprocess("review", "clean.csv", corpus, "--site-field", "url", "--html", "review.html")
    assert reviewed.code == 0, reviewed.stderr
    to_stdout = cli_inprocess("review", "clean.csv", corpus, "--site-field", "url", "--html", "-", "--quiet")
    assert to_stdout.code == 0
    pages = [(tmp_path / name).read_bytes() for name in ("scan.html", "clean.html", "review.html")]
    assert pages[0] == pages[1] == pages[2] == to_stdout.stdout
    assert page_data(tmp_path / "scan.html")["summary"]["findings"] == len(pl.read_csv(tmp_path / "clean.csv"))


def test_cli_review_of_a_bad_report_names_the_line_and_writes_nothing(cli_inprocess, tmp_path):
    corpus = review_corpus(tmp_path / "c.jsonl")
    assert cli_inprocess("scan", corpus, "--site-field", "url", "--workers", "1", "--quiet").code == 0
    lines = (tmp_path / "dedup-report.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace(",remove,", ",erase,")
    (tmp_path / "bad.csv").write_text("".join(lines), encoding="utf-8")
    done = cli_inprocess("review", "bad.csv", corpus, "--site-field", "url", "--html", "page.html")
    assert done.code == 1
    assert error_lines(done.stderr) == ["dedup: error: bad.csv, line 4: action 'erase' is not what dedup writes there"]
    assert not (tmp_path / "page.html").exists()
    done = cli_inprocess("review", "dedup-report.csv", tmp_path / "other.jsonl", "--html", "page.html")
    assert done.code == 1 and "other.jsonl: no such file or folder" in done.stderr
    write_jsonl(tmp_path / "other.jsonl", [{"id": "x", "text": "nothing here"}])
    done = cli_inprocess("review", "dedup-report.csv", tmp_path / "other.jsonl", "--html", "page.html")
    assert done.code == 1
    assert error_lines(done.stderr) == [("dedup: error: dedup-report.csv, line 2: document 's0-0' is not in the inputs "
                                         "(give the inputs of the run, in the same order, with the same --id-field)")]
    assert not (tmp_path / "page.html").exists()


def test_html_keyword_of_the_api(tmp_path):
    corpus = review_corpus(tmp_path / "c.jsonl")
    frame = dedup.scan(corpus, html=tmp_path / "scan.html", site_field="url", workers=1).findings
    assert page_data(tmp_path / "scan.html")["summary"]["findings"] == len(frame)
    dedup.clean(corpus, tmp_path / "out.jsonl", html=tmp_path / "clean.html", site_field="url", workers=1)
    assert (tmp_path / "clean.html").read_bytes() == (tmp_path / "scan.html").read_bytes()


def test_page_is_the_same_bytes_every_time_and_fetches_nothing(scanned, tmp_path):
    corpus, frame, stats, target = scanned
    again = tmp_path / "page.html"
    write_html(frame, open_sources([str(corpus)], CONFIG), CONFIG, again, stats=stats)
    assert again.read_bytes() == target.read_bytes()
    text = target.read_text(encoding="utf-8")
    # the charts' SVG refers to its own parts only (href="#id", url(#id))
    assert not re.search(r"""\b(src|href)\s*=\s*["'](?!#)|<link\b|@import|url\(\s*(?!#)""", text)
    assert "default-src 'none'" in text


def test_kept_copy_and_changed_word_are_paired(scanned):
    _, frame, _, target = scanned
    data = page_data(target)
    row = frame.with_row_index().filter(pl.col("kind") == "duplicate_doc")["index"][0]
    kept_start, kept_end, kept_changes, changes = data["pairs"][str(row)]
    copy = data["texts"][str(data["docs"].index("copy"))]
    original = data["texts"][str(data["docs"].index("s0-1"))]
    assert (kept_start, kept_end) == (0, len(original))
    assert [copy[a:b] for a, b in zip(changes[::2], changes[1::2])] == [EDITED_WORD]
    assert [original[a:b] for a, b in zip(kept_changes[::2], kept_changes[1::2])] == [original.split(" ")[12]]


def test_a_rule_column_labels_the_findings_when_present(scanned):
    corpus, frame, _, _ = scanned
    frame = frame.drop("rule", strict=False)  # the report as it was before the rule column
    ruled = frame.with_columns(rule=pl.when(pl.col("kind") == "boilerplate").then(pl.lit("site 6 of 6 pages"))
                               .otherwise(pl.col("kind")))
    sources = open_sources([str(corpus)], CONFIG)
    gathered = gather(ruled, sources, CONFIG, sample_documents(ruled))
    text = render(ruled, gathered)
    assert "<th>rule</th>" in text and "site 6 of 6 pages" in text
    assert "site 6 of 6 pages" not in render(frame, gathered)


def test_a_report_csv_with_a_rule_column_keeps_it(scanned, tmp_path):
    corpus, frame, _, _ = scanned
    ruled = tmp_path / "ruled.csv"
    pl.read_csv(corpus.parent / "report.csv", infer_schema=False).with_columns(
        rule=pl.lit("site 6 of 6 pages")).write_csv(ruled)
    result = dedup.review(corpus, report=ruled, html=tmp_path / "page.html", site_field="url")
    assert result.findings.columns[-1] == "rule" and len(result.findings) == len(frame)
    data = page_data(tmp_path / "page.html")
    assert data["has_rule"] and {data["strings"][i] for i in data["rows"]["rule"]} == {"site 6 of 6 pages"}


def test_findings_beyond_the_cap_are_sampled_but_counted_whole(scanned):
    corpus, frame, _, _ = scanned
    sources = open_sources([str(corpus)], CONFIG)
    gathered = gather(frame, sources, CONFIG, ["s1-3", "s1-4", "s2-2"])
    import json

    data = json.loads(re.search(r'id="data">(.*?)</script>', render(frame, gathered, max_rows=10), re.DOTALL).group(1))
    listed = data["row_numbers"]
    assert data["summary"]["findings"] == data["rows_total"] == len(frame)
    assert len(listed) < len(frame)
    # an even sample, plus every row of the documents shown whole
    whole = frame.with_row_index().filter(pl.col("doc_id").is_in(["s1-3", "s1-4", "s2-2"]))["index"].to_list()
    assert set(whole) <= set(listed) and 0 in listed
    # pairs name listed rows: their span of the held text is the finding's text
    assert data["pairs"]
    for at, (kept_start, kept_end, _, _) in data["pairs"].items():
        row = frame.row(listed[int(at)], named=True)
        text = data["texts"][str(data["rows"]["doc"][int(at)])]
        assert text[row["start"]:row["end"]] == row["text"] and data["docs"][data["rows"]["doc"][int(at)]] == row["doc_id"]
        kept = data["texts"][str(data["rows"]["kept_doc"][int(at)])]
        assert kept_end > kept_start and kept[kept_start:kept_end].split(" ")[2:] == row["text"].split(" ")[2:]


def test_a_report_naming_a_missing_document_is_refused_by_line(scanned):
    corpus, frame, _, _ = scanned
    wrong = frame.with_columns(doc_id=pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("nowhere")).otherwise("doc_id"))
    with pytest.raises(InputError, match=r"report.csv, line 5: document 'nowhere' is not in the inputs"):
        gather(wrong, open_sources([str(corpus)], CONFIG), CONFIG, [], origin="report.csv")


def test_a_span_beyond_the_text_is_refused_by_line(scanned):
    corpus, frame, _, _ = scanned
    wrong = frame.with_columns(end=pl.when(pl.int_range(pl.len()) == 0).then(10**6).otherwise("end"))
    with pytest.raises(InputError, match=r"r.csv, line 2: span ends at 1000000 but document 's0-0' has \d+ characters"):
        gather(wrong, open_sources([str(corpus)], CONFIG), CONFIG, [], origin="r.csv")


def test_missing_matplotlib_is_one_line_naming_the_extra(scanned, monkeypatch, tmp_path):
    corpus, frame, stats, _ = scanned
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ConfigError, match=r"^--html needs matplotlib: pip install 'dedup\[html\]'$"):
        write_html(frame, open_sources([str(corpus)], CONFIG), CONFIG, tmp_path / "p.html", stats=stats)
    assert not (tmp_path / "p.html").exists()


def test_a_run_without_findings_still_makes_a_page(tmp_path):
    corpus = write_jsonl(tmp_path / "c.jsonl", [{"id": "a", "text": sentence(12, 1)}, {"id": "b", "text": sentence(12, 2)}])
    target = tmp_path / "page.html"
    dedup.scan(corpus, html=target, workers=1)
    data = page_data(target)
    assert data["summary"] | {"by_kind": None} == {
        "documents": 2, "blocks": 2, "findings": 0, "by_kind": None, "chars_removed": 0, "docs_dropped": 0,
        "sites": 1, "documents_with_text": 0}
    text = target.read_text(encoding="utf-8")
    assert "no similarities in this report" in text and "No boilerplate in this report." in text


# --- in the browser -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("chromium is not installed (.ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists()
                                              else shutil.which("chromium"), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def opened(browser, scanned):
    """The page open in a new tab, with what it logged and requested."""
    target = scanned[3]
    tab = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, requests = [], []
    tab.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.on("request", lambda request: requests.append(request.url))
    tab.goto(target.as_uri())
    tab.wait_for_selector("body[data-ready='1']")
    yield tab, problems, requests
    tab.close()


def shown(tab, count: int) -> None:
    """Wait until the page lists ``count`` findings (its filters wait a moment after each keystroke)."""
    from playwright.sync_api import expect

    expect(tab.locator("#count")).to_have_attribute("data-shown", str(count))


def listed_kinds(tab) -> list[str]:
    return tab.locator("#findings tbody tr td:nth-child(3)").all_inner_texts()


def test_page_opens_without_console_errors_or_requests(opened, scanned):
    _, problems, requests = opened
    assert problems == []
    assert requests == [scanned[3].as_uri()]


def test_shown_counts_equal_the_reports(opened, scanned):
    tab, _, _ = opened
    frame = scanned[1]
    for kind, count in frame.group_by("kind").len().iter_rows():
        assert tab.inner_text(f"[data-count='{kind}']") == f"{count:,}"
    assert tab.inner_text("[data-count='findings']") == f"{len(frame):,}"
    assert tab.inner_text("#count") == f"{len(frame)} of {len(frame)} findings"
    assert len(listed_kinds(tab)) == len(frame)
    # per site: documents, findings, each kind
    header = tab.locator("#site-table tr").first.locator("th").all_inner_texts()
    kinds = sorted(frame["kind"].unique())
    assert header == ["site", "documents", "findings", *[k.replace("_", " ") for k in kinds], "characters removed"]
    for site in range(3):
        ours = frame.filter(pl.col("doc_id").str.starts_with(f"s{site}-") | (
            (pl.col("doc_id") == "copy") if site == 0 else pl.lit(False)))
        cells = tab.locator("#site-table tr", has_text=f"site{site}.example").locator("td").all_inner_texts()
        assert cells[1:3] == [str(6 + (site == 0)), str(len(ours))]
        assert cells[3:3 + len(kinds)] == [str(len(ours.filter(pl.col("kind") == k))) for k in kinds]


def test_a_kind_filter_lists_that_kind_only(opened, scanned):
    tab, problems, _ = opened
    frame = scanned[1]
    tab.select_option("#f-kind", "repeat")
    repeats = len(frame.filter(pl.col("kind") == "repeat"))
    shown(tab, repeats)
    assert set(listed_kinds(tab)) == {"repeat"} and len(listed_kinds(tab)) == repeats
    assert problems == []


def test_search_and_site_filters_narrow_the_list(opened, scanned):
    tab, problems, _ = opened
    frame = scanned[1]
    tab.fill("#search", "weather 1")
    shown(tab, 6)
    assert all("Weather 1" in t for t in tab.locator("#findings tbody td.text").all_inner_texts())
    tab.fill("#search", "")
    tab.fill("#f-site", "site2")
    expected = len(frame.filter(pl.col("doc_id").str.starts_with("s2-")))
    shown(tab, expected)
    assert set(tab.locator("#findings tbody td:first-child").all_inner_texts()) == {f"s2-{n}" for n in range(6)}
    assert problems == []


def test_cluster_view_shows_the_kept_copy_beside_the_removed_one(opened, scanned):
    tab, problems, _ = opened
    frame = scanned[1]
    cluster = frame.filter(pl.col("kind") == "duplicate_doc")["cluster"][0]
    tab.select_option("#f-kind", "duplicate_doc")
    shown(tab, 1)
    tab.locator("#findings tbody a.link", has_text=str(cluster)).click()
    card = tab.locator(f".cluster[data-cluster='{cluster}']")
    kept, removed = card.locator(".copy.kept"), card.locator(".copy.removed")
    assert "kept: s0-1" in kept.inner_text() and "copy" in removed.inner_text()
    assert removed.locator("mark").all_inner_texts() == [EDITED_WORD]
    assert len(kept.locator("mark").all_inner_texts()) == 1
    # the rest of both copies is the same text
    assert kept.inner_text().split("\n", 1)[1].replace(kept.locator("mark").inner_text(), EDITED_WORD) == \
        removed.inner_text().split("\n", 1)[1]
    assert problems == []


def test_cluster_view_compares_copies_whose_documents_the_page_does_not_hold(browser, scanned, tmp_path):
    corpus, frame, stats, _ = scanned
    target = tmp_path / "page.html"
    write_html(frame, open_sources([str(corpus)], CONFIG), CONFIG, target, stats=stats, max_docs=0)
    assert page_data(target)["texts"] == {}
    near = frame.filter((pl.col("kind") == "duplicate_block") & (pl.col("similarity") < 1))
    assert near["doc_id"].to_list() == ["s1-4"] and near["kept_doc"].to_list() == ["s1-3"]
    tab = browser.new_page()
    tab.goto(target.as_uri())
    tab.select_option("#f-kind", "duplicate_block")
    shown(tab, len(frame.filter(pl.col("kind") == "duplicate_block")))
    tab.locator("#findings tbody a.link", has_text=str(near["cluster"][0])).click()
    card = tab.locator(f".cluster[data-cluster='{near['cluster'][0]}']")
    kept, copy = card.locator(".copy.kept"), card.locator(".copy").nth(1)
    assert "kept: s1-3 · block 2" in kept.inner_text() and "s1-4 · block 2" in copy.inner_text()
    assert copy.locator("mark").all_inner_texts() == [NEAR_WORD]
    original = sentence(60, 777).split(" ")[1]
    assert kept.locator("mark").all_inner_texts() == [original]
    tab.close()


def test_document_view_strikes_out_removed_spans_with_their_label(opened, scanned):
    tab, problems, _ = opened
    frame = scanned[1]
    tab.click(".tabs button[data-tab=documents]")
    tab.click("#doc-list [data-doc]:has-text('s2-2')")
    struck = tab.locator("#doc-text del").all_inner_texts()
    rows = frame.filter(pl.col("doc_id") == "s2-2").sort("start")
    assert struck == rows["text"].to_list()  # the emoji line too: offsets count code points
    labels = tab.locator("#doc-text .label").all_inner_texts()
    assert labels == rows["rule"].to_list()  # each span labelled with the rule that removed it
    assert problems == []
