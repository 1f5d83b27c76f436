"""Runtimes the engine executes on: DuckDB (the default, in-process) and Spark.

A backend owns the connection or session: it loads the model's tables as views, runs
statements (rendered by its renderer, generator.engine.render), materialises calculated
columns and returns results as Arrow tables. `Engine` (engine.py) decides nothing
backend-specific; it asks its backend.
"""
from __future__ import annotations

BACKENDS = ("duckdb", "spark")
