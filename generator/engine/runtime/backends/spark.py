"""The Spark runtime: the same model on a SparkSession (the user's own cluster session,
or a local one for tests and the CLI).

- Tables are temporary views over the same Parquet/CSV files Spark reads itself (a Delta
  table where the source folder holds a `_delta_log`); in-memory rows given to `Engine`
  (tests) are typed by the DuckDB loader first and handed over as Arrow.
- Every statement is rendered by render/spark.py; calculated columns are computed as on
  DuckDB (the same compiled SELECT), checkpointed, and the table's view replaced.
- Results come back column-wise as Arrow (`DataFrame.toArrow`).
- Session settings the DuckDB semantics need: ANSI mode (overflow and bad casts are
  errors, as in DuckDB), TIMESTAMP without time zone, the UTC session time zone; and no
  broadcast joins: Spark 4 builds a broadcast relation's join keys before the scalar
  subqueries inside them have run, and fails ("requirement failed: Subquery … has not
  finished", HashedRelationBroadcastMode → ScalarSubquery.eval). Its decorrelation makes
  such keys from a measure's CALCULATE filter on a VAR (Key Findings: Dim_Customer[Age_Group]
  = top_group, top_group a scalar subquery, compared case-insensitively) evaluated per
  row; a sort-merge join evaluates the same keys in a task, after the subqueries
  (docs/spark.md).
- No cross-query scan cache (it needs temporary tables): each query plans its shared
  scans as CTEs, the engine's MATERIALIZED-CTE mode.
"""
from __future__ import annotations

import re
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

import pyarrow as pa
from sqlglot import exp

from generator.engine.runtime.backends.spark_reuse import for_session, read_views, statement_fingerprint
from generator.engine.data import merge_case_variants, source_file, typed_select
from generator.engine.render.spark import SPARK_UDFS, SparkRenderer
from generator.engine.sql import create_view, parenthesize, table_ref
from generator.errors import ForgeError, Problem
from generator.spec.model import Model

SESSION_CONF = {
    "spark.sql.ansi.enabled": "true",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.caseSensitive": "false",
    "spark.sql.autoBroadcastJoinThreshold": "-1",  # see the module docstring: Subquery … has not finished
}

LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "1",  # rows are a handful: one task per shuffle, not two
    "spark.default.parallelism": "1",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.sql.adaptive.enabled": "true",
    # the measure tests open ~15 engines on one session, each checkpointing its calculated
    # columns and tables: 1g ran out of heap after ~60 min (serve-Arrow), 4g of the
    # machine's 24 GB leaves room; and a JVM out of memory exits at once, so the Python
    # side gets a lost connection (an error) instead of waiting for a stream that never comes
    "spark.driver.memory": "4g",
    "spark.driver.extraJavaOptions": "-XX:+ExitOnOutOfMemoryError",
    # the status store keeps every finished query's plan (1,000 by default, with no UI to
    # show them): the measure tests' plans are large, and they filled a 4g heap in 19 min
    "spark.sql.ui.retainedExecutions": "5",
    "spark.ui.retainedJobs": "20",
    "spark.ui.retainedStages": "20",
    "spark.ui.retainedTasks": "200",
    "spark.ui.dagGraph.retainedRootRDDs": "20",
    # Spark's SQL parser (ANTLR) caches DFA states for every distinct statement and never
    # lets go: each measure test's SQL is new text, and the cache grew ~45 MB a minute
    # (a class histogram of the driver: ATNConfig and DFAState, 320 MB after 10 min).
    # Spark's own knob flushes it past a number of states (SPARK-47404)
    "spark.sql.parser.manageParserCaches": "true",
    "spark.sql.parser.parserDfaCacheFlushThreshold": "100000",
}


def _require_pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise ForgeError(Problem(None, "the spark backend needs pyspark, which is not installed",
                                 'pip install "pbi-forge[spark]" (and a Java 17 runtime)')) from exc


def local_session(app: str = "pbi-forge"):
    """A local-mode SparkSession bound to 127.0.0.1, one core, no UI (tests, the CLI)."""
    _require_pyspark()
    import os

    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # every local socket on the loopback only
    builder = SparkSession.builder.master("local[1]").appName(app)
    for key, value in {**LOCAL_CONF, **SESSION_CONF}.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # no Java runtime, a JVM that would not start, …
        raise ForgeError(Problem(None, f"could not start a local Spark session: {str(exc).splitlines()[0]}",
                                 "the spark backend needs a Java 17 runtime (JAVA_HOME or java on PATH)")) from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


