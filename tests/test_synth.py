"""Stage synth: deterministic, keyed, realistic data (checked with DuckDB, independently of the generator)."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from generator.spec import load_project
from generator.synth import generate, write_parquet
from generator.synth.random import choice, uniform

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def data() -> dict[str, pa.Table]:
    return generate(load_project(REPO), rows=60_000, seed=42)


@pytest.fixture(scope="module")
def con(data) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for name, table in data.items():
        c.register(name, table)
    return c


def _parquet_bytes(table: pa.Table, tmp_path: Path, name: str) -> bytes:
    path = tmp_path / name
    write_parquet(table, path)
    return path.read_bytes()


def test_same_seed_gives_byte_identical_parquet(data, tmp_path):
    again = generate(load_project(REPO), rows=60_000, seed=42)
    for name in data:
        assert _parquet_bytes(data[name], tmp_path, "a") == _parquet_bytes(again[name], tmp_path, "b"), name


def test_streams_are_keyed_by_column_not_call_order():
    a = uniform(1, "orders", "date", 5)
    uniform(1, "orders", "something else", 1000)
    assert list(uniform(1, "orders", "date", 5)) == list(a)
    assert list(uniform(1, "orders", "discount", 5)) != list(a)


def test_choice_follows_weights():
    u = uniform(3, "t", "c", 200_000)
    picks = choice(u, [1, 3])
    assert abs((picks == 1).mean() - 0.75) < 0.01


def test_row_counts_and_shapes(data):
    assert data["Fact_Orders"].num_rows == 60_000
    assert data["Dim_Customer"].num_rows == 7_500  # orders / 8
    assert data["Dim_Date"].num_rows == 1_461  # 2021-01-01 .. 2024-12-31
    assert data["Fact_Orders"].schema.field("Order_Date").type == pa.date32()


def test_calendar_is_continuous_and_covers_every_order(con):
    lo, hi, n, gaps = con.execute("""
        WITH d AS (SELECT Date, Date - lag(Date) OVER (ORDER BY Date) AS step FROM Dim_Date)
        SELECT min(Date), max(Date), count(*), count(*) FILTER (WHERE step <> 1) FROM d""").fetchone()
    assert (str(lo), str(hi), n, gaps) == ("2021-01-01", "2024-12-31", 1461, 0)
    assert con.execute("SELECT count(*) FROM Fact_Orders WHERE Order_Date NOT IN (SELECT Date FROM Dim_Date)"
                   ).fetchone()[0] == 0


def test_iso_week_matches_duckdb(con):
    assert con.execute("SELECT count(*) FROM Dim_Date WHERE Week <> weekofyear(Date)").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM Dim_Date WHERE Weekday <> dayname(Date)").fetchone()[0] == 0


def test_no_order_before_its_customers_signup(con):
    assert con.execute("""SELECT count(*) FROM Fact_Orders f JOIN Dim_Customer c USING (Customer_ID)
                      WHERE f.Order_Date < c.Signup_Date""").fetchone()[0] == 0


def test_every_foreign_key_has_a_dimension_row(con):
    for fk, dim in [("Customer_ID", "Dim_Customer"), ("Product_ID", "Dim_Product"), ("Channel_ID", "Dim_Channel")]:
        assert con.execute(f"SELECT count(*) FROM Fact_Orders WHERE {fk} NOT IN (SELECT {fk} FROM {dim})").fetchone()[0] == 0


def test_spend_is_concentrated_and_repeat_behaviour_is_mixed(con):
    top20, one_time, six_plus = con.execute("""
        WITH per AS (SELECT Customer_ID, count(*) n, sum(Revenue) r FROM Fact_Orders GROUP BY 1),
        ranked AS (SELECT r, row_number() OVER (ORDER BY r DESC) rk, count(*) OVER () total FROM per)
        SELECT (SELECT sum(r) FROM ranked WHERE rk <= total / 5) / (SELECT sum(r) FROM per),
               avg((n = 1)::INT), avg((n >= 6)::INT) FROM per""").fetchone()
    assert top20 > 0.5, "the top 20% of customers should hold most revenue"
    assert one_time > 0.05 and six_plus > 0.2


def test_prime_is_about_35_percent_and_orders_more(con):
    share = con.execute("SELECT avg((Segment = 'Prime')::INT) FROM Dim_Customer").fetchone()[0]
    assert 0.32 < share < 0.38
    prime, non_prime = (con.execute("""
        SELECT avg(n) FROM (SELECT c.Segment, count(*) n FROM Fact_Orders f JOIN Dim_Customer c USING (Customer_ID)
        GROUP BY c.Segment, f.Customer_ID) GROUP BY Segment ORDER BY Segment DESC""").fetchall())
    assert prime[0] > 1.3 * non_prime[0]


def test_countries_are_many_and_uneven(con):
    counts = [n for _, n in con.execute("SELECT Country, count(*) FROM Dim_Customer GROUP BY 1 ORDER BY 2 DESC").fetchall()]
    assert len(counts) >= 10 and counts[0] > 5 * counts[-1]


def test_november_and_december_are_the_peak_months(con):
    months = [m for m, _ in con.execute("SELECT month(Order_Date) m, count(*) c FROM Fact_Orders GROUP BY 1 "
                                    "ORDER BY c DESC").fetchall()]
    assert set(months[:2]) == {11, 12}


def test_revenue_is_quantity_times_price_after_discount_rounded_half_up(con):
    # Exact decimal arithmetic in DuckDB, independent of the generator's integer-cents code.
    assert con.execute("""SELECT count(*) FROM Fact_Orders
        WHERE Revenue::DECIMAL(18, 2) <> round(Quantity * Unit_Price::DECIMAL(18, 2)
                                               * (1 - Discount::DECIMAL(18, 4)), 2)""").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM Fact_Orders WHERE Discount > 0").fetchone()[0] > 0


def test_csv_source_is_read_and_cast_to_declared_types(project):
    csv = project / "semantic" / "channels.csv"
    csv.write_text("Channel_ID,Channel_Name\n1,Web\n2,Store\n")
    t = project / "semantic" / "tables" / "Dim_Channel.yaml"
    text = t.read_text()
    start, end = text.index("source:"), text.index("columns:")
    t.write_text(text[:start] + "source:\n  csv: ../channels.csv\n" + text[end:])
    data = generate(load_project(project), rows=2_000, seed=1)
    assert data["Dim_Channel"].to_pylist() == [{"Channel_ID": 1, "Channel_Name": "Web"},
                                               {"Channel_ID": 2, "Channel_Name": "Store"}]


def test_demographics_are_in_range_and_balanced(con):
    lo, hi, kids_lo, kids_hi, score_lo, score_hi = con.execute("""
        SELECT min(Age), max(Age), min(Children), max(Children), min(Spending_Score), max(Spending_Score)
        FROM Dim_Customer""").fetchone()
    assert (lo, hi, kids_lo, kids_hi, score_lo, score_hi) == (18, 75, 0, 5, 1, 100)
    for column, values in [("Gender", {"Female", "Male", "Other"}),
                           ("Preferred_Category", {"Clothing", "Groceries", "Electronics"})]:
        shares = dict(con.execute(f"SELECT {column}, count(*) / sum(count(*)) OVER () FROM Dim_Customer "
                                  "GROUP BY 1").fetchall())
        assert set(shares) == values and all(0.30 < v < 0.37 for v in shares.values()), shares
    # Age agrees with the birth date on the last day of the data (2024-12-31).
    assert con.execute("SELECT count(*) FROM Dim_Customer WHERE Age <> date_sub('year', Birth_Date, "
                       "DATE '2024-12-31')").fetchone()[0] == 0


def test_discount_usage_and_sessions(con):
    used, sessions = con.execute("SELECT avg(Discount_Used::INT), avg(Sessions) FROM Fact_Orders").fetchone()
    assert 0.35 < used < 0.45 and 2.8 < sessions < 3.2
    assert con.execute("SELECT count(*) FROM Fact_Orders WHERE Discount_Used <> (Discount > 0)").fetchone()[0] == 0
