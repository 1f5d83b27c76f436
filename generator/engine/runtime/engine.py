"""The public engine API: open a model, run DAX queries, evaluate measures.

    engine = Engine.open(Path("."))                 # views over powerbi/data/*.parquet
    engine = Engine(model, data={"Sales": frame})   # in-memory rows, for tests
    engine.query('EVALUATE SUMMARIZECOLUMNS(Customer[City], "Sales", [Sales])')
    engine.evaluate_measure("Sales", filters={"Customer[City]": "Oslo"})

Each query compiles to one SQL statement (see `generator.engine.compiler.query`).
"""
from __future__ import annotations

import datetime as _dt
import itertools
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import duckdb
import pandas as pd
from sqlglot import exp

from generator.dax import ast as A
from generator.engine.runtime.backends.duckdb import MEMORY_ENV, DuckDBBackend, clean_error as _clean_error
from generator.engine.runtime.backends.duckdb import default_memory_limit  # noqa: F401 (public since it moved)
from generator.engine.data import orphan_check
from generator.engine.sql import create_table, create_view, drop_table, parenthesize, select_all, table_ref
from generator.engine.runtime.lowering import lower
from generator.engine.errors import DaxCompileError, DaxEvalError
from generator.engine.runtime.results import to_frame
from generator.engine.schema import Schema, parse_calculated
from generator.engine.runtime.ols import ObjectSecurity
from generator.engine.runtime.security import apply_security, roles_for
from generator.engine.runtime.calculated_tables import calculation_order, compile_table, table_select
from generator.engine.runtime import calc_lowering
from generator.engine.optimizer.scan_cache import ScanCache, ScanStage
from generator.engine.udf import macro
from generator.engine.compiler import query as _handlers  # noqa: F401  (importing the handlers registers their UDFs)
from generator.errors import ForgeError, Problem
from generator.spec.model import Measure, Model, Table

# PERCENTILE.INC/EXC over a sorted list (dax-semantics.md §13); 1-based list reads, NULL
# out of range (the Spark renderer inlines these bodies)
macro("pct_at", ("l", "pos"), """
    CASE WHEN pos < 1 OR pos > array_length(l) THEN error('PERCENTILE: k is out of range')
         ELSE l[floor(pos)::INTEGER] + (pos - floor(pos)) *
              (coalesce(l[floor(pos)::INTEGER + 1], l[floor(pos)::INTEGER]) - l[floor(pos)::INTEGER]) END""")
macro("percentile", ("l", "k", "exc"), """
    CASE WHEN array_length(l) = 0 THEN NULL
         WHEN k < 0 OR k > 1 THEN error('PERCENTILE: k is out of range')
         WHEN exc THEN __dax_pct_at(l, k * (array_length(l) + 1))
         ELSE __dax_pct_at(l, k * (array_length(l) - 1) + 1) END""")
macro("combin", ("n", "k"), "round(exp(lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)))::BIGINT")
# YEARFRAC basis 0: US (NASD) 30/360
macro("yearfrac30", ("a", "b"), """(
    (year(b) - year(a)) * 360 + (month(b) - month(a)) * 30 +
    (CASE WHEN day(b) = 31 AND day(a) >= 30 THEN 30 ELSE day(b) END -
     CASE WHEN day(a) = 31 THEN 30 ELSE day(a) END)) / 360.0""")


def _parse_query(text: str) -> A.Query:
    from generator.dax.parser import parse_query

    return parse_query(text)


def supported_functions() -> set[str]:
    """The DAX functions the compiler has a handler for (`fn_<NAME>`): the engine's column
    of the support table generated from `generator.dax.catalog` (docs/dax-support.md)."""
    from generator.engine.compiler.query import Compiler

    return {n[3:].replace("_", ".") for n in dir(Compiler) if n.startswith("fn_")}


