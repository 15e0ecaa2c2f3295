"""The review page at scale: its size, the time to build it, and the time Chromium takes to open it.

Scans a generated corpus (corpus_gen.py, ``--site-field url``), writes the page with
dedup.report.html.write_html, and opens it in headless Chromium (Debian's /usr/bin/chromium through
Playwright) several times: the time from navigation to the page's script having listed the first
findings (``body[data-ready]``; and that time as the page measures it from the start of navigation), then the time of a kind filter, of a search over every finding, and of
drawing the first page of clusters.
``--screenshot PATH`` instead makes the README's picture from a small corpus.

Usage:
    python benchmarks/review_page.py --docs 30000            # ~100k findings
    python benchmarks/review_page.py --docs 60 --screenshot docs/review-page.png
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import describe_dedup
from corpus_gen import corpus, format_counts

from dedup.api import run
from dedup.config import Config
from dedup.io.sources import open_sources
from dedup.report.html import write_html

CHROMIUM = "/usr/bin/chromium"


def build(docs: int, folder: Path) -> tuple[Path, int, float, float]:
    """The page of a scan of ``docs`` generated documents; its findings, scan and build seconds."""
    path, counts = corpus(docs, verbose=False)
    print(format_counts(counts))
    config = Config(site_field="url")
    clock = time.perf_counter()
    frame, stats = run([str(path)], config, report=None)
    scanned = time.perf_counter() - clock
    target = folder / "page.html"
    clock = time.perf_counter()
    write_html(frame, open_sources([str(path)], config), config, target, stats=stats, title=f"dedup review: {path.name}")
    return target, len(frame), scanned, time.perf_counter() - clock


def open_times(target: Path, repeats: int) -> dict[str, list[float]]:
    from playwright.sync_api import expect, sync_playwright

    times: dict[str, list[float]] = {"open": [], "open, as the page measures it": [], "kind filter": [], "search": [],
                                     "clusters tab": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        for _ in range(repeats):
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            tab.on("pageerror", lambda error, seen=problems: seen.append(str(error)))
            clock = time.perf_counter()
            tab.goto(target.as_uri(), timeout=120_000)
            tab.wait_for_selector("body[data-ready='1']", timeout=120_000)
            times["open"].append(time.perf_counter() - clock)
            times["open, as the page measures it"].append(int(tab.locator("body").get_attribute("data-ready-ms")) / 1000)
            total = tab.locator("#count").get_attribute("data-shown")
            clock = time.perf_counter()
            tab.select_option("#f-kind", "repeat")
            expect(tab.locator("#count")).not_to_have_attribute("data-shown", total, timeout=60_000)
            times["kind filter"].append(time.perf_counter() - clock)  # includes the 120 ms the page waits
            tab.select_option("#f-kind", "")
            expect(tab.locator("#count")).to_have_attribute("data-shown", total, timeout=60_000)
            clock = time.perf_counter()
            tab.fill("#search", "copyright")
            expect(tab.locator("#count")).not_to_have_attribute("data-shown", total, timeout=60_000)
            times["search"].append(time.perf_counter() - clock)
            tab.fill("#search", "")
            expect(tab.locator("#count")).to_have_attribute("data-shown", total, timeout=60_000)
            clock = time.perf_counter()
            tab.click(".tabs button[data-tab=clusters]")
            tab.wait_for_selector("#clusters .cluster", timeout=60_000)
            times["clusters tab"].append(time.perf_counter() - clock)
            if problems:
                raise SystemExit(f"page errors: {problems}")
            tab.close()
        browser.close()
    return times


def screenshot(docs: int, out: Path) -> None:
    """A picture of the page of a small corpus: the summary, the charts and a cluster side by side."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        target, *_ = build(docs, Path(tmp))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            tab = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=0.75)
            tab.goto(target.as_uri())
            tab.wait_for_selector("body[data-ready='1']")
            tab.select_option("#f-kind", "duplicate_block")
            tab.click(".tabs button[data-tab=clusters]")
            tab.wait_for_selector(".cluster .copy.kept mark")
            # the summary and charts, then the filters and the first clusters (the per-site tables hidden)
            tab.add_style_tag(content="section.cols{display:none}")
            tab.screenshot(path=str(out), full_page=True, clip={"x": 0, "y": 0, "width": 1280, "height": 1700})
            browser.close()
    print(f"{out}: {out.stat().st_size / 1024:.0f} KiB")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=30_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--screenshot", type=Path)
    args = ap.parse_args(argv)
    if args.screenshot:
        screenshot(args.docs, args.screenshot)
        return 0
    print(describe_dedup())
    with tempfile.TemporaryDirectory() as tmp:
        target, findings, scanned, built = build(args.docs, Path(tmp))
        size = target.stat().st_size
        print(f"{findings:,} findings; scan {scanned:.1f} s; page built in {built:.1f} s "
              f"({built / scanned:.2f}x the scan), {size / 2**20:.1f} MiB")
        for name, values in open_times(target, args.repeats).items():
            print(f"{name}: median {statistics.median(values):.2f} s (runs: {', '.join(f'{v:.2f}' for v in values)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
