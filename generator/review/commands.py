"""`python build.py diff | docs | lineage`: review a change to the model.

The CLI (generator/cli.py) adds --project/--out/--rows/--seed and calls `args.func(args)`.
Exit codes: 0 success, 1 `diff --fail-on-change` saw a value move, 2 bad input.
`test --coverage` is an option of the engine's `test` command (generator/review/coverage.py).
"""
from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path

from generator.errors import ForgeError


def register(subparsers: argparse._SubParsersAction) -> None:
    d = subparsers.add_parser("diff", help="what a change does: model diff, reached measures and visuals, "
                                           "values before and after")
    d.add_argument("base", nargs="?", default="HEAD",
                   help="git ref (default HEAD) or project folder to compare the working tree with")
    d.add_argument("--by", default=None, help="also show values per value of this column, e.g. \"'Dim_Date'[Year]\"")
    d.add_argument("--given", type=Path, default=None,
                   help="evaluate on a measure-tests file's `given` tables instead of the built data")
    d.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    d.add_argument("--fail-on-change", action="store_true", help="exit 1 when any value moves")
    d.add_argument("--as-of", default=None, help="date TODAY()/NOW() return (default: model as_of)")
    d.set_defaults(func=cmd_diff)
    _register_docs(subparsers)


def _by(text: str | None, model) -> str | None:
    from generator.spec import parse_field_ref

    if text is None:
        return None
    ref = parse_field_ref(text)
    table = model.table(ref[0]) if ref and ref[0] else None
    if table is None or table.column(ref[1]) is None:
        raise ForgeError(f"--by {text}: expected a column of the model, written 'Table'[Column]")
    return "'" + table.name.replace("'", "''") + "'[" + table.column(ref[1]).name.replace("]", "]]") + "]"


def _data(args: argparse.Namespace, model):
    from generator.review.change import Data

    if args.given is not None:
        from generator.engine.measure_tests import load_cases

        path = Path(args.given).resolve()
        if not path.is_file():
            raise ForgeError(f"--given {args.given}: no such file")
        shared = [c for c in load_cases(path, args.project) if c.shared]
        if not shared:
            raise ForgeError(f"--given {args.given}: the file has no test that uses its `given` tables")
        label = path.relative_to(args.project).as_posix() if path.is_relative_to(args.project) else path.name
        return Data(label, given=shared[0].given, as_of=args.as_of or model.as_of or "2024-12-31")
    if not (args.out / "data").is_dir():
        raise ForgeError(f"{args.out / 'data'} does not exist; run `python build.py` first (or use --given)")
    return Data(f"{args.out.name}/data", out=args.out, as_of=args.as_of)


def cmd_diff(args: argparse.Namespace) -> int:
    from generator.review.change import review
    from generator.review.render import render
    from generator.review.snapshot import from_folder, from_git

    after = from_folder(args.project, label="working tree")
    with ExitStack() as stack:
        base = Path(args.base)
        if base.is_dir():
            before = from_folder(base)
        else:
            before = stack.enter_context(from_git(args.project, args.base))
        result = review(before, after, _data(args, after.model), _by(args.by, after.model))
    text = render(result, args.format, color=sys.stdout.isatty())
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 1 if args.fail_on_change and result.moved else 0


def _register_docs(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("docs", help="write the data dictionary: Markdown in docs/model/, "
                                           "HTML in <powerbi>/preview/model.html")
    p.add_argument("--project", type=Path, default=None, help="project folder (default: as for build)")
    p.add_argument("--out", dest="docs_out", type=Path, default=None,
                   help="folder for the Markdown dictionary (default: <project>/docs/model)")
    p.add_argument("--powerbi", dest="out", type=Path, default=None,
                   help="build output folder with data/ (default: <project>/powerbi); the HTML goes to its preview/")
    p.set_defaults(func=cmd_docs)
    lin = subparsers.add_parser("lineage", help="upstream and downstream of a measure, column or table")
    lin.add_argument("name", help="[Measure], Table[Column] or Table")
    lin.add_argument("--format", choices=("tree", "json"), default="tree")
    lin.set_defaults(func=cmd_lineage)


def cmd_docs(args: argparse.Namespace) -> int:
    from generator.dax.analysis import analyze_model
    from generator.review.dictionary import collect, open_engine
    from generator.review.dictionary_html import page
    from generator.review.dictionary_md import files
    from generator.spec import load_project

    model = load_project(args.project)
    problems = analyze_model(model)
    if problems:
        raise ForgeError(problems)
    d = collect(model, args.project, open_engine(model, args.out))
    docs = Path(args.docs_out or args.project / "docs" / "model").resolve()
    written = {docs / name: text for name, text in files(d).items()}
    written[args.out / "preview" / "model.html"] = page(d)
    for path, text in written.items():  # everything is rendered before the first file is written
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {path}")
    return 0


def cmd_lineage(args: argparse.Namespace) -> int:
    from rich.console import Console

    from generator.dax.analysis import analyze_model
    from generator.review.graph import build_graph
    from generator.review.lineage import as_json, as_tree, lineage, resolve
    from generator.spec import load_project

    model = load_project(args.project)
    problems = analyze_model(model)
    if problems:
        raise ForgeError(problems)
    doc = lineage(build_graph(model), resolve(model, args.name))
    if args.format == "json":
        print(as_json(doc))
    else:
        Console(highlight=False).print(as_tree(doc))
    return 0
