"""An index in Redis, for several processes or machines at once: ``redis://[:password@]host:port/db[?prefix=NAME]``.

Every key lives under the prefix (default ``dedup``); every value is plain bytes (packed little-endian
integers, utf-8 text, JSON for the settings and the batches), so nothing read is ever unpickled or
evaluated.

    PREFIX:meta                      format and pinned settings (JSON)
    PREFIX:batches                   hash: batch name -> its record (JSON); the commit of a batch
    PREFIX:segments                  counter giving each batch its segment number
    PREFIX:k:TABLE:BUCKET            hash: 8-byte key -> its values, 8 bytes each, appended by batches
                                     (BUCKET: the key's top 16 bits, in decimal)
    PREFIX:s:SEGMENT:FILE            one column of a batch's records or streams, read by GETRANGE

A batch writes its data first, under its own segment number, then commits by writing its record in
``PREFIX:batches`` (a script: refused if the name is taken). Readers use only the segments of
committed batches, so a writer killed at any moment adds nothing, and concurrent writers never see
each other's half-written batches. Values of keyed tables are appended by a script, which Redis runs
atomically, so appends of concurrent writers never interleave inside a value.

Example (needs a running redis-server):
    >>> parse_url("redis://:pw@127.0.0.1:6390/2?prefix=crawl")
    ('redis://:pw@127.0.0.1:6390/2', 'crawl')
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit, urlunsplit

import numpy as np

from dedup.index.entries import (
    DTYPES,
    KEYED,
    RECORDS,
    Entries,
    placed,
    put_columns,
    row_of,
    segment_of,
    segments_in,
)
from dedup.index.errors import IndexFault
from dedup.index.settings import FORMAT_VERSION, check_format, check_settings

# Entries sent to the append script at a time, and string bytes per APPEND.
SCRIPT_CHUNK = 20_000
STRING_CHUNK = 64 << 20

# Keys are 8 bytes, little-endian; a key's bucket is its top 16 bits (its last two bytes). The
# scripts take keys (and values) packed into one argument each: one command per SCRIPT_CHUNK keys.
_BUCKET = "local function bucket(keys, at) return ARGV[1] .. (string.byte(keys, at + 6) + 256 * string.byte(keys, at + 7)) end\n"
_GET = _BUCKET + """
local keys, out = ARGV[2], {}
for i = 1, #keys / 8 do
  local at = (i - 1) * 8 + 1
  out[i] = redis.call('HGET', bucket(keys, at), string.sub(keys, at, at + 7)) or ''
end
return out
"""
_APPEND = _BUCKET + """
local keys, counts, values, from = ARGV[2], ARGV[3], ARGV[4], 1
for i = 1, #keys / 8 do
  local at = (i - 1) * 8 + 1
  local n = struct.unpack('<I4', counts, (i - 1) * 4 + 1)
  local field, name = string.sub(keys, at, at + 7), bucket(keys, at)
  local old = redis.call('HGET', name, field) or ''
  redis.call('HSET', name, field, old .. string.sub(values, from, from + 8 * n - 1))
  from = from + 8 * n
end
return #keys / 8
"""
_COMMIT = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


def parse_url(url: str) -> tuple[str, str]:
    """The Redis URL without dedup's ``prefix`` parameter, and the prefix."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    prefix = query.pop("prefix", ["dedup"])[0]
    rest = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
    return urlunsplit(parts._replace(query=rest)), prefix


