"""Model objects as tables: COLUMNSTATISTICS, DETAILROWS and TABLEOF.

Each handler follows the function's page on dax.guide / learn.microsoft.com (cited in the
docstrings); the tests in tests/engine/test_fn_tables2.py check them on hand-worked data.
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env, Rel, RelCol
from generator.engine.compiler.core import CompilerCore
from generator.engine.data import table_ref
from generator.engine.sql import union_all, wrap_select
from generator.engine.types import DaxType

S = exp.Literal.string
# the hidden row-number column every imported table has in a Power BI model (TOM lists it)
ROW_NUMBER = "RowNumber-2662979B-1795-4F74-8F37-6A1BA8059B61"


class ModelTableFns(CompilerCore):
    """Mixin for `Compiler`: COLUMNSTATISTICS, DETAILROWS, TABLEOF."""

    # ------------------------------------------------------------ model tables by reference

    def fn_COLUMNSTATISTICS(self, call, env):
        """One row per column of every table — including each table's hidden RowNumber
        column — with its Min, Max, Cardinality and Max Length over the whole table,
        ignoring filters (dax.guide/columnstatistics). Min/Max are returned as text (Power
        BI returns variants); for RowNumber only the cardinality (= rows) is given."""
        self.args(call, env, 0)
        parts = []
        for t in self.model.tables:
            for c in self.schema.visible_columns(t):
                col = exp.column(c.name, quoted=True)
                is_text = self.col_type((t.name, c.name)) is DaxType.TEXT
                parts.append(exp.select(
                    exp.alias_(S(t.name), "c0"), exp.alias_(S(c.name), "c1"),
                    exp.alias_(exp.cast(exp.Min(this=col), "VARCHAR"), "c2"),
                    exp.alias_(exp.cast(exp.Max(this=col.copy()), "VARCHAR"), "c3"),
                    exp.alias_(exp.Add(this=exp.Count(this=exp.Distinct(expressions=[col.copy()])), expression=exp.cast(
                        exp.Max(this=exp.cast(col.copy().is_(exp.null()), "BIGINT")), "BIGINT")), "c4"),
                    exp.alias_(exp.Max(this=exp.Length(this=col.copy())) if is_text else exp.cast(exp.null(), "BIGINT"), "c5"),
                ).from_(table_ref(t.name)))
            parts.append(exp.select(
                exp.alias_(S(t.name), "c0"), exp.alias_(S(ROW_NUMBER), "c1"),
                exp.alias_(exp.cast(exp.null(), "VARCHAR"), "c2"), exp.alias_(exp.cast(exp.null(), "VARCHAR"), "c3"),
                exp.alias_(exp.Count(this=exp.Star()), "c4"), exp.alias_(exp.cast(exp.null(), "BIGINT"), "c5"),
            ).from_(table_ref(t.name)))
        names = [("Table Name", DaxType.TEXT), ("Column Name", DaxType.TEXT), ("Min", DaxType.TEXT),
                 ("Max", DaxType.TEXT), ("Cardinality", DaxType.INT), ("Max Length", DaxType.INT)]
        cols = tuple(RelCol(n, f"c{i}", None, ty) for i, (n, ty) in enumerate(names))
        return Rel(cols, wrap_select(union_all(parts), self.new_alias()))

    def _measure_arg(self, call, env: Env, node: A.Expr):
        name = node.name if isinstance(node, A.BracketRef) else node.column if isinstance(node, A.ColumnRef) else None
        m = self.measures.get(name.lower()) if name else None
        if m is None:
            raise self.err(env, node, f"{call.name} expects a measure reference")
        return m

    def fn_DETAILROWS(self, call, env):
        """DETAILROWS([M]): the measure's detail-rows expression, or — the model defines
        none — the rows of the measure's home table in the filter context
        (learn.microsoft.com/dax/detailrows-function-dax)."""
        (arg,) = self.args(call, env, 1)
        m = self._measure_arg(call, env, arg)
        return self.base_rel(self.resolve_table(env, arg, m.table), env)

    def fn_TABLEOF(self, call, env):
        """TABLEOF(column or measure): the table the column or measure belongs to, as a
        table reference (dax.guide/tableof)."""
        (arg,) = self.args(call, env, 1)
        if self._is_model_col(arg):
            return self.base_rel(self.resolve_table(env, arg, arg.table), env)
        m = self._measure_arg(call, env, arg)
        return self.base_rel(self.resolve_table(env, arg, m.table), env)
