"""Stage synth, streamed: chunk-size independence, fixed row groups, bounded memory.

The expected values are independent of the generator: byte equality between runs with
different chunk sizes, the row-group layout read back from the Parquet metadata, the
ordering and sign-up rules checked in DuckDB, the random streams against numpy's own
unadvanced draws, and memory measured in a child process.
"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from generator.spec import load_project
from generator.synth import generate, generate_files, write_parquet
from generator.synth.random import normal, normal_at, uniform, uniform_at
from generator.synth.sink import ParquetSink

REPO = Path(__file__).resolve().parents[1]
ROWS = 80_000


@pytest.fixture(scope="module")
def model():
    return load_project(REPO)


@pytest.fixture(scope="module")
def files(model, tmp_path_factory) -> dict[str, Path]:
    return generate_files(model, tmp_path_factory.mktemp("default"), rows=ROWS, seed=42)


def test_row_indexed_streams_equal_the_slice_of_the_whole_stream():
    whole = uniform(7, "orders", "customer", 10_000)
    assert np.array_equal(uniform_at(7, "orders", "customer", 3_333, 2_000), whole[3_333:5_333])
    assert np.array_equal(normal_at(7, "t", "c", 500, 100), normal(7, "t", "c", 600)[500:])


@pytest.mark.parametrize("chunk_rows", [997, 20_000])
def test_bytes_do_not_depend_on_the_chunk_size(model, files, tmp_path, chunk_rows):
    other = generate_files(model, tmp_path, rows=ROWS, seed=42, chunk_rows=chunk_rows)
    assert sorted(other) == sorted(files)
    for name, path in files.items():
        assert other[name].read_bytes() == path.read_bytes(), name


def test_streamed_files_equal_the_in_memory_tables_written_whole(model, files, tmp_path):
    data = generate(model, rows=ROWS, seed=42, chunk_rows=5_000)
    for name, table in data.items():
        write_parquet(table, tmp_path / "t.parquet")
        assert (tmp_path / "t.parquet").read_bytes() == files[name].read_bytes(), name


def test_another_seed_gives_other_orders(model, files, tmp_path):
    other = generate_files(model, tmp_path, rows=ROWS, seed=43)
    assert other["Fact_Orders"].read_bytes() != files["Fact_Orders"].read_bytes()


def test_sink_cuts_fixed_row_groups_whatever_the_chunks(tmp_path):
    table = pa.table({"a": np.arange(2_500, dtype=np.int64), "b": np.arange(2_500) % 7 == 0})
    layouts = []
    for i, sizes in enumerate([[2_500], [1, 999, 1_500], [700] * 3 + [400]]):
        path = tmp_path / f"{i}.parquet"
        with ParquetSink(path, table.schema, row_group=1_000) as sink:
            start = 0
            for n in sizes:
                sink.write(table.slice(start, n))
                start += n
        meta = pq.read_metadata(path)
        layouts.append([meta.row_group(g).num_rows for g in range(meta.num_row_groups)])
        assert pq.read_table(path).equals(table)
        assert path.read_bytes() == (tmp_path / "0.parquet").read_bytes()
    assert layouts == [[1_000, 1_000, 500]] * 3


def test_sink_refuses_a_chunk_of_another_schema(tmp_path):
    with pytest.raises(ValueError, match="differs"):
        with ParquetSink(tmp_path / "x.parquet", pa.schema([("a", pa.int64())])) as sink:
            sink.write(pa.table({"a": pa.array([1.5])}))


@pytest.fixture(scope="module")
def con(files) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for name, path in files.items():
        c.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    return c


def test_orders_are_numbered_by_date_then_customer(con):
    # "Order number, in date order" (semantic/tables/Fact_Orders.yaml); ties by customer
    n, ids, out_of_order = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE Order_ID = rn),
               count(*) FILTER (WHERE Order_Date < prev_date OR (Order_Date = prev_date AND Customer_ID < prev_cust))
        FROM (SELECT *, row_number() OVER (ORDER BY Order_ID) rn, lag(Order_Date) OVER (ORDER BY Order_ID) prev_date,
                        lag(Customer_ID) OVER (ORDER BY Order_ID) prev_cust FROM Fact_Orders)""").fetchone()
    assert (n, ids, out_of_order) == (ROWS, ROWS, 0)


