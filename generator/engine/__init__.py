"""DuckDB reference engine: evaluates DAX measures and queries with Power BI's semantics.

Public API: `Engine` (open a project or a `Model` with in-memory data, `.query(dax)`,
`.evaluate_measure(name, filters)`), and the errors `DaxCompileError`,
`DaxUnsupportedError`, `DaxEvalError`.
"""
from generator.engine.engine import Engine
from generator.engine.errors import DaxCompileError, DaxEvalError, DaxUnsupportedError

__all__ = ["Engine", "DaxCompileError", "DaxEvalError", "DaxUnsupportedError"]
