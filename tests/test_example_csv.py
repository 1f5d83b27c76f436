"""The CSV-sourced example: a user's own file as a table; it builds and its measures evaluate.

Expected values are computed independently with DuckDB SQL straight from the CSV file.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from generator.cli import main
from generator.engine import Engine

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "customer_csv"
CSV = EXAMPLE / "data" / "customer_segmentation_data.csv"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("csv") / "powerbi"
    assert main(["build", "--project", str(EXAMPLE), "--out", str(out), "--no-tom"]) == 0
    return out


@pytest.fixture(scope="module")
def expected() -> dict[str, tuple]:
    rows = duckdb.connect().execute(f"""
        WITH t AS (SELECT * FROM read_csv_auto('{CSV}')),
             s AS (SELECT avg(income) AS ai, avg(spending_score) AS ascore FROM t)
        SELECT gender, count(*), avg((income >= ai AND spending_score >= ascore)::INT),
               sum(purchase_frequency * last_purchase_amount)
        FROM t, s GROUP BY gender""").fetchall()
    return {g: (n, share, spend) for g, n, share, spend in rows}


def test_the_csv_table_reaches_parquet_with_the_declared_types(built):
    import pyarrow.parquet as pq

    schema = pq.read_schema(built / "data" / "Customers.parquet")
    assert [f.name for f in schema] == ["id", "age", "gender", "income", "spending_score", "membership_years",
                                       "purchase_frequency", "preferred_category", "last_purchase_amount"]
    assert str(schema.field("id").type) == "int64" and str(schema.field("gender").type) == "string"


def test_measures_evaluate_per_gender(built, expected):
    engine = Engine.open(EXAMPLE, out=built)
    df = engine.query('EVALUATE SUMMARIZECOLUMNS(Customers[gender], "n", [Customer Count], '
                      '"vip", [V.I.P. Share], "spend", [Estimated Annual Spend])')
    got = {row[0]: tuple(row[1:]) for row in df.itertuples(index=False)}
    assert set(got) == set(expected)
    for gender, (n, share, spend) in expected.items():
        assert got[gender][0] == n
        assert got[gender][1] == pytest.approx(share, abs=1e-12)
        assert float(got[gender][2]) == pytest.approx(spend, abs=0.005)
