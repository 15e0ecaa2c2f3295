"""Plain-text inputs: one .txt file, or a folder of them (recursive; id = relative path; site = first-level sub-folder).

A UTF-8 byte order mark at the start of a file is dropped: the text, its spans and the cleaned file
are what follows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from dedup.config import Config
from dedup.io.records import BOM, Record, Writer, decode
from dedup.io.sources import Counters, Source, files_under
from dedup.schemas import RECORDS


def txt_files(source: Source) -> list[tuple[str, str, str | None]]:
    """(id, path, site) of every file a .txt source reads, in id order: for a folder, the files ending
    .txt in any case that :func:`dedup.io.sources.files_under` lists (the listing that told the folder's
    kind), each id its relative path and its site the first sub-folder; for a file, its name."""
    if source.kind == "txt":
        return [(source.path.name, str(source.path), None)]
    root = str(source.path)
    files = sorted(f for f in files_under(source.path) if f.lower().endswith(".txt"))
    return [(relative, f"{root}/{relative}", site if nested else None)
            for relative in files for site, nested, _ in [relative.partition("/")]]


def _read_txt(path: str, config: Config, counters: Counters) -> tuple[str, bytes, int] | None:
    """A file's text, the bytes after any byte order mark and the file's size; None for a binary file."""
    with open(path, "rb", buffering=0) as file:  # one read into one buffer: no Path or buffered reader
        data = file.read()
    size = len(data)
    data = data.removeprefix(BOM)  # not part of the text, nor of the output
    if b"\x00" in data[:8192]:
        counters.binary_files_skipped += 1
        counters.note(f"{path}: binary file skipped")
        return None
    text = decode(data, path, config, counters)
    if not text.strip():
        counters.empty_docs += 1
    return text, data, size


def read_txt(source: Source, config: Config, counters: Counters) -> Iterator[Record]:
    """The records of a .txt file or folder, with their bytes (what ``clean`` writes back unchanged)."""
    for doc_id, path, site in txt_files(source):
        counters.files += 1
        if (read := _read_txt(path, config, counters)) is not None:
            text, data, size = read
            yield Record(doc_id, text, site, data, size)


def txt_frames(source: Source, config: Config, counters: Counters) -> Iterator[tuple[pl.DataFrame, int]]:
    """The same records as :func:`read_txt`, as pass 1 reads them: frames of ``config.batch_docs``
    (doc_id, text, site; the last one shorter) and the bytes they took, with no object per file."""
    ids, texts, sites, nbytes = [], [], [], 0
    for doc_id, path, site in txt_files(source):
        counters.files += 1
        if (read := _read_txt(path, config, counters)) is not None:
            ids.append(doc_id)
            texts.append(read[0])
            sites.append(site)
            nbytes += read[2]
        if len(ids) == config.batch_docs:
            yield pl.DataFrame({"doc_id": ids, "text": texts, "site": sites}, schema=RECORDS), nbytes
            ids, texts, sites, nbytes = [], [], [], 0
    if ids:
        yield pl.DataFrame({"doc_id": ids, "text": texts, "site": sites}, schema=RECORDS), nbytes


class TxtWriter(Writer):
    """A .txt file, or a folder of them at the records' relative paths; unchanged files keep their bytes."""

    def __init__(self, target: Path, folder: bool) -> None:
        self.target, self.folder = target, folder
        if folder:
            target.mkdir(parents=True)

    def write(self, record: Record, text: str | None, annotations: list[dict] | None = None) -> None:
        if text is None:
            return
        path = self.target / record.doc_id if self.folder else self.target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(record.raw if text == record.text else text.encode("utf-8"))

    def close(self) -> None:
        pass
