"""What ``dedup index info`` shows: the settings, the batches and the size of an index.

Example:
    >>> import tempfile
    >>> describe(open_index(tempfile.mkdtemp() + "/none"))["batches"]
    []
"""

from __future__ import annotations

from dedup.index import open_index
from dedup.index.settings import FORMAT_VERSION


def describe(index) -> dict:
    """The index as plain data (``--json`` prints it as it is)."""
    blocks = sum(b["blocks"] for b in index.batches)
    size = index.size()
    return {
        "index": index.where,
        "format": FORMAT_VERSION,
        "settings": index.settings,
        "batches": [{k: b[k] for k in ("name", "documents", "blocks", "added")} for b in index.batches],
        "documents": sum(b["documents"] for b in index.batches),
        "blocks": blocks,
        "bytes": size,
        "bytes_per_block": round(size / blocks, 1) if blocks else None,
    }


def lines(info: dict) -> list[str]:
    """The same, as lines for a terminal."""
    out = [f"index: {info['index']} (format {info['format']})"]
    if info["settings"]:
        out.append("settings: " + ", ".join(f"{k} {v}" for k, v in info["settings"].items()))
    out.append(f"{len(info['batches'])} batches, {info['documents']:,} documents, {info['blocks']:,} blocks, "
               f"{info['bytes']:,} bytes" + (f" ({info['bytes_per_block']} per block)" if info["blocks"] else ""))
    width = max([len(b["name"]) for b in info["batches"]] + [5])
    if info["batches"]:
        out.append(f"  {'batch':<{width}}  {'documents':>10}  {'blocks':>11}  added")
    for b in info["batches"]:
        out.append(f"  {b['name']:<{width}}  {b['documents']:>10,}  {b['blocks']:>11,}  {b['added']}")
    return out


__all__ = ["describe", "lines", "open_index"]
