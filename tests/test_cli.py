"""The command line: exit codes, messages, outputs.

``cli`` runs ``python -m dedup`` in a subprocess (used where the process boundary matters: help,
exit codes, pipes); ``cli_inprocess`` runs the same entry point in this process, to keep the suite fast.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import SEED_FILE, SEEDS, error_lines, read_jsonl, read_report, sentence, snapshot, write_jsonl

LINE = sentence(12, seed=70)


def _doc(i: int) -> str:
    caption = sentence(12, 90 + i)
    return f"{sentence(15, 80 + i)}\n{caption}\n{caption}\n"


def _corpus(tmp_path, name="c.jsonl", bad: bytes | None = None):
    """Three records, each repeating its own caption; ``bad`` goes in as line 2."""
    lines = [json.dumps({"id": f"r{i}", "text": _doc(i)}).encode() for i in range(3)]
    if bad is not None:
        lines.insert(1, bad)
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def _assert_clean_error(result, *fragments):
    assert result.code == 1, (result.code, result.stderr)
    assert "Traceback" not in result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.mark.parametrize("command", [[], ["scan"], ["clean"]])
def test_help_of_every_command_shows_examples(cli, command):
    result = cli(*command, "--help")
    assert result.code == 0, result.stderr
    out = result.stdout.decode()
    assert "Examples" in out
    assert "dedup " in out.split("Examples", 1)[1]


def test_missing_path_exits_1_naming_it(cli, tmp_path):
    result = cli("scan", "no-such-folder", "--report", "r.csv")
    _assert_clean_error(result, "no-such-folder")
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize(("option", "value"), [("--threshold", "1.5"), ("--num-perm", "0"),
                                               ("--doc-threshold", "0"), ("--ngram", "0"), ("--ngram", "65"),
                                               ("--boilerplate-min-docs", "1"), ("--memory-limit", "lots")])
def test_bad_option_values_exit_1_naming_the_option(cli_inprocess, tmp_path, option, value):
    result = cli_inprocess("scan", SEED_FILE, option, value, "--report", "r.csv")
    _assert_clean_error(result, option)
    assert not (tmp_path / "r.csv").exists()


def test_usage_errors_exit_1(cli):
    assert cli("scan", SEED_FILE, "--no-such-option").code == 1
    assert cli("scan", SEED_FILE, "--unit", "sentence").code == 1
    assert cli("clean", SEED_FILE).code == 1  # --out is required


def test_fail_on_findings_exits_3_only_when_something_is_flagged(cli, tmp_path):
    flagged = cli("scan", SEED_FILE.parent, "--fail-on-findings", "--quiet", "--report", "a.csv")
    assert flagged.code == 3, flagged.stderr
    assert len(read_report(tmp_path / "a.csv")[1]) == 1  # the report is still written
    (tmp_path / "plain.txt").write_text(sentence(30, 1) + "\n")
    unflagged = cli("scan", "plain.txt", "--fail-on-findings", "--quiet", "--report", "b.csv")
    assert unflagged.code == 0, unflagged.stderr


def test_malformed_json_line_exits_1_with_one_line_naming_file_and_line(cli, tmp_path):
    src = _corpus(tmp_path, bad=b'{"id": "broken", "text": ')
    before = snapshot(tmp_path)
    result = cli("clean", src, "--out", "out.jsonl", "--report", "r.csv")
    _assert_clean_error(result, "c.jsonl:2", "--on-error skip")
    assert snapshot(tmp_path) == before  # no output, no report, no temporary file, input unchanged


def test_on_error_skip_cleans_the_rest(cli_inprocess, tmp_path):
    src = _corpus(tmp_path, bad=b"garbage")
    result = cli_inprocess("clean", src, "--out", "out.jsonl", "--on-error", "skip", "--report", "r.csv")
    assert result.code == 0, result.stderr
    assert [r["id"] for r in read_jsonl(tmp_path / "out.jsonl")] == ["r0", "r1", "r2"]
    assert "skipped" in result.stderr


def test_corrupt_compressed_input_exits_1_without_traceback(cli_inprocess, tmp_path):
    (tmp_path / "c.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00garbage that is not deflate")
    (tmp_path / "d.jsonl.zst").write_bytes(b"\x28\xb5\x2f\xfd garbage")
    _assert_clean_error(cli_inprocess("scan", "c.jsonl.gz", "--report", "r.csv"), "c.jsonl.gz")
    _assert_clean_error(cli_inprocess("scan", "d.jsonl.zst", "--report", "r.csv"), "d.jsonl.zst")


def test_existing_out_is_refused_without_force(cli_inprocess, tmp_path):
    src = _corpus(tmp_path)
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n")
    _assert_clean_error(cli_inprocess("clean", src, "--out", out, "--report", "r.csv"), "out.jsonl", "--force")
    assert out.read_text() == "precious\n"
    forced = cli_inprocess("clean", src, "--out", out, "--force", "--report", "r.csv")
    assert forced.code == 0, forced.stderr
    assert [r["text"] for r in read_jsonl(out)] == [f"{sentence(15, 80 + i)}\n{sentence(12, 90 + i)}\n"
                                                     for i in range(3)]


def test_output_inside_the_input_is_refused(cli_inprocess, tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.txt").write_text(f"{LINE}\n{LINE}\n")
    before = snapshot(folder)
    _assert_clean_error(cli_inprocess("clean", "pages", "--out", "pages/clean", "--report", "r.csv"), "pages")
    same = cli_inprocess("clean", "pages/a.txt", "--out", "pages/a.txt", "--force", "--report", "r.csv")
    _assert_clean_error(same, "a.txt")
    assert snapshot(folder) == before


def test_clean_prints_a_summary_and_quiet_prints_nothing(cli_inprocess, tmp_path):
    src = write_jsonl(tmp_path / "c.jsonl", [{"text": f"{LINE}\n{LINE}\n"}])
    loud = cli_inprocess("clean", src, "--out", "o.jsonl", "--report", "r.csv")
    assert loud.code == 0
    assert "documents" in loud.stderr and "repeat" in loud.stderr
    quiet = cli_inprocess("clean", src, "--out", "o2.jsonl", "--report", "r.csv", "--quiet")
    assert quiet.code == 0 and quiet.stderr.strip() == ""
    assert quiet.stdout == b""


def test_the_summary_shows_how_often_boilerplate_occurs_on_an_80_column_terminal(cli_inprocess, tmp_path):
    long_line = "Subscribe to our newsletter " + sentence(40, 5)  # wider than the terminal
    records = [{"id": i, "url": "https://news.example/", "text": f"{sentence(12, i)}\n{long_line}\n"} for i in range(7)]
    src = write_jsonl(tmp_path / "c.jsonl", records)
    result = cli_inprocess("scan", src, "--site-field", "url", "--report", "r.csv")  # not a terminal: 80 columns
    assert result.code == 0, result.stderr
    table = result.stderr[result.stderr.index("most frequent boilerplate"):]
    assert "copies" in table
    assert any(line.split("│")[1].strip() == "7" for line in table.splitlines() if line.count("│") >= 3), table


def test_report_dash_writes_the_csv_to_stdout(cli_inprocess, tmp_path):
    src = _corpus(tmp_path)
    assert cli_inprocess("scan", src, "--quiet", "--report", "file.csv").code == 0
    piped = cli_inprocess("scan", src, "--report", "-")
    assert piped.code == 0, piped.stderr
    assert piped.stdout == (tmp_path / "file.csv").read_bytes()
    assert "report: stdout" in piped.stderr and not (tmp_path / "-").exists()
    cleaned = cli_inprocess("clean", src, "--out", "o.jsonl", "--report", "-", "--quiet")
    assert cleaned.code == 0 and cleaned.stdout == (tmp_path / "file.csv").read_bytes()
    named = cli_inprocess("scan", src, "--quiet", "--report", "./-")  # a file named -, as the shell would have it
    assert named.code == 0 and named.stdout == b"" and (tmp_path / "-").read_bytes() == (tmp_path / "file.csv").read_bytes()


def test_stats_and_document_statistics_can_go_to_stdout(cli_inprocess, tmp_path):
    src = _corpus(tmp_path)
    stats = cli_inprocess("scan", src, "--quiet", "--report", "r.csv", "--stats-json", "-")
    assert stats.code == 0 and json.loads(stats.stdout)["documents"] == 3
    assert cli_inprocess("scan", src, "--quiet", "--report", "r.csv", "--doc-stats", "d.csv").code == 0
    doc_stats = cli_inprocess("scan", src, "--quiet", "--report", "r.csv", "--doc-stats", "-")
    assert doc_stats.code == 0 and doc_stats.stdout == (tmp_path / "d.csv").read_bytes()
    assert not (tmp_path / "-").exists()


def test_only_one_output_can_go_to_stdout(cli_inprocess, tmp_path):
    src = _corpus(tmp_path)
    before = snapshot(tmp_path)
    result = cli_inprocess("clean", src, "--out", "-", "--report", "-")
    assert result.code == 1 and result.stdout == b""
    assert error_lines(result.stderr) == [
        "dedup: error: only one of --out, --report can be - (stdout); send the others to files"]
    result = cli_inprocess("scan", src, "--report", "r.csv", "--stats-json", "-", "--doc-stats", "-")
    assert result.code == 1 and "only one of --stats-json, --doc-stats can be -" in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("option", [["--report", "-"], ["--report", "r.csv", "--doc-stats", "-"]])
def test_a_reader_that_stops_early_ends_the_run_quietly(tmp_path, option):
    """``dedup scan ... --report - | head -1``: exit 141, as a shell reports SIGPIPE, and no traceback."""
    news = "Subscribe to our newsletter for the latest news"
    records = [{"id": i, "text": f"words number {i}\n{news}\n{news}\n"} for i in range(3000)]
    src = write_jsonl(tmp_path / "c.jsonl", records)  # its report and statistics fill a pipe (64 KiB)
    command = [sys.executable, "-m", "dedup", "scan", str(src), "--quiet", *option]
    with subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout.readline()  # the header, then the reader goes
        process.stdout.close()
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=120) == 141, stderr
    assert "Traceback" not in stderr and "Error" not in stderr, stderr


def test_stats_json_writes_the_counters(cli_inprocess, tmp_path):
    src = _corpus(tmp_path)
    result = cli_inprocess("scan", src, "--quiet", "--report", "r.csv", "--stats-json", "stats.json")
    assert result.code == 0, result.stderr
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["documents"] == 3
    assert stats["findings"] == {"repeat": 3}


def test_ray_options_without_the_ray_engine_are_one_line(cli_inprocess):
    for args, message in ((["--resume"], "--resume needs --work-dir"),
                          (["--work-dir", "w"], "--work-dir needs --engine ray"),
                          (["--ray-address", "auto"], "--ray-address needs --engine ray")):
        done = cli_inprocess("scan", str(SEEDS), *args)
        assert done.code == 1 and error_lines(done.stderr) == [f"dedup: error: {message}"]
