"""The logical plan of grouped leaves (generator/engine/plan), each optimizer pass
(generator/engine/optimizer) on hand-built plans with hand-built expected plans, and the
renderer (generator/engine/render/plan.py) run in DuckDB against hand-worked rows.

Data of the DuckDB checks (the reference model's shape): orders (customer, amount) =
(1, 10), (1, 20), (2, 30), (3, 40), (9, 5); customers 1 and 2 live in Oslo, 3 in Rome,
and 9 has no customer row (an orphan key: its City is BLANK). Expected values follow
SUM (https://dax.guide/sum/), COUNTROWS (https://dax.guide/countrows/) and DISTINCTCOUNT
(https://dax.guide/distinctcount/, BLANK counts as a value), worked out by hand."""
from __future__ import annotations

import duckdb
import sqlglot
from sqlglot import exp

from generator.engine.optimizer import RULES, OptimizeContext, optimize
from generator.engine.optimizer import distinct_keys, eager_aggregation, reuse, scan_sharing
from generator.engine.plan import Aggregate, DimValue, EagerAggregate, Filter, Join, PreAggregate, Project, Scan, SqlExpr
from generator.engine.plan.build import LeafEntry, leaf_plan
from generator.engine.render.plan import LEAF_TABLE, placeholders, render_leaves, select_of
from generator.engine.sql import parenthesize


def e(sql: str) -> SqlExpr:
    return SqlExpr.of(sqlglot.parse_one(sql, read="duckdb"))


SALES, CUSTOMER = Scan("Sales"), Scan("Customer")
JOINED = Join(SALES, CUSTOMER, e('s_a0."CustomerID" = s_a1."ID"'), "LEFT")
FK = 's_a0."CustomerID"'
UNIQUE = frozenset({("customer", "id")})


# ---------------------------------------------------------------- nodes


def test_equal_leaves_under_different_aliases_are_one_plan():
    a = sqlglot.parse_one('SELECT t7."City" AS k0, SUM(t5."Amount") AS v FROM "Sales" AS t5 '
                          'LEFT JOIN "Customer" AS t7 ON t5."CustomerID" = t7."ID" WHERE t5."Qty" > 1 GROUP BY 1')
    b = sqlglot.parse_one('SELECT q2."City" AS k0, SUM(q1."Amount") AS v FROM "Sales" AS q1 '
                          'LEFT JOIN "Customer" AS q2 ON q1."CustomerID" = q2."ID" WHERE q1."Qty" > 1 GROUP BY 1')
    pa, pb = leaf_plan(a), leaf_plan(b)
    expected = Aggregate(Filter(JOINED, e('s_a0."Qty" > 1')), (e('s_a1."City"'),), (e('SUM(s_a0."Amount")'),))
    assert pa == pb == expected
    assert hash(pa) == hash(pb) and {pa: 1}[pb] == 1
    other = leaf_plan(sqlglot.parse_one(a.sql().replace("> 1", "> 2")))
    assert other != pa and other.input != pa.input and other.keys == pa.keys


def test_leaves_outside_the_simple_form_have_no_plan():
    # correlated (t9 is not in FROM), a derived table, a row-level projection
    for sql in ('SELECT SUM(t1."Amount") AS v FROM "Sales" AS t1 WHERE t1."CustomerID" = t9."ID"',
                'SELECT SUM(x.v) AS v FROM (SELECT 1 AS v) AS x',
                'SELECT 1 AS v FROM "Sales" AS t1'):
        assert leaf_plan(sqlglot.parse_one(sql)) is None


def test_expression_text_is_that_of_the_parenthesized_tree():
    a, b, c = (exp.column(n) for n in "abc")
    left = exp.Div(this=exp.Add(this=a.copy(), expression=b.copy()), expression=c.copy())  # (a + b) / c
    right = exp.Add(this=a.copy(), expression=exp.Div(this=b.copy(), expression=c.copy()))  # a + b / c
    assert left.sql() == right.sql()  # sqlglot prints both as built: "a + b / c"
    assert SqlExpr.of(left) != SqlExpr.of(right)
    assert SqlExpr.of(left).sql == parenthesize(left.copy()).sql("duckdb")


# ---------------------------------------------------------------- passes


def test_distinct_count_of_a_key_becomes_a_count():
    leaf = Aggregate(SALES, (e(FK),), (e(f"COUNT(DISTINCT {FK})"), e('SUM(s_a0."Amount")')))
    (out,) = distinct_keys.simplify((leaf,), OptimizeContext())
    assert out == Aggregate(SALES, (e(FK),), (e(f"CAST(CASE WHEN COUNT({FK}) > 0 THEN 1 ELSE 0 END AS BIGINT)"),
                                               e('SUM(s_a0."Amount")')))
    total = Aggregate(SALES, (), (e(f"COUNT(DISTINCT {FK})"),))  # not a key: unchanged
    assert distinct_keys.simplify((total,), OptimizeContext()) == (total,)


