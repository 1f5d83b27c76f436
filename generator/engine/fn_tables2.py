"""More table functions: grouping (GROUPBY/CURRENTGROUP, SUMMARIZE's ROLLUP), joins and set
operations, row sampling, and tables rendered as text (TOCSV/TOJSON).

Each handler follows the function's page on dax.guide / learn.microsoft.com (cited in the
docstrings); the tests in tests/engine/test_fn_tables2.py check them on hand-worked data.

Markers that only mean something inside another function travel in `Env.vars` under keys
no DAX variable can spell (they start with NUL): CURRENTGROUP() is the current group's rows
inside GROUPBY, ISSUBTOTAL reads which columns the current SUMMARIZE/ROLLUP level rolled up.
"""
from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler import Env, Rel, RelCol, _enum, order_pairs
from generator.engine.context import ColKey, EqFilter, Scan, and_all, not_distinct
from generator.engine.propagation import hops
from generator.engine.data import fn, ident, table_ref
from generator.engine.tables import TableFns
from generator.engine.types import DaxType, sql_type
from generator.engine.values import Scalar, cast, lit, to_text

N = exp.Literal.number
S = exp.Literal.string
CURRENT_GROUP = "\x00currentgroup"
SUBTOTAL = "\x00subtotal"
# the hidden row-number column every imported table has in a Power BI model (TOM lists it)
ROW_NUMBER = "RowNumber-2662979B-1795-4F74-8F37-6A1BA8059B61"


def _one_row() -> Rel:
    """A table of one row and no columns (the grand-total level of a ROLLUP)."""
    return Rel((), exp.select(exp.alias_(N(1), "one")))


def _union_all(parts: list[exp.Select]) -> exp.Expression:
    union: exp.Expression = parts[0]
    for p in parts[1:]:
        union = exp.union(union, p, distinct=False)
    return union


def _wrap(union: exp.Expression, alias: str) -> exp.Select:
    return exp.select(exp.Star()).from_(exp.Subquery(this=union, alias=exp.TableAlias(this=ident(alias))))


def _short(c: RelCol) -> str:
    """A column's name without its table: SUBSTITUTEWITHINDEX matches columns by name."""
    if c.key is not None and c.name == f"{c.key[0]}[{c.key[1]}]":
        return c.key[1].lower()
    return c.name.lower()


def header(c: RelCol) -> str:
    """How TOCSV/TOJSON name a column: 'Table'[Column] for model columns, [Name] otherwise."""
    if c.key is not None and c.name == f"{c.key[0]}[{c.key[1]}]":
        return f"'{c.key[0]}'[{c.key[1]}]"
    return f"[{c.name}]"


