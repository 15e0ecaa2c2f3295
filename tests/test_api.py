"""The API is the product: every CLI option is a keyword, inputs may be held in memory, nothing is
written unless asked, and both commands return the findings with the run's statistics."""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

import polars as pl
import pytest
from conftest import SEEDS, sentence, write_jsonl

import dedup
from dedup import cli
from dedup.api import Result


def _corpus(tmp_path: Path) -> Path:
    footer = "Copyright the example site, all rights reserved, since long ago"
    records = [{"id": f"d{i}", "text": f"{sentence(12, i)}\n{footer}\n{sentence(14, 100 + i)}\n"} for i in range(4)]
    return write_jsonl(tmp_path / "c.jsonl", records)


def test_every_option_of_both_commands_is_a_keyword_of_the_api():
    for command in ("scan", "clean"):
        options = set(inspect.signature(getattr(cli, command)).parameters) - {"inputs"}
        result = getattr(dedup, command)
        accepted = set(inspect.signature(result).parameters) | set(dedup.Config.__dataclass_fields__)
        accepted |= {"exact_only", "keep_file", "drop_file"}
        assert options <= accepted, options - accepted


def test_the_api_takes_the_command_values_and_returns_statistics(tmp_path):
    src = _corpus(tmp_path)
    rules = tmp_path / "keep.txt"
    rules.write_text("copyright the example site all rights reserved since long ago\n")
    result = dedup.scan(src, exact_only=True, memory_limit="4G", keep_file=str(rules), workers=1)
    assert isinstance(result, Result)
    assert result.stats.documents == 4 and result.stats.blocks == 12
    assert result.findings.is_empty()  # the footer is kept by the keep file
    assert not dedup.scan(src, exact_only=True, workers=1).findings.is_empty()


def test_nothing_is_written_unless_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = _corpus(tmp_path)
    before = sorted(os.listdir(tmp_path))
    dedup.scan(src, workers=1)
    assert sorted(os.listdir(tmp_path)) == before
    dedup.scan(src, workers=1, report="r.csv", stats_json="s.json")
    assert json.loads(Path("s.json").read_text())["documents"] == 4
    assert Path("r.csv").read_text().startswith("doc_id,")


def test_a_dataframe_and_a_list_of_texts_are_documents():
    footer = "Copyright the example site, all rights reserved, since long ago"
    texts = [f"{sentence(12, i)}\n{footer}" for i in range(3)]
    from_list = dedup.scan(texts, workers=1).findings
    assert from_list.filter(pl.col("kind") == "boilerplate")["doc_id"].to_list() == ["0", "1", "2"]
    frame = pl.DataFrame({"id": ["a", "b", "c"], "body": texts})
    from_frame = dedup.scan(frame, text_field="body", workers=1).findings
    assert from_frame["doc_id"].to_list() == ["a", "b", "c"]


def test_clean_of_documents_in_memory_returns_them_cleaned():
    line = "A line long enough to count as a repeat of itself"
    result = dedup.clean([f"{line}\n{line}\nlast", "other"], workers=1)
    assert result.cleaned["text"].to_list() == [f"{line}\nlast", "other"]
    with pytest.raises(dedup.ConfigError, match="needs out"):
        dedup.clean(SEEDS, workers=1)


def test_several_paths_are_given_as_paths(tmp_path):
    one = write_jsonl(tmp_path / "one.jsonl", [{"id": 1, "text": sentence(10, 1)}])
    two = write_jsonl(tmp_path / "two.jsonl", [{"id": 1, "text": sentence(10, 1)}])
    found = dedup.scan([one, two], workers=1).findings
    assert found.select("doc_id", "kind", "kept_doc").rows() == [("two.jsonl:1", "duplicate_doc", "one.jsonl:1")]
    with pytest.raises(dedup.ConfigError, match="inputs"):
        dedup.scan([one, str(two)], workers=1)


def test_fail_on_findings_sets_the_exit_code_of_the_result(tmp_path):
    src = _corpus(tmp_path)
    assert dedup.scan(src, workers=1, fail_on_findings=True).exit_code == 3
    assert dedup.scan(src, workers=1).exit_code == 0


def test_unknown_options_are_refused_by_name():
    with pytest.raises(dedup.ConfigError, match="unknown option: thresold"):
        dedup.scan(SEEDS, thresold=0.5)


def test_version_and_short_help(cli_inprocess):
    version = cli_inprocess("--version")
    assert version.code == 0 and version.stdout.startswith(b"dedup ")
    short = cli_inprocess("scan", "-h")
    assert short.code == 0 and b"--site-field" in short.stdout