def test_eager_aggregation_groups_the_fact_by_its_key_first():
    leaf = Aggregate(Filter(JOINED, e('s_a0."Qty" > 1 AND s_a1."City" <> \'Rome\'')), (e('s_a1."City"'),),
                     (e('SUM(s_a0."Amount")'),))
    (out,) = eager_aggregation.lift((leaf,), OptimizeContext(UNIQUE))
    spec = (("s_a1", ("Customer", FK, "ID")),)
    assert out == EagerAggregate(leaf, Filter(SALES, e('s_a0."Qty" > 1')), (e(FK),),
                                 (DimValue(e('s_a1."City"'), spec),), (DimValue(e('s_a1."City" <> \'Rome\''), spec),))
    # a key not known to be unique could duplicate fact rows: not lifted
    (kept,) = eager_aggregation.lift((leaf,), OptimizeContext(frozenset()))
    assert kept == EagerAggregate(leaf, leaf.input, leaf.keys, (None,))


def test_scan_sharing_reaggregates_one_pre_aggregation():
    per_customer = Aggregate(SALES, (e(FK),), (e('SUM(s_a0."Amount")'),))
    total = Aggregate(SALES, (), (e("COUNT(*)"), e(f"COUNT(DISTINCT {FK})")))
    leaves = eager_aggregation.lift((per_customer, total), OptimizeContext())
    a, b = scan_sharing.share(leaves, OptimizeContext())
    pre = PreAggregate("__scan1", SALES, (e(FK),), (e('SUM(s_a0."Amount")'), e("COUNT(*)")))
    # grouped by all the pre-aggregation's keys: its rows as they are
    assert a == Project(pre, (e("s_a0.g0"),), (e("s_a0.a0"),))
    # COUNT(*) is the sum of the counts; one key: a distinct count of it is a count
    assert b == Aggregate(pre, (), (e("CAST(COALESCE(SUM(s_a0.a1), 0) AS BIGINT)"), e("COUNT(s_a0.g0)")))


def test_scan_sharing_leaves_other_aggregates_alone():
    avg = Aggregate(SALES, (), (e('AVG(s_a0."Amount")'),))
    per_customer = Aggregate(SALES, (e(FK),), (e('SUM(s_a0."Amount")'),))
    out = optimize((avg, per_customer), OptimizeContext())
    assert out == (avg, per_customer)  # AVG cannot be rolled up: nothing left to share with


def test_equal_plans_become_one_node():
    a = Aggregate(SALES, (), (e("COUNT(*)"),))
    b = Aggregate(Scan("Sales"), (), (e("COUNT(*)"),))
    x, y = reuse.intern((a, b), OptimizeContext())
    assert x is y is a


def test_rules_run_in_their_listed_order():
    assert RULES == (distinct_keys.simplify, eager_aggregation.lift, scan_sharing.share, reuse.intern)


# ---------------------------------------------------------------- rendering, run in DuckDB


def _con():
    con = duckdb.connect()
    con.execute('CREATE TABLE "Sales" ("CustomerID" INTEGER, "Amount" INTEGER, "Qty" INTEGER)')
    con.execute('INSERT INTO "Sales" VALUES (1, 10, 2), (1, 20, 1), (2, 30, 5), (3, 40, 1), (9, 5, 1)')
    con.execute('CREATE TABLE "Customer" ("ID" INTEGER, "City" VARCHAR)')
    con.execute("INSERT INTO \"Customer\" VALUES (1, 'Oslo'), (2, 'Oslo'), (3, 'Rome')")
    return con


def _placeholder(entry: LeafEntry, alias: str) -> exp.Table:
    t = exp.Table(this=exp.to_identifier(LEAF_TABLE), alias=exp.TableAlias(this=exp.to_identifier(alias)))
    t.meta["leaf"] = entry
    return t


def test_rendered_leaves_give_the_hand_worked_rows():
    by_city = LeafEntry(Aggregate(JOINED, (e('s_a1."City"'),), (e('SUM(s_a0."Amount")'),
                                                                 e(f"COUNT(DISTINCT {FK})"))))
    total = LeafEntry(Aggregate(SALES, (), (e("COUNT(*)"),)))
    tree = exp.select("c.k0", "c.v0", "c.v1", "t.v0").from_(_placeholder(by_city, "c")).join(
        _placeholder(total, "t"), join_type="CROSS")
    tables = placeholders(tree)
    entries = [by_city, total]
    final = optimize(tuple(x.plan for x in entries), OptimizeContext(UNIQUE))
    assert any(isinstance(n, (Aggregate, Project)) and isinstance(n.input, PreAggregate) for n in final)
    assert render_leaves(tree, tables, dict(zip(entries, final))) == []
    sql = parenthesize(tree).sql("duckdb")
    assert sql.startswith("WITH __scan1 AS MATERIALIZED") and sql.count('FROM "Sales"') == 1
    rows = sorted(_con().execute(sql).fetchall(), key=repr)
    # Oslo: 10 + 20 + 30 from customers 1 and 2; Rome: 40 from 3; BLANK city: the orphan's 5;
    # every row sees the 5 orders
    assert rows == sorted([("Oslo", 60, 2, 5), ("Rome", 40, 1, 5), (None, 5, 1, 5)], key=repr)


