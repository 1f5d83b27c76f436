"""Benchmark: every Customer Snapshot visual through the DAX engine, against a hand-written
DuckDB query computing the same numbers and against pandas, in the same run.

End to end for the engine means DAX text → parse → compile → one SQL statement → result
DataFrame. Each visual is timed as a query on its own, the way `build.py query` runs one
(no cache). The whole page is then timed the way Power BI renders it: every visual's query
in turn on one engine, whose cache of pre-aggregations (shared_scans.ScanCache) starts
empty. The hand-written SQL runs on its own DuckDB connection over the same Parquet
files (no caching between the two). pandas works on DataFrames read once up front (the
read time is printed separately). Results of the engine and of the hand-written SQL are
compared, so the baseline is known to compute the same numbers.

Goal (issue 4): every visual within 1.3x of hand-written SQL; the whole page on 10M orders
under 2 s on a 2-core machine.

    python benchmarks/engine.py [--sizes 1000000 10000000] [--data-root DIR] [--write-docs]
"""
from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.engine import Engine  # noqa: E402
from generator.engine.shared_scans import ScanCache  # noqa: E402
from generator.engine.visuals import visual_query  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PAGE = "Customer Snapshot"

# --------------------------------------------------------------------------- hand-written SQL

F, C, D = "Fact_Orders", "Dim_Customer", "Dim_Date"
PER_CUST = f"SELECT Customer_ID, count(*) AS n, sum(Revenue) AS rev FROM {F} GROUP BY 1"
REPEAT = f"SELECT count(*) FILTER (WHERE n > 1)::DOUBLE / count(*) FROM ({PER_CUST})"

HAND: dict[str, str] = {
    "kpi_total_customers": f"SELECT count(DISTINCT Customer_ID) FROM {F}",
    "kpi_total_orders": f"SELECT count(*) FROM {F}",
    "kpi_total_revenue": f"SELECT sum(Revenue) FROM {F}",
    "kpi_aov": f"SELECT round(sum(Revenue) / count(*), 4) FROM {F}",
    "kpi_clv": f"SELECT avg(rev) FROM ({PER_CUST})",
    "kpi_repeat_rate": REPEAT,
    "slicer_date": f"SELECT DISTINCT Date FROM {D} ORDER BY 1",
    "slicer_segment": f"SELECT DISTINCT Segment FROM {C} ORDER BY 1",
    "slicer_country": f"SELECT DISTINCT Country FROM {C} ORDER BY 1",
    "gauge_repeat_rate": f"SELECT ({REPEAT}), 0.4",
    "customers_by_band": f"""
        SELECT b.Band, count(*) FROM ({PER_CUST}) p
        JOIN Order_Frequency_Band b ON p.n BETWEEN b.Min_Orders AND b.Max_Orders
        GROUP BY 1 ORDER BY 1""",
    "orders_vs_revenue": f"""
        SELECT f.Customer_ID, c.Segment, count(*)::DOUBLE, round(sum(f.Revenue), 4)
        FROM {F} f LEFT JOIN {C} c ON f.Customer_ID = c.Customer_ID GROUP BY ALL ORDER BY 1, 2""",
    "segment_by_country": f"""
        WITH p AS (SELECT c.Segment, c.Country, f.Customer_ID, count(*) AS n, sum(f.Revenue) AS rev
                   FROM {F} f LEFT JOIN {C} c ON f.Customer_ID = c.Customer_ID GROUP BY ALL)
        SELECT Segment, Country, count(*), sum(rev), round(sum(rev) / sum(n), 4),
               count(*) FILTER (WHERE n > 1)::DOUBLE / count(*)
        FROM p GROUP BY GROUPING SETS ((Segment, Country), (Segment), (Country), ()) ORDER BY 1, 2""",
    "customers_by_segment": f"""
        WITH s AS (SELECT c.Segment, count(DISTINCT f.Customer_ID) AS n
                   FROM {F} f LEFT JOIN {C} c ON f.Customer_ID = c.Customer_ID GROUP BY 1)
        SELECT Segment, n, (SELECT n FROM s WHERE Segment = 'Prime')::DOUBLE / n FROM s ORDER BY 1""",
}


# --------------------------------------------------------------------------- pandas

