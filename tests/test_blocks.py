"""Segmentation into blocks with exact character spans, and block normalisation."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.fingerprint.normalise import normalised
from dedup.fingerprint.segment import segment

# Characters that both Python's str.strip() and polars (Rust char::is_whitespace) call white space.
SPACES = " \t\x0b\x0c\xa0\u2003\u3000\u2028"
_PIECES = st.sampled_from(["\n", "\r\n", "\n\n", "\r", " ", "\t", "\u3000", "\xa0", "word", "Wörd", "中文",
                           "😀", "e\u0301", "ﬁ", "=SUM(A1)", "  \n  ", "\r\r\n"])
_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x1c\x1d\x1e\x1f")
TEXTS = st.lists(st.one_of(_PIECES, st.text(_CHARS, max_size=6)), max_size=25).map("".join)


def _blank(line: str) -> bool:
    return line.strip() == ""


def reference_blocks(text: str, unit: str) -> list[tuple[int, int]]:
    """Spans by a plain Python reading of the README: only \\n ends a line, a \\r before it is not part
    of the block, blank lines separate paragraphs."""
    lines, at = [], 0
    for line in text.split("\n"):
        lines.append((at, line))
        at += len(line) + 1
    spans: list[tuple[int, int]] = []
    if unit == "line":
        for start, line in lines:
            if not _blank(line):
                end = start + len(line)
                spans.append((start, end - 1 if line.endswith("\r") else end))
        return spans
    run: list[tuple[int, str]] = []
    for item in lines + [(at, "")]:
        if _blank(item[1]):
            if run:
                start, end = run[0][0], run[-1][0] + len(run[-1][1])
                spans.append((start, end - 1 if run[-1][1].endswith("\r") else end))
            run = []
        else:
            run.append(item)
    return spans


def _segment(texts: list[str], unit: str) -> pl.DataFrame:
    return segment(pl.DataFrame({"doc": list(range(len(texts))), "text": texts},
                                schema={"doc": pl.Int64, "text": pl.String}), unit)


@pytest.mark.parametrize("unit", ["line", "paragraph"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(TEXTS, min_size=1, max_size=4))
def test_spans_always_slice_the_original_text(unit, texts):
    blocks = _segment(texts, unit)
    for doc, text in enumerate(texts):
        mine = blocks.filter(pl.col("doc") == doc)
        spans = list(zip(mine["start"].to_list(), mine["end"].to_list()))
        for (start, end), raw in zip(spans, mine["raw"].to_list()):
            assert text[start:end] == raw
            assert raw.strip() != ""
            # a block ends where its line does: before a \n, the \r of a \r\n, or a final \r or the end
            assert text[end:end + 1] in ("", "\n") or text[end:end + 2] == "\r\n" or text[end:] == "\r"
            if unit == "line":
                assert "\n" not in raw
        assert mine["block"].to_list() == list(range(mine.height))
        assert spans == reference_blocks(text, unit)


def test_line_unit_keeps_carriage_return_out_of_the_block():
    blocks = _segment(["first line\r\nsecond\r\n\r\nthird"], "line")
    assert blocks.select("block", "start", "end", "raw").rows() == [
        (0, 0, 10, "first line"), (1, 12, 18, "second"), (2, 22, 27, "third")]


def test_lone_carriage_return_does_not_end_a_line():
    blocks = _segment(["one\rtwo\nthree"], "line")
    assert blocks["raw"].to_list() == ["one\rtwo", "three"]


def test_paragraph_unit_joins_lines_between_blank_lines():
    text = "a one\na two\n\n  \nb one\r\nb two\r\n\r\nc"
    blocks = _segment([text], "paragraph")
    assert blocks["raw"].to_list() == ["a one\na two", "b one\r\nb two", "c"]
    for start, end, raw in blocks.select("start", "end", "raw").rows():
        assert text[start:end] == raw


def test_offsets_count_characters_not_bytes():
    text = "héllo wörld 中文\n😀 emoji line\n"
    blocks = _segment([text], "line")
    assert blocks.select("start", "end").rows() == [(0, 14), (15, 27)]


def test_whitespace_only_lines_are_not_blocks():
    blocks = _segment(["\n \n\t\n\u3000\nreal\n"], "line")
    assert blocks["raw"].to_list() == ["real"]


def test_documents_without_blocks_give_no_rows():
    blocks = _segment(["", "\n\n", "x"], "line")
    assert blocks.select("doc", "block").rows() == [(2, 0)]


def _norm(text: str) -> str:
    return pl.select(normalised(pl.lit(text))).item()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Posted Jan 17, 2019 — by AP", "posted jan 00 0000 by ap"),
        ("  HELLO,   World!!  ", "hello world"),
        ("ﬁne Ｆｕｌｌｗｉｄｔｈ", "fine fullwidth"),  # NFKC
        ("tab\tand\u3000ideographic space", "tab and ideographic space"),
        ("price: $5 + 10%", "price 0 00"),
    ],
)
def test_normalisation_folds_case_digits_punctuation_and_space(raw, expected):
    assert _norm(raw) == expected


def test_block_of_only_punctuation_keeps_its_stripped_text():
    assert _norm("  * * *  ") == "* * *"
    assert _norm("* * *") != _norm("- - -")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXTS, min_size=1, max_size=5))
def test_separator_runs_become_one_space_like_the_plain_pattern(texts):
    """The separator pattern skips lone spaces only for speed: the result is what replacing every
    run of punctuation, symbols and white space gives."""
    from dedup.fingerprint.normalise import _SEPARATOR_RUN

    column = pl.Series("t", texts)
    plain = column.str.replace_all(r"[\p{P}\p{S}\s]+", " ")
    assert column.str.replace_all(_SEPARATOR_RUN, " ").to_list() == plain.to_list()
