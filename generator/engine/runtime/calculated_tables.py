"""Calculated tables at run time: computed up front, like calculated columns.

In Power BI a calculated table (`partition … = calculated`) is data computed at refresh
from the rest of the model; it can refer to other tables, measures and calculated
columns, and calculated columns (of any table) can refer to it. The runtime therefore
computes calculated tables and calculated columns together, in one dependency order
(`calculation_order`); a cycle through any of them is a compile error naming one.

Until its turn a calculated table is an empty, typed view (`data.placeholder`), so that model
facts measured on open (blank rows, unique keys) can be read; the engine measures them
again once every calculated table holds its rows.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from sqlglot import exp

from generator.dax import ast as A
from generator.dax.errors import DaxSyntaxError
from generator.dax.parser import parse_expression
from generator.engine.errors import DaxCompileError
from generator.engine.schema import Schema, parse_calculated
from generator.engine.sql import ident
from generator.engine.data import column_sql_type as _sql_type
from generator.spec.model import Table


@dataclass(frozen=True)
class Step:
    """One thing to compute: a calculated table (`column` None) or a calculated column."""

    table: Table
    column: object | None
    body: A.Expr
    # the steps this one reads, (table, column or None) lowercased: what may share its statement
    deps: frozenset = frozenset()

    @property
    def label(self) -> str:
        return f"calculated table {self.table.name}" if self.column is None else \
            f"calculated column {self.table.name}[{self.column.name}]"


def parse_table(table: Table) -> A.Expr:
    try:
        return parse_expression(table.expression, table.origin)
    except DaxSyntaxError as exc:
        raise DaxCompileError(f"syntax error in calculated table {table.name}: {exc}", table.source.pos) from exc


def calculation_order(schema: Schema) -> list[Step]:
    """Every calculated table and column, each after what it refers to (directly or through
    measures), in model order otherwise. A calculated column comes after its own table
    when that table is calculated. References: `T[C]` and `T` name table T; a bare `[C]`
    is a column of the step's own table (calculated columns only) or a measure."""
    model = schema.model
    steps: dict[tuple[str, str | None], Step] = {}
    for t in model.tables:
        if t.is_calculated:
            steps[(t.name.lower(), None)] = Step(t, None, parse_table(t))
        for c in t.calculated_columns:
            steps[(t.name.lower(), c.name.lower())] = Step(t, c, parse_calculated(t, c))
    measures = {m.name.lower(): schema.measures.get(m.name) for m in model.measures}
    # a calculated column may read its own table; a calculated table reading itself is a cycle
    graph = {k: _deps(s, steps, measures) - ({k} if s.column is not None else set()) for k, s in steps.items()}
    order: list[Step] = []
    state: dict[tuple[str, str | None], int] = {}
    keys = list(steps)

    def visit(k: tuple[str, str | None]) -> None:
        if state.get(k) == 2:
            return
        if state.get(k) == 1:
            s = steps[k]
            pos = s.table.source.pos if s.column is None else s.column.pos
            raise DaxCompileError(f"calculated tables and columns refer to each other in a cycle ({s.label})", pos)
        state[k] = 1
        for d in sorted(graph[k], key=keys.index):
            visit(d)
        state[k] = 2
        order.append(replace(steps[k], deps=frozenset(graph[k])))

    for k in keys:
        visit(k)
    return order


def _deps(step: Step, steps: dict, measures: dict) -> set[tuple[str, str | None]]:
    out: set[tuple[str, str | None]] = set()
    own = step.table.name.lower()
    if step.column is not None and (own, None) in steps:
        out.add((own, None))
    seen: set[str] = set()
    todo = [(step.body, step.column is not None)]
    while todo:
        tree, own_columns = todo.pop()
        for node in tree.walk():
            owner, name = None, None
            if isinstance(node, A.TableRef):
                owner = node.name.lower()
            elif isinstance(node, A.ColumnRef) and node.table is not None:
                owner, name = node.table.lower(), node.column.lower()
            elif isinstance(node, (A.BracketRef, A.ColumnRef)):
                name = (node.name if isinstance(node, A.BracketRef) else node.column).lower()
                owner = own if own_columns else None
            else:
                continue
            if owner is not None and (owner, None) in steps:
                out.add((owner, None))
            if owner is not None and name is not None and (owner, name) in steps:
                out.add((owner, name))
            elif name is not None and name in measures and name not in seen:
                seen.add(name)
                sub = measures[name]
                if isinstance(sub, A.Node):
                    todo.append((sub, False))
    return out


def compile_table(compiler, step: Step):
    """`EVALUATE <expression>` of a calculated table, its errors positioned in its YAML."""
    from generator.engine.compiler.compile_types import Env, Source
    from generator.engine.context import Ctx

    env = Env(ctx=Ctx(rels=compiler.base_rels()), src=Source(step.label, step.table.origin))
    return compiler.compile_evaluate(A.Evaluate(expr=step.body), env)


def table_select(compiled, table: Table) -> exp.Select:
    """The rows of a compiled `EVALUATE <expression>` under the table's declared columns,
    cast to their declared types. A declared column the expression does not produce, or
    a produced column not declared, is an error naming it and its position."""
    produced = produced_columns(compiled, table)
    declared = {c.name.lower() for c in table.columns}
    for c in table.columns:
        if c.name.lower() not in produced:
            raise DaxCompileError(
                f"column '{c.name}' of calculated table {table.name} is not produced by its expression "
                f"(it produces: {', '.join(p for p, _ in produced.values())})", c.pos)
    extra = [p for k, (p, _) in produced.items() if k not in declared]
    if extra:
        raise DaxCompileError(f"calculated table {table.name} produces the undeclared column(s) "
                              f"{', '.join(extra)}; add them under columns:", table.source.pos)
    inner = compiled.sql.subquery("t")
    cols = [exp.alias_(exp.cast(exp.column(produced[c.name.lower()][1], "t"), _sql_type(c.type)), ident(c.name))
            for c in table.columns]
    return exp.select(*cols).from_(inner)


def produced_columns(compiled, table: Table) -> dict[str, tuple[str, str]]:
    """What a compiled `EVALUATE <expression>` of `table` produces: lower-case plain column
    name → (its name, its alias c0..cn). A field parameter's constructor makes Value1..Value3;
    its columns take them in order (Desktop's sourceColumn: [Value1], [Value2], [Value3])."""
    if table.field_parameter is not None:
        return {c.name.lower(): (c.name, f"c{i}") for i, c in enumerate(table.columns)}
    produced: dict[str, tuple[str, str]] = {}
    for i, name in enumerate(compiled.columns):
        plain = name[name.index("[") + 1:-1] if "[" in name else name
        produced.setdefault(plain.replace("]]", "]").lower(), (plain, f"c{i}"))
    return produced