class SparkBackend:
    name = "spark"
    caches_scans = False
    out_of_memory: tuple = ()

    def __init__(self, session: Any = None):
        _require_pyspark()
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        # Py4JError: a Java exception, or the driver's JVM gone (it exits on running out of
        # memory; py4j then fails to connect: ConnectionError), which `clean` says in so many words
        self.errors = (PySparkException, Py4JError, ConnectionError)
        self.renderer = SparkRenderer()
        self.owns_session = session is None
        self.spark = session if session is not None else local_session()
        for key, value in SESSION_CONF.items():
            self.spark.conf.set(key, value)
        # what other engines of this session computed from the same rows (backends/spark_reuse.py)
        self.reuse = for_session(self.spark)
        self.fingerprints: dict[str, str | None] = {}  # view (lower case) → its content's fingerprint
        self.views: dict[str, Any] = {}  # view name → the DataFrame this engine registered under it
        if not self.reuse.udfs_registered:
            from pyspark.sql.types import _parse_datatype_string

            for name, (fn, rtype) in SPARK_UDFS.items():
                self.spark.udf.register(name, fn, _parse_datatype_string(rtype))
            self.reuse.udfs_registered = True

    def render(self, statement: exp.Expression) -> str:
        return self.renderer.render(statement)

    def execute(self, statement: exp.Expression) -> None:
        """Run a statement. Spark has no temporary tables: CREATE TABLE … AS (a calculated
        table, a role's visible rows) is computed now, checkpointed and registered as a
        temporary view of that name; DROP TABLE drops that view."""
        self._activate()
        if isinstance(statement, exp.Create) and statement.kind == "TABLE":
            self.store(statement.this.name, statement.expression)
            return
        if isinstance(statement, exp.Drop) and statement.kind == "TABLE":
            for table in statement.args.get("tables") or []:
                self.spark.catalog.dropTempView(_quoted(table.name))
                self.views.pop(table.name, None)
                self.fingerprints.pop(table.name.lower(), None)
            return
        if isinstance(statement, exp.Create) and statement.kind == "VIEW":
            name, inputs = statement.this.name, read_views(statement.expression)
            sql = self.render(statement)
            self.spark.sql(sql)
            self._registered(name, self.spark.table(_quoted(name)), statement_fingerprint(sql, inputs,
                                                                                           self.fingerprints))
            return
        self.spark.sql(self.render(statement))

    def store(self, name: str, select: exp.Expression) -> None:
        """`select`'s rows, computed once and kept (a local checkpoint cuts the lineage, so
        later queries read stored rows, as DuckDB reads a temporary table), as view `name`.
        The same SQL over views holding the same rows, stored before by another engine of
        this session, is that engine's rows (backends/spark_reuse.py)."""
        self._activate()
        inputs = read_views(select)
        sql = self.render(parenthesize(select))
        key = statement_fingerprint(sql, inputs, self.fingerprints)
        frame = self.reuse.stored.get(key) if key is not None else None
        if frame is None:
            self.reuse.misses += 1
            frame = self.spark.sql(sql).localCheckpoint(eager=True)
            if key is not None:
                self.reuse.stored[key] = frame
        else:
            self.reuse.hits += 1
        frame.createOrReplaceTempView(_quoted(name))
        self._registered(name, frame, key)

    def rows(self, query: exp.Expression) -> list[tuple]:
        self._activate()
        inputs = read_views(query)
        sql = self.render(query)
        key = statement_fingerprint(sql, inputs, self.fingerprints)
        if key is not None and key in self.reuse.rows:
            return list(self.reuse.rows[key])
        out = [tuple(r) for r in self.spark.sql(sql).collect()]
        if key is not None:
            self.reuse.rows[key] = list(out)
        return out

    def _registered(self, name: str, frame: Any, fingerprint: str | None) -> None:
        """A view this engine just registered: the session's views are now its own (any name
        it registered since another engine last ran is its own rows)."""
        self._activate()
        self.views[name] = frame
        self.fingerprints[name.lower()] = fingerprint

    def _activate(self) -> None:
        """Temporary views belong to the session, which several engines may share (the
        measure tests open one per distinct `given:`): before an engine runs anything, the
        views it registered are its own again, whatever another engine registered since."""
        active = self.reuse.active() if self.reuse.active is not None else None
        if active is self:
            return
        for name, frame in self.views.items():
            frame.createOrReplaceTempView(_quoted(name))
        self.reuse.active = weakref.ref(self)

    # ------------------------------------------------------------ tables

    def load(self, model: Model, data: Mapping[str, Any] | None, out: Path | None) -> None:
        if data is not None:
            self._load_rows(model, data, out)
            return
        derived = [t for t in model.tables if t.is_calculated or t.calculation_group is not None]
        if derived:  # no data file: a calculated table's placeholder, a calculation group's items
            self._load_rows(replace(model, tables=tuple(derived)), {}, out)
        for table in model.tables:
            if table in derived:
                continue
            path, kind = source_file(table, out)
            raw = f"__raw__{table.name}"
            frame = self._reader(table, path, kind)
            frame.createOrReplaceTempView(raw)
            self._registered(raw, frame, None)  # files: no fingerprint, nothing reading them is reused
            present = {c.lower(): c for c in self.spark.table(_quoted(raw)).columns}
            select = typed_select(table, present, table_ref(raw), trim=kind == "csv")
            select = merge_case_variants(lambda tree: self.rows(tree)[0], select, [c.name for c in table.columns],
                                         [c.name for c in table.columns if c.type == "string"])
            self.execute(create_view(table.name, select))

    def _reader(self, table, path: Path, kind: str):
        if kind == "csv":
            return self.spark.read.option("header", True).csv(str(path))
        if path.is_dir() and (path / "_delta_log").is_dir():
            try:
                return self.spark.read.format("delta").load(str(path))
            except self.errors as exc:
                raise ForgeError(Problem(table.pos, f"table '{table.name}' is a Delta table ({path}) and this "
                                         f"Spark session cannot read Delta: {str(exc).splitlines()[0]}",
                                         "add delta-spark to the session (spark.jars.packages io.delta:...)")) from exc
        return self.spark.read.parquet(str(path))

    def _load_rows(self, model: Model, data: Mapping[str, Any], out: Path | None) -> None:
        """In-memory rows: typed (and case-merged) by the DuckDB loader, handed over as Arrow."""
        import duckdb

        from generator.engine.data import load_tables

        con = duckdb.connect()
        try:
            load_tables(con, model, data, out)
            for table in model.tables:
                arrow = con.sql(f"SELECT * FROM {_duck_quoted(table.name)}").to_arrow_table()
                fingerprint, frame = self.reuse.frame_of(arrow, self._frame_of)
                frame.createOrReplaceTempView(_quoted(table.name))
                self._registered(table.name, frame, fingerprint)
        finally:
            con.close()

    def _frame_of(self, arrow: pa.Table):
        if arrow.num_rows:
            try:
                return self.spark.createDataFrame(arrow)  # pyspark >= 4.0
            except TypeError:
                return self.spark.createDataFrame(arrow.to_pandas())
        from pyspark.sql.pandas.types import from_arrow_schema

        return self.spark.createDataFrame([], from_arrow_schema(arrow.schema))

    def materialize(self, table: str, select: exp.Expression, target: str, previous: str | None) -> None:
        """The table with one more calculated column, computed now and checkpointed (a
        calculated column is stored data), becomes the table's view."""
        self.store(table, select)

    # ------------------------------------------------------------ queries

    def arrow(self, prelude: list[str], sql: str) -> pa.Table:
        self._activate()
        for statement in prelude:
            self.spark.sql(statement)
        frame = self.spark.sql(sql)
        if hasattr(frame, "toArrow"):  # pyspark >= 4.0
            table = frame.toArrow()
        else:  # Arrow-backed toPandas (spark.sql.execution.arrow.pyspark.enabled)
            table = pa.Table.from_pandas(frame.toPandas(), preserve_index=False)
        return _naive_timestamps(table)

    def clean(self, exc: Exception) -> str:
        if isinstance(exc, ConnectionError) or type(exc).__name__ == "Py4JNetworkError" or (
                type(exc).__name__ == "Py4JError" and not self._driver_alive()):
            return ("spark: the connection to the Spark driver was lost (its JVM stopped; a local driver "
                    "stops when it runs out of memory: spark.driver.memory)")
        text = getattr(exc, "getMessage", lambda: str(exc))() if not isinstance(exc, str) else exc
        text = str(text).strip()
        m = re.search(r"\[USER_RAISED_EXCEPTION\]\s*(.*?)\s*SQLSTATE", text, re.S)
        if m:
            return m.group(1).strip()
        for marker in ("ValueError: ", "OverflowError: "):
            if marker in text:
                return text.split(marker, 1)[1].splitlines()[0]
        # a Java exception may carry no message (getMessage() is empty): name its kind instead
        lines = text.splitlines() or str(exc).strip().splitlines() or [type(exc).__name__]
        return "spark: " + lines[0]

    def _driver_alive(self) -> bool:
        try:
            self.spark.sparkContext._jvm.java.lang.System.currentTimeMillis()
            return True
        except Exception:  # any failure to reach the JVM: it is gone
            return False

    def stop(self) -> None:
        if self.owns_session:
            self.spark.stop()


def _naive_timestamps(table: pa.Table) -> pa.Table:
    """Timestamps as DuckDB returns them: without a time zone (the session's is UTC)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            naive = pa.timestamp(field.type.unit)
            column = pa.chunked_array([c.cast(naive) for c in table.column(i).chunks], type=naive)
            table = table.set_column(i, pa.field(field.name, naive), column)
    return table


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _duck_quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
