"""The public engine API: open a model, run DAX queries, evaluate measures.

    engine = Engine.open(Path("."))                 # views over powerbi/data/*.parquet
    engine = Engine(model, data={"Sales": frame})   # in-memory rows, for tests
    engine.query('EVALUATE SUMMARIZECOLUMNS(Customer[City], "Sales", [Sales])')
    engine.evaluate_measure("Sales", filters={"Customer[City]": "Oslo"})

Each query compiles to one SQL statement (see `generator.engine.query`).
"""
from __future__ import annotations

import datetime as _dt
import os
import tempfile
import warnings
from dataclasses import replace
from pathlib import Path
from dataclasses import replace
from typing import Any, Mapping, Sequence

import duckdb
import pandas as pd
from sqlglot import exp

from generator.dax import ast as A
from generator.engine.data import load_tables, orphan_check
from generator.engine.sql import (
    create_table, create_view, drop_table, parenthesize, render, select_all, set_option, table_ref,
)
from generator.engine.errors import DaxCompileError, DaxEvalError
from generator.engine.results import to_frame
from generator.engine.schema import Schema, parse_calculated
from generator.engine.security import apply_security, roles_for
from generator.engine.calculated_tables import calculation_order, compile_table, table_select
from generator.engine.shared_scans import ScanCache, ScanStage
from generator.engine.udf import install as install_udfs
from generator.engine import query as _handlers  # noqa: F401  (importing the handlers registers their UDFs)
from generator.errors import ForgeError, Problem
from generator.spec.model import Measure, Model, Table

_MACROS = [
    # PERCENTILE.INC/EXC over a sorted list (dax-semantics.md §13)
    """CREATE OR REPLACE MACRO __dax_pct_at(l, pos) AS
       CASE WHEN pos < 1 OR pos > len(l) THEN error('PERCENTILE: k is out of range')
            ELSE l[floor(pos)::BIGINT] + (pos - floor(pos)) *
                 (coalesce(l[floor(pos)::BIGINT + 1], l[floor(pos)::BIGINT]) - l[floor(pos)::BIGINT]) END""",
    """CREATE OR REPLACE MACRO __dax_percentile(l, k, exc) AS
       CASE WHEN len(l) = 0 THEN NULL
            WHEN k < 0 OR k > 1 THEN error('PERCENTILE: k is out of range')
            WHEN exc THEN __dax_pct_at(l, k * (len(l) + 1))
            ELSE __dax_pct_at(l, k * (len(l) - 1) + 1) END""",
    """CREATE OR REPLACE MACRO __dax_combin(n, k) AS
       round(exp(lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)))::BIGINT""",
]


def _parse_query(text: str) -> A.Query:
    from generator.dax.parser import parse_query

    return parse_query(text)


def supported_functions() -> set[str]:
    """The DAX functions the compiler has a handler for (`fn_<NAME>`): the engine's column
    of the support table generated from `generator.dax.catalog` (docs/dax-support.md)."""
    from generator.engine.query import Compiler

    return {n[3:].replace("_", ".") for n in dir(Compiler) if n.startswith("fn_")}


MEMORY_ENV = "PBI_FORGE_MEMORY_LIMIT"


