"""Spark resolves an outer column only one subquery level out; this pass brings deeper
references within reach by carrying the outer value down as a column.

Spark's analyzer resolves a correlated reference from the query immediately around a
subquery *expression* (a scalar subquery, EXISTS, IN); derived tables in FROM do not count
(they are part of the same plan). A row context around CALCULATE nests deeper: ADDCOLUMNS
over cities, SUMX over names inside, and the CALCULATE per name reads the city two subquery
levels out, which Spark rejects with UNRESOLVED_COLUMN.

The rewrite, for a reference `t.c` two or more subquery levels below the query that defines
`t`: let S be the second-outermost subquery expression between them and P the SELECT S
sits in (P can still see `t.c`: only one subquery level lies between them). P's first FROM
source `X AS a` becomes `(SELECT a.*, t.c AS __outerN FROM X AS a) AS a`, and inside S the
reference becomes `a.__outerN`, one level nearer; repeated until every reference is within
one level. The rows are the same: the added column is constant for each row of the query
that defines `t`, P's other columns and rows are untouched (a grouping P also groups by the
constant), and nothing reads P's new column but S.

A shape this cannot carry (P projecting `*`, which would expose the column) is left as
it is: Spark then refuses it with its error, never a different number.
"""
from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, ScopeType, traverse_scope

from generator.engine.render.spark_exprs import FROM

__all__ = ["lift_outer_references", "too_deep_references"]

MAX_LIFTS = 200  # each lift moves one reference one level nearer; a query has few


def lift_outer_references(tree: exp.Expression) -> exp.Expression:
    """Rewrites `tree` in place (its caller renders a copy) and returns it."""
    names = _Names()
    for _ in range(MAX_LIFTS):
        found = _first_too_deep(tree)
        if found is None or not _lift(*found, names):
            break
    _outer_references_out_of_aggregates(tree, names)
    return tree


def _outer_references_out_of_aggregates(tree: exp.Expression, names: "_Names") -> None:
    """Spark takes an outer reference in a subquery's WHERE or in a plain projection, but
    not in the projection of an aggregating SELECT ("Expressions referencing the outer query
    are not supported outside of WHERE/HAVING clauses"): SELECTEDVALUE's alternate result
    is such a value, `CASE WHEN COUNT(*) = 1 THEN MAX(c) ELSE <outer> END`. The aggregates
    (and the grouping columns) move into a derived table and the projection reads them:
    SELECT f(agg, o) FROM X → SELECT f(q.a, o) FROM (SELECT agg AS a FROM X) AS q — one
    row per group as before (one row over no rows without GROUP BY), the same values."""
    for _ in range(MAX_LIFTS):
        for scope in traverse_scope(tree):
            select = scope.expression
            if isinstance(select, exp.Select) and _outer_in_aggregate_projection(scope) \
                    and _split_aggregate(scope, names):
                break  # the tree changed: scopes again
        else:
            return


def _own_nodes(node: exp.Expression):
    """`node` and its descendants, not entering nested subqueries."""
    yield node
    for child in node.iter_expressions():
        if not isinstance(child, (exp.Subquery, exp.Select)):
            yield from _own_nodes(child)


def _outer_in_aggregate_projection(scope: Scope) -> bool:
    select = scope.expression
    own = [n for p in select.expressions for n in _own_nodes(p)]
    aggregating = select.args.get("group") is not None or any(isinstance(n, exp.AggFunc) for n in own)
    return aggregating and any(isinstance(n, exp.Column) and n.table and n.table not in scope.sources
                               for n in own)


