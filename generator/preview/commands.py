"""`python build.py preview [--serve]`: the report as HTML pages, without Power BI.

The CLI (generator/cli.py) adds --project/--out/--rows/--seed and calls `args.func(args)`.
Exit codes: 0 success, 2 bad input (ForgeError, raised; also a --host other than 127.0.0.1).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from generator.errors import ForgeError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("preview", help="draw the report's pages as HTML under <out>/preview/ (no Power BI)")
    p.add_argument("--serve", action="store_true",
                   help="serve the pages on 127.0.0.1 with live slicers; YAML edits rebuild and reload")
    p.add_argument("--host", default="127.0.0.1", help="127.0.0.1 only: the preview never listens on a network")
    p.add_argument("--port", type=int, default=8765, help="port for --serve (0: any free port; default 8765)")
    p.add_argument("--no-watch", dest="watch", action="store_false", help="with --serve: do not rebuild on edits")
    p.add_argument("--as-of", default=None, help="date TODAY()/NOW() return (default: model as_of)")
    p.set_defaults(func=cmd_preview)


def cmd_preview(args: argparse.Namespace) -> int:
    from generator.preview.server import check_host

    check_host(args.host)
    if not (Path(args.out) / "data").is_dir():
        raise ForgeError(f"{args.out} has no built data; run `python build.py` first")
    if args.serve:
        return _serve(args)
    return _write(args)


def _write(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from generator.engine.runtime.engine import Engine
    from generator.preview.render import site_files, write_files
    from generator.preview.report import read_report

    engine = Engine.open(args.project, out=args.out, as_of=args.as_of)
    engine.validate_date_table()
    report = read_report(Path(args.out), engine.model.name)
    err = Console(stderr=True)
    columns = (TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("preview", total=len(report.pages))

        def on_page(pdef) -> None:
            bar.update(task, description=pdef.name, advance=1)

        files = site_files(engine, report, on_page)
    paths = write_files(Path(args.out) / "preview", files)
    print(f"preview: {len(report.pages)} page(s), {len(paths)} file(s) in {Path(args.out) / 'preview'}")
    print(f"open {Path(args.out) / 'preview' / 'index.html'}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from generator.preview.server import PreviewServer, PreviewState

    state = PreviewState(Path(args.project), Path(args.out), as_of=args.as_of, rows=args.rows, seed=args.seed)
    server = PreviewServer(state, port=args.port, host=args.host, watch=args.watch)
    print(f"serving {server.url}  (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
        if server.watcher:
            server.watcher.stopped.set()
    return 0
