"""The DuckDB runtime: one in-process connection, views over the Parquet/CSV files (or
registered in-memory frames), calculated columns as temporary tables."""
from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Mapping

import duckdb
import pyarrow as pa
from sqlglot import exp

from generator.engine.data import load_tables
from generator.engine.render.duckdb import DuckDBRenderer
from generator.engine.sql import create_table, create_view, drop_table, parenthesize, select_all, set_option
from generator.engine.udf import install as install_udfs
from generator.errors import ForgeError, Problem
from generator.spec.model import Model

MEMORY_ENV = "PBI_FORGE_MEMORY_LIMIT"


def default_memory_limit() -> str:
    """75% of the machine's memory: DuckDB spills to the temp folder beyond it instead of
    growing until the operating system kills the process (a CROSSJOIN reached 22 GB)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "8GB"
    return f"{int(total * 0.75) // 2 ** 20}MiB"


def clean_error(exc: Exception) -> str:
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


class DuckDBBackend:
    name = "duckdb"
    errors = (duckdb.Error,)
    out_of_memory = (duckdb.OutOfMemoryException,)
    # pre-aggregations shared across queries live in temporary tables here
    caches_scans = True

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None, memory_limit: str | None = None):
        self.renderer = DuckDBRenderer()
        self.con = con or duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        # spill files go to the system temp folder, never into the project
        spill = Path(tempfile.gettempdir()) / "pbi-forge-duckdb"
        self.execute(set_option("temp_directory", str(spill)))
        self.memory_limit = memory_limit or os.environ.get(MEMORY_ENV) or default_memory_limit()
        try:
            self.execute(set_option("memory_limit", self.memory_limit))
        except duckdb.Error as exc:
            raise ForgeError(Problem(None, f"invalid memory limit {self.memory_limit!r}: {clean_error(exc)}",
                                     "write e.g. 4GB, 512MB or 75%")) from exc
        install_udfs(self.con)

    def render(self, statement: exp.Expression) -> str:
        return self.renderer.render(statement)

    def execute(self, statement: exp.Expression) -> None:
        self.con.execute(self.render(statement))

    def rows(self, query: exp.Expression) -> list[tuple]:
        return self.con.execute(self.render(query)).fetchall()

    def load(self, model: Model, data: Mapping[str, Any] | None, out: Path | None) -> None:
        load_tables(self.con, model, data, out)

    def materialize(self, table: str, select: exp.Expression, target: str, previous: str | None) -> None:
        """Store `select` (the table with one more calculated column) and point the table's
        view at it; the previous store is dropped."""
        self.execute(create_table(target, parenthesize(select), replace=True))
        self.execute(create_view(table, select_all(target)))
        if previous is not None:
            self.execute(drop_table(previous))

    def arrow(self, prelude: list[str], sql: str) -> pa.Table:
        for statement in prelude:
            self.con.execute(statement)
        with warnings.catch_warnings():
            # execute() plans once (sql() plans a relation first, then runs it): about
            # 1 ms less per query; the "extra copy" it warns about costs nothing measurable
            warnings.simplefilter("ignore", UserWarning)
            return self.con.execute(sql).to_arrow_table()

    def clean(self, exc: Exception) -> str:
        return clean_error(exc)