def test_customer_ids_are_in_signup_order_and_precede_their_orders(con):
    assert con.execute("""SELECT count(*) FROM (SELECT Signup_Date, lag(Signup_Date) OVER (ORDER BY Customer_ID) p
                          FROM Dim_Customer) WHERE Signup_Date < p""").fetchone()[0] == 0
    assert con.execute("""SELECT count(*) FROM Fact_Orders f JOIN Dim_Customer c USING (Customer_ID)
                          WHERE f.Order_Date < c.Signup_Date""").fetchone()[0] == 0


def test_signups_are_skewed_early(con):
    # offset = u^1.6 x range for u uniform: P(offset < range / 2) = P(u < 0.5^(1/1.6)) = 64.8%
    # of the sign-ups fall in the first half of [start - 365 days, end - 60 days]
    lo, hi = dt.date(2020, 1, 2), dt.date(2024, 11, 1)  # 2021-01-01 - 365 days, 2024-12-31 - 60 days
    half = dt.date.fromordinal(lo.toordinal() + ((hi - lo).days + 1) // 2)
    share = con.execute(f"SELECT avg((Signup_Date < DATE '{half}')::INT) FROM Dim_Customer").fetchone()[0]
    assert abs(share - 0.5 ** (1 / 1.6)) < 0.01


CHILD = """
import json, sys, tracemalloc
from pathlib import Path
import pyarrow as pa
from generator.spec import load_project
from generator.synth import generate_files
tracemalloc.start()
generate_files(load_project(Path(sys.argv[1])), Path(sys.argv[2]), rows=int(sys.argv[3]), seed=42,
               chunk_rows=int(sys.argv[4]))
print(json.dumps({"numpy": tracemalloc.get_traced_memory()[1], "arrow": pa.default_memory_pool().max_memory()}))
"""


def _peak(tmp: Path, rows: int) -> dict[str, int]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(REPO), str(tmp), str(rows), "100000"],
                         cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_memory_is_bounded_by_the_chunk_not_the_row_count(tmp_path):
    """Tripling the orders (1.5M -> 4.5M, chunks of 100k) barely moves the peak numpy
    (tracemalloc) and Arrow (memory pool) bytes, where holding the fact table would add
    3M rows x 11 columns x 8 B = 264 MB; what does grow is 8 B per customer (375k more)."""
    small, large = _peak(tmp_path / "s", 1_500_000), _peak(tmp_path / "l", 4_500_000)
    extra_table = 3_000_000 * 11 * 8
    for kind in ("numpy", "arrow"):
        assert large[kind] - small[kind] < extra_table / 5, (kind, small, large)
    assert pq.read_metadata(tmp_path / "l" / "Fact_Orders.parquet").num_rows == 4_500_000


def test_integrity_is_checked_over_the_streamed_files(model, files, tmp_path):
    """Power BI refuses a duplicate on the one side of a relationship; the build checks
    the files it streamed, not tables in memory."""
    from generator.validate.integrity import integrity_problems

    assert integrity_problems(model, files) == []
    bad = tmp_path / "Dim_Channel.parquet"
    write_parquet(pa.table({"Channel_ID": pa.array([1, 2, 2], pa.int64()),
                            "Channel_Name": ["Online", "Mobile App", "In-Store"]}), bad)
    problems = integrity_problems(model, {**files, "Dim_Channel": bad})
    assert len(problems) == 1 and "Channel_ID" in problems[0].message and "duplicate" in problems[0].message