class Tables2Fns(TableFns):
    """GROUPBY, SUMMARIZE/ROLLUP, ADDMISSINGITEMS, natural joins, INTERSECT/EXCEPT, TOPNSKIP,
    SAMPLE, SUBSTITUTEWITHINDEX, TOCSV/TOJSON, COLUMNSTATISTICS, DETAILROWS, TABLEOF,
    ALLCROSSFILTERED."""

    # ------------------------------------------------------------ GROUPBY / CURRENTGROUP

    def _split_groups(self, env: Env, args) -> tuple[list[A.Expr], list[A.Expr]]:
        groups, pairs = [], []
        for a in args:
            if pairs or isinstance(a, A.String):
                pairs.append(a)
            else:
                groups.append(a)
        return groups, pairs

    def _groups_of(self, call, env: Env, table_node: A.Expr, groups: list[A.Expr]) -> Rel:
        """The distinct values of `groups` over the rows of the table (SUMMARIZE without
        expressions), or one row when there are no group columns."""
        if not groups:
            return _one_row()
        return TableFns.fn_SUMMARIZE(self, A.FunctionCall("SUMMARIZE", (table_node, *groups), span=call.span), env)

    def fn_GROUPBY(self, call, env):
        """GROUPBY(T, col…, name, expr…): the distinct group values; each expression is an
        X-aggregation over CURRENTGROUP(), the group's rows of T. No context transition
        happens (dax.guide/groupby; learn.microsoft.com/dax/groupby-function-dax)."""
        args = self.args(call, env, 1, -1)
        groups, pairs = self._split_groups(env, args[1:])
        keys = [self.colref(env, g) for g in groups]
        rel = self.table(args[0], env)
        if rel.preds:
            rel = self.apply_preds(rel)
        out = self._groups_of(call, env, args[0], groups)
        if not pairs:
            return out

        def group_env(inner: Env) -> Env:
            values = [inner.rows[-1].cols[k] for k in keys]
            return replace(inner, vars={**inner.vars, CURRENT_GROUP: self._group_rows(call, inner, rel, keys, values)})

        return self._new_columns(call, env, tuple(pairs), out, True, row_env=group_env)

    def _group_rows(self, call, env: Env, rel: Rel, keys: list[ColKey], values: list[Scalar]) -> Rel:
        """The rows of `rel` whose group columns equal `values` (BLANK equals BLANK)."""
        if rel.select is None:
            base_filter = rel.row_filter

            def row_filter(scan):
                conds = [base_filter(scan) if base_filter else None]
                conds += [not_distinct(scan.col(k), v.sql) for k, v in zip(keys, values)]
                return and_all(conds)

            # ctx=None: grouped evaluation must not replace this row filter by the context's
            return replace(rel, row_filter=row_filter, ctx=None, col_keys=None)
        for k in keys:
            if k not in [c.key for c in rel.cols]:
                raise self.err(env, call, f"GROUPBY: column '{k[0]}'[{k[1]}] is not a column of the table")

        def where(inner: Env) -> exp.Expression:
            row = inner.rows[-1]
            return and_all(not_distinct(row.cols[k].sql, v.sql) for k, v in zip(keys, values))

        sel = self.over(rel, env, lambda inner: [exp.alias_(inner.rows[-1].names[c.name.lower()].sql, c.sql)
                                                 for c in rel.cols], where)
        return Rel(rel.cols, sel)

    def fn_CURRENTGROUP(self, call, env):
        self.args(call, env, 0)
        rel = env.vars.get(CURRENT_GROUP)
        if rel is None:
            raise self.err(env, call, "CURRENTGROUP can only be used in an expression of GROUPBY")
        return rel

    # ------------------------------------------------------------ SUMMARIZE with ROLLUP

    def fn_SUMMARIZE(self, call, env):
        """SUMMARIZE(T, col…, ROLLUP(col | ROLLUPGROUP(col…), …), name, expr…): one level per
        prefix of the ROLLUP columns, rolled-up columns BLANK; ISSUBTOTAL(col) is TRUE on
        the levels that rolled `col` up (learn.microsoft.com/dax/summarize-function-dax,
        dax.guide/rollup, dax.guide/rollupgroup, dax.guide/issubtotal)."""
        rollups = [a for a in call.args[1:] if isinstance(a, A.FunctionCall) and a.name in ("ROLLUP", "ROLLUPGROUP")]
        if not rollups:
            return super().fn_SUMMARIZE(call, env)
        args = self.args(call, env, 2, -1)
        plain: list[A.Expr] = []
        units: list[tuple[A.Expr, ...]] = []
        order: list[A.Expr] = []  # every group column in argument order
        pairs: list[A.Expr] = []
        for a in args[1:]:
            if pairs or isinstance(a, A.String):
                pairs.append(a)
            elif isinstance(a, A.FunctionCall) and a.name == "ROLLUPGROUP":
                raise self.err(env, a, "ROLLUPGROUP can only be used inside ROLLUP in SUMMARIZE")
            elif isinstance(a, A.FunctionCall) and a.name == "ROLLUP":
                if units:
                    raise self.err(env, a, "SUMMARIZE takes one ROLLUP")
                for sub in self.args(a, env, 1, -1):
                    if isinstance(sub, A.FunctionCall) and sub.name == "ROLLUPGROUP":
                        unit = self.args(sub, env, 1, -1)
                    else:
                        unit = (sub,)
                    units.append(tuple(unit))
                    order.extend(unit)
            else:
                if units:
                    raise self.err(env, a, "SUMMARIZE: group columns must come before ROLLUP")
                plain.append(a)
                order.append(a)
        keys = [self.colref(env, c) for c in order]
        rows_filter = self.rel_filter(self.table(args[0], env), env, args[0])
        parts, types = [], None
        for cut in range(len(units), -1, -1):
            level = plain + [c for unit in units[:cut] for c in unit]
            rolled = frozenset(self.colref(env, c) for unit in units[cut:] for c in unit)
            rel = self._summarize_level(call, env, args[0], level, pairs, rolled, rows_filter)
            alias = self.new_alias()
            by_key = {c.key: c for c in rel.cols[:len(level)]}
            outs = []
            for i, k in enumerate(keys):
                c = by_key.get(k)
                value = exp.column(c.sql, alias) if c is not None else exp.cast(exp.null(), sql_type(self.col_type(k)))
                outs.append(exp.alias_(value, f"c{i}"))
            ext = rel.cols[len(level):]
            if types is None:
                types = [c.type for c in ext]
            outs += [exp.alias_(cast(Scalar(exp.column(c.sql, alias), c.type), t).sql, f"n{j}")
                     for j, (c, t) in enumerate(zip(ext, types))]
            parts.append(exp.select(*outs).from_(self.rel_select(rel).subquery(alias, copy=True)))
        cols = [RelCol(f"{k[0]}[{k[1]}]", f"c{i}", k, self.col_type(k)) for i, k in enumerate(keys)]
        names = [p.value for p in pairs[::2]]
        cols += [RelCol(n, f"n{j}", None, t) for j, (n, t) in enumerate(zip(names, types or []))]
        return Rel(tuple(cols), _wrap(_union_all(parts), self.new_alias()))

    def _summarize_level(self, call, env: Env, table_node, level, pairs, rolled, rows_filter) -> Rel:
        """One ROLLUP level: the group rows, each expression in a filter context holding
        the group's rows of T (as SUMMARIZE does) with ISSUBTOTAL knowing `rolled`."""
        keys = [self.colref(env, c) for c in level]
        out = self._groups_of(call, env, table_node, level)
        env = replace(env, vars={**env.vars, SUBTOTAL: rolled})
        if not pairs:
            return out

        def group_env(inner: Env) -> Env:
            row = inner.rows[-1]
            ctx = self.transition(replace(inner, rows=inner.rows[:-1]))
            ctx = ctx.remove(rows_filter.keys() | frozenset(keys)).add(rows_filter)
            if keys:
                ctx = ctx.add(EqFilter(tuple(keys), tuple(row.cols[k].sql for k in keys)))
            return inner.inside_calculate(ctx)

        return self._new_columns(call, env, tuple(pairs), out, True, row_env=group_env)

    def fn_ISSUBTOTAL(self, call, env):
        (arg,) = self.args(call, env, 1)
        key = self.colref(env, arg)
        rolled = env.vars.get(SUBTOTAL)
        if rolled is None:
            raise self.err(env, call, "ISSUBTOTAL can only be used in an expression of SUMMARIZE with ROLLUP")
        return lit(key in rolled)

    def fn_ROLLUP(self, call, env):
        raise self.err(env, call, "ROLLUP can only be used as an argument of SUMMARIZE")

    def fn_ROLLUPISSUBTOTAL(self, call, env):
        raise self.err(env, call, "ROLLUPISSUBTOTAL can only be used as an argument of ADDMISSINGITEMS")

    # ------------------------------------------------------------ ADDMISSINGITEMS

    def fn_ADDMISSINGITEMS(self, call, env):
        """ADDMISSINGITEMS(showAll col…, T, group col… | ROLLUPISSUBTOTAL(col, [isSubtotal]…)):
        T plus one row, other columns BLANK, for every combination of the show-all columns'
        values (in the filter context) that no detail row of T has; subtotal rows are
        kept as they are (dax.guide/addmissingitems, dax.guide/rollupissubtotal)."""
        args = self.args(call, env, 2, -1)
        show: list[ColKey] = []
        i = 0
        while i < len(args) and self._is_model_col(args[i]):
            show.append(self.colref(env, args[i]))
            i += 1
        if i >= len(args) or not self.is_table_expr(args[i], env):
            raise self.err(env, call, "ADDMISSINGITEMS needs a table after its show-all columns")
        rel = self.table(args[i], env)
        flags: list[str] = []
        for a in args[i + 1:]:
            if self._is_model_col(a):
                continue  # a grouping column: its values come from T's own rows
            if isinstance(a, A.FunctionCall) and a.name == "ROLLUPISSUBTOTAL":
                flags.extend(self._subtotal_flags(a, env))
            elif self.is_table_expr(a, env):
                raise self.unsupported(env, a, "ADDMISSINGITEMS with filter tables")
            else:
                raise self.err(env, a, "ADDMISSINGITEMS: a column, ROLLUPISSUBTOTAL or a filter table is expected here")
        by_key = {c.key: c for c in rel.cols if c.key is not None}
        by_name = {c.name.lower(): c for c in rel.cols}
        for k in show:
            if k not in by_key:
                raise self.err(env, call, f"ADDMISSINGITEMS: '{k[0]}'[{k[1]}] is not a column of the table")
        flag_cols = []
        for f in flags:
            if f.lower() not in by_name:
                raise self.err(env, call, f"ADDMISSINGITEMS: the table has no column [{f}]")
            flag_cols.append(by_name[f.lower()])
        combos, names = self._show_values(show, env)
        t_alias, c_alias = self.new_alias(), self.new_alias()
        detail = and_all([not_distinct(exp.column(by_key[k].sql, t_alias), exp.column(names[k], c_alias)) for k in show]
                         + [exp.not_(fn("coalesce", exp.column(c.sql, t_alias), exp.false())) for c in flag_cols])
        exists = exp.Exists(this=exp.select(N(1)).from_(self.rel_select(rel).subquery(t_alias, copy=True)).where(detail))
        outs = []
        for c in rel.cols:
            if c.key in show:
                value = exp.column(names[c.key], c_alias)
            elif c in flag_cols:
                value = exp.false()
            else:
                value = exp.cast(exp.null(), sql_type(c.type)) if c.type is not DaxType.VARIANT else exp.null()
            outs.append(exp.alias_(value, c.sql))
        missing = exp.select(*outs).from_(combos.subquery(c_alias)).where(exp.not_(exists))
        ka = self.new_alias()
        kept = exp.select(*[exp.column(c.sql, ka) for c in rel.cols]).from_(self.rel_select(rel).subquery(ka, copy=True))
        return Rel(rel.cols, _wrap(_union_all([kept, missing]), self.new_alias()))

    def _is_model_col(self, node: A.Expr) -> bool:
        if not isinstance(node, A.ColumnRef) or node.table is None:
            return False
        t = self.model.table(node.table)
        return t is not None and t.column(node.column) is not None

    def _subtotal_flags(self, call: A.FunctionCall, env: Env) -> list[str]:
        """ROLLUPISSUBTOTAL([grandTotalFilter,] groupCol, isSubtotalCol [, [levelFilter,] …]):
        the names of the is-subtotal columns. Group-level filters are not supported."""
        args = list(call.args)
        names, filtered, i = [], False, 0
        while i < len(args):
            if not self._is_model_col(args[i]):
                filtered = True  # a grand-total / group-level filter
                i += 1
            if i >= len(args) or not self._is_model_col(args[i]):
                raise self.err(env, call, f"ROLLUPISSUBTOTAL expects a column name as argument {i + 1}")
            if i + 1 >= len(args) or not isinstance(args[i + 1], (A.BracketRef, A.ColumnRef)):
                raise self.err(env, call, f"ROLLUPISSUBTOTAL expects a column name as argument {i + 2}")
            flag = args[i + 1]
            names.append(flag.name if isinstance(flag, A.BracketRef) else flag.column)
            i += 2
        if filtered:
            raise self.unsupported(env, call, "ROLLUPISSUBTOTAL with a filter")
        return names

    def _show_values(self, show: list[ColKey], env: Env) -> tuple[exp.Select, dict[ColKey, str]]:
        """The existing combinations of the show-all columns of each table (in the filter
        context), cross-joined across tables."""
        tables: dict[str, list[ColKey]] = {}
        for k in show:
            tables.setdefault(k[0], []).append(k)
        names = {k: f"s{i}" for i, k in enumerate(show)}
        sel = None
        for tname, keys in tables.items():
            scan = self.scan(self.model.table(tname), env)
            sub = scan.build(exp.select(*[exp.alias_(scan.col(k), names[k]) for k in keys]).distinct(),
                             self.where_for(scan, env.ctx))
            a = self.new_alias()
            sel = exp.select().from_(sub.subquery(a)) if sel is None else sel.join(sub.subquery(a), join_type="CROSS")
        return sel.select(*[exp.column(names[k]) for k in show]), names

    # ------------------------------------------------------------ joins and set operations

    def fn_NATURALINNERJOIN(self, call, env):
        """Rows of both tables joined on their common columns — same lineage — or, for two
        model tables, on the relationship between them; the columns of both, common ones
        once (dax.guide/naturalinnerjoin; learn.microsoft.com/dax/naturalinnerjoin-function-dax)."""
        return self._natural_join(call, env, "INNER")

    def fn_NATURALLEFTOUTERJOIN(self, call, env):
        """As NATURALINNERJOIN, keeping left rows without a match (right columns BLANK)
        (dax.guide/naturalleftouterjoin)."""
        return self._natural_join(call, env, "LEFT")

    def _natural_join(self, call, env, kind: str) -> Rel:
        a, b = self.args(call, env, 2)
        left, right = self.table(a, env), self.table(b, env)
        la, ra = self.new_alias(), self.new_alias()
        common = [(lc, rc) for lc in left.cols for rc in right.cols if lc.key is not None and lc.key == rc.key]
        if common:
            on = and_all(not_distinct(exp.column(lc.sql, la), exp.column(rc.sql, ra)) for lc, rc in common)
            dropped = {id(rc) for _, rc in common}
        else:
            pair = self._relationship_between(left, right)
            if pair is None:
                raise self.err(env, call, f"{call.name}: the tables have no common columns and no relationship")
            lc, rc = pair
            on = exp.EQ(this=exp.column(lc.sql, la), expression=exp.column(rc.sql, ra))
            dropped = set()
        cols, outs = [], []
        for side, alias, rel in (("l", la, left), ("r", ra, right)):
            for i, c in enumerate(rel.cols):
                if id(c) in dropped:
                    continue
                cols.append(RelCol(c.name, f"{side}{i}", c.key, c.type))
                outs.append(exp.alias_(exp.column(c.sql, alias), f"{side}{i}"))
        sel = exp.select(*outs).from_(self.rel_select(left).subquery(la, copy=True)).join(
            self.rel_select(right).subquery(ra, copy=True), on=on, join_type=kind)
        return Rel(tuple(cols), sel)

    def _relationship_between(self, left: Rel, right: Rel) -> tuple[RelCol, RelCol] | None:
        lk = {c.key: c for c in left.cols if c.key is not None}
        rk = {c.key: c for c in right.cols if c.key is not None}
        for r in self.model.relationships:
            ends = [(self.model.table(r.from_table).name, self.model.table(r.from_table).column(r.from_column).name),
                    (self.model.table(r.to_table).name, self.model.table(r.to_table).column(r.to_column).name)]
            if not r.active:
                continue
            if ends[0] in lk and ends[1] in rk:
                return lk[ends[0]], rk[ends[1]]
            if ends[1] in lk and ends[0] in rk:
                return lk[ends[1]], rk[ends[0]]
        return None

    def fn_INTERSECT(self, call, env):
        """The rows of the first table that appear in the second, duplicates of the first
        kept; columns compared by position, lineage from the first table
        (dax.guide/intersect; learn.microsoft.com/dax/intersect-function-dax)."""
        return self._set_op(call, env, keep=True)

    def fn_EXCEPT(self, call, env):
        """The rows of the first table that do not appear in the second, duplicates kept
        (dax.guide/except; learn.microsoft.com/dax/except-function-dax)."""
        return self._set_op(call, env, keep=False)

    def _set_op(self, call, env, keep: bool) -> Rel:
        a, b = self.args(call, env, 2)
        left, right = self.table(a, env), self.table(b, env)
        if len(left.cols) != len(right.cols):
            raise self.err(env, call, f"{call.name}: both tables need the same number of columns")
        la, ra = self.new_alias(), self.new_alias()
        conds = []
        for lc, rc in zip(left.cols, right.cols):
            l_val, r_val = exp.column(lc.sql, la), exp.column(rc.sql, ra)
            if lc.type is DaxType.TEXT and rc.type is DaxType.TEXT:  # DAX compares text ignoring case
                l_val, r_val = exp.Lower(this=l_val), exp.Lower(this=r_val)
            conds.append(not_distinct(l_val, r_val))
        found = exp.Exists(this=exp.select(N(1)).from_(self.rel_select(right).subquery(ra, copy=True)).where(
            and_all(conds)))
        sel = exp.select(*[exp.column(c.sql, la) for c in left.cols]).from_(
            self.rel_select(left).subquery(la, copy=True)).where(found if keep else exp.not_(found))
        return Rel(left.cols, sel, rows_of=left.base.name if left.base is not None else left.rows_of)

    def fn_SUBSTITUTEWITHINDEX(self, call, env):
        """SUBSTITUTEWITHINDEX(T, name, indexTable, orderBy [, order]…): the rows of T whose
        common columns (same name) appear in indexTable, those columns replaced by one
        integer column: the 0-based position of the matching row of indexTable sorted by
        orderBy (learn.microsoft.com/dax/substitutewithindex-function-dax)."""
        args = self.args(call, env, 3, -1)
        if not isinstance(args[1], A.String):
            raise self.err(env, args[1], "SUBSTITUTEWITHINDEX: the index column name must be a string")
        left, right = self.table(args[0], env), self.table(args[2], env)
        rnames = {_short(c): c for c in right.cols}
        common = [(lc, rnames[_short(lc)]) for lc in left.cols if _short(lc) in rnames]
        if not common:
            raise self.err(env, call, "SUBSTITUTEWITHINDEX: the tables have no common columns")
        orders = order_pairs(list(args[3:]), default_desc=False)

        def project(inner: Env) -> list[exp.Expression]:
            outs = [exp.alias_(inner.rows[-1].names[rc.name.lower()].sql, f"k{i}") for i, (_, rc) in enumerate(common)]
            return outs + [exp.alias_(self.scalar(e, inner).sql, f"o{i}") for i, (e, _) in enumerate(orders)]

        ranked_src = self.over(right, env, project)
        ia = self.new_alias()
        keys_sql = [exp.Ordered(this=exp.column(f"k{i}", ia), nulls_first=True) for i in range(len(common))]
        window = exp.Window(this=fn("row_number"), order=exp.Order(expressions=[
            *[exp.Ordered(this=exp.column(f"o{i}", ia), desc=d, nulls_first=not d) for i, (_, d) in enumerate(orders)],
            *keys_sql]))
        index = exp.select(*[exp.column(f"k{i}", ia) for i in range(len(common))],
                           exp.alias_(exp.Sub(this=window, expression=N(1)), "idx")).from_(ranked_src.subquery(ia))
        la, xa = self.new_alias(), self.new_alias()
        common_ids = {id(lc) for lc, _ in common}
        rest = [c for c in left.cols if id(c) not in common_ids]
        on = and_all(not_distinct(exp.column(lc.sql, la), exp.column(f"k{i}", xa)) for i, (lc, _) in enumerate(common))
        sel = exp.select(*[exp.alias_(exp.column(c.sql, la), f"c{i}") for i, c in enumerate(rest)],
                         exp.alias_(exp.column("idx", xa), "idx")).from_(
            self.rel_select(left).subquery(la, copy=True)).join(index.subquery(xa), on=on, join_type="INNER")
        cols = [RelCol(c.name, f"c{i}", c.key, c.type) for i, c in enumerate(rest)]
        return Rel((*cols, RelCol(args[1].value, "idx", None, DaxType.INT)), sel)

    # ------------------------------------------------------------ ordered row selection

    def _numbered(self, rel: Rel, env: Env, orders) -> tuple[exp.Select, str]:
        """SELECT rel's columns, rn (0-based position in `orders`, ties broken by the
        columns so the result is deterministic), n (row count) FROM rel."""
        def project(inner: Env) -> list[exp.Expression]:
            outs = [exp.alias_(inner.rows[-1].names[c.name.lower()].sql, c.sql) for c in rel.cols]
            return outs + [exp.alias_(self.scalar(e, inner).sql, f"o{i}") for i, (e, _) in enumerate(orders)]

        sel = self.over(rel, env, project)
        a = self.new_alias()
        order = [exp.Ordered(this=exp.column(f"o{i}", a), desc=d, nulls_first=not d) for i, (_, d) in enumerate(orders)]
        order += [exp.Ordered(this=exp.column(c.sql, a), nulls_first=True) for c in rel.cols]
        rn = exp.Sub(this=exp.Window(this=fn("row_number"), order=exp.Order(expressions=order)), expression=N(1))
        count = exp.Window(this=exp.Count(this=exp.Star()))
        numbered = exp.select(*[exp.column(c.sql, a) for c in rel.cols], exp.alias_(rn, "rn"),
                              exp.alias_(count, "n")).from_(sel.subquery(a))
        return numbered, self.new_alias()

    def fn_TOPNSKIP(self, call, env):
        """TOPNSKIP(rows, skip, T [, orderBy [, order]]…): `rows` rows after skipping `skip`
        in the order given (descending unless ASC), exactly that many even on ties
        (dax.guide/topnskip)."""
        args = self.args(call, env, 3, -1)
        rows, skip = self.scalar(args[0], env), self.scalar(args[1], env)
        rel = self.table(args[2], env)
        numbered, a = self._numbered(rel, env, order_pairs(list(args[3:]), default_desc=True))
        rn = exp.column("rn", a)
        cond = exp.and_(exp.GTE(this=rn, expression=exp.cast(skip.sql, "BIGINT")),
                        exp.LT(this=rn.copy(), expression=exp.Add(this=exp.cast(skip.sql.copy(), "BIGINT"),
                                                                  expression=exp.cast(rows.sql, "BIGINT"))))
        sel = exp.select(*[exp.column(c.sql, a) for c in rel.cols]).from_(numbered.subquery(a)).where(cond)
        return Rel(rel.cols, sel, rows_of=rel.base.name if rel.base is not None else rel.rows_of)

    def fn_SAMPLE(self, call, env):
        """SAMPLE(n, T, orderBy [, order]…): n rows of T in that order (descending unless
        ASC): the first, the last and evenly spaced rows between them; positions
        floor(i·(rows−1)/(n−1)) for i = 0…n−1; every row when n ≥ rows, none when n ≤ 0
        (dax.guide/sample; learn.microsoft.com/dax/sample-function-dax)."""
        args = self.args(call, env, 3, -1)
        size = self.scalar(args[0], env)
        rel = self.table(args[1], env)
        numbered, a = self._numbered(rel, env, order_pairs(list(args[2:]), default_desc=True))
        k = exp.cast(size.sql, "BIGINT")
        rn, n = exp.column("rn", a), exp.column("n", a)
        # row rn is chosen if some i has floor(i*(n-1)/(k-1)) = rn, i.e. if
        # ceil(rn*(k-1)/(n-1)) * (n-1) < (rn+1)*(k-1)
        i = fn("ceil", exp.Div(this=exp.Mul(this=rn.copy(), expression=exp.paren(exp.Sub(this=k.copy(), expression=N(1)))),
                               expression=exp.cast(exp.paren(exp.Sub(this=n.copy(), expression=N(1))), "DOUBLE")))
        spaced = exp.LT(this=exp.Mul(this=i, expression=exp.paren(exp.Sub(this=n.copy(), expression=N(1)))),
                        expression=exp.Mul(this=exp.paren(exp.Add(this=rn.copy(), expression=N(1))),
                                           expression=exp.paren(exp.Sub(this=k.copy(), expression=N(1)))))
        cond = exp.Case(ifs=[
            exp.If(this=exp.LTE(this=k.copy(), expression=N(0)), true=exp.false()),
            exp.If(this=exp.GTE(this=k.copy(), expression=n.copy()), true=exp.true()),
            exp.If(this=exp.EQ(this=k.copy(), expression=N(1)), true=exp.EQ(this=rn.copy(), expression=N(0))),
        ], default=spaced)
        sel = exp.select(*[exp.column(c.sql, a) for c in rel.cols]).from_(numbered.subquery(a)).where(cond)
        return Rel(rel.cols, sel, rows_of=rel.base.name if rel.base is not None else rel.rows_of)

    # ------------------------------------------------------------ tables as text

    def _text_rows(self, rel: Rel, env: Env, limit: exp.Expression, render) -> tuple[exp.Expression, exp.Expression]:
        """(the first `limit` rows rendered by `render(values)` and joined by newlines, the
        row count). Rows are in the order of their columns (Power BI: storage order)."""
        a = self.new_alias()
        values = [Scalar(exp.column(c.sql, a), c.type) for c in rel.cols]
        order = [exp.Ordered(this=exp.column(c.sql, a), nulls_first=True) for c in rel.cols]
        rn = exp.Window(this=fn("row_number"), order=exp.Order(expressions=order))
        lines = exp.select(exp.alias_(render(values), "line"), exp.alias_(rn, "rn")).from_(
            self.rel_select(rel).subquery(a, copy=True))
        b = self.new_alias()
        agg = exp.GroupConcat(this=exp.Order(this=exp.column("line", b), expressions=[
            exp.Ordered(this=exp.column("rn", b))]), separator=S("\n"))
        body = exp.Subquery(this=exp.select(agg).from_(lines.subquery(b)).where(
            exp.LTE(this=exp.column("rn", b), expression=limit)))
        count = exp.Subquery(this=exp.select(exp.Count(this=exp.Star())).from_(self.rel_select(rel).subquery(copy=True)))
        return body, count

    def fn_TOCSV(self, call, env):
        """TOCSV(T [, maxRows=10 [, delimiter="," [, includeHeaders=TRUE]]]): a header line of
        'Table'[Column] names, then one line per row, values as DAX converts them to text,
        lines separated by a line feed (dax.guide/tocsv; learn.microsoft.com/dax/tocsv-function-dax)."""
        args = self.args(call, env, 1, 4)
        rel = self.table(args[0], env)
        limit = self._opt(args, 1, env, lit(10)).sql
        delim = self._opt(args, 2, env, lit(","))
        headers = self._opt(args, 3, env, lit(True))
        if delim.type is not DaxType.TEXT:
            raise self.err(env, args[2], "TOCSV: the delimiter must be text")
        sep = delim.sql

        def render(values: list[Scalar]) -> exp.Expression:
            parts = []
            for v in values:
                parts.append(fn("coalesce", to_text(v), S("")))
            return fn("concat_ws", sep.copy(), *parts) if parts else S("")

        body, _ = self._text_rows(rel, env, limit, render)
        head = fn("concat_ws", sep.copy(), *[S(header(c)) for c in rel.cols])
        with_head = exp.Case(ifs=[exp.If(this=exp.paren(body.copy()).is_(exp.null()), true=head.copy())],
                             default=fn("concat", head, S("\n"), body.copy()))
        value = exp.Case(ifs=[exp.If(this=fn("coalesce", headers.sql, exp.false()), true=with_head)],
                         default=fn("coalesce", body, S("")))
        return Scalar(value, DaxType.TEXT, False)

    def fn_TOJSON(self, call, env):
        """TOJSON(T [, maxRows=10]): {"header": [...], "rowCount": rows, "data": [[...], ...]}
        with tab indentation; text quoted, numbers bare, BLANK as null
        (dax.guide/tojson; learn.microsoft.com/dax/tojson-function-dax)."""
        args = self.args(call, env, 1, 2)
        rel = self.table(args[0], env)
        limit = self._opt(args, 1, env, lit(10)).sql

        def render(values: list[Scalar]) -> exp.Expression:
            parts = [_json_value(v) for v in values]
            return fn("concat", S("\t\t["), fn("concat_ws", S(", "), *parts), S("]")) if parts else S("\t\t[]")

        body, count = self._text_rows(rel, env, limit, render)
        names = ", ".join(_json_string(header(c)) for c in rel.cols)
        rows = fn("replace", fn("coalesce", body, S("")), S("]\n"), S("],\n"))
        data = exp.Case(ifs=[exp.If(this=exp.EQ(this=rows.copy(), expression=S("")), true=S(""))],
                        default=fn("concat", rows, S("\n")))
        value = fn("concat", S(f'{{\n\t"header": [{names}],\n\t"rowCount": '), exp.cast(count, "VARCHAR"),
                   S(',\n\t"data": [\n'), data, S("\t]\n}"))
        return Scalar(value, DaxType.TEXT, False)

    def _opt(self, args, i: int, env: Env, default: Scalar) -> Scalar:
        if i < len(args) and not isinstance(args[i], A.EmptyArg):
            return self.scalar(args[i], env)
        return default

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
        return Rel(cols, _wrap(_union_all(parts), self.new_alias()))

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

    # ------------------------------------------------------------ ALLCROSSFILTERED

    def fn_ALLCROSSFILTERED(self, call, env):
        raise self.err(env, call, "ALLCROSSFILTERED can only be used as a filter argument of CALCULATE")

    def modifier(self, call, env):
        """ALLCROSSFILTERED(T) removes every filter on T and on the tables that filter it,
        directly or through relationships (learn.microsoft.com/dax/allcrossfiltered-function-dax)."""
        if call.name != "ALLCROSSFILTERED":
            return super().modifier(call, env)
        (arg,) = self.args(call, env, 1)
        table = self.resolve_table(env, arg, self._table_name(env, arg))
        keys = set(self.keys_of_args([arg], env))
        rels = env.ctx.rels or self.base_rels()
        reach = {table.name.lower()} | {t for t in self.scan(table, env).tables()}
        changed = True
        while changed:  # bidirectional and many-to-many relationships cross-filter it too
            changed = False
            for h in hops(self.model, rels):
                if h.dst in reach and h.src not in reach:
                    reach |= Scan(self, self.model.table(h.src), rels).tables()
                    changed = True
        for name in reach:
            t = self.model.table(name)
            keys |= {(t.name, c.name) for c in t.all_columns}
        frozen = frozenset(keys)
        return lambda ctx: ctx.remove(frozen)


def _json_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json_value(v: Scalar) -> exp.Expression:
    """A value in TOJSON: text quoted and escaped, BLANK as null, others as DAX text."""
    if v.type is DaxType.TEXT:
        escaped = fn("replace", fn("replace", v.sql, S("\\"), S("\\\\")), S('"'), S('\\"'))
        inner = fn("concat", S('"'), escaped, S('"'))
    elif v.type is DaxType.BOOL:
        inner = exp.Case(ifs=[exp.If(this=v.sql, true=S("true"))], default=S("false"))
    else:
        inner = to_text(v)
    return fn("coalesce", inner, S("null"))
