"""`python build.py query | test | evaluate`: the engine's command-line commands.

The CLI (generator/cli.py) adds --project/--out/--rows/--seed and calls `args.func(args)`.
Exit codes: 0 success, 1 a measure test failed, 2 bad input (ForgeError, raised).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from generator.engine.engine import Engine
from generator.engine.visuals import evaluate_visual, frame_json, jsonable, result_json


def register(subparsers: argparse._SubParsersAction) -> None:
    q = subparsers.add_parser("query", help="run a DAX query on the built data (DuckDB engine)")
    q.add_argument("dax", help='the DAX query, e.g. "EVALUATE VALUES(Dim_Customer[Segment])"')
    q.add_argument("--format", choices=("table", "csv", "json"), default="table")
    q.add_argument("--sql", action="store_true", help="print the generated SQL instead of running it")
    q.add_argument("--as-of", default=None, help="date TODAY()/NOW() return (default: model as_of, else today)")
    q.set_defaults(func=cmd_query)
    t = subparsers.add_parser("test", help="run the YAML measure tests in measures/*.tests.yaml")
    t.add_argument("--junit", type=Path, default=None, help="also write JUnit XML to this file")
    t.add_argument("--as-of", default=None, help="date TODAY()/NOW() return in tests")
    t.add_argument("--coverage", action="store_true", help="also list untested measures and those the engine "
                                                           "cannot evaluate (generator/review/coverage.py)")
    t.add_argument("--min-coverage", type=float, default=None, metavar="PCT", help="exit 1 below PCT %% coverage")
    t.set_defaults(func=cmd_test)
    e = subparsers.add_parser("evaluate", help="evaluate every report visual; JSON under <out>/preview/")
    e.add_argument("--as-of", default=None)
    e.set_defaults(func=cmd_evaluate)


def _engine(args: argparse.Namespace) -> Engine:
    engine = Engine.open(args.project, out=args.out, as_of=getattr(args, "as_of", None))
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
    data = frame_json(frame)
    if args.format == "json":
        print(json.dumps(data, ensure_ascii=False))
    elif args.format == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(data["columns"])
        writer.writerows([["" if v is None else v for v in row] for row in data["rows"]])
        sys.stdout.write(buf.getvalue())
    else:
        table = RichTable(show_header=True)
        for c in data["columns"]:
            table.add_column(c)
        for row in data["rows"]:
            table.add_row(*["" if v is None else escape(str(v)) for v in row])
        Console().print(table)
        print(f"{len(data['rows'])} row(s)")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    from generator.engine.measure_tests import junit_xml, run_all
    from generator.spec import load_project

    model = load_project(args.project)
    results = run_all(args.project, model, getattr(args, "as_of", None) or model.as_of or "2024-12-31")
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
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
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

