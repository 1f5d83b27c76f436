"""The DuckDB renderer: the compiler's trees are DuckDB's already, so rendering is printing
with sqlglot's duckdb dialect; the `__dax_*` macros (generator.engine.udf) are created on
the connection by the DuckDB runtime (backends/duckdb.py). A scalar subquery repeated in
one SELECT (a VAR used several times) is computed once first (render/scalar_reuse.py)."""
from __future__ import annotations

from sqlglot import exp

from generator.engine.render.base import Renderer
from generator.engine.render.scalar_reuse import reuse_scalar_subqueries


class DuckDBRenderer(Renderer):
    backend = "duckdb"
    dialect = "duckdb"

    def prepare(self, statement: exp.Expression) -> exp.Expression:
        return reuse_scalar_subqueries(statement)
