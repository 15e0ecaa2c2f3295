"""The site of a record: a URL's host without ``www.``, else the ``--site-field`` value itself.

Example:
    >>> site_of("https://www.Example.org:8080/a?b")
    'example.org'
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import polars as pl


def site_of(value: object) -> str | None:
    """The site a ``--site-field`` value names: a URL's host without ``www.``, else the value itself.

    Example: ``site_of("https://www.Example.org:8080/a?b")`` -> ``"example.org"``.
    """
    if value is None:
        return None
    text = str(value).strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text or None
    if scheme.lower() in ("http", "https") and not ODD_URL.search(text):
        # What urlsplit(text).hostname gives for such a URL, without its cost (5 us a record).
        host = _NETLOC_END.split(rest, maxsplit=1)[0].rpartition("@")[2].partition(":")[0].lower()
    else:
        try:
            host = (urlsplit(text).hostname or "").lower()
        except ValueError:  # a malformed IPv6 address: no host can be read
            return None
    return host.removeprefix("www.") or None


def sites_of(values: pl.Series) -> pl.Series:
    """:func:`site_of` over a column of strings, in polars; values that site_of reads with urlsplit,
    and hosts beyond ASCII, go through site_of itself.

    Example: ``sites_of(pl.Series(["https://www.a.org/x", "blog", None])).to_list()`` ->
    ``["a.org", "blog", None]``.
    """
    text, host = pl.col("text"), pl.col("host")
    frame = values.cast(pl.String).alias("v").to_frame().with_columns(text=pl.col("v").str.strip_chars(PY_WHITESPACE))
    # site_of's shortcut: the host of an http(s) URL, between "//" or the last "@" and any ":port"
    frame = frame.with_columns(
        host=text.str.extract(r"^[hH][tT][tT][pP][sS]?://(?:[^/?#]*@)?[^/?#:@]*", 0).str.replace(r"^.*[@/]", ""),
        bare=~text.str.contains("://", literal=True))
    frame = frame.with_columns(
        plain=host.is_not_null() & ~text.str.contains(ODD_URL.pattern) & host.str.contains(r"^[\x00-\x7f]*$"))
    frame = frame.with_columns(site=pl.when("bare").then(text).when("plain").then(
        host.str.to_lowercase().str.strip_prefix("www.")))
    frame = frame.select("v", site=pl.when(pl.col("site") != "").then("site"),
                         odd=text.is_not_null() & ~pl.col("bare") & ~pl.col("plain"))
    odd = frame["odd"]
    if odd.any():
        rows = odd.arg_true()
        frame = frame.with_columns(frame["site"].scatter(rows, [site_of(v) for v in frame["v"].gather(rows)]))
    return frame["site"].alias(values.name)


# What str.strip() and str.isspace() take for whitespace (tests check it against Python's own).
PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
                  "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


_NETLOC_END = re.compile(r"[/?#]")


# What urlsplit strips from a URL or reads as an IPv6 host: such URLs go through urlsplit itself.
ODD_URL = re.compile(r"[\t\r\n\[\]]")