class RedisIndex:
    """An index in a Redis database, under a key prefix."""

    def __init__(self, url: str) -> None:
        try:
            import redis
        except ImportError:
            raise IndexFault(f"{url}: a Redis index needs redis-py: pip install 'dedup[redis]'") from None
        self.url, self.prefix = parse_url(url)
        self.where = f"{self.url.split('@')[-1]} (prefix {self.prefix})"
        self.redis = redis.Redis.from_url(self.url)
        self.errors = redis.RedisError
        try:
            self.redis.ping()
        except redis.RedisError as problem:
            raise IndexFault(f"{self.where}: cannot reach Redis: {problem}") from None
        self._append = self.redis.register_script(_APPEND)
        self._get = self.redis.register_script(_GET)
        self._commit = self.redis.register_script(_COMMIT)
        self._load()

    def _key(self, *parts: object) -> str:
        return ":".join([self.prefix, *map(str, parts)])

    def _load(self) -> None:
        meta = self.redis.get(self._key("meta"))
        self.settings = None
        self.batches: list[dict] = []
        if meta is not None:
            try:
                meta = json.loads(meta)
            except ValueError:
                raise IndexFault(f"{self.where}: {self._key('meta')} is corrupt (not JSON)") from None
            check_format(meta.get("format"), self.where)
            self.settings = meta["settings"]
        try:
            records = [json.loads(v) for v in self.redis.hvals(self._key("batches"))]
        except ValueError:
            raise IndexFault(f"{self.where}: {self._key('batches')} is corrupt (not JSON)") from None
        self.batches = sorted(records, key=lambda b: b["segment"])
        self.segments = {b["segment"]: b for b in self.batches}
        self.known = np.array(sorted(self.segments), np.int64)

    def check(self, settings: dict) -> None:
        if self.settings is not None:
            check_settings(self.settings, settings, self.where)

    def size(self) -> int:
        """Bytes Redis uses for the index's keys (MEMORY USAGE, summed)."""
        total = 0
        for key in self.redis.scan_iter(match=f"{self.prefix}:*", count=1000):
            total += self.redis.memory_usage(key, samples=0) or 0
        return total

    # -- reading ------------------------------------------------------------------------------------

    def lookup(self, table: str, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`dedup.index.folder.FolderIndex.lookup`: matches of ``keys`` in committed batches."""
        keys = np.asarray(keys, np.uint64)
        bucket = self._key("k", table, "")
        pipe = self.redis.pipeline(transaction=False)
        for start in range(0, len(keys), SCRIPT_CHUNK):
            self._get(args=[bucket, keys[start:start + SCRIPT_CHUNK].astype("<u8").tobytes()], client=pipe)
        found = [value for chunk in pipe.execute() for value in chunk] if len(keys) else []
        at, values = [], []
        for i, value in enumerate(found):
            if value:
                if len(value) % 8:
                    raise IndexFault(f"{self.where}: a value of {bucket}* is corrupt (not 8-byte values)")
                stored = np.frombuffer(value, "<u8").astype(np.uint64)
                at.append(np.full(len(stored), i))
                values.append(stored)
        if not at:
            return np.empty(0, np.int64), np.empty(0, np.uint64)
        at, values = np.concatenate(at), np.concatenate(values)
        segment = values >> np.uint64(32) if KEYED[table] == "count" else segment_of(values)
        segment = segment.astype(np.int64)
        keep = np.isin(segment, self.known)
        at, values, segment = at[keep], values[keep], segment[keep]
        order = np.lexsort((segment, at))  # oldest batch first, as the folder answers
        values = values[order]
        if KEYED[table] == "count":
            values = values & np.uint64(0xFFFFFFFF)
        return at[order], values

    def _column(self, segment: int, name: str, dtype: str, rows: list[tuple[int, int]]) -> list[bytes]:
        """Byte ranges ``rows`` (start, end in elements) of one stored column."""
        key = self._key("s", segment, name)
        size = np.dtype(DTYPES.get(dtype, np.uint8)).itemsize
        expected = self.segments[segment]["files"][name]
        pipe = self.redis.pipeline(transaction=False)
        pipe.strlen(key)
        for start, end in rows:
            pipe.getrange(key, start * size, end * size - 1) if end > start else pipe.echo(b"")
        length, *chunks = pipe.execute()
        if length != expected * size:
            raise IndexFault(f"{self.where}: {key} is corrupt or missing ({length} bytes, not {expected * size})")
        return chunks

    def _offsets(self, segment: int, name: str, rows: np.ndarray) -> list[tuple[int, int]]:
        raw = self._column(segment, name, "i8", [(r, r + 2) for r in rows.tolist()])
        return [tuple(np.frombuffer(b, np.int64).tolist()) for b in raw]

    def records(self, table: str, refs: np.ndarray, columns: list[str] | None = None) -> dict[str, np.ndarray | list[str]]:
        segments, rows = segment_of(refs), row_of(refs)
        out: dict[str, np.ndarray | list[str]] = {}
        for column, dtype in RECORDS[table].items():
            if columns is not None and column not in columns:
                continue
            values: list | np.ndarray = [""] * len(refs) if dtype == "str" else np.empty(len(refs), DTYPES[dtype])
            for s in segments_in(segments):
                mine = np.flatnonzero(segments == s)
                if dtype == "str":
                    spans = self._offsets(s, f"{table}.{column}.off", rows[mine])
                    texts = self._column(s, f"{table}.{column}.bin", "b", spans)
                    for k, text in zip(mine.tolist(), texts):
                        values[k] = text.decode("utf-8")
                else:
                    got = self._column(s, f"{table}.{column}", dtype, [(r, r + 1) for r in rows[mine].tolist()])
                    values[mine] = np.frombuffer(b"".join(got), DTYPES[dtype])
            out[column] = values
        return out

    def streams(self, name: str, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        segments, rows = segment_of(refs), row_of(refs)
        pieces: list[bytes] = [b""] * len(refs)
        for s in segments_in(segments):
            mine = np.flatnonzero(segments == s)
            spans = self._offsets(s, f"{name}.off", rows[mine])
            for k, chunk in zip(mine.tolist(), self._column(s, f"{name}.bin", "u4", spans)):
                pieces[k] = chunk
        lengths = np.array([len(p) // 4 for p in pieces], np.int64)
        return np.frombuffer(b"".join(pieces), np.uint32).copy(), lengths

    # -- writing ------------------------------------------------------------------------------------

    def add(self, entries: Entries, settings: dict) -> dict:
        """Add one batch: its data under a new segment number, then its record (the commit)."""
        entries.checked()
        try:
            return self._add(entries, settings)
        except self.errors as problem:
            raise IndexFault(f"{self.where}: adding the batch failed, nothing was added: {problem}") from None

    def _add(self, entries: Entries, settings: dict) -> dict:
        meta = json.dumps({"format": FORMAT_VERSION, "dedup": _version(), "settings": settings})
        self.redis.set(self._key("meta"), meta, nx=True)
        self._load()
        self.check(settings)
        if entries.name in {b["name"] for b in self.batches}:
            raise IndexFault(f"{self.where}: a batch named {entries.name!r} is in the index already")
        segment = int(self.redis.incr(self._key("segments")))
        files: dict[str, int] = {}
        pipe = self.redis.pipeline(transaction=False)

        def put(name: str, array: np.ndarray, dtype: str) -> None:
            data = np.ascontiguousarray(array, DTYPES.get(dtype, np.uint8)).tobytes()
            key = self._key("s", segment, name)
            pipe.set(key, data[:STRING_CHUNK])
            for start in range(STRING_CHUNK, len(data), STRING_CHUNK):
                pipe.append(key, data[start:start + STRING_CHUNK])
            files[name] = len(array)
            pipe.execute()

        put_columns(entries, segment, put)
        for table, kind in KEYED.items():
            keys, values = entries.keyed[table]
            keys, values = np.asarray(keys, np.uint64), np.asarray(values, np.uint64)
            if kind == "count":  # a count carries its segment, so uncommitted counts are never summed
                values = (np.uint64(segment) << np.uint64(32)) | values
            else:
                values = placed(values, segment)
            self._append_values(table, keys, values, pipe)
        record = {"name": entries.name, "segment": segment, "documents": entries.documents,
                  "blocks": entries.blocks, "added": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "bytes": None, "files": files}
        if not self._commit(keys=[self._key("batches")], args=[entries.name, json.dumps(record)]):
            raise IndexFault(f"{self.where}: a batch named {entries.name!r} was added meanwhile by another process")
        self._load()
        return record

    def _append_values(self, table: str, keys: np.ndarray, values: np.ndarray, pipe) -> None:
        """Append each key's values to its field, grouped so that each field is written once."""
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.empty(0, np.int64)
        sizes = np.diff(np.r_[starts, len(keys)])
        bucket = self._key("k", table, "")
        for lo in range(0, len(starts), SCRIPT_CHUNK):
            first, last = starts[lo], (starts[lo + SCRIPT_CHUNK] if lo + SCRIPT_CHUNK < len(starts) else len(keys))
            self._append(args=[bucket, keys[starts[lo:lo + SCRIPT_CHUNK]].astype("<u8").tobytes(),
                               sizes[lo:lo + SCRIPT_CHUNK].astype("<u4").tobytes(),
                               values[first:last].astype("<u8").tobytes()], client=pipe)
        pipe.execute()


def _version() -> str:
    from dedup import __version__  # here: dedup/__init__ imports the API, which imports this module

    return __version__
