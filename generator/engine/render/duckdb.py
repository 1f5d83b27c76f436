"""The DuckDB renderer: the compiler's trees are DuckDB's already, so rendering is printing
with sqlglot's duckdb dialect; the `__dax_*` macros (generator.engine.udf) are created on
the connection by the DuckDB runtime (backends/duckdb.py)."""
from __future__ import annotations

from generator.engine.render.base import Renderer


class DuckDBRenderer(Renderer):
    backend = "duckdb"
    dialect = "duckdb"
