"""`python build.py query | test | evaluate`: the engine's command-line commands.

The CLI (generator/cli.py) adds --project/--out/--rows/--seed to commands that define no
--project of their own (`query` defines just --project/--out) and calls `args.func(args)`.
Exit codes: 0 success, 1 a measure test failed, 2 bad input (ForgeError, raised).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from generator.engine.runtime.engine import Engine
from generator.engine.formats import format_sql
from generator.engine.runtime.results import plain_value
from generator.engine.types import DaxType
from generator.engine.visuals import evaluate_visual, jsonable, result_json


def register(subparsers: argparse._SubParsersAction) -> None:
    q = subparsers.add_parser("query", help="run a DAX query on the built data (DuckDB or Spark engine)")
    q.add_argument("dax", help='the DAX query, e.g. "EVALUATE VALUES(Dim_Customer[Segment])"')
    q.add_argument("--format", choices=("table", "csv", "json"), default="table")
    q.add_argument("--formatted", action="store_true",
                   help="show measure and column values with their format strings (e.g. $#,0), as Power BI does")
    q.add_argument("--sql", action="store_true", help="print the generated SQL instead of running it")
    q.add_argument("--as-of", default=None, help="date TODAY()/NOW() return (default: model as_of, else today)")
    q.add_argument("--memory-limit", default=None,
                   help="DuckDB memory limit, e.g. 16GB or 50%% (default: $PBI_FORGE_MEMORY_LIMIT, else 75%% of RAM);"
                        " beyond it DuckDB spills to the temp folder")
    # only the options a query uses: --rows/--seed (data generation) mean nothing here
    q.add_argument("--project", type=Path, default=None,
                   help="folder holding semantic/ and measures/ (default: the current folder if it has "
                        "semantic/model.yaml, else the repository)")
    q.add_argument("--out", type=Path, default=None, help="folder holding the built data/ (default: <project>/powerbi)")
    _security_options(q)
    _backend_option(q)
    q.set_defaults(func=cmd_query)
    t = subparsers.add_parser("test", help="run the YAML measure tests in measures/*.tests.yaml")
    t.add_argument("--junit", type=Path, default=None, help="also write JUnit XML to this file")
    t.add_argument("--as-of", default=None, help="date TODAY()/NOW() return in tests")
    t.add_argument("--coverage", action="store_true", help="also list untested measures and those the engine "
                                                           "cannot evaluate (generator/review/coverage.py)")
    t.add_argument("--min-coverage", type=float, default=None, metavar="PCT", help="exit 1 below PCT %% coverage")
    _security_options(t)
    _backend_option(t)
    t.set_defaults(func=cmd_test)
    e = subparsers.add_parser("evaluate", help="evaluate every report visual; JSON under <out>/preview/")
    e.add_argument("--as-of", default=None)
    e.add_argument("--memory-limit", default=None,
                   help="DuckDB memory limit, e.g. 4GB (default: $PBI_FORGE_MEMORY_LIMIT, else 75%% of RAM);"
                        " beyond it DuckDB spills to the temp folder")
    _security_options(e)
    _backend_option(e)
    e.set_defaults(func=cmd_evaluate)


def _security_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-user", default=None, metavar="UPN",
                   help="evaluate as this user: USERPRINCIPALNAME() returns it, and without --role the "
                        "row-level security roles listing it as a member apply")
    p.add_argument("--role", action="append", default=None, metavar="NAME",
                   help="evaluate in this row-level security role (repeat for several: they add up)")


def _backend_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("duckdb", "spark"), default="duckdb",
                        help="where the SQL runs: duckdb (default, in-process) or spark (a local-mode "
                             "SparkSession; needs the pbi-forge[spark] extra and Java 17)")


def _engine_options(args: argparse.Namespace) -> dict:
    """Engine keyword arguments of --backend: one local Spark session for the whole run."""
    if getattr(args, "backend", "duckdb") != "spark":
        return {}
    from generator.engine.runtime.backends.spark import local_session

    return {"backend": "spark", "spark": local_session()}


def _engine(args: argparse.Namespace) -> Engine:
    options = _engine_options(args)
    if not options:
        options = {"memory_limit": getattr(args, "memory_limit", None)}
    engine = Engine.open(args.project, out=args.out, as_of=getattr(args, "as_of", None),
                         user=getattr(args, "as_user", None), roles=getattr(args, "role", None), **options)
    engine.validate_date_table()
    return engine


def cmd_query(args: argparse.Namespace) -> int:
    engine = _engine(args)
    # one query per run: nothing for a cache to share, so each pre-aggregation stays a
    # MATERIALIZED CTE of the query's single statement (no temporary tables to fill)
    engine.scan_cache = None
    if args.sql:
        print(engine.sql(args.dax))
        return 0
    frame = engine.query(args.dax)
    if args.formatted:
        frame = apply_formats(engine, frame, column_formats(engine, args.dax, frame))
    columns = [str(c) for c in frame.columns]
    rows = [[plain_value(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    if args.format == "json":
        print(json.dumps({"columns": columns, "rows": rows}, ensure_ascii=False, allow_nan=False))
    elif args.format == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else v for v in row] for row in rows])
        sys.stdout.write(buf.getvalue())
    else:
        table = RichTable(show_header=True)
        for c in columns:
            table.add_column(escape(c))  # "[s]" is rich markup (strike-through), not a header
        for row in rows:
            table.add_row(*["" if v is None else escape(str(v)) for v in row])
        Console().print(table)
        print(f"{len(rows)} row(s)")
    return 0


def column_formats(engine: Engine, dax: str, frame) -> dict[int, str]:
    """Format strings of the result's columns, by position: a model column's own format
    (`Table[Column]`), and for a named column (`"s", <expr>`) the format of the measure
    its expression is (a bare `[Measure]` or `Table[Measure]`)."""
    from generator.dax import ast as A
    from generator.dax.parser import parse_query

    model = engine.model
    measures = {m.name.lower(): m for m in model.measures}
    named: dict[str, str] = {}
    for node in parse_query(dax).walk():
        if not isinstance(node, A.FunctionCall):
            continue
        for name, expr in zip(node.args, node.args[1:]):
            ref = expr.name if isinstance(expr, A.BracketRef) else \
                expr.column if isinstance(expr, A.ColumnRef) else None
            m = measures.get(ref.lower()) if isinstance(name, A.String) and ref else None
            if m is not None and m.format:
                named.setdefault(f"[{name.value}]", m.format)
    out = {}
    for i, c in enumerate(frame.columns):
        fmt = named.get(c)
        if fmt is None and c.endswith("]") and "[" in c and not c.startswith("["):
            table, column = c[:-1].split("[", 1)
            t = model.table(table.strip("'").replace("''", "'"))
            col = t.column(column) if t is not None else None
            fmt = getattr(col, "format", None)
        if fmt:
            out[i] = fmt
    return out


def apply_formats(engine: Engine, frame, formats: dict[int, str]):
    """The frame with each formatted column replaced by its text, computed by the same SQL
    as DAX FORMAT (generator.engine.formats); a format FORMAT does not support leaves the
    column as it is, with a note on stderr (never a guessed rendering)."""
    import pandas as pd
    from sqlglot import exp

    from generator.engine.runtime.results import to_frame
    from generator.engine.sql import render
    from generator.engine.types import DaxType
    from generator.engine.values import Scalar

    if not formats or frame.empty:
        return frame
    view = "__pbi_forge_result"
    data = pd.DataFrame({f"c{i}": frame.iloc[:, i] for i in range(frame.shape[1])})
    engine.con.register(view, data)
    try:
        outs, types = [], []
        for i, name in enumerate(frame.columns):
            col = exp.column(f"c{i}", quoted=True)
            text = format_sql(Scalar(col, _value_type(frame.iloc[:, i])), formats[i]) if i in formats else None
            if i in formats and text is None:
                print(f"note: format string {formats[i]!r} of {name} is not supported; shown unformatted",
                      file=sys.stderr)
            outs.append(exp.alias_(text if text is not None else col, f"c{i}"))
            types.append(DaxType.TEXT if text is not None else DaxType.VARIANT)
        table = engine.con.sql(render(exp.select(*outs).from_(exp.to_table(view)))).to_arrow_table()
    finally:
        engine.con.unregister(view)
    return to_frame(table, tuple(frame.columns), tuple(types))


def _value_type(series) -> "DaxType":
    """The DAX type FORMAT needs: date-like values are formatted as dates, others as numbers."""
    import datetime as _dt

    from generator.engine.types import DaxType

    sample = next((v for v in series if v is not None), None)
    return DaxType.DATETIME if isinstance(sample, (_dt.date, _dt.datetime)) else DaxType.DOUBLE


def cmd_test(args: argparse.Namespace) -> int:
    from generator.engine.measure_tests import junit_xml, run_all
    from generator.spec import load_project

    model = load_project(args.project)
    started = time.perf_counter()
    results = run_all(args.project, model, getattr(args, "as_of", None) or model.as_of or "2024-12-31",
                      _engine_options(args), user=getattr(args, "as_user", None),
                      roles=tuple(getattr(args, "role", None) or ()))
    table = RichTable(show_header=True, title="measure tests")
    for c in ("test", "measure", "context", "expected", "actual", "ok"):
        table.add_column(c)
    for r in results:
        actual = r.error.splitlines()[0] if r.error else _show(r.actual)
        table.add_row(*[escape(x) for x in (r.test, r.measure, r.context, _show(r.expected), actual)],
                      "ok" if r.ok else "FAIL")
    Console(width=200).print(table)
    failed = [r for r in results if not r.ok]
    for r in failed:
        where = f"{r.pos}: " if r.pos else ""
        print(f"{where}FAIL {r.test} [{r.measure}] ({r.context}): expected {_show(r.expected)}, "
              f"got {r.error or _show(r.actual)}")
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed in {time.perf_counter() - started:.1f} s "
          f"on {getattr(args, 'backend', 'duckdb')}")
    if args.junit:
        Path(args.junit).write_text(junit_xml(results), encoding="utf-8")
    covered = True
    if args.coverage or args.min_coverage is not None:
        from generator.review.coverage import gate

        covered = gate(args.project, model, args.min_coverage, args.junit)
    if not results:
        print("no measure tests found (measures/*.tests.yaml)")
        return 1
    return 1 if failed or not covered else 0


def _show(value) -> str:
    if isinstance(value, list):
        return json.dumps([[jsonable(v) for v in r] for r in value] if value and isinstance(value[0], list)
                          else [jsonable(v) for v in value])
    if isinstance(value, float):
        return repr(value)
    return "BLANK" if value is None else str(value)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Every report visual's rows as Power BI shows them (sorted, scatter sampled), one JSON
    file each under <out>/preview/; a progress bar on stderr when it is a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    engine = _engine(args)
    out = Path(args.out) / "preview"
    out.mkdir(parents=True, exist_ok=True)
    work = [(page, visual) for page in engine.model.pages for visual in page.visuals]
    err = Console(stderr=True)
    columns = (TextColumn("{task.description:<32}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("evaluate", total=len(work))
        for page, visual in work:
            bar.update(task, description=visual.name)
            result = evaluate_visual(engine, visual, page)
            path = out / f"{page.name}__{visual.name}.json"
            path.write_text(result_json(result), encoding="utf-8")
            shown = f"{len(result['rows']):6d} row(s)"
            if result["sampled"]:
                shown += f" (sampled from {result['total_rows']:,}, as Power BI does)"
            print(f"{visual.name:32s} {shown}  -> {path}")  # rich routes stdout above a live bar
            bar.advance(task)
    print(f"{len(work)} visual(s) evaluated")
    return 0