class Engine:
    """A model opened on DuckDB: the runtime. It owns the connection, the calculated
    columns and the scan cache; the compiler only sees `self.schema`. Not thread-safe."""

    def __init__(self, model: Model, data: Mapping[str, Any] | None = None, out: Path | None = None,
                 as_of: str | _dt.date | None = None, con: duckdb.DuckDBPyConnection | None = None,
                 memory_limit: str | None = None, user: str | None = None,
                 roles: Sequence[str] | None = None, backend: str = "duckdb", spark: Any = None):
        """`user`/`roles`: evaluate as that user (USERPRINCIPALNAME) in those row-level
        security roles (generator.engine.runtime.security); no roles: the unsecured model.
        `backend`: "duckdb" (default) or "spark" (`spark`: a SparkSession)."""
        self.model = model
        self.backend_name = backend
        if backend == "duckdb":
            self.backend = DuckDBBackend(con, memory_limit)
            self.con = self.backend.con
            self.memory_limit = self.backend.memory_limit
        elif backend == "spark":
            from generator.engine.runtime.backends.spark import SparkBackend

            self.backend = SparkBackend(spark)
            self.con = None
            self.memory_limit = None
        else:
            raise ForgeError(Problem(None, f"unknown engine backend {backend!r}", "use --backend duckdb or spark"))
        self.renderer = self.backend.renderer
        self.last_sql: str | None = None
        # grouped evaluation of visuals (one GROUP BY per aggregate) instead of correlated
        # per-cell subqueries; both give the same values (tests/engine/test_grouped.py)
        self.grouped = True
        try:
            self.backend.load(model, data, out)
            self.schema: Schema = Schema.create(model, self._blank_tables(), self._unique_keys(),
                                                self._resolve_as_of(as_of), user)
            self._compute_calculated()
            if any(t.is_calculated for t in model.tables):  # facts about their rows, now there are some
                self.schema = replace(self.schema, blank_rows=self._blank_tables(), unique_keys=self._unique_keys())
            self.roles = roles_for(model, user, roles)
            if self.roles:
                apply_security(model, self.schema, self.roles, self._compile_row_filter, self.backend.execute)
                # hidden orphans no longer give their one side a blank row
                self.schema = replace(self.schema, blank_rows=self._blank_tables())
            # object-level security: checked on each query before it compiles (engine/ols.py)
            self.object_security = ObjectSecurity.for_roles(model, self.roles, self.schema.measures)
        except self.backend.out_of_memory as exc:
            raise self._out_of_memory(exc, "opening the model") from exc
        # pre-aggregations shared across queries (optimizer.scan_cache.ScanCache); None: one
        # MATERIALIZED CTE per query instead (the only way on backends without temp tables)
        self.scan_cache: ScanCache | None = ScanCache(summed=self.summed_columns) \
            if self.backend.caches_scans else None

    @classmethod
    def open(cls, project: Path, out: Path | None = None, as_of: str | None = None,
             memory_limit: str | None = None, user: str | None = None,
             roles: Sequence[str] | None = None, backend: str | None = None, spark: Any = None) -> "Engine":
        """Open a built project; `spark=session` (or backend="spark") runs it on Spark."""
        from generator.spec import load_project

        project = Path(project)
        model = load_project(project)
        backend = backend or ("spark" if spark is not None else "duckdb")
        return cls(model, out=out or project / "powerbi", as_of=as_of, memory_limit=memory_limit, user=user,
                   roles=roles, backend=backend, spark=spark)

    def _rows(self, query: exp.Expression) -> list[tuple]:
        return self.backend.rows(query)

    # ------------------------------------------------------------ model facts (measured once)

    def _blank_tables(self) -> frozenset[str]:
        """Tables a regular relationship with unmatched many-side keys points to (§4)."""
        out = set()
        for r in self.model.relationships:
            if r.many_to_many:  # a limited relationship has no blank row
                continue
            if r.to_table.lower() not in out and self._rows(orphan_check(r))[0][0]:
                out.add(r.to_table.lower())
        return frozenset(out)

    def _unique_keys(self) -> frozenset[tuple[str, str]]:
        """One-side key columns of relationships whose values are unique in the data
        (lower-case (table, column)); a join to them never duplicates a row, which lets
        grouped evaluation aggregate before joining (optimizer.eager_aggregation)."""
        out = set()
        for r in self.model.relationships:
            key = (r.to_table.lower(), r.to_column.lower())
            if key in out or r.many_to_many:  # not joined: it never expands a table
                continue
            col = exp.column(r.to_column, quoted=True)
            query = exp.select(exp.EQ(this=exp.Count(this=col), expression=exp.Count(
                this=exp.Distinct(expressions=[col.copy()])))).from_(table_ref(r.to_table))
            if self._rows(query)[0][0]:
                out.add(key)
        return frozenset(out)

    def _resolve_as_of(self, as_of: str | _dt.date | None) -> _dt.date:
        """The date TODAY()/NOW() return: the engine's as_of, else model.yaml `as_of`
        (an ISO date, or Table[Column] = its latest value), else the real today."""
        value = as_of or self.model.as_of
        if value is None:
            return _dt.date.today()
        if not isinstance(value, str):
            return value
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            pass
        from generator.spec import parse_field_ref

        table, column = parse_field_ref(value)
        latest = self._rows(exp.select(exp.Max(this=exp.column(column, quoted=True))).from_(
            table_ref(self.model.table(table).name)))[0][0]
        if isinstance(latest, _dt.datetime):
            return latest.date()
        return latest or _dt.date.today()

    @property
    def unique_keys(self) -> frozenset[tuple[str, str]]:
        return self.schema.unique_keys

    @property
    def as_of(self) -> _dt.date:
        return self.schema.as_of

    @property
    def date_table(self) -> Table | None:
        return self.schema.date_table

    @property
    def date_column(self) -> str | None:
        return self.schema.date_column

    def has_blank_row(self, table: str) -> bool:
        return self.schema.has_blank_row(table)

    def summed_columns(self, table: str) -> list[str]:
        return self.schema.summed_columns(table)

    def parsed_measure(self, m: Measure) -> A.Expr:
        return self.schema.parsed_measure(m)

    def validate_date_table(self) -> None:
        """Marked date tables need unique, non-blank, contiguous days (§10)."""
        t, c = self.date_table, self.date_column
        if t is None:
            return
        if c is None:
            raise ForgeError(Problem(t.pos, f"date table '{t.name}' has no date column"))
        col = exp.column(c, quoted=True)
        query = exp.select(exp.Count(this=exp.Star()), exp.Count(this=exp.Distinct(expressions=[exp.cast(col, "DATE")])),
                           exp.Count(this=col.copy()), exp.Min(this=exp.cast(col.copy(), "DATE")),
                           exp.Max(this=exp.cast(col.copy(), "DATE"))).from_(table_ref(t.name))
        n, distinct, nonblank, lo, hi = self._rows(query)[0]
        problems = []
        if nonblank != n:
            problems.append("has blank dates")
        if distinct != nonblank:
            problems.append("has duplicate dates")
        if lo is not None and (hi - lo).days + 1 != distinct:
            problems.append("is not contiguous")
        if problems:
            raise ForgeError(Problem(t.pos, f"date table '{t.name}' " + ", ".join(problems),
                                     "a marked date table needs one row per day, no gaps, no blanks"))

    # ------------------------------------------------------------ calculated columns

    def visible_columns(self, table: Table) -> list:
        return self.schema.visible_columns(table)

    def _compile_row_filter(self, table, column) -> exp.Select:
        from generator.engine.compiler.query import Compiler

        return Compiler(self.schema, grouped=self.grouped).calculated_column(table, column, parse_calculated(table, column))

    def _compute_calculated(self) -> None:
        """Compute every calculated table and column once, up front, in dependency order
        (calculated_tables.calculation_order), and materialise it (both are stored data in
        Power BI). Each compiles against the schema of what was materialised before it;
        consecutive columns of a table that do not read each other are stored by one
        set-based statement (calc_lowering), column by column as compiled if that fails."""
        from generator.engine.compiler.query import Compiler

        previous: dict[str, str] = {}
        names = itertools.count()
        for batch in calc_lowering.batches(calculation_order(self.schema)):
            if batch[0].column is None:
                self._compute_table(Compiler(self.schema, grouped=self.grouped), batch[0])
            elif not self._compute_batch(batch, previous, names):
                for step in batch:
                    self._compute_column(step, previous)

    def _store_column(self, table: Table, select: exp.Select, previous: dict[str, str]) -> None:
        n = len(self.schema.calculated.get(table.name.lower(), ()))
        target = f"__calc{n}__{table.name}"
        self.backend.materialize(table.name, select, target, previous.get(table.name.lower()))
        previous[table.name.lower()] = target

    def _compute_batch(self, batch, previous: dict[str, str], names) -> bool:
        """Store the batch's columns with one decorrelated statement; False (nothing stored)
        when it does not lower or the backend refuses it, for the per-column path to redo."""
        from generator.engine.compiler.query import Compiler

        table = batch[0].table
        compiled = [Compiler(self.schema, grouped=self.grouped).calculated_column(table, s.column, s.body)
                    for s in batch]
        lowered = [calc_lowering.lower(c, names) for c in compiled]
        if len(batch) == 1 and lowered[0] is None:
            return False
        select = calc_lowering.combine([lw or c for lw, c in zip(lowered, compiled)])
        if select is None:
            return False
        try:
            self._store_column(table, select, previous)
        except (*self.backend.errors, DaxCompileError):  # e.g. a DAX ERROR() raised by a row
            return False
        for step in batch:
            self.schema = self.schema.with_calculated(table, step.column.name)
        return True

    def _compute_column(self, step, previous: dict[str, str]) -> None:
        """One column, as compiled: a SELECT of the table with it added."""
        from generator.engine.compiler.query import Compiler

        table, column = step.table, step.column
        select = Compiler(self.schema, grouped=self.grouped).calculated_column(table, column, step.body)
        try:
            self._store_column(table, select, previous)
        except self.backend.out_of_memory as exc:
            raise self._out_of_memory(exc, f"calculated column {table.name}[{column.name}]") from exc
        except self.backend.errors as exc:
            raise DaxEvalError(f"calculated column {table.name}[{column.name}]: "
                               f"{self.backend.clean(exc)}") from exc
        self.schema = self.schema.with_calculated(table, column.name)

    def _compute_table(self, compiler, step) -> None:
        """Materialise a calculated table: its rows under its declared columns and types."""
        compiled = lower(compile_table(compiler, step), self.schema)
        select = table_select(compiled, step.table)
        target = f"__calctable__{step.table.name}"
        try:
            for statement in compiled.prelude:
                self.backend.execute(statement)
            self.backend.execute(create_table(target, parenthesize(select), replace=True))
        except self.backend.out_of_memory as exc:
            raise self._out_of_memory(exc, step.label) from exc
        except self.backend.errors as exc:
            raise DaxEvalError(f"{step.label}: {self.backend.clean(exc)}") from exc
        self.backend.execute(create_view(step.table.name, select_all(target)))

    # ------------------------------------------------------------ queries

    def compile(self, dax: "str | A.Query", scans: ScanStage | None = None) -> list:
        """Compile a query, DAX text or an already parsed `A.Query` (pure: nothing is run, no
        cache entry is made; pre-aggregations planned against `scans` are only staged there)."""
        from generator.engine.compiler.query import Compiler

        query = dax if isinstance(dax, A.Query) else _parse_query(dax)
        if self.object_security is not None:
            self.object_security.check(query)
        compiled = Compiler(self.schema, grouped=self.grouped).compile_query(query)
        return [lower(c, self.schema, scans) for c in compiled]

    def sql(self, dax: str) -> str:
        """The SQL of a query, for reading: one self-contained statement per EVALUATE (shared
        scans as MATERIALIZED CTEs; the cross-query cache is not consulted or filled)."""
        return ";\n".join(self.renderer.render(parenthesize(c.sql)) for c in self.compile(dax))

    def clear_cache(self) -> None:
        """Forget the cached pre-aggregations (benchmarks measure from a cold cache)."""
        if self.scan_cache is not None:
            self.scan_cache.clear()
            self._drop_retired()

    def _drop_retired(self) -> None:
        while self.scan_cache is not None and self.scan_cache.retired:
            self.backend.execute(drop_table(exp.to_table(self.scan_cache.retired.pop())))

    def query(self, dax: "str | A.Query") -> pd.DataFrame:
        """Run a DAX query; the result of its last EVALUATE as a DataFrame (BLANK → None/NaN)."""
        frames = self.query_all(dax)
        return frames[-1]

    def query_all(self, dax: "str | A.Query") -> list[pd.DataFrame]:
        """Run every EVALUATE of a query. Pre-aggregations its compile staged become cache
        entries only when all of them succeeded; otherwise their tables are dropped and the
        cache is as before."""
        stage = self.scan_cache.stage() if self.scan_cache is not None else None
        compiled = self.compile(dax, stage)
        try:
            frames = [self.run(c) for c in compiled]
        except Exception:
            for layout in stage.staged if stage is not None else ():
                self.backend.execute(drop_table(exp.to_table(layout.name)))
            raise
        if stage is not None:
            self.scan_cache.commit(tuple(stage.staged))
            self._drop_retired()
        return frames

    def run(self, compiled) -> pd.DataFrame:
        # the compiled tree is this query's own: render it in place, without sqlglot's copy
        sql = self.renderer.render(parenthesize(compiled.sql))
        prelude = [self.renderer.render(statement) for statement in compiled.prelude]
        self.last_sql = ";\n".join((*prelude, sql))
        try:
            table = self.backend.arrow(prelude, sql)
        except self.backend.out_of_memory as exc:
            raise self._out_of_memory(exc, "the query") from exc
        except self.backend.errors as exc:
            raise DaxEvalError(self.backend.clean(exc)) from exc
        return to_frame(table, compiled.columns, compiled.types)

    def _out_of_memory(self, exc: Exception, what: str) -> DaxEvalError:
        return DaxEvalError(
            f"{what} needs more memory than the engine's limit of {self.memory_limit} ({_clean_error(exc)}); "
            f"raise it with --memory-limit (e.g. --memory-limit 16GB) or the environment variable {MEMORY_ENV}")

    def evaluate(self, expression: str, filters: Mapping[str, Any] | None = None) -> Any:
        """Evaluate a scalar DAX expression, optionally under column filters that act like
        slicers: `{"Customer[City]": "Oslo", "Date[Year]": [2023, 2024]}` (a card visual)."""
        args = filter_args(filters)
        if args:
            dax = f"EVALUATE SUMMARIZECOLUMNS({', '.join(args)}, \"Value\", {expression})"
        else:
            dax = f"EVALUATE ROW(\"Value\", {expression})"
        frame = self.query(dax)
        if frame.empty:
            return None
        value = frame.iloc[0, -1]
        return None if _is_blank(value) else _py(value)

    def evaluate_measure(self, name: str, filters: Mapping[str, Any] | None = None) -> Any:
        if self.model.measure(name) is None:
            raise DaxCompileError(f"measure [{name}] does not exist")
        return self.evaluate(f"[{_escape_bracket(name)}]", filters)


def _escape_bracket(name: str) -> str:
    return name.replace("]", "]]")


def dax_string(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def dax_literal(value: Any) -> str:
    if value is None:
        return "BLANK()"
    if isinstance(value, bool):
        return "TRUE()" if value else "FALSE()"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return f"DATE({value.year}, {value.month}, {value.day})"
    return dax_string(str(value))


def filter_args(filters: Mapping[str, Any] | None) -> list[str]:
    """{"Customer[City]": "Oslo", "Date[Year]": [2023, 2024]} → TREATAS filter arguments."""
    out = []
    for col, value in (filters or {}).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        out.append("TREATAS({" + ", ".join(dax_literal(v) for v in values) + "}, " + _quoted_column(col) + ")")
    return out


def _quoted_column(ref: str) -> str:
    """`Time Intelligence[Item]` → `'Time Intelligence'[Item]` (a table name that is not a
    plain identifier must be quoted in DAX); already-quoted references stay as they are."""
    table, bracket, rest = ref.partition("[")
    table = table.strip()
    if not bracket or table.startswith("'") or table.replace("_", "a").isalnum():
        return ref
    return "'" + table.replace("'", "''") + "'[" + rest


def _is_blank(value: Any) -> bool:
    return value is None


def _py(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value
