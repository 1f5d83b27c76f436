"""Benchmark: synthetic data generation + Parquet write, in rows (orders) per second.

Baseline, measured in the same run: the floor for this shape of data — drawing the same
number of raw uniform columns with numpy and writing them with the same Parquet
settings. The ratio says how much the behavioural model costs on top of that floor.
Goal (issue 2): 10M orders generated and written in <= 15 s, 100k in < 1 s.

    python benchmarks/datagen.py [--sizes 100000 1000000 10000000]
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.spec import load_project  # noqa: E402
from generator.synth import generate, write_parquet  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def ours(model, rows: int, folder: Path) -> tuple[float, float]:
    t0 = time.perf_counter()
    data = generate(model, rows=rows, seed=42)
    t1 = time.perf_counter()
    for name, table in data.items():
        write_parquet(table, folder / f"{name}.parquet")
    return t1 - t0, time.perf_counter() - t1


def baseline(rows: int, folder: Path) -> float:
    t0 = time.perf_counter()
    rng = np.random.default_rng(42)
    table = pa.table({f"c{i}": rng.random(rows) for i in range(9)})
    write_parquet(table, folder / "baseline.parquet")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    args = ap.parse_args()
    model = load_project(REPO)
    print(f"{'orders':>12} {'generate s':>11} {'write s':>8} {'total s':>8} {'orders/s':>12} "
          f"{'baseline s':>11} {'ratio':>6} {'goal':>8}")
    for rows in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            gen, write = ours(model, rows, Path(tmp))
            base = baseline(rows, Path(tmp))
        total = gen + write
        goal = {100_000: 1.0, 10_000_000: 15.0}.get(rows)
        verdict = "-" if goal is None else ("ok" if total <= goal else f"> {goal:g}s")
        print(f"{rows:>12,} {gen:>11.2f} {write:>8.2f} {total:>8.2f} {rows / total:>12,.0f} "
              f"{base:>11.2f} {total / base:>6.2f} {verdict:>8}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
