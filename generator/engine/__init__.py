"""DuckDB reference engine: evaluates DAX measures and queries with Power BI's semantics.

Public API: `Engine` (open a project or a `Model` with in-memory data, `.query(dax)`,
`.evaluate_measure(name, filters)`), and the errors `DaxCompileError`,
`DaxUnsupportedError`, `DaxEvalError`; `calculated_table_types(model)`, the column types of
each calculated table's expression, compiled without data (what an importer needs).

The folder tree is the pipeline (each layer imports only those before it; tests/test_layers.py):

- base modules here: `types`, `errors`, `sql` (sqlglot helpers, DDL), `values` (BLANK
  arithmetic), `formats` (FORMAT), `data`, `schema` (read-only model facts), `context` and
  `propagation` (the filter algebra), `udf` (backend functions DuckDB lacks);
- `plan/`: frozen logical-plan nodes with structural equality;
- `compiler/`: DAX AST + Schema → a SQL skeleton whose grouped leaves are plans (`core`
  dispatches, `fn_*` are handler families, `query` combines them);
- `optimizer/`: pure plan → plan passes in a listed order (`RULES`);
- `render/`: plans → sqlglot trees, and the dialects (DuckDB, Spark SQL);
- `runtime/`: `Engine` (loading, calculated columns and tables, security, the scan cache),
  `lowering` (compile → optimize → render), `results` (Arrow → DataFrame, column-wise) and
  the `backends/` that execute;
- above them: `visuals` (visual → DAX AST), `measure_tests`, `commands` (the CLI).
"""
from generator.engine.runtime.engine import Engine
from generator.engine.errors import DaxCompileError, DaxEvalError, DaxUnsupportedError
from generator.engine.runtime.table_types import calculated_table_types

__all__ = ["Engine", "DaxCompileError", "DaxEvalError", "DaxUnsupportedError", "calculated_table_types"]