def pandas_visuals(t: dict[str, pd.DataFrame]) -> dict[str, object]:
    f, c = t[F], t[C]
    out: dict[str, object] = {}

    def per_cust():
        g = f.groupby("Customer_ID", sort=False)
        return pd.DataFrame({"n": g.size(), "rev": g["Revenue"].sum()})

    def timed(name, fn):
        t0 = time.perf_counter()
        fn()
        out[name] = time.perf_counter() - t0

    def repeat():
        p = per_cust()
        return (p["n"] > 1).mean()

    def bands():
        p = per_cust()
        b = t["Order_Frequency_Band"]
        idx = pd.cut(p["n"], bins=[0, *b["Max_Orders"].tolist()], labels=b["Band"].tolist())
        return idx.value_counts()

    def joined():
        return f[["Customer_ID", "Revenue"]].merge(c[["Customer_ID", "Segment", "Country"]], on="Customer_ID",
                                                    how="left")

    def matrix():
        j = joined()
        p = j.groupby(["Segment", "Country", "Customer_ID"], sort=False).agg(n=("Revenue", "size"),
                                                                               rev=("Revenue", "sum"))
        p = p.reset_index()
        p["rep"] = p["n"] > 1
        parts = []
        for keys in (["Segment", "Country"], ["Segment"], ["Country"], []):
            g = p.groupby(keys, sort=False) if keys else p.assign(_k=0).groupby("_k")
            parts.append(g.agg(customers=("Customer_ID", "size"), revenue=("rev", "sum"), n=("n", "sum"),
                               rep=("rep", "mean")))
        return parts

    timed("kpi_total_customers", lambda: f["Customer_ID"].nunique())
    timed("kpi_total_orders", lambda: len(f))
    timed("kpi_total_revenue", lambda: f["Revenue"].sum())
    timed("kpi_aov", lambda: f["Revenue"].sum() / len(f))
    timed("kpi_clv", lambda: per_cust()["rev"].mean())
    timed("kpi_repeat_rate", repeat)
    timed("slicer_date", lambda: t[D]["Date"].drop_duplicates().sort_values())
    timed("slicer_segment", lambda: c["Segment"].drop_duplicates().sort_values())
    timed("slicer_country", lambda: c["Country"].drop_duplicates().sort_values())
    timed("gauge_repeat_rate", repeat)
    timed("customers_by_band", bands)
    timed("orders_vs_revenue", lambda: joined().groupby(["Customer_ID", "Segment"], sort=False)
          .agg(n=("Revenue", "size"), rev=("Revenue", "sum")))
    timed("segment_by_country", matrix)
    def by_segment():
        n = joined().groupby("Segment")["Customer_ID"].nunique()
        return n, n.get("Prime") / n

    timed("customers_by_segment", by_segment)
    return out


# --------------------------------------------------------------------------- comparison

def _numbers(rows) -> list[tuple]:
    """Rows as sorted tuples of rounded numbers and strings, BLANK/None dropped, flags dropped."""
    out = []
    for r in rows:
        vals = []
        for v in r:
            if v is None or isinstance(v, bool):
                continue
            if isinstance(v, float) and math.isnan(v):
                continue
            if isinstance(v, (int, float)) or hasattr(v, "as_integer_ratio"):
                vals.append(float(v))
            else:
                vals.append(str(v)[:10])
        out.append(tuple(sorted(vals, key=repr)))  # column order may differ
    return sorted(out, key=repr)


def _same(a: list[tuple], b: list[tuple]) -> bool:
    """Equal up to 1e-9 relative (Decimal-number sums differ in the last bits by order)."""
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        if len(ra) != len(rb):
            return False
        for x, y in zip(ra, rb):
            if isinstance(x, float) and isinstance(y, float):
                if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6):
                    return False
            elif x != y:
                return False
    return True


