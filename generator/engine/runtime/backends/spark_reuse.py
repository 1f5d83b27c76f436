"""What the Spark runtime may reuse across the engines of one SparkSession: stored rows
(calculated columns and tables, a role's visible rows), in-memory tables handed over as
Arrow, and the small fact queries an engine runs when it opens (blank rows, unique keys).

Why: `build.py test --backend spark` opens an engine per distinct `given:` data, and each
open recomputes the model's calculated columns, which on Spark costs Catalyst minutes, not
data. Two engines whose inputs are the same rows compute the same results, so the second
one reuses the first's. Nothing is assumed from names or from where rows came from: every
view an engine registers gets a content fingerprint, and a result is reused only for the
same Spark SQL over views with the same fingerprints:

- a table handed over as Arrow: the SHA-256 of its schema and values (Arrow IPC), and the
  cached DataFrame is reused only if its Arrow table is also equal value for value;
- a stored or derived view: the SHA-256 of its Spark SQL and of its inputs' fingerprints;
- a view read from files (Parquet, CSV, Delta): no fingerprint, so nothing that reads it
  is ever reused (the files may change between opens).

The cache lives as long as the session object (a weak reference): a user's own session
keeps it for its life, and `SparkSession.stop()` ends both.
"""
from __future__ import annotations

import hashlib
import weakref
from typing import Any

import pyarrow as pa
from sqlglot import exp

_BY_SESSION: "weakref.WeakKeyDictionary[Any, SessionReuse]" = weakref.WeakKeyDictionary()


class SessionReuse:
    """The reusable results of one SparkSession, by content fingerprint."""

    def __init__(self):
        self.arrow_frames: dict[str, tuple[pa.Table, Any]] = {}  # fingerprint → (rows, DataFrame)
        self.stored: dict[str, Any] = {}  # fingerprint of (SQL, inputs) → checkpointed DataFrame
        self.rows: dict[str, list[tuple]] = {}  # fingerprint of (SQL, inputs) → result rows
        self.udfs_registered = False
        self.active: "weakref.ref | None" = None  # the engine whose temporary views are registered
        self.hits = 0
        self.misses = 0

    def frame_of(self, arrow: pa.Table, make) -> tuple[str, Any]:
        """The DataFrame of `arrow` (made by `make` the first time) and its fingerprint."""
        key = arrow_fingerprint(arrow)
        cached = self.arrow_frames.get(key)
        if cached is not None and cached[0].equals(arrow):
            self.hits += 1
            return key, cached[1]
        self.misses += 1
        frame = make(arrow)
        self.arrow_frames[key] = (arrow, frame)
        return key, frame


def for_session(session: Any) -> SessionReuse:
    reuse = _BY_SESSION.get(session)
    if reuse is None:
        reuse = _BY_SESSION[session] = SessionReuse()
    return reuse


def arrow_fingerprint(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return "arrow:" + hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def read_views(tree: exp.Expression) -> set[str]:
    """The views a statement reads: its table references, less its own CTE names and
    table functions (lower-cased, as Spark resolves them)."""
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    return {t.name.lower() for t in tree.find_all(exp.Table)
            if isinstance(t.this, exp.Identifier) and t.name.lower() not in ctes}


def statement_fingerprint(sql: str, inputs: set[str], views: dict[str, str | None]) -> str | None:
    """The fingerprint of a statement's result: its SQL and what each input view holds;
    None if an input has no fingerprint (read from files, or not registered here)."""
    known = [(name, views.get(name)) for name in sorted(inputs)]
    if any(fp is None for _, fp in known):
        return None
    text = "\n".join([sql, *(f"{name}={fp}" for name, fp in known)])
    return "sql:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
