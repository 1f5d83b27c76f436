"""Decorrelation of small outer tables (issue #9 item 1): an iterator over a small
disconnected table whose body filters another table by equality to the outer row's
columns becomes a join of classified rows.

    SUMX ( Quadrant,
           CALCULATE ( [Total Revenue],
                       FILTER ( Dim_Customer, ( Dim_Customer[Annual_Income] >= s ) = Quadrant[High_Income]
                                              && ( Dim_Customer[Spending_Score] >= t ) = Quadrant[High_Score] ) ) )

The plain compile evaluates the FILTER once per Quadrant row, so the fact table is read
(and, as a CALCULATE table filter, semi-joined to the whole dimension) once per outer row,
inside a correlated subquery: DuckDB's decorrelation of that runs out of memory at 10M
orders. The FILTER's condition, though, reads the outer row only through equalities
`E_i(d) = T[c_i]` with `E_i` free of the outer row. So every row `d` of the filtered table
has a class `(E_1(d), …, E_n(d))`, computed once, and for an outer row `t` the FILTER keeps
exactly the rows whose class matches `(t.c_1, …, t.c_n)` under DAX's `=` (the very
comparison the plain compile would emit, used as the join condition). Hence, for an outer
row `t`:

- `COUNTROWS(FILTER(D, cond))` = the sum, over matching classes, of the class sizes;
- `CALCULATE(M, FILTER(D, cond))`, for an additive `M` (`SUM(F[c])`, `COUNTROWS(F)` over a
  table `F` whose expanded table holds `D`, directly or through measures), = the sum over
  matching classes of M per class, which is M aggregated by `D`'s key first (one pass over
  `F`, uncorrelated) and then summed by class.

Both are BLANK when no class matches or the matching classes hold no rows, as the plain
compile gives. The iterator (SUMX, AVERAGEX, MINX, MAXX, COUNTX) then combines the per-row
values exactly as it combines the plain compile's.

Why this is a compile-time rewrite and not a pass in `optimizer/`: the plan
(`generator/engine/plan/`) covers only the grouped leaves (Aggregate over a Scan with key
columns); the correlated shape here is a scalar subquery with outer references, which never
becomes a plan leaf (`CompilerCore._register` refuses outer references), and the facts the
rewrite needs (which columns belong to the outer row, the DAX `=` semantics, additivity of
the measure) exist only on the DAX AST. Once row contexts and table filters are plan nodes,
this becomes a plan → plan pass.

Where the shape does not match, `agg_x` falls through to the plain compile unchanged;
`Compiler.decorrelate = False` turns the rewrite off (the differential tests compare both).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env
from generator.engine.context import ColKey
from generator.engine.compiler.fn_aggregates import AggregateFns, _sum_sql, _sum_type
from generator.engine.propagation import crosses
from generator.engine.types import DaxType
from generator.engine.values import Scalar, compare, truthy
from generator.spec.model import Table

# iterators whose per-row values combine by one SQL aggregate (agg_x's `agg`)
ITERATORS = frozenset({"SUMX", "AVERAGEX", "MINX", "MAXX", "COUNTX"})
# scalar functions that read neither the filter context nor a row context of their own:
# a class expression built from them depends on its row only
PURE_FUNCTIONS = frozenset({
    "ABS", "AND", "BLANK", "CEILING", "COALESCE", "DATE", "DAY", "DIVIDE", "FALSE", "FLOOR", "IF",
    "INT", "ISBLANK", "LEFT", "LEN", "LOWER", "MOD", "MONTH", "NOT", "OR", "RIGHT", "ROUND",
    "ROUNDDOWN", "ROUNDUP", "SWITCH", "TRUE", "TRUNC", "UPPER", "YEAR",
})


@dataclass(frozen=True)
class _Shape:
    """A matched iterator body: FILTER(inner, <keys> && <rest>) under COUNTROWS or CALCULATE."""

    inner: Table  # the filtered table (D)
    keys: tuple[tuple[A.Expr, ColKey, bool], ...]  # (E_i, outer column c_i, E_i was on the left)
    rest: tuple[A.Expr, ...]  # conjuncts not reading the outer row
    measure: tuple[str, Table, ColKey | None] | None  # None: COUNTROWS; ("sum", F, col) / ("count", F, None)


class DecorrelateFns(AggregateFns):
    """Mixin for `Compiler` (listed before AggregateFns): `agg_x` tries the rewrite first."""

    decorrelate = True  # class switch: False keeps the plain (correlated) compile

    def agg_x(self, call, env, agg, rtype, nargs: int = 2):
        if self.decorrelate and nargs == 2 and call.name.upper() in ITERATORS:
            out = self._decorrelated(call, env, agg, rtype)
            if out is not None:
                return out
        return super().agg_x(call, env, agg, rtype, nargs)

    # ------------------------------------------------------------ matching

    def _small_outer(self, node: A.Expr, env: Env) -> Table | None:
        """A bare reference to a static or calculated table that no relationship touches."""
        if not isinstance(node, A.TableRef) or node.name.lower() in env.vars:
            return None
        table = self.model.table(node.name)
        if table is None or table.calculation_group is not None:
            return None
        if not (table.is_calculated or table.source.generator == "rows"):
            return None
        name = table.name.lower()
        if any(name in (r.from_table.lower(), r.to_table.lower()) for r in self.model.relationships):
            return None
        return table

    def _shape(self, body: A.Expr, outer: Table, env: Env) -> _Shape | None:
        if not isinstance(body, A.FunctionCall):
            return None
        name = body.name.upper()
        if name == "COUNTROWS" and len(body.args) == 1:
            filt, measure = body.args[0], None
        elif name == "CALCULATE" and len(body.args) == 2:
            if len(env.rows) > env.transitioned:
                return None  # CALCULATE would also transition the enclosing rows
            measure = self._additive(body.args[0], env, outer, depth=0)
            if measure is None:
                return None
            filt = body.args[1]
        else:
            return None
        if not (isinstance(filt, A.FunctionCall) and filt.name.upper() == "FILTER" and len(filt.args) == 2
                and isinstance(filt.args[0], A.TableRef) and filt.args[0].name.lower() not in env.vars):
            return None
        inner = self.model.table(filt.args[0].name)
        if inner is None or inner.name.lower() == outer.name.lower() or self.key_column(inner) is None:
            return None
        keys, rest = [], []
        for term in _conjuncts(filt.args[1]):
            if not self._reads(term, outer):
                if not self._row_only(term, inner, env):
                    return None
                rest.append(term)
                continue
            if not (isinstance(term, A.BinaryOp) and term.op == "="):
                return None
            for expr, col, left in ((term.left, term.right, True), (term.right, term.left, False)):
                if isinstance(col, A.ColumnRef) and col.table and col.table.lower() == outer.name.lower() \
                        and outer.column(col.column) is not None and self._row_only(expr, inner, env):
                    keys.append((expr, (outer.name, outer.column(col.column).name), left))
                    break
            else:
                return None
        if not keys:
            return None
        return _Shape(inner, tuple(keys), tuple(rest), measure)

    def _reads(self, node: A.Expr, table: Table) -> bool:
        return any((isinstance(n, (A.ColumnRef, A.TableRef)) and (n.table if isinstance(n, A.ColumnRef) else n.name)
                    and (n.table if isinstance(n, A.ColumnRef) else n.name).lower() == table.name.lower())
                   for n in node.walk())

    def _row_only(self, node: A.Expr, inner: Table, env: Env) -> bool:
        """Does `node` depend on the row of `inner` and scalar variables only?"""
        for n in node.walk():
            if isinstance(n, A.ColumnRef):
                if n.table is None or n.table.lower() != inner.name.lower() or inner.column(n.column) is None:
                    return False
            elif isinstance(n, A.VarRef):
                if not isinstance(env.vars.get(n.name.lower()), Scalar):
                    return False
            elif isinstance(n, A.FunctionCall):
                if n.name.upper() not in PURE_FUNCTIONS:
                    return False
            elif isinstance(n, (A.BracketRef, A.TableRef, A.In, A.TableConstructor, A.VarBlock, A.Parameter)):
                return False
        return True

    def _additive(self, node: A.Expr, env: Env, outer: Table, depth: int):
        """("sum", F, F[c]) or ("count", F, None) when `node` is SUM(F[c]) / COUNTROWS(F),
        directly or through measure references; None for anything else (not additive
        over a partition of F's rows, or reading the outer table)."""
        if depth > 8:
            return None
        name = None
        if isinstance(node, A.BracketRef):
            name = node.name
        elif isinstance(node, A.ColumnRef) and node.table and self.model.table(node.table) is not None \
                and self.model.table(node.table).column(node.column) is None:
            name = node.column
        if name is not None:
            lname = name.lower()
            if lname in self.extra_measures:
                body = self.extra_measures[lname][0]
            elif lname in self.measures:
                body = self.schema.parsed_measure(self.measures[lname])
            else:
                return None
            return self._additive(body, env, outer, depth + 1)
        if not isinstance(node, A.FunctionCall) or len(node.args) != 1:
            return None
        arg = node.args[0]
        if node.name.upper() == "SUM" and isinstance(arg, A.ColumnRef) and arg.table:
            table = self.model.table(arg.table)
            if table is None or table.column(arg.column) is None or table.name.lower() == outer.name.lower():
                return None
            return ("sum", table, (table.name, table.column(arg.column).name))
        if node.name.upper() == "COUNTROWS" and isinstance(arg, A.TableRef) and arg.name.lower() not in env.vars:
            table = self.model.table(arg.name)
            if table is None or table.name.lower() == outer.name.lower():
                return None
            return ("count", table, None)
        return None

    def _context_allows(self, env: Env, shape: _Shape) -> bool:
        """No filter reaches tables other than through expansion, no calculation group is
        filtered (it could rewrite the measure), and no filter mixes the inner table's
        expanded columns with others (the CALCULATE table filter would override part of it)."""
        if crosses(self.model, env.ctx.rels or self.base_rels()):
            return False
        groups = {t.name.lower() for t in self.model.calculation_groups}
        if any(k[0].lower() in groups for k in env.ctx.filtered_keys()):
            return False
        if shape.measure is None:
            return True
        probe = self.scan(shape.inner, env)
        expanded = probe.tables()
        for f in env.ctx.filters:
            tables = {k[0].lower() for k in f.keys()}
            if tables & expanded and tables - expanded:
                return False
        fact = self.scan(shape.measure[1], env)
        return fact.has((shape.inner.name, self.key_column(shape.inner)))

    # ------------------------------------------------------------ the rewrite

    def _decorrelated(self, call: A.FunctionCall, env: Env, agg, rtype) -> Scalar | None:
        args = self.args(call, env, 2)
        outer = self._small_outer(args[0], env)
        if outer is None:
            return None
        shape = self._shape(args[1], outer, env)
        if shape is None or not self._context_allows(env, shape):
            return None
        outer_rel = self.table(args[0], env)
        classes, class_types = self._classes(shape, env)
        per_class, value_type = self._per_class(shape, classes, env)
        # every outer row: its value is the sum over the classes its columns match
        t_alias, c_alias = self.new_alias(), self.new_alias()
        names = {k: f"o{i}" for i, k in enumerate(dict.fromkeys(k for _, k, _ in shape.keys))}

        def project(inner: Env) -> list[exp.Expression]:
            row = inner.rows[-1]
            rid = exp.Window(this=exp.RowNumber())  # one group per outer row, duplicates included
            return [exp.alias_(rid, "rid"), *[exp.alias_(row.cols[k].sql, n) for k, n in names.items()]]

        rows = self.over(outer_rel, env, project)
        on = []
        for i, (_, key, left) in enumerate(shape.keys):
            cls = Scalar(exp.column(f"k{i}", c_alias), class_types[i])
            out = Scalar(exp.column(names[key], t_alias), self.col_type(key))
            on.append(truthy(compare("=", cls, out) if left else compare("=", out, cls)))
        per_row = (exp.select(exp.alias_(_sum_sql(exp.column("a", c_alias), value_type), "v"))
                   .from_(rows.subquery(t_alias))
                   .join(per_class.subquery(c_alias), on=exp.and_(*on), join_type="left")
                   .group_by(exp.column("rid", t_alias)))
        x = self.new_alias()
        combined = agg(Scalar(exp.column("v", x), value_type))
        return Scalar(exp.Subquery(this=exp.select(combined).from_(per_row.subquery(x))), rtype(value_type))

    def _classes(self, shape: _Shape, env: Env) -> tuple[exp.Select, list[DaxType]]:
        """SELECT key, k0..kn FROM <inner rows visible in the context> WHERE <rest>: every
        row classified once (the FILTER's own row context and semantics)."""
        rel = self.base_rel(shape.inner, env)
        key = (shape.inner.name, self.key_column(shape.inner))
        types: list[DaxType] = []

        def project(inner: Env) -> list[exp.Expression]:
            row = inner.rows[-1]
            outs = [exp.alias_(row.cols[key].sql, "key")]
            for i, (expr, _, _) in enumerate(shape.keys):
                value = self.scalar(expr, inner)
                types.append(value.type)
                outs.append(exp.alias_(value.sql, f"k{i}"))
            return outs

        def where(inner: Env) -> exp.Expression | None:
            conds = [truthy(self.scalar(term, inner)) for term in shape.rest]
            return exp.and_(*conds) if conds else None

        return self.over(rel, env, project, where), types

    def _per_class(self, shape: _Shape, classes: exp.Select, env: Env) -> tuple[exp.Select, DaxType]:
        """SELECT k0..kn, a FROM … GROUP BY k0..kn: the body's value per class."""
        c = self.new_alias()
        ks = [exp.column(f"k{i}", c) for i in range(len(shape.keys))]
        if shape.measure is None:
            sel = exp.select(*[exp.alias_(k, k.name) for k in ks], exp.alias_(exp.Count(this=exp.Star()), "a"))
            return sel.from_(classes.subquery(c)).group_by(*ks), DaxType.INT
        kind, table, col = shape.measure
        scan = self.scan(table, env)
        key = self._foreign_key(scan, shape.inner)
        if kind == "sum":
            value_type = _sum_type(self.col_type(col))
            value = _sum_sql(scan.col(col), self.col_type(col))
        else:
            value_type = DaxType.INT
            value = exp.Count(this=exp.Star())
        per_key = scan.build(exp.select(exp.alias_(key, "key"), exp.alias_(value, "a")),
                             self.where_for(scan, env.ctx)).group_by(exp.Literal.number(1))
        f = self.new_alias()
        sel = exp.select(*[exp.alias_(k, k.name) for k in ks],
                         exp.alias_(_sum_sql(exp.column("a", f), value_type), "a"))
        sel = sel.from_(classes.subquery(c)).join(
            per_key.subquery(f), on=exp.EQ(this=exp.column("key", f), expression=exp.column("key", c)))
        return sel.group_by(*ks), value_type

    def _foreign_key(self, scan, inner: Table) -> exp.Expression:
        """The inner table's key as the scan sees it: the scan's own foreign key when the
        inner table is its direct one side (no join needed: the inner join to the classes
        drops keys without a row, as the FILTER never sees them), else the joined key."""
        key = self.key_column(inner)
        parent = scan.parent.get(inner.name.lower())
        if parent is not None and parent[0] == scan.base.name.lower():
            r = self.model.relationships[parent[1]]
            if r.to_column.lower() == key.lower():
                return exp.column(r.from_column, scan.alias, quoted=True)
        return scan.col((inner.name, key))


def _conjuncts(node: A.Expr) -> list[A.Expr]:
    if isinstance(node, A.BinaryOp) and node.op == "&&":
        return [*_conjuncts(node.left), *_conjuncts(node.right)]
    if isinstance(node, A.FunctionCall) and node.name.upper() == "AND" and len(node.args) == 2:
        return [*_conjuncts(node.args[0]), *_conjuncts(node.args[1])]
    return [node]

