"""Helpers shared by the benchmark scripts (not a benchmark itself)."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"

# An installed dedup (editable install of this repo, or one on PYTHONPATH) wins; else the repo's copy.
sys.path.append(str(REPO))
import dedup


def describe_dedup() -> str:
    """Where the measured dedup comes from, with the git commit when it is a checkout."""
    where = Path(dedup.__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(where), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "--", "."], capture_output=True,
                               text=True, check=True).stdout.strip()
        commit = f", commit {commit}{' + uncommitted changes' if dirty else ''}"
    except (OSError, subprocess.CalledProcessError):
        commit = ""
    return f"dedup {dedup.__version__} from {where}{commit}"


def convert(value: str):
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def parse_extra(extra: list[str]) -> dict:
    """``--name=value``, ``--name value`` or a bare ``--flag`` -> Config fields for ``dedup.scan``."""
    options, i = {}, 0
    while i < len(extra):
        item = extra[i]
        if not item.startswith("--"):
            raise SystemExit(f"unexpected argument {item!r}; extra options look like --name=value")
        if "=" in item:
            name, value = item[2:].split("=", 1)
        elif i + 1 < len(extra) and not extra[i + 1].startswith("--"):
            name, value = item[2:], extra[i + 1]
            i += 1
        else:
            name, value = item[2:], "true"
        options[name.replace("-", "_")] = convert(value)
        i += 1
    return options


try:  # the third-party ``regex`` module knows \p{P} and \p{S}; the fallback below gives the same result
    import regex as _regex

    _PUNCT_SPACE = _regex.compile(r"[\p{P}\p{S}\s]+")
except ImportError:  # pragma: no cover
    _PUNCT_SPACE = None


def normalise(text: str) -> str:
    """dedup's comparison text (README): NFKC, lower case, digits to 0, punctuation and symbols to
    spaces, white space collapsed. Computed independently of dedup, for ground truth."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"\d", "0", text)
    if _PUNCT_SPACE is not None:
        return _PUNCT_SPACE.sub(" ", text).strip()
    out = [" " if (unicodedata.category(c)[0] in "PS" or c.isspace()) else c for c in text]
    return " ".join("".join(out).split())
