"""Benchmark: the engine's fixed costs, against plain DuckDB in the same run.

1. Result conversion: a 1M-row Arrow result with BLANKs in every column (int, double,
   decimal, text, date) → DataFrame, column-wise (`generator.engine.runtime.results`) vs the
   per-value reference (`to_pylist()` and one Python step per value).
2. Fixed cost of a query: `EVALUATE ROW("r", [Total Revenue])` end to end on the shipped
   project (parse, compile, render, execute, convert; no scan cache, as `build.py query`
   runs it) vs executing the very SQL it generates on the same connection. Median of N.

    python benchmarks/query_overhead.py [--runs 200] [--rows 1000000]

Needs `python build.py` first (powerbi/data/). Numbers vary with machine load: compare
the two columns of one run, not runs on different days.
"""
from __future__ import annotations

import argparse
import decimal
import statistics
import sys
import time
import warnings
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.engine import Engine  # noqa: E402
from generator.engine.runtime.results import _NATIVE, to_frame  # noqa: E402
from generator.engine.types import DaxType  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

CONVERSION_SQL = """SELECT
    CASE WHEN i % 10 = 0 THEN NULL ELSE i END AS n,
    CASE WHEN i % 10 = 1 THEN NULL ELSE i / 7 END AS d,
    CASE WHEN i % 10 = 2 THEN NULL ELSE (i / 3)::DECIMAL(18,4) END AS c,
    CASE WHEN i % 10 = 3 THEN NULL ELSE 'customer ' || (i % 5000) END AS s,
    CASE WHEN i % 10 = 4 THEN NULL ELSE DATE '2020-01-01' + (i % 1500)::INT END AS t
FROM range({rows}) r(i)"""
TYPES = (DaxType.INT, DaxType.DOUBLE, DaxType.CURRENCY, DaxType.TEXT, DaxType.DATETIME)


def per_value(table, names, types) -> pd.DataFrame:
    """The reference: one Python step per value (what the engine did before)."""
    data = {}
    for i, t in enumerate(types):
        values = [float(v) if isinstance(v, decimal.Decimal) else v for v in table.column(i).to_pylist()]
        blank = any(v is None for v in values)
        data[names[i]] = pd.Series(values, dtype="object" if blank or t not in _NATIVE else _NATIVE[t])
    return pd.DataFrame(data)


def best_of(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def conversion(rows: int) -> None:
    table = duckdb.connect().sql(CONVERSION_SQL.format(rows=rows)).to_arrow_table()
    names = tuple(table.column_names)
    new = to_frame(table, names, TYPES)
    old = per_value(table, names, TYPES)
    assert new.astype(str).equals(old.astype(str)), "column-wise and per-value results differ"
    t_new, t_old = best_of(lambda: to_frame(table, names, TYPES), 3), best_of(lambda: per_value(table, names, TYPES), 3)
    print(f"conversion of {rows:,} rows x {len(names)} columns (20% BLANK in each): "
          f"per-value {t_old * 1000:.0f} ms, column-wise {t_new * 1000:.0f} ms ({t_old / t_new:.1f}x)")


def fixed_cost(runs: int) -> None:
    engine = Engine.open(REPO)
    engine.scan_cache = None
    dax = 'EVALUATE ROW("r", [Total Revenue])'
    engine.query(dax)
    sql = engine.last_sql
    con = engine.con

    def plain():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            con.execute(sql).to_arrow_table()

    for _ in range(20):  # warm both paths
        plain()
        engine.query(dax)
    for clock in (time.process_time, time.perf_counter):
        # interleaved, so a change of machine load hits both alike; CPU time (process_time)
        # is the steadier figure on a shared machine
        t_sql, t_engine = [], []
        for _ in range(runs):
            start = clock()
            plain()
            t_sql.append(clock() - start)
            start = clock()
            engine.query(dax)
            t_engine.append(clock() - start)
        a, b = statistics.median(t_engine), statistics.median(t_sql)
        print(f"{dax} [{clock.__name__}]: end to end {a * 1000:.2f} ms, its SQL alone {b * 1000:.2f} ms, "
              f"overhead {(a - b) * 1000:.2f} ms (median of {runs})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--skip-conversion", action="store_true")
    args = ap.parse_args()
    if not args.skip_conversion:
        conversion(args.rows)
    fixed_cost(args.runs)


if __name__ == "__main__":
    main()