def default_memory_limit() -> str:
    """75% of the machine's memory: DuckDB spills to the temp folder beyond it instead of
    growing until the operating system kills the process (a CROSSJOIN reached 22 GB)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "8GB"
    return f"{int(total * 0.75) // 2 ** 20}MiB"


class Engine:
    """A model opened on DuckDB: the runtime. It owns the connection, the calculated
    columns and the scan cache; the compiler only sees `self.schema`. Not thread-safe."""

    def __init__(self, model: Model, data: Mapping[str, Any] | None = None, out: Path | None = None,
                 as_of: str | _dt.date | None = None, con: duckdb.DuckDBPyConnection | None = None,
                 memory_limit: str | None = None, user: str | None = None,
                 roles: Sequence[str] | None = None):
        """`user`/`roles`: evaluate as that user (USERPRINCIPALNAME) in those row-level
        security roles (generator.engine.security); no roles: the unsecured model."""
        self.model = model
        self.con = con or duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        # spill files go to the system temp folder, never into the project
        spill = Path(tempfile.gettempdir()) / "pbi-forge-duckdb"
        self.con.execute(render(set_option("temp_directory", str(spill))))
        self.memory_limit = memory_limit or os.environ.get(MEMORY_ENV) or default_memory_limit()
        try:
            self.con.execute(render(set_option("memory_limit", self.memory_limit)))
        except duckdb.Error as exc:
            raise ForgeError(Problem(None, f"invalid memory limit {self.memory_limit!r}: {_clean_error(exc)}",
                                     "write e.g. 4GB, 512MB or 75%")) from exc
        for macro in _MACROS:
            self.con.execute(macro)
        install_udfs(self.con)
        self.last_sql: str | None = None
        # grouped evaluation of visuals (one GROUP BY per aggregate) instead of correlated
        # per-cell subqueries; both give the same values (tests/engine/test_grouped.py)
        self.grouped = True
        try:
            load_tables(self.con, model, data, out)
            self.schema: Schema = Schema.create(model, self._blank_tables(), self._unique_keys(),
                                                self._resolve_as_of(as_of), user)
            self._compute_calculated()
            if any(t.is_calculated for t in model.tables):  # facts about their rows, now there are some
                self.schema = replace(self.schema, blank_rows=self._blank_tables(), unique_keys=self._unique_keys())
            self.roles = roles_for(model, user, roles)
            if self.roles:
                apply_security(model, self.schema, self.roles, self._compile_row_filter, self.con.execute)
                # hidden orphans no longer give their one side a blank row
                self.schema = replace(self.schema, blank_rows=self._blank_tables())
        except duckdb.OutOfMemoryException as exc:
            raise self._out_of_memory(exc, "opening the model") from exc
        # pre-aggregations shared across queries (shared_scans.ScanCache); None: one
        # MATERIALIZED CTE per query instead
        self.scan_cache: ScanCache | None = ScanCache(summed=self.summed_columns)

    @classmethod
    def open(cls, project: Path, out: Path | None = None, as_of: str | None = None,
             memory_limit: str | None = None, user: str | None = None,
             roles: Sequence[str] | None = None) -> "Engine":
        from generator.spec import load_project

        project = Path(project)
        model = load_project(project)
        return cls(model, out=out or project / "powerbi", as_of=as_of, memory_limit=memory_limit, user=user,
                   roles=roles)

    # ------------------------------------------------------------ model facts (measured once)

    def _blank_tables(self) -> frozenset[str]:
        """Tables a regular relationship with unmatched many-side keys points to (§4)."""
        out = set()
        for r in self.model.relationships:
            if r.to_table.lower() not in out and self.con.execute(orphan_check(r)).fetchall()[0][0]:
                out.add(r.to_table.lower())
        return frozenset(out)

    def _unique_keys(self) -> frozenset[tuple[str, str]]:
        """One-side key columns of relationships whose values are unique in the data
        (lower-case (table, column)); a join to them never duplicates a row, which lets
        grouped evaluation aggregate before joining (shared_scans._lift)."""
        out = set()
        for r in self.model.relationships:
            key = (r.to_table.lower(), r.to_column.lower())
            if key in out:
                continue
            col = exp.column(r.to_column, quoted=True)
            sql = exp.select(exp.EQ(this=exp.Count(this=col), expression=exp.Count(
                this=exp.Distinct(expressions=[col.copy()])))).from_(table_ref(r.to_table)).sql("duckdb")
            if self.con.execute(sql).fetchall()[0][0]:
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
        latest = self.con.execute(exp.select(exp.Max(this=exp.column(column, quoted=True))).from_(
            table_ref(self.model.table(table).name)).sql("duckdb")).fetchall()[0][0]
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
        sql = exp.select(exp.Count(this=exp.Star()), exp.Count(this=exp.Distinct(expressions=[exp.cast(col, "DATE")])),
                         exp.Count(this=col.copy()), exp.Min(this=exp.cast(col.copy(), "DATE")),
                         exp.Max(this=exp.cast(col.copy(), "DATE"))).from_(exp.to_table(f'"{t.name}"')).sql("duckdb")
        n, distinct, nonblank, lo, hi = self.con.execute(sql).fetchall()[0]
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
        from generator.engine.query import Compiler

        return Compiler(self.schema, grouped=self.grouped).calculated_column(table, column, parse_calculated(table, column))

    def _compute_calculated(self) -> None:
        """Compute every calculated table and column once, up front, in dependency order
        (calculated_tables.calculation_order), and materialise it (both are stored data in
        Power BI). Each compiles against the schema of what was materialised before it."""
        from generator.engine.query import Compiler

        previous: dict[str, str] = {}
        for step in calculation_order(self.schema):
            table, column, body = step.table, step.column, step.body
            if column is None:
                self._compute_table(Compiler(self.schema, grouped=self.grouped), step)
                continue
            n = len(self.schema.calculated.get(table.name.lower(), ()))
            select = Compiler(self.schema, grouped=self.grouped).calculated_column(table, column, body)
            target = f"__calc{n}__{table.name}"
            try:
                self.con.execute(render(create_table(target, parenthesize(select), replace=True)))
            except duckdb.OutOfMemoryException as exc:
                raise self._out_of_memory(exc, f"calculated column {table.name}[{column.name}]") from exc
            except duckdb.Error as exc:
                raise DaxEvalError(f"calculated column {table.name}[{column.name}]: {_clean_error(exc)}") from exc
            self.con.execute(render(create_view(table.name, select_all(target))))
            if table.name.lower() in previous:
                self.con.execute(render(drop_table(previous[table.name.lower()])))
            previous[table.name.lower()] = target
            self.schema = self.schema.with_calculated(table, column.name)

    def _compute_table(self, compiler, step) -> None:
        """Materialise a calculated table: its rows under its declared columns and types."""
        compiled = compile_table(compiler, step)
        select = table_select(compiled, step.table)
        target = f"__calctable__{step.table.name}"
        try:
            for statement in compiled.prelude:
                self.con.execute(render(statement))
            self.con.execute(render(create_table(target, parenthesize(select), replace=True)))
        except duckdb.OutOfMemoryException as exc:
            raise self._out_of_memory(exc, step.label) from exc
        except duckdb.Error as exc:
            raise DaxEvalError(f"{step.label}: {_clean_error(exc)}") from exc
        self.con.execute(render(create_view(step.table.name, select_all(target))))

    # ------------------------------------------------------------ queries

    def compile(self, dax: "str | A.Query", scans: ScanStage | None = None) -> list:
        """Compile a query, DAX text or an already parsed `A.Query` (pure: nothing is run, no
        cache entry is made; pre-aggregations planned against `scans` are only staged there)."""
        from generator.engine.query import Compiler

        query = dax if isinstance(dax, A.Query) else _parse_query(dax)
        return Compiler(self.schema, grouped=self.grouped, scans=scans).compile_query(query)

    def sql(self, dax: str) -> str:
        """The SQL of a query, for reading: one self-contained statement per EVALUATE (shared
        scans as MATERIALIZED CTEs; the cross-query cache is not consulted or filled)."""
        return ";\n".join(render(parenthesize(c.sql)) for c in self.compile(dax))

    def clear_cache(self) -> None:
        """Forget the cached pre-aggregations (benchmarks measure from a cold cache)."""
        if self.scan_cache is not None:
            self.scan_cache.clear()
            self._drop_retired()

    def _drop_retired(self) -> None:
        while self.scan_cache is not None and self.scan_cache.retired:
            self.con.execute(render(drop_table(exp.to_table(self.scan_cache.retired.pop()))))

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
                self.con.execute(render(drop_table(exp.to_table(layout.name))))
            raise
        if stage is not None:
            self.scan_cache.commit(tuple(stage.staged))
            self._drop_retired()
        return frames

    def run(self, compiled) -> pd.DataFrame:
        # the compiled tree is this query's own: render it in place, without sqlglot's copy
        sql = render(parenthesize(compiled.sql))
        prelude = [render(statement) for statement in compiled.prelude]
        self.last_sql = ";\n".join((*prelude, sql))
        try:
            for statement in prelude:
                self.con.execute(statement)
            with warnings.catch_warnings():
                # execute() plans once (sql() plans a relation first, then runs it): about
                # 1 ms less per query; the "extra copy" it warns about costs nothing measurable
                warnings.simplefilter("ignore", UserWarning)
                table = self.con.execute(sql).to_arrow_table()
        except duckdb.OutOfMemoryException as exc:
            raise self._out_of_memory(exc, "the query") from exc
        except duckdb.Error as exc:
            raise DaxEvalError(_clean_error(exc)) from exc
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


def _clean_error(exc: Exception) -> str:
    text = str(exc)
    # a Python UDF's exception (udf.py) reads "...while executing the UDF: <Type>: <message>"
    for marker in ("Invalid Input Error: ", "Conversion Error: ", "executing the UDF: FinanceError: "):
        if marker in text:
            text = text.split(marker, 1)[1]
    # a Python UDF's exception (generator/engine/udf.py): keep its message, not its class
    udf = "Python exception occurred while executing the UDF: "
    if text.startswith(udf):
        text = text[len(udf):].split(": ", 1)[-1]
    return text.splitlines()[0]
