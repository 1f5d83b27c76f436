"""A/B of the VALUES-iterator rewrite (generator/engine/compiler/fn_values_iter.py) on chosen
visuals, in one process: each visual with `Compiler.values_iter` on and off (engine scan cache
cleared before each run, as benchmarks/engine.py times a visual on its own), and its hand SQL
(benchmarks/hand_sql.py). Both engine results are checked equal to each other and to the
hand SQL with benchmarks/engine.py's comparison; whether the rewrite changed the visual's SQL
is printed too (a visual it does not touch must time the same up to noise).

    python benchmarks/values_iter_ab.py --data /work/bench-data/orders_1000000 \
        --visuals monthly_activity active_customers_30d retention_by_month

The data folder is one `build.py build --out DIR --rows N` wrote (benchmarks/engine.py's
`--data-root` cache holds them as orders_<N>).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.engine import REPO, WARM_DAX, _hand_connection, compare  # noqa: E402
from benchmarks.hand_sql import HAND, solo_sql  # noqa: E402
from generator.engine import Engine  # noqa: E402
from generator.engine.compiler.query import Compiler  # noqa: E402
from generator.engine.visuals import visual_query  # noqa: E402


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="a folder `build.py build --out` wrote")
    ap.add_argument("--visuals", nargs="+", default=["monthly_activity"])
    args = ap.parse_args()
    setup, engine = _timed(lambda: Engine.open(REPO, out=args.data))
    engine.query(WARM_DAX)
    hand, _ = _hand_connection(args.data)
    print(f"engine open + calculated columns {setup:.1f} s", flush=True)
    found = {v.name: (p, v) for p in engine.model.pages for v in p.visuals}
    failed = False
    for name in args.visuals:
        page, visual = found[name]
        dax = visual_query(visual, page)
        times, frames, sqls = {}, {}, {}
        for on in (False, True):
            Compiler.values_iter = on
            sqls[on] = engine.sql(dax)
            engine.clear_cache()
            times[on], frames[on] = _timed(lambda: engine.query(dax))
        Compiler.values_iter = True
        h = HAND[page.name][name]
        h_time, hand_rows = _timed(lambda: hand.execute(solo_sql(h)).fetchall())
        rows = {on: list(f.itertuples(index=False, name=None)) for on, f in frames.items()}
        ab = compare(rows[True], rows[False], True)
        vs_hand = compare(rows[True], hand_rows, h.ordered)
        failed |= ab is not None or vs_hand is not None
        print(f"{name}: off {times[False]:.2f} s, on {times[True]:.2f} s, hand {h_time:.2f} s; "
              f"{len(rows[True])} rows; SQL {'rewritten' if sqls[True] != sqls[False] else 'unchanged'}; "
              f"on = off: {ab or 'yes'}; on = hand: {vs_hand or 'yes'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
