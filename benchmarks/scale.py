"""Benchmark: 100M rows on one machine (issue #14 item 3): time and peak RSS of each step.

Every step runs in its own child process and its peak RSS is that child's `ru_maxrss`
(`os.wait4`), so one step's memory never hides in another's:

- **datagen**: `build.py build --rows N` (streamed generation, integrity checks over the
  files, the whole PBIP) into `<data-dir>/orders_N`;
- **page**: the Customer Snapshot page on the engine (every visual's query in turn, scan
  cache from cold; engine open and calculated columns timed apart) against the hand SQL
  page of `benchmarks/hand_sql.py` (its shared relations built once, timed with it),
  each in its own child, DuckDB under the memory limit;
- **evaluate**: `build.py evaluate` of every visual at the largest size;
- **spark**: the same page on Spark local mode at the smallest size, when the engine has a
  `backend="spark"` (branch `spark`); otherwise the row says it is not available.

Data goes to `--data-dir` (default `$TMPDIR/pbi-forge-scale`), never into the project.

    python benchmarks/scale.py [--sizes 10000000 100000000] [--skip-100m] [--data-dir DIR]
                               [--memory-limit 4GB] [--steps datagen page evaluate spark]
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
PAGE = "Customer Snapshot"
STEPS = ("datagen", "page", "evaluate", "spark")


def run_child(argv: list[str], env: dict[str, str], timeout: float) -> dict:
    """Run a child to completion: wall seconds, peak RSS (GiB), exit code, last stdout line."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=err)
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        lines = [line for line in out.read().splitlines() if line.strip()]
        errors = [line for line in err.read().splitlines() if line.strip()]
    return {"wall": wall, "rss_gib": usage.ru_maxrss / 2 ** 20, "code": proc.returncode,
            "timed_out": wall > timeout, "last": lines[-1] if lines else "",
            "error": next((e for e in errors if e.lower().startswith("error")), errors[-1] if errors else "")}


def _env(memory_limit: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), PBI_FORGE_MEMORY_LIMIT=memory_limit)
    env.pop("CI", None)
    return env


# --------------------------------------------------------------------------- child steps

def child_engine_page(out: Path, backend: str) -> None:
    """In a child: open the engine on `out`, run the page's visuals from a cold cache."""
    from generator.engine import Engine
    from generator.engine.visuals import visual_query

    t0 = time.perf_counter()
    kwargs = {"backend": backend} if backend != "duckdb" else {}
    engine = Engine.open(REPO, out=out, **kwargs)
    page = next(p for p in engine.model.pages if p.name == PAGE)
    queries = [visual_query(v, page) for v in page.visuals]
    engine.query('EVALUATE ROW("a", MAX(Dim_Customer[Customer_Class_Order]))')  # calculated columns are stored
    opened = time.perf_counter() - t0
    engine.clear_cache()
    t0 = time.perf_counter()
    for q in queries:
        engine.query(q)
    print(json.dumps({"open": opened, "page": time.perf_counter() - t0, "visuals": len(queries)}))


def child_hand_page(out: Path, memory_limit: str) -> None:
    """In a child: the hand SQL page on DuckDB over the same files, under the same limit."""
    import duckdb

    from benchmarks.hand_sql import CUSTOMER_SNAPSHOT, HAND, page_plan

    spill = Path(tempfile.gettempdir()) / "pbi-forge-scale-spill"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = '{spill}'")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    for p in sorted((out / "data").glob("*.parquet")):
        con.execute(f"CREATE VIEW \"{p.stem}\" AS SELECT * FROM read_parquet('{p}')")
    t0 = time.perf_counter()
    con.execute(CUSTOMER_SNAPSHOT)  # the snapshot table: calculated columns' equivalent, stored data
    opened = time.perf_counter() - t0
    hands = list(HAND[PAGE].values())
    setup, bodies = page_plan(hands)
    t0 = time.perf_counter()
    for s in setup:
        con.execute(s)
    for b in bodies:
        con.execute(b).fetchall()
    print(json.dumps({"open": opened, "page": time.perf_counter() - t0, "visuals": len(bodies)}))


# --------------------------------------------------------------------------- parent

def spark_available() -> bool:
    from generator.engine import Engine

    return "backend" in inspect.signature(Engine.__init__).parameters


def _data(root: Path, rows: int) -> Path:
    return root / f"orders_{rows}"


def step_datagen(root: Path, rows: int, env: dict, timeout: float) -> dict:
    out = _data(root, rows)
    return run_child([sys.executable, str(REPO / "build.py"), "build", "--rows", str(rows), "--out", str(out),
                      "--no-tom"], env, timeout)