def _split_aggregate(scope: Scope, names: "_Names") -> bool:
    select = scope.expression
    if any(select.args.get(k) for k in ("having", "qualify", "order", "limit", "offset", "distinct", "windows")):
        return False
    own = [n for p in select.expressions for n in _own_nodes(p)]
    if any(isinstance(n, exp.Window) for n in own):
        return False
    if any(c.table in scope.sources for p in select.expressions for c in p.find_all(exp.Column)
           if c not in own):  # a nested subquery reading this SELECT's rows: not moved
        return False
    alias = f"{names.next()}_agg"
    inner = exp.Select()
    for key in (FROM, "joins", "where", "group"):
        if select.args.get(key):
            inner.set(key, select.args[key])
            select.set(key, None)
    moved = 0
    for projection in select.expressions:
        for node in list(_own_nodes(projection)):
            local = isinstance(node, exp.Column) and node.table in scope.sources and not _under(node, exp.AggFunc)
            if (isinstance(node, exp.AggFunc) and not _under(node, exp.AggFunc)) or local:
                moved += 1
                name = f"{alias}{moved}"
                node.replace(exp.column(name, alias))
                inner.select(exp.alias_(node, name), copy=False)
    if not moved:
        inner.select(exp.Literal.number(1), copy=False)
    select.set(FROM, exp.From(this=inner.subquery(alias)))
    return True


def _under(node: exp.Expression, kind, stop=(exp.Select, exp.Subquery)) -> bool:
    """Whether an ancestor of `node` below the nearest `stop` node is a `kind`."""
    parent = node.parent
    while parent is not None and not isinstance(parent, stop):
        if isinstance(parent, kind):
            return True
        parent = parent.parent
    return False


class _Names:
    """__outer1, __outer2, … per statement (the same SQL every time)."""

    def __init__(self) -> None:
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"__outer{self.n}"


def too_deep_references(tree: exp.Expression) -> list[exp.Column]:
    """Every column reference Spark cannot resolve: two or more subquery levels below the
    query defining its table."""
    return [column for column, _ in _too_deep(tree)]


def _first_too_deep(tree: exp.Expression):
    return next(_too_deep(tree), None)


def _too_deep(tree: exp.Expression):
    """(column, the second-outermost subquery between it and its table's scope) for each
    column reference that crosses two or more subquery boundaries to reach that scope."""
    for scope in traverse_scope(tree):
        for column in scope.external_columns:
            if not column.table:
                continue
            boundaries, s = [], scope
            while s is not None and column.table not in s.sources:
                if s.scope_type == ScopeType.SUBQUERY:
                    boundaries.append(s)
                s = s.parent
            if s is not None and len(boundaries) >= 2:
                yield column, boundaries[-2]


def _lift(column: exp.Column, inner: Scope, names: _Names) -> bool:
    """Carries `column` into the SELECT around the subquery `inner`; False if it cannot."""
    holder = inner.parent
    select = holder.expression if holder is not None else None
    if not isinstance(select, exp.Select):
        return False
    if any(isinstance(p, exp.Star) or (isinstance(p, exp.Column) and isinstance(p.this, exp.Star))
           for p in select.expressions):
        return False
    subquery = inner.expression  # the query of the subquery expression (scalar, EXISTS, IN)
    table, name = column.table, column.name
    carried = names.next()
    alias = _carry(select, exp.column(name, table), carried)
    for ref in list(subquery.find_all(exp.Column)):
        if ref.table == table and ref.name == name:
            ref.replace(exp.column(carried, alias))
    group = select.args.get("group")
    if group is not None and not _under(subquery.parent, exp.AggFunc, stop=exp.Select):
        group.append("expressions", exp.column(carried, alias))
    return True


def _carry(select: exp.Select, value: exp.Column, carried: str) -> str:
    """Adds `value AS carried` to the first FROM source of `select`; the source's alias."""
    source = select.args.get(FROM)
    if source is None:
        alias = f"{carried}_row"
        select.set(FROM, exp.From(this=exp.select(exp.alias_(value, carried)).subquery(alias)))
        return alias
    item = source.this
    alias = item.alias_or_name
    inner = item.copy()
    wrapped = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier(alias)),
                         exp.alias_(value, carried)).from_(inner)
    source.set("this", wrapped.subquery(alias))
    return alias
