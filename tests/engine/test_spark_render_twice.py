"""The Spark renderer leaves the tree it is given as it was: rendering one tree twice gives
the same Spark SQL, and the tree still prints the same DuckDB SQL afterwards. No Spark
needed: this checks the rendered text.

Why it matters: the renderer rewrites nodes bottom-up (DuckDB's IEEE `/`, rounding casts,
one-row wrappers, range(), unnest inside a CAST, intervals, …). It used to do so in the
caller's tree, so a second render saw Spark's own functions (sequence, raise_error,
timestampadd) as unknown DuckDB functions and refused them, or rewrote a rewritten
division again (a longer, different SQL). The runtime may render a tree more than once
(Engine.sql for reading, then the same compiled tree run; a retried batch)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot import exp, parse_one

from generator.engine.render import renderer
from generator.engine.sql import parenthesize

REPO = Path(__file__).resolve().parents[2]

# DuckDB SQL of the shapes each Spark rewrite handles (render/spark.py `_NODES`)
SHAPES = {
    "ieee division": "SELECT t.x / t.y AS q FROM t",
    "rounding cast": "SELECT CAST(t.x * 1.5 AS BIGINT) AS n FROM t",
    "unknown-kind cast": "SELECT CAST(t.v AS BIGINT) AS n FROM t",
    "one-row wrapper": "SELECT w.a + w.b AS s FROM (SELECT 1 AS a, (SELECT MAX(t.x) FROM t) AS b) AS w",
    "scalar subquery": "SELECT (SELECT 2) AS c",
    "range table": "SELECT r.range FROM range(0, (SELECT COUNT(*) FROM t)) AS r",
    "unnest in a cast": "SELECT CAST(UNNEST(generate_series(1, 3)) AS DOUBLE) AS d",
    "list index": "SELECT [1, 2, 3][2] AS i",
    "date + interval": "SELECT CAST(t.d AS DATE) + to_days(3) AS d2 FROM t",
    "average": "SELECT AVG(t.x) AS a FROM t",
    "materialized cte": "WITH c AS MATERIALIZED (SELECT t.x FROM t) SELECT c.x FROM c",
    "temporary view": "CREATE VIEW v AS SELECT t.x / 2 AS h FROM t",
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_rendering_a_tree_twice_gives_the_same_spark_sql(name):
    tree = parenthesize(parse_one(SHAPES[name], read="duckdb"))
    before = tree.sql("duckdb")
    spark = renderer("spark")
    first = spark.render(tree)
    assert spark.render(tree) == first
    assert tree.sql("duckdb") == before  # the caller's tree is untouched
    assert first == renderer("spark").render(parenthesize(parse_one(SHAPES[name], read="duckdb")))


def test_the_compiled_shipped_queries_render_twice_alike():
    """Compiled trees, not hand-written ones: DIVIDE, INT, `/` by zero, a measure,
    GENERATESERIES (range + explode) and DATEADD on the shipped model."""
    from generator.engine.runtime.engine import Engine

    if not (REPO / "powerbi" / "data").is_dir():
        pytest.skip("powerbi/data is missing: run `python build.py` first")
    engine = Engine.open(REPO)
    spark = renderer("spark")
    queries = ['EVALUATE ROW("a", DIVIDE(1, 3), "b", INT(2.5) / 0)',
               'EVALUATE GENERATESERIES(1, 5)',
               'EVALUATE ROW("c", [Total Revenue] / 7)',
               "EVALUATE DATEADD(Dim_Date[Date], 1, MONTH)"]
    for dax in queries:
        for compiled in engine.compile(dax):
            tree = parenthesize(compiled.sql)
            before = tree.sql("duckdb")
            first = spark.render(tree)
            assert spark.render(tree) == first, dax
            assert tree.sql("duckdb") == before, dax