def ensure_data(rows: int, root: Path) -> Path:
    out = root / f"orders_{rows}"
    if not (out / "data" / f"{F}.parquet").exists():
        print(f"building {rows:,} orders into {out} ...", flush=True)
        subprocess.run([sys.executable, str(REPO / "build.py"), "build", "--out", str(out), "--rows", str(rows),
                        "--no-tom"], check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    return out


def bench(rows: int, root: Path, repeat: int) -> list[dict]:
    out = ensure_data(rows, root)
    engine = Engine.open(REPO, out=out)
    page = next(p for p in engine.model.pages if p.name == PAGE)
    engine.has_blank_row("Dim_Customer")  # model facts are computed once when a model is opened
    engine.unique_keys
    hand = duckdb.connect()
    hand.execute("SET enable_progress_bar = false")
    for p in sorted((out / "data").glob("*.parquet")):
        hand.execute(f"CREATE VIEW \"{p.stem}\" AS SELECT * FROM read_parquet('{p}')")
    t0 = time.perf_counter()
    frames = {name: pd.read_parquet(out / "data" / f"{name}.parquet")
              for name in (F, C, D, "Order_Frequency_Band")}
    pandas_read = time.perf_counter() - t0
    pandas_times = {k: [] for k in HAND}
    for _ in range(repeat):
        for k, v in pandas_visuals(frames).items():
            pandas_times[k].append(v)
    results = []
    for visual in page.visuals:
        dax = visual_query(visual, page)
        e_times, h_times = [], []
        engine.scan_cache = None  # one query on its own, as `build.py query` runs it: no cache
        for _ in range(repeat):
            t0 = time.perf_counter()
            frame = engine.query(dax)
            e_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            hand_rows = hand.execute(HAND[visual.name]).fetchall()
            h_times.append(time.perf_counter() - t0)
        same = _same(_numbers(frame.itertuples(index=False, name=None)), _numbers(hand_rows))
        results.append({"rows": rows, "visual": visual.name, "cells": len(frame), "engine": min(e_times),
                        "sql": min(h_times), "pandas": min(pandas_times[visual.name]), "same": same})
    results.append({"rows": rows, "visual": "(pandas: read Parquet)", "cells": 0, "engine": float("nan"),
                    "sql": float("nan"), "pandas": pandas_read, "same": True})
    # the page as Power BI renders it: every visual's query in turn on one engine, whose
    # cache of pre-aggregations starts empty and is shared by the page's visuals
    queries = [visual_query(v, page) for v in page.visuals]
    page_times = []
    engine.scan_cache = ScanCache(summed=engine.summed_columns)
    for _ in range(repeat):
        engine.clear_cache()
        t0 = time.perf_counter()
        for dax in queries:
            engine.query(dax)
        page_times.append(time.perf_counter() - t0)
    results.append({"rows": rows, "visual": "page", "cells": 0, "engine": min(page_times),
                    "sql": sum(r["sql"] for r in results if not math.isnan(r["sql"])), "pandas": float("nan"),
                    "same": True})
    return results


def table(results: list[dict]) -> str:
    lines = ["| orders | visual | rows out | engine s | hand SQL s | engine / SQL | pandas s | engine / pandas "
             "| same numbers |", "|---:|---|---:|---:|---:|---:|---:|---:|:---:|"]
    for size in sorted({r["rows"] for r in results}):
        part = [r for r in results if r["rows"] == size and r["visual"] != "page"]
        for r in part:
            if math.isnan(r["engine"]):
                lines.append(f"| {size:,} | {r['visual']} | | | | | {r['pandas']:.3f} | | |")
                continue
            lines.append(f"| {size:,} | {r['visual']} | {r['cells']:,} | {r['engine']:.3f} | {r['sql']:.3f} | "
                         f"{r['engine'] / r['sql']:.2f}x | {r['pandas']:.3f} | {r['engine'] / r['pandas']:.2f}x | "
                         f"{'yes' if r['same'] else 'NO'} |")
        real = [r for r in part if not math.isnan(r["engine"])]
        e, s, p = (sum(r[k] for r in real) for k in ("engine", "sql", "pandas"))
        lines.append(f"| {size:,} | **sum of the visuals** (each a query on its own) | | **{e:.3f}** | **{s:.3f}** | "
                     f"**{e / s:.2f}x** | **{p:.3f}** | **{e / p:.2f}x** | |")
        for r in results:
            if r["rows"] == size and r["visual"] == "page":
                lines.append(f"| {size:,} | **whole page** (in turn, one cache from cold) | | **{r['engine']:.3f}** | "
                             f"**{r['sql']:.3f}** | **{r['engine'] / r['sql']:.2f}x** | | | |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--data-root", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "pbi-forge-bench")
    ap.add_argument("--repeat", type=int, default=3, help="runs per visual; the best is kept")
    ap.add_argument("--write-docs", action="store_true", help="replace the table in docs/performance.md")
    args = ap.parse_args()
    results = []
    for size in args.sizes:
        results.extend(bench(size, args.data_root, args.repeat))
    text = table(results)
    print(text)
    if args.write_docs:
        doc = REPO / "docs" / "performance.md"
        body = doc.read_text(encoding="utf-8")
        start, end = "<!-- benchmark:start -->", "<!-- benchmark:end -->"
        head, rest = body.split(start, 1)
        _, tail = rest.split(end, 1)
        doc.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")
        print(f"wrote {doc}")


if __name__ == "__main__":
    main()
