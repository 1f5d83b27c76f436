"""Deterministic Parquet, written a row group at a time.

A table arrives in chunks of any size; the sink cuts them into row groups of exactly
ROW_GROUP rows (the last one shorter), each written from one contiguous array. So the
file's bytes depend on the rows only, not on how they were chunked, and memory holds at
most one row group plus one incoming chunk.

SNAPPY, not ZSTD: Snappy is the codec every Microsoft Parquet reader (Power Query's
Parquet.Document, Fabric, ADF) is known to accept; ZSTD support is not documented for all.
No pandas metadata (schema metadata is dropped).
"""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP = 1 << 20


class ParquetSink:
    """`write(chunk)` any number of times, then `close()`; a context manager."""

    def __init__(self, path: Path, schema: pa.Schema, row_group: int = ROW_GROUP):
        self.schema = schema.remove_metadata()
        self.row_group = row_group
        self.rows = 0
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._writer = pq.ParquetWriter(path, self.schema, compression="snappy", use_dictionary=True,
                                        write_statistics=True, version="2.6")

    def write(self, chunk: pa.Table) -> None:
        chunk = chunk.replace_schema_metadata(None)
        if chunk.schema != self.schema:
            raise ValueError(f"chunk schema {chunk.schema} differs from the file's {self.schema}")
        self._pending.append(chunk)
        self._pending_rows += chunk.num_rows
        while self._pending_rows >= self.row_group:
            self._flush(self.row_group)

    def _flush(self, rows: int) -> None:
        buffered = pa.concat_tables(self._pending)
        group = buffered.slice(0, rows).combine_chunks()
        rest = buffered.slice(rows)
        self._pending, self._pending_rows = ([rest] if rest.num_rows else []), rest.num_rows
        self._writer.write_table(group, row_group_size=self.row_group)
        self.rows += rows

    def close(self) -> None:
        if self._pending_rows:
            self._flush(self._pending_rows)
        self._writer.close()

    def __enter__(self) -> "ParquetSink":
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self._writer.close()