def step_page(root: Path, rows: int, env: dict, timeout: float, backend: str = "duckdb") -> dict:
    out = _data(root, rows)
    me = str(Path(__file__).resolve())
    engine = run_child([sys.executable, me, "--child", "engine-page", str(out), backend], env, timeout)
    hand = run_child([sys.executable, me, "--child", "hand-page", str(out), env["PBI_FORGE_MEMORY_LIMIT"]],
                     env, timeout)
    return {"engine": engine, "hand": hand}


def step_evaluate(root: Path, rows: int, env: dict, timeout: float) -> dict:
    out = _data(root, rows)
    return run_child([sys.executable, str(REPO / "build.py"), "evaluate", "--out", str(out)], env, timeout)


def _status(r: dict) -> str:
    if r["timed_out"]:
        return f"timed out after {r['wall']:.0f} s"
    if r["code"]:
        return f"failed (exit {r['code']}: {r['error'][:160]})"
    return "ok"


def table(results: list[dict], memory_limit: str) -> str:
    lines = [f"| step | orders | time s | peak RSS GiB | notes |", "|---|---:|---:|---:|---|"]
    for r in results:
        res, kind = r["result"], r["step"]
        if kind in ("datagen", "evaluate"):
            note = _status(res) if _status(res) != "ok" else (
                "build.py build (generate + integrity + PBIP)" if kind == "datagen"
                else f"build.py evaluate, all visuals, DuckDB memory_limit {memory_limit}")
            lines.append(f"| {kind} | {r['rows']:,} | {res['wall']:.1f} | {res['rss_gib']:.2f} | {note} |")
        elif kind in ("page", "spark"):
            e, h = res["engine"], res.get("hand")
            if "unavailable" in res:
                lines.append(f"| {kind} | {r['rows']:,} | - | - | spark backend not available |")
                continue
            label = "engine (Spark local)" if kind == "spark" else "engine"
            if _status(e) == "ok":
                ej = json.loads(e["last"])
                note = f"{PAGE}, {ej['visuals']} visuals from a cold cache; open + calculated columns {ej['open']:.1f} s"
                lines.append(f"| page {label} | {r['rows']:,} | {ej['page']:.2f} | {e['rss_gib']:.2f} | {note} |")
            else:
                lines.append(f"| page {label} | {r['rows']:,} | - | {e['rss_gib']:.2f} | {_status(e)} |")
            if h is not None and _status(h) == "ok":
                hj = json.loads(h["last"])
                ratio = (f"; engine / hand = {ej['page'] / hj['page']:.2f}x" if _status(e) == "ok" else "")
                lines.append(f"| page hand SQL | {r['rows']:,} | {hj['page']:.2f} | {h['rss_gib']:.2f} | "
                             f"shared relations built once; snapshot table {hj['open']:.1f} s{ratio} |")
            elif h is not None:
                lines.append(f"| page hand SQL | {r['rows']:,} | - | {h['rss_gib']:.2f} | {_status(h)} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000_000, 100_000_000])
    ap.add_argument("--skip-100m", action="store_true", help="drop sizes of 100M orders and more")
    ap.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "pbi-forge-scale")
    ap.add_argument("--memory-limit", default="4GB", help="DuckDB memory limit of the engine steps")
    ap.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per child step")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, out, extra = args.child
        (child_engine_page if kind == "engine-page" else child_hand_page)(Path(out), extra)
        return
    root = args.data_dir.resolve()
    if root == REPO or REPO in root.parents:
        sys.exit(f"--data-dir {root} is inside the project; choose a scratch folder outside it")
    sizes = sorted(s for s in args.sizes if not (args.skip_100m and s >= 100_000_000))
    env = _env(args.memory_limit)
    results = []

    def record(step: str, rows: int, result: dict) -> None:
        results.append({"step": step, "rows": rows, "result": result})
        print(f"{step} {rows:,}: {json.dumps(result)}", file=sys.stderr, flush=True)

    for rows in sizes:
        if "datagen" in args.steps:
            record("datagen", rows, step_datagen(root, rows, env, args.timeout))
        if "page" in args.steps:
            record("page", rows, step_page(root, rows, env, args.timeout))
    if "evaluate" in args.steps and sizes:
        record("evaluate", sizes[-1], step_evaluate(root, sizes[-1], env, args.timeout))
    if "spark" in args.steps and sizes:
        if spark_available():
            engine = step_page(root, sizes[0], env, args.timeout, backend="spark")["engine"]
            record("spark", sizes[0], {"engine": engine})
        else:
            record("spark", sizes[0], {"engine": None, "unavailable": True})
    print(table(results, args.memory_limit))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
