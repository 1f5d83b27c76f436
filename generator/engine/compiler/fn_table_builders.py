"""Table-building functions: ADDCOLUMNS, SELECTCOLUMNS, SUMMARIZE, TOPN, TREATAS, ROW,
DATATABLE, GENERATE, CROSSJOIN and UNION.

Each returns a `Rel` whose columns keep their lineage (`RelCol.key`) where DAX keeps it, so
the result can still filter the model (dax-semantics.md §8).
"""
from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.data import fn, table_ref
from generator.engine.compiler.compile_types import Env, Rel, RelCol
from generator.engine.compiler.core import CellScope, CompilerCore
from generator.engine.compiler.dax_keywords import _enum, order_pairs
from generator.engine.context import EqFilter, Scan
from generator.engine.data import ident
from generator.engine.types import DaxType, sql_type, unify
from generator.engine.values import Scalar, cast


class TableBuilderFns(CompilerCore):
    """Mixin for `Compiler`: functions that build new tables."""

    # ------------------------------------------------------------ new tables

    def _new_columns(self, call, env, pairs, rel: Rel, keep: bool, row_env=None) -> Rel:
        """ADDCOLUMNS/SELECTCOLUMNS: name/expression pairs evaluated per row of `rel`, in
        its row context, or in the environment `row_env` makes of it (SUMMARIZE)."""
        if len(pairs) % 2:
            raise self.err(env, call, f"{call.name} expects name/expression pairs")
        names = []
        for i in range(0, len(pairs), 2):
            if not isinstance(pairs[i], A.String):
                raise self.err(env, pairs[i], "a column name (a string literal) is expected here")
            names.append(pairs[i].value)
        out_cols: list[RelCol] = list(rel.cols) if keep else []
        types: list[DaxType] = []
        keys: list = []

        def project(inner: Env) -> list[exp.Expression]:
            outs = [exp.alias_(inner.rows[-1].names[c.name.lower()].sql, c.sql) for c in rel.cols] if keep else []
            where = row_env(inner) if row_env is not None else inner
            for j, i in enumerate(range(1, len(pairs), 2)):
                node = pairs[i]
                v = self.scalar(node, where)
                types.append(v.type)
                key = None
                if isinstance(node, A.ColumnRef) and node.table is not None and self.model.table(node.table):
                    key = self.resolve_col(env, node, node.table, node.column)
                keys.append(key)
                outs.append(exp.alias_(v.sql, f"n{j}"))
            return outs

        sel = self.over(rel, env, project)
        for j, name in enumerate(names):
            out_cols.append(RelCol(name, f"n{j}", keys[j], types[j]))
        return Rel(tuple(out_cols), sel)

    def fn_ADDCOLUMNS(self, call, env):
        args = self.args(call, env, 3, -1)
        return self._new_columns(call, env, args[1:], self.table(args[0], env), True)

    def fn_SELECTCOLUMNS(self, call, env):
        args = self.args(call, env, 1, -1)
        rel = self.table(args[0], env)
        pairs: list[A.Expr] = []
        for a in args[1:]:
            if isinstance(a, A.ColumnRef) and (not pairs or not isinstance(pairs[-1], A.String)):
                pairs.extend([A.String(a.column, span=a.span), a])
            else:
                pairs.append(a)
        return self._new_columns(call, env, tuple(pairs), rel, False)

    def fn_SUMMARIZE(self, call, env):
        """SUMMARIZE(T, group columns…, name, expression, …): the distinct group values of
        T's rows; each expression is evaluated, like CALCULATE, in a filter context holding
        the group's rows of T (T as a table filter, the group values as equality filters)
        (learn.microsoft.com/dax/summarize-function-dax; SQLBI, "All the secrets of
        SUMMARIZE": a filter on T's rows, not only on the group columns)."""
        args = self.args(call, env, 1, -1)
        groups, pairs = [], []
        for a in args[1:]:
            if pairs or isinstance(a, A.String):
                pairs.append(a)
                continue
            if isinstance(a, A.FunctionCall) and a.name in ("ROLLUP", "ROLLUPGROUP"):
                raise self.unsupported(env, a, f"SUMMARIZE with {a.name}")
            groups.append(self.colref(env, a))
        rel = self.table(args[0], env)
        if rel.select is None:
            scan = Scan(self, rel.base, rel.rels or self.base_rels(), rel.blank)
            for k in groups:
                if not scan.has(k):
                    raise self.err(env, call, f"SUMMARIZE: column '{k[0]}'[{k[1]}] is not reachable from '{rel.base.name}'")
            outs = [exp.alias_(scan.col(k), f"c{i}") for i, k in enumerate(groups)]
            sel = scan.build(exp.select(*outs).distinct(), rel.row_filter(scan) if rel.row_filter else None)
        else:
            sel = self.over(rel, env, lambda inner: [exp.alias_(self.column_value(k, inner, call).sql, f"c{i}")
                                                     for i, k in enumerate(groups)], distinct=True)
        cols = tuple(RelCol(f"{k[0]}[{k[1]}]", f"c{i}", k, self.col_type(k)) for i, k in enumerate(groups))
        out = Rel(cols, sel)
        if not pairs:
            return out
        if not groups:
            raise self.err(env, call, "SUMMARIZE needs a group-by column before its name/expression columns")
        rows_filter = self.rel_filter(rel, env, args[0])

        def group_env(inner: Env) -> Env:
            row = inner.rows[-1]
            ctx = self.transition(replace(inner, rows=inner.rows[:-1]))
            ctx = ctx.remove(rows_filter.keys() | frozenset(groups)).add(rows_filter)
            ctx = ctx.add(EqFilter(tuple(groups), tuple(row.cols[k].sql for k in groups)))
            return inner.inside_calculate(ctx)

        return self._new_columns(call, env, tuple(pairs), out, True, row_env=group_env)

    def fn_TOPN(self, call, env):
        args = self.args(call, env, 2, -1)
        n = self.scalar(args[0], env)
        rel = self.table(args[1], env)
        orders = order_pairs(list(args[2:]), default_desc=True)  # TOPN sorts descending

        def project(inner: Env) -> list[exp.Expression]:
            outs = [exp.alias_(inner.rows[-1].names[c.name.lower()].sql, c.sql) for c in rel.cols]
            for i, (e, _) in enumerate(orders):
                outs.append(exp.alias_(self.scalar(e, inner).sql, f"o{i}"))
            return outs

        sel = self.over(rel, env, project)
        alias = self.new_alias()
        if orders:
            window = exp.Window(this=fn("rank"), order=exp.Order(expressions=[
                exp.Ordered(this=exp.column(f"o{i}", alias), desc=d, nulls_first=not d) for i, (_, d) in enumerate(orders)]))
        else:
            window = exp.Window(this=fn("row_number"))
        ranked = exp.select(*[exp.column(c.sql, alias) for c in rel.cols], exp.alias_(window, "rk")).from_(
            sel.subquery(alias))
        alias2 = self.new_alias()
        top = exp.select(*[exp.column(c.sql, alias2) for c in rel.cols]).from_(ranked.subquery(alias2)).where(
            exp.LTE(this=exp.column("rk", alias2), expression=n.sql))
        return Rel(rel.cols, top, rows_of=rel.base.name if rel.base is not None else rel.rows_of)

    def fn_TREATAS(self, call, env):
        args = self.args(call, env, 2, -1)
        rel = self.table(args[0], env)
        keys = [self.colref(env, a) for a in args[1:]]
        if len(keys) != len(rel.cols):
            raise self.err(env, call, "TREATAS needs one target column per column of the table")
        alias = self.new_alias()
        # values take the target column's type (TREATAS({"2024-01-02"}, 'Date'[Date])), and
        # text values the column's own spelling: DAX matches "oslo" to "Oslo"
        outs = []
        for i, (k, c) in enumerate(zip(keys, rel.cols)):
            value = cast(Scalar(exp.column(c.sql, alias), c.type), self.col_type(k)).sql
            if self.col_type(k) is DaxType.TEXT:
                value = self._column_spelling(k, value)
            outs.append(exp.alias_(value, f"c{i}"))
        sel = exp.select(*outs).from_(self.rel_select(rel).subquery(alias, copy=True))
        cols = tuple(RelCol(f"{k[0]}[{k[1]}]", f"c{i}", k, self.col_type(k)) for i, k in enumerate(keys))
        return Rel(cols, sel)

    def _column_spelling(self, key, value: exp.Expression) -> exp.Expression:
        """The spelling `key`'s column uses for a text value that equals `value` ignoring
        case (the column holds one spelling per value, see data.py), else `value`."""
        a = self.new_alias()
        col = exp.column(key[1], a, quoted=True)
        found = exp.select(exp.Min(this=col)).from_(table_ref(key[0], a)).where(
            exp.EQ(this=exp.Lower(this=col.copy()), expression=exp.Lower(this=value.copy())))
        return fn("coalesce", exp.Subquery(this=found), value)

    def fn_ROW(self, call, env):
        args = self.args(call, env, 2, -1)
        if len(args) % 2:
            raise self.err(env, call, "ROW expects name/expression pairs")
        outs, cols = [], []
        scope = None
        if self.grouped and env.scope is None and not env.rows:
            # one cell without keys: aggregates become (fused) leaves joined to it
            scope = CellScope(self.new_alias(), {})
            env = replace(env, scope=scope)
        for j, i in enumerate(range(0, len(args), 2)):
            if not isinstance(args[i], A.String):
                raise self.err(env, args[i], "a column name (a string literal) is expected here")
            v = self.scalar(args[i + 1], env)
            outs.append(exp.alias_(v.sql, f"n{j}"))
            cols.append(RelCol(args[i].value, f"n{j}", None, v.type))
        if scope is not None:
            source = exp.select(exp.alias_(exp.Literal.number(1), "one")).subquery(scope.alias)
            return Rel(tuple(cols), scope.from_clause(source).select(*outs))
        return Rel(tuple(cols), exp.select(*outs))

    def fn_DATATABLE(self, call, env):
        args = self.args(call, env, 3, -1)
        *spec, data = args
        if len(spec) % 2 or not isinstance(data, A.TableConstructor):
            raise self.err(env, call, "DATATABLE expects name/type pairs and a table constructor")
        types = {"INTEGER": DaxType.INT, "DOUBLE": DaxType.DOUBLE, "STRING": DaxType.TEXT, "BOOLEAN": DaxType.BOOL,
                 "CURRENCY": DaxType.CURRENCY, "DATETIME": DaxType.DATETIME}
        names, ts = [], []
        for i in range(0, len(spec), 2):
            names.append(spec[i].value)
            ts.append(types[_enum(spec[i + 1])])
        selects = []
        for row in data.rows:
            if len(row) == 1 and isinstance(row[0], A.TableConstructor):
                # DATATABLE rows are written in braces, { {1, "a"}, {2, "b"} }: the parser
                # reads each as a one-column table constructor, whose values are the row
                row = tuple(v for r in row[0].rows for v in r)
            if len(row) != len(ts):
                raise self.err(env, data, f"DATATABLE declares {len(ts)} column(s) but a row has {len(row)} value(s)")
            vals = [cast(self.scalar(v, env), t) for v, t in zip(row, ts)]
            selects.append(exp.select(*[exp.alias_(exp.cast(v.sql, sql_type(t)), f"c{i}") for i, (v, t) in enumerate(zip(vals, ts))]))
        union = selects[0]
        for s in selects[1:]:
            union = exp.union(union, s, distinct=False)
        sel = exp.select(exp.Star()).from_(exp.Subquery(this=union, alias=exp.TableAlias(this=ident(self.new_alias()))))
        return Rel(tuple(RelCol(n, f"c{i}", None, t) for i, (n, t) in enumerate(zip(names, ts))), sel)

    def fn_GENERATE(self, call, env):
        a, b = self.args(call, env, 2)
        left = self.table(a, env)
        alias = self.new_alias()
        row = self.row_of(left, alias)
        right = self.table(b, env.push(row))
        alias2 = self.new_alias()
        cols = [RelCol(c.name, f"l{i}", c.key, c.type) for i, c in enumerate(left.cols)]
        cols += [RelCol(c.name, f"r{i}", c.key, c.type) for i, c in enumerate(right.cols)]
        sel = exp.select(*[exp.alias_(exp.column(c.sql, alias), f"l{i}") for i, c in enumerate(left.cols)],
                         *[exp.alias_(exp.column(c.sql, alias2), f"r{i}") for i, c in enumerate(right.cols)]).from_(
            self.rel_select(left).subquery(alias, copy=True)).join(
            exp.Lateral(this=self.rel_select(right).subquery(copy=True), alias=exp.TableAlias(this=ident(alias2))),
            join_type="CROSS")
        return Rel(tuple(cols), sel)

    def fn_CROSSJOIN(self, call, env):
        args = self.args(call, env, 2, -1)
        rels = [self.table(a, env) for a in args]
        outs, cols, sel = [], [], None
        for j, rel in enumerate(rels):
            alias = self.new_alias()
            for i, c in enumerate(rel.cols):
                outs.append(exp.alias_(exp.column(c.sql, alias), f"x{j}_{i}"))
                cols.append(RelCol(c.name, f"x{j}_{i}", c.key, c.type))
            sub = self.rel_select(rel).subquery(alias, copy=True)
            sel = exp.select().from_(sub) if sel is None else sel.join(sub, join_type="CROSS")
        return Rel(tuple(cols), sel.select(*outs))

    def fn_UNION(self, call, env):
        args = self.args(call, env, 2, -1)
        rels = [self.table(a, env) for a in args]
        width = len(rels[0].cols)
        if any(len(r.cols) != width for r in rels):
            raise self.err(env, call, "UNION: every table needs the same number of columns")
        types = [unify([r.cols[i].type for r in rels]) for i in range(width)]
        parts = []
        for r in rels:
            alias = self.new_alias()
            parts.append(exp.select(*[exp.alias_(cast(Scalar(exp.column(c.sql, alias), c.type), types[i]).sql, f"c{i}")
                                      for i, c in enumerate(r.cols)]).from_(self.rel_select(r).subquery(alias, copy=True)))
        union = parts[0]
        for p in parts[1:]:
            union = exp.union(union, p, distinct=False)
        sel = exp.select(exp.Star()).from_(exp.Subquery(this=union, alias=exp.TableAlias(this=ident(self.new_alias()))))
        keys = [rels[0].cols[i].key if all(r.cols[i].key == rels[0].cols[i].key for r in rels) else None for i in range(width)]
        return Rel(tuple(RelCol(rels[0].cols[i].name, f"c{i}", keys[i], types[i]) for i in range(width)), sel)
