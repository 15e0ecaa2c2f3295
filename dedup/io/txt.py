"""Plain-text inputs: one .txt file, or a folder of them (recursive; id = relative path; site = first-level sub-folder).

A UTF-8 byte order mark at the start of a file is dropped: the text, its spans and the cleaned file
are what follows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dedup.config import Config
from dedup.io.records import BOM, Record, Writer, decode
from dedup.io.sources import Counters, Source


def _txt_record(path: Path, doc_id: str, site: str | None, config: Config, counters: Counters) -> Record | None:
    data = path.read_bytes()
    size = len(data)
    data = data.removeprefix(BOM)  # not part of the text, nor of the output
    if b"\x00" in data[:8192]:
        counters.binary_files_skipped += 1
        counters.note(f"{path}: binary file skipped")
        return None
    text = decode(data, str(path), config, counters)
    if not text.strip():
        counters.empty_docs += 1
    return Record(doc_id, text, site, data, size)


def read_txt_dir(source: Source, config: Config, counters: Counters) -> Iterator[Record]:
    # Each file's relative path is worked out once, as a string: pathlib's relative_to and parts were a
    # third of the time a folder of small files took to read.
    files = sorted((p.relative_to(source.path).as_posix(), p) for p in source.path.rglob("*.txt") if p.is_file())
    for relative, path in files:
        counters.files += 1
        site, nested, _ = relative.partition("/")
        record = _txt_record(path, relative, site if nested else None, config, counters)
        if record is not None:
            yield record


def read_txt_file(source: Source, config: Config, counters: Counters) -> Iterator[Record]:
    counters.files += 1
    record = _txt_record(source.path, source.path.name, None, config, counters)
    if record is not None:
        yield record


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