def test_a_plan_read_twice_is_computed_once():
    leaf = Aggregate(Filter(SALES, e('s_a0."Qty" = 1')), (), (e('SUM(s_a0."Amount")'),))
    one, two = LeafEntry(leaf), LeafEntry(Aggregate(Filter(SALES, e('s_a0."Qty" = 1')), (), (e('SUM(s_a0."Amount")'),)))
    tree = exp.select("a.v0", "b.v0").from_(_placeholder(one, "a")).join(_placeholder(two, "b"), join_type="CROSS")
    tables = placeholders(tree)
    final = optimize((one.plan, two.plan), OptimizeContext())
    render_leaves(tree, tables, dict(zip([one, two], final)))
    sql = parenthesize(tree).sql("duckdb")
    assert sql.count('FROM "Sales"') == 1 and "__leaf1" in sql
    assert _con().execute(sql).fetchall() == [(20 + 40 + 5, 20 + 40 + 5)]  # orders with Qty 1


def test_select_of_a_plain_aggregate():
    leaf = Aggregate(JOINED, (e('s_a1."City"'),), (e('SUM(s_a0."Amount")'),))
    rows = sorted(_con().execute(parenthesize(select_of(leaf)).sql("duckdb")).fetchall(), key=repr)
    assert rows == sorted([("Oslo", 60), ("Rome", 40), (None, 5)], key=repr)


def test_a_leaf_over_other_leaves_reads_their_optimized_plans():
    # a nested cell scope: the customers with orders (the domain) joined to their sales,
    # counted where the sales exceed 25: customers 1 (10 + 20), 2 (30) and 3 (40); not 9 (5)
    from generator.engine.plan import LeafRef

    domain = LeafEntry(Aggregate(SALES, (e(FK),), (e("COUNT(*)"),)))
    sales = LeafEntry(Aggregate(SALES, (e(FK),), (e('SUM(s_a0."Amount")'),)))
    rows = Join(LeafRef(domain), LeafRef(sales), e("s_a0.k0 IS NOT DISTINCT FROM s_a1.k0"), "LEFT")
    outer = LeafEntry(Aggregate(Filter(rows, e("s_a1.v0 > 25")), (), (e("COUNT(*)"),)))
    assert LeafRef(domain) == LeafRef(domain) and LeafRef(domain) != LeafRef(sales)  # by identity
    tree = exp.select("x.v0").from_(_placeholder(outer, "x"))
    entries = [outer, domain, sales]
    final = optimize(tuple(x.plan for x in entries), OptimizeContext())
    assert final[0] == outer.plan  # read by no one else: as it was
    assert isinstance(final[1].input, PreAggregate) and final[1].input is final[2].input  # one scan for both
    render_leaves(tree, placeholders(tree), dict(zip(entries, final)))
    sql = parenthesize(tree).sql("duckdb")
    assert sql.count('FROM "Sales"') == 1
    assert _con().execute(sql).fetchall() == [(3,)]


def test_a_cross_join_of_leaves_is_a_plan():
    # keyless leaves are cross-joined to their cell: the one count of the 5 orders
    sel = sqlglot.parse_one("SELECT SUM(q1.v0) AS v FROM __leaf AS q1 CROSS JOIN __leaf AS q2 WHERE q2.v0 > 0")
    inner = LeafEntry(Aggregate(SALES, (), (e("COUNT(*)"),)))
    for t in sel.find_all(exp.Table):
        t.meta["leaf"] = inner
    plan = leaf_plan(sel)
    assert isinstance(plan.input, Filter) and plan.input.input.kind == "CROSS" and plan.input.input.on is None
    outer = LeafEntry(plan)
    tree = exp.select("x.v0").from_(_placeholder(outer, "x"))
    final = optimize((outer.plan, inner.plan), OptimizeContext())
    render_leaves(tree, placeholders(tree), dict(zip([outer, inner], final)))
    sql = parenthesize(tree).sql("duckdb")
    assert "__leaf1 AS MATERIALIZED" in sql and sql.count('FROM "Sales"') == 1  # read twice, computed once
    assert _con().execute(sql).fetchall() == [(5,)]
