"""Hostile and careless runs, table-driven: no input lost, no output clobbered, no traceback, no leftover.

Each case builds its files in a fresh folder (inputs under ``in/``), runs the command as a user
would, and is checked for: the exit code, the one line of the message (when it fails), inputs
unchanged, and no temporary, lock or work folder left behind. Data-side cases (truncated streams,
BOMs, ...) are in test_hostile_data.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import REPORT_HEADER, ROOT, error_lines, sentence, snapshot, write_jsonl

from dedup.io.publish import Outputs


def _corpus(tmp: Path) -> Path:
    """in/x.jsonl: a few documents with a repeated line."""
    (tmp / "in").mkdir(exist_ok=True)
    repeated = "this line is repeated on every page of the site for sure"
    return write_jsonl(tmp / "in" / "x.jsonl",
                       [{"id": i, "text": f"{sentence(12, i)}\n{repeated}\n{sentence(9, 100 + i)}"} for i in range(6)])


def _folder(tmp: Path) -> Path:
    """in/pages/: .txt files."""
    folder = tmp / "in" / "pages"
    folder.mkdir(parents=True)
    for i in range(4):
        (folder / f"{i}.txt").write_text(f"{sentence(10, i)}\nthe same footer line on every page of it\n")
    return folder


@dataclass
class Case:
    name: str
    setup: Callable[[Path], list[str]]  # builds the files; returns the command's arguments
    code: int
    message: str = ""  # a fragment of the one error line (when code is 1)
    check: Callable[[Path], None] | None = None  # more checks afterwards
    absent: list[str] = field(default_factory=list)  # paths (under tmp) that must not exist
    left: list[str] = field(default_factory=list)  # what may stay (what the test itself planted)


def _same_file_as_input(tmp):
    src = _corpus(tmp)
    return ["scan", src, "--doc-stats", src]


def _out_holds_input(tmp):
    (tmp / "p" / "data").mkdir(parents=True)
    src = write_jsonl(tmp / "p" / "data" / "x.jsonl", [{"text": "one line\nanother line"}])
    return ["clean", src, "--out", tmp / "p", "--force"]


def _report_is_out(tmp):
    src = _corpus(tmp)
    return ["clean", src, "--out", tmp / "o.jsonl", "--report", tmp / "o.jsonl"]


def _report_through_symlink_to_input(tmp):
    src = _corpus(tmp)
    (tmp / "link.csv").symlink_to(src)
    return ["scan", src, "--report", tmp / "link.csv"]


def _input_through_symlink(tmp):
    real = _corpus(tmp)
    (tmp / "in" / "alias.jsonl").symlink_to(real)
    return ["scan", tmp / "in" / "alias.jsonl", "--report", real]


def _report_is_symlinked_file_in_input_folder(tmp):
    folder = _folder(tmp)
    outside = tmp / "in" / "outside.txt"
    outside.write_text("a page kept outside the folder\n")
    (folder / "linked.txt").symlink_to(outside)
    return ["scan", folder, "--report", outside]


def _stats_inside_input_folder(tmp):
    folder = _folder(tmp)
    return ["scan", folder, "--stats-json", folder / "stats.json"]


def _out_inside_input_folder(tmp):
    folder = _folder(tmp)
    return ["clean", folder, "--out", folder / "clean"]


def _out_is_current_folder(tmp):
    os.chdir(tmp / "work")
    return ["clean", _corpus(tmp), "--out", ".", "--force"]


def _out_holds_current_folder(tmp):
    os.chdir(tmp / "work")
    return ["clean", _corpus(tmp), "--out", "..", "--force"]


def _out_exists(tmp):
    (tmp / "o").mkdir()
    return ["clean", _corpus(tmp), "--out", tmp / "o"]


def _report_is_folder(tmp):
    (tmp / "r").mkdir()
    return ["scan", _corpus(tmp), "--report", tmp / "r"]


def _report_parent_missing(tmp):
    return ["scan", _corpus(tmp), "--report", tmp / "nowhere" / "r.csv"]


def _report_parent_is_file(tmp):
    (tmp / "plain").write_text("x")
    return ["scan", _corpus(tmp), "--report", tmp / "plain" / "r.csv"]


def _report_and_stats_same(tmp):
    return ["scan", _corpus(tmp), "--report", tmp / "r", "--stats-json", tmp / "r"]


def _report_inside_out_folder(tmp):
    return ["clean", _folder(tmp), "--out", tmp / "o", "--report", tmp / "o" / "r.csv"]


def _index_inside_input_folder(tmp):
    folder = _folder(tmp)
    return ["scan", folder, "--index", folder / "index"]


def _report_to_dev_null(tmp):
    return ["scan", _corpus(tmp), "--report", "/dev/null"]


def _out_to_dev_null(tmp):
    return ["clean", _corpus(tmp), "--out", "/dev/null", "--report", tmp / "r.csv"]


def _dev_null_still_a_device(tmp):
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def _report_via_symlink(tmp):
    (tmp / "real.csv").write_text("old")
    (tmp / "link.csv").symlink_to(tmp / "real.csv")
    return ["scan", _corpus(tmp), "--report", tmp / "link.csv"]


def _link_stays_target_written(tmp):
    assert (tmp / "link.csv").is_symlink()
    assert (tmp / "real.csv").read_text().startswith("doc_id,")


def _report_to_dev_full(tmp):
    return ["scan", _corpus(tmp), "--report", "/dev/full"]


def _folder_out_to_device(tmp):
    return ["clean", _folder(tmp), "--out", "/dev/null"]


def _zero_as_input(tmp):
    (tmp / "in").mkdir()
    return ["scan", "/dev/zero", "--format", "jsonl", "--report", tmp / "r.csv"]


def _fifo_as_input(tmp):
    (tmp / "in").mkdir()
    os.mkfifo(tmp / "pipe.jsonl")
    return ["scan", tmp / "pipe.jsonl", "--report", tmp / "r.csv"]


def _planted_lock_symlink(tmp):
    (tmp / "victim").write_text("keep me")
    (tmp / ".r.csv.dedup-lock").symlink_to(tmp / "victim")
    return ["scan", _corpus(tmp), "--report", tmp / "r.csv"]


def _victim_untouched(tmp):
    assert (tmp / "victim").read_text() == "keep me"


def _report_fails_after_clean(tmp):
    return ["clean", _corpus(tmp), "--out", tmp / "o.jsonl", "--report", "/dev/full"]


def _review_over_its_report(tmp):
    src = _corpus(tmp)
    (tmp / "r.csv").write_text(",".join(REPORT_HEADER) + "\n")
    return ["review", tmp / "r.csv", src, "--html", tmp / "r.csv"]


def _options(*extra):
    return lambda tmp: ["scan", _corpus(tmp), "--report", tmp / "r.csv", *extra]


CASES = [
    Case("doc-stats is the input", _same_file_as_input, 1, "is the input"),
    Case("--force on a folder that holds the input", _out_holds_input, 1, "holds the input",
         lambda tmp: (tmp / "p" / "data" / "x.jsonl").is_file() or pytest.fail("input deleted")),
    Case("report is the cleaned output", _report_is_out, 1, "--out and --report are the same path", absent=["o.jsonl"]),
    Case("report through a symlink to the input", _report_through_symlink_to_input, 1, "is the input"),
    Case("input through a symlink, report its target", _input_through_symlink, 1, "is the input"),
    Case("report is a file reached through a symlink in the input folder",
         _report_is_symlinked_file_in_input_folder, 1, "is the input"),
    Case("stats inside the input folder", _stats_inside_input_folder, 1, "inside the input folder"),
    Case("out inside the input folder", _out_inside_input_folder, 1, "inside the input folder"),
    Case("--out . --force", _out_is_current_folder, 1, "is the current folder"),
    Case("--out .. --force", _out_holds_current_folder, 1, "holds the input"),
    Case("out exists", _out_exists, 1, "already exists; use --force"),
    Case("report is a folder", _report_is_folder, 1, "is a folder; --report needs a file name"),
    Case("report's folder missing", _report_parent_missing, 1, "does not exist"),
    Case("report's folder is a file", _report_parent_is_file, 1, "is not a folder"),
    Case("report and stats-json the same", _report_and_stats_same, 1, "are the same path", absent=["r"]),
    Case("report inside the out folder", _report_inside_out_folder, 1, "is inside --out", absent=["o"]),
    Case("index inside the input folder", _index_inside_input_folder, 1, "inside the input folder"),
    Case("report to /dev/null", _report_to_dev_null, 0, check=_dev_null_still_a_device),
    Case("clean to /dev/null", _out_to_dev_null, 0, check=_dev_null_still_a_device),
    Case("report through a symlink to a file", _report_via_symlink, 0, check=_link_stays_target_written),
    Case("report to a full device", _report_to_dev_full, 1, "/dev/full: No space left on device"),
    Case("a folder of cleaned files to a device", _folder_out_to_device, 1, "cannot go to a device"),
    Case("/dev/zero as input", _zero_as_input, 1, "/dev/zero: is a character device"),
    Case("a FIFO as input", _fifo_as_input, 1, "is a FIFO"),
    Case("a symlink planted at the lock", _planted_lock_symlink, 1, "cannot write in", _victim_untouched,
         absent=["r.csv"], left=[".r.csv.dedup-lock"]),
    Case("the report fails after clean: nothing published", _report_fails_after_clean, 1, "No space left",
         absent=["o.jsonl"]),
    Case("review page over its own report", _review_over_its_report, 1, "is the report the page is made from"),
    Case("--seed -1", _options("--seed", "-1"), 1, "--seed must be in 0..4294967295"),
    Case("--seed 2**32", _options("--seed", "4294967296"), 1, "--seed must be in 0..4294967295"),
    Case("--memory-limit nan", _options("--memory-limit", "nan"), 1, "--memory-limit: not a size"),
    Case("--memory-limit inf", _options("--memory-limit", "inf"), 1, "--memory-limit: not a size"),
    Case("--memory-limit -1G", _options("--memory-limit", "-1G"), 1, "cannot be negative"),
    Case("--workers 0", _options("--workers", "0"), 1, "--workers must be at least 1"),
]


def _leftovers(tmp: Path) -> list[str]:
    """Temporaries, locks and work folders anywhere under tmp."""
    return sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*")
                  if ".dedup-" in p.name or p.name.endswith((".partial", ".work")) or "partial" in p.name)


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """tmp_path with a work folder (the cwd) and a private temporary folder (to see leftovers)."""
    (tmp_path / "work").mkdir()
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case(case, scratch, cli_inprocess):
    args = case.setup(scratch)
    before = snapshot(scratch / "in") if (scratch / "in").exists() else {}
    result = cli_inprocess(*args)
    assert "Traceback" not in result.stderr
    assert result.code == case.code, result.stderr
    if case.code == 1:
        lines = error_lines(result.stderr)
        assert len(lines) == 1 and lines[0].startswith("dedup: error: "), lines
        assert case.message in lines[0], lines[0]
    if (scratch / "in").exists():
        assert snapshot(scratch / "in") == before, "an input changed"
    assert _leftovers(scratch) == case.left
    for name in case.absent:
        assert not (scratch / name).exists(), name
    if case.check:
        case.check(scratch)


def test_a_fifo_as_report_gets_the_report_in_place(scratch, cli_inprocess):
    fifo = scratch / "report.fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    result = cli_inprocess("scan", _corpus(scratch), "--report", fifo)
    reader.join(timeout=30)
    assert result.code == 0, result.stderr
    assert got and got[0].startswith(b"doc_id,") and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_second_run_writing_the_same_output_fails_at_once(scratch, cli_inprocess):
    src = _corpus(scratch)
    with Outputs.plan({"out": str(scratch / "o.jsonl")}, [], scratch / "tmp"):  # another run holds it
        result = cli_inprocess("clean", src, "--out", scratch / "o.jsonl")
    assert result.code == 1
    assert error_lines(result.stderr) == [
        (f"dedup: error: {scratch / 'o.jsonl'}: another dedup run (pid {os.getpid()}) is writing it; wait for it "
         "to finish, or choose another path")]
    assert not (scratch / "o.jsonl").exists()
    assert cli_inprocess("clean", src, "--out", scratch / "o.jsonl").code == 0  # and once it is gone, it works


def test_leftovers_of_a_killed_run_are_removed_and_named(scratch, cli_inprocess):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    pid = int(dead.stdout)
    partial = scratch / f".o.jsonl.dedup-{pid}-abc.partial"
    partial.mkdir()
    (partial / "o.jsonl").write_bytes(b"half")
    work = scratch / "tmp" / f"dedup-{pid}-xyz.work"
    work.mkdir()
    (work / "spill").write_bytes(b"x" * 1000)
    result = cli_inprocess("clean", _corpus(scratch), "--out", scratch / "o.jsonl")
    assert result.code == 0, result.stderr
    assert not partial.exists() and not work.exists()
    assert f"removed {partial}, left by a run that was killed (pid {pid})" in result.stderr
    assert f"removed {work}, left by a run that was killed (pid {pid})" in result.stderr


def test_a_partial_of_a_living_run_is_left_alone(scratch, cli_inprocess):
    with Outputs.plan({"report": str(scratch / "r.csv")}, [], scratch / "tmp") as other:
        mine = other.outputs["report"].private
        result = cli_inprocess("scan", _corpus(scratch), "--report", scratch / "other.csv")
        assert result.code == 0 and mine.is_dir()


def _mounted(folder: Path, options: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, check=False)
    return done.returncode == 0


@contextlib.contextmanager
def _tmpfs(folder: Path, options: str):
    if not _mounted(folder, options):
        pytest.skip("mounting a tmpfs needs root here")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_read_only_filesystem_is_one_line_before_the_work(scratch, cli_inprocess):
    with _tmpfs(scratch / "ro", "ro,size=1m") as ro:
        result = cli_inprocess("scan", _corpus(scratch), "--report", ro / "r.csv")
    assert result.code == 1
    assert error_lines(result.stderr) == [f"dedup: error: {ro / 'r.csv'}: cannot write in {ro} (Read-only file system)"]


def test_a_full_disk_is_found_before_the_work(scratch, cli_inprocess):
    with _tmpfs(scratch / "small", "size=256k") as small:
        result = cli_inprocess("scan", _corpus(scratch), "--report", small / "r.csv")
        assert list(small.iterdir()) == []
    assert result.code == 1
    assert error_lines(result.stderr)[0].startswith(f"dedup: error: {small}: no space left on the device of --report")


def test_a_disk_that_fills_while_writing_is_one_line_and_leaves_nothing(scratch, cli_inprocess):
    (scratch / "in").mkdir()
    big = write_jsonl(scratch / "in" / "big.jsonl", [{"text": sentence(400, i)} for i in range(1500)])
    with _tmpfs(scratch / "small", "size=2m") as small:
        result = cli_inprocess("clean", big, "--out", small / "o.jsonl", "--report", scratch / "r.csv")
        assert list(small.iterdir()) == []
    assert result.code == 1, result.stderr
    assert error_lines(result.stderr) == [
        f"dedup: error: {small / 'o.jsonl'}: No space left on device (while writing --out)"]
    assert not (scratch / "r.csv").exists()


def test_a_full_temporary_folder_is_named(scratch, cli_inprocess, monkeypatch):
    with _tmpfs(scratch / "small", "size=256k") as small:
        monkeypatch.setattr(tempfile, "tempdir", str(small))
        result = cli_inprocess("scan", _corpus(scratch), "--report", scratch / "r.csv")
    assert result.code == 1
    assert "no space left on the device of the temporary folder" in error_lines(result.stderr)[0]


def _slow_corpus(tmp: Path) -> Path:
    (tmp / "in").mkdir()
    return write_jsonl(tmp / "in" / "slow.jsonl", [{"text": f"{sentence(200, i)}\n{sentence(200, i + 7)}"}
                                                   for i in range(20_000)])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_removes_its_temporaries(scratch, signum):
    src = _slow_corpus(scratch)
    env = {**os.environ, "TMPDIR": str(scratch / "tmp")}
    process = subprocess.Popen([sys.executable, "-m", "dedup", "clean", str(src), "--out", str(scratch / "o.jsonl"),
                                "--report", str(scratch / "r.csv"), "--workers", "1"],
                               cwd=scratch / "work", env=env, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: any((scratch / "tmp").iterdir()) and any(p.endswith(".partial") for p in _leftovers(scratch)))
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert f"dedup: stopped by {signal.Signals(signum).name}" in stderr and "Traceback" not in stderr
    assert _leftovers(scratch) == [] and list((scratch / "tmp").iterdir()) == []
    assert not (scratch / "o.jsonl").exists() and not (scratch / "r.csv").exists()


def test_after_a_sigkill_the_next_run_clears_what_was_left(scratch):
    src = _slow_corpus(scratch)
    env = {**os.environ, "TMPDIR": str(scratch / "tmp")}
    args = [sys.executable, "-m", "dedup", "clean", str(src), "--out", str(scratch / "o.jsonl"),
            "--report", str(scratch / "r.csv"), "--workers", "1"]
    process = subprocess.Popen(args, cwd=scratch / "work", env=env, stderr=subprocess.DEVNULL)
    _wait_for(lambda: any((scratch / "tmp").iterdir()) and any(p.endswith(".partial") for p in _leftovers(scratch)))
    process.kill()
    process.wait(timeout=30)
    left = _leftovers(scratch) + [p.name for p in (scratch / "tmp").iterdir()]
    assert left  # a SIGKILL leaves them: nothing can run
    small = write_jsonl(scratch / "in" / "small.jsonl", [{"text": "a line\nanother"}])
    done = subprocess.run([*args[:4], str(small), *args[5:]], cwd=scratch / "work", env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("left by a run that was killed") >= 2, done.stderr
    assert _leftovers(scratch) == [] and list((scratch / "tmp").iterdir()) == []


def _wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(OSError):
            if condition():
                return
        time.sleep(0.05)
    pytest.fail("the run never got there")


def test_the_readme_names_each_class():
    readme = (ROOT / "README.md").read_text()
    for phrase in ("checked against every input", "published only", "another dedup run", "left by a run that was killed"):
        assert phrase in readme, phrase
