"""`python build.py [command]` / `pbi-forge [command]`: the one command-line entry point.

Commands: build (default), validate; stages add theirs through a `commands.py` module
with `register(subparsers)` (dax: fmt, lint; engine: query, test, evaluate; scaffold: init;
review: diff, docs, lineage; preview: preview).
Exit codes: 0 success, 1 a check found problems (tests, lint, fmt), 2 bad input (a bad
option too), 70 an internal error (a bug: please report it), 130 interrupted. No input
ever ends in a Python traceback: `main` turns every failure into a message (the
traceback of an internal error is shown only with PBI_FORGE_DEBUG=1).
"""
from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import importlib
import os
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from rich.console import Console
from rich.table import Table as RichTable

from generator.dax.errors import DaxSyntaxError
from generator.errors import ForgeError, Problem
from generator.spec.model import Pos

STAGE_COMMANDS = ("generator.dax.commands", "generator.engine.commands", "generator.scaffold.commands",
                  "generator.review.commands", "generator.preview.commands", "generator.importer.commands")
REPO = Path(__file__).resolve().parents[1]
MAX_ROWS = 1_000_000_000  # generation streams (memory bounded); 1B orders is ~15 GB of Parquet on disk
EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h): a bug in pbi-forge, not in the input
# A command runs in a thread with a deep stack so that deeply nested (up to the parser's
# limit) or very long DAX expressions survive every recursive stage after the parser
# (analysis, formatter, lint, the engine's compiler and sqlglot's SQL generator).
STACK_BYTES = 1 << 30  # reserved address space; only the pages a command touches are used
RECURSION_LIMIT = 200_000
# The engine's compiler copies sqlglot subtrees per level (quadratic: a 1,000-term chain
# takes a minute) and DuckDB refuses expressions nested deeper than 1,000; a `query` whose
# tree is deeper than this is refused up front instead of failing a minute later.
ENGINE_MAX_DEPTH = 500


def _rows(text: str) -> int:
    """--rows: a whole number from 1 to MAX_ROWS (a 20-digit number is an error, not an overflow)."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of orders, got {text!r}") from None
    if not 1 <= value <= MAX_ROWS:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_ROWS:,}, got {text}")
    return value


def _project(p: argparse.ArgumentParser) -> None:
    p.add_argument("--project", type=Path, default=None,
                   help="folder holding semantic/model.yaml and measures/ (default: the current folder)")


def _out(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=None, help="output folder (default: <project>/powerbi)")


def _synth(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=_rows, default=None, help="orders to generate (default: model.yaml synth.orders)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: model.yaml synth.seed)")


# The shared options each command takes: --out only where the command reads or writes the
# output folder, --rows/--seed only where data is generated. A stage command not listed
# gets --project and --out; one that adds its own --project gets nothing.
COMMON_OPTIONS = {
    "build": (_project, _out, _synth),
    "validate": (_project, _out),
    "fmt": (_project,),
    "lint": (_project,),
    "test": (_project,),
    "query": (_project, _out),
    "evaluate": (_project, _out),
    "init": (),  # makes a project; takes its folder as an argument
    "import": (),  # makes a project; takes its folder as --project (dest `into`: it need not exist yet)
}
DEFAULT_OPTIONS = (_project, _out)


def _common(p: argparse.ArgumentParser, command: str) -> None:
    for add in COMMON_OPTIONS.get(command, DEFAULT_OPTIONS):
        add(p)


def _build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--force", action="store_true",
                   help="overwrite files in the output folder that pbi-forge did not make or that changed")
    p.add_argument("--data-folder", default=None,
                   help=r"Windows folder Power BI reads the Parquet files from (e.g. C:\work\powerbi\data\)")
    p.add_argument("--schemas", type=Path, default=None, help="folder with Microsoft's PBIR/PBIP JSON schemas")
    tom = p.add_mutually_exclusive_group()
    tom.add_argument("--tom", dest="tom", action="store_true", default=None,
                     help="require the TOM check of the TMDL (default: run it when installed)")
    tom.add_argument("--no-tom", dest="tom", action="store_false", help="skip the TOM check")


def version() -> str:
    """The installed distribution's version; pyproject.toml's when run from a checkout that is not installed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("pbi-forge")
    except PackageNotFoundError:
        import tomllib

        with open(REPO / "pyproject.toml", "rb") as fh:
            return tomllib.load(fh)["project"]["version"]


def _prog() -> str:
    """`build.py` when run as the repository script, else the console command's name."""
    return "build.py" if Path(sys.argv[0]).name == "build.py" else "pbi-forge"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog=_prog(), description="pbi-forge: Power BI as code")
    top.add_argument("--version", action="version", version=f"pbi-forge {version()}")
    sub = top.add_subparsers(dest="command")
    b = sub.add_parser("build", help="generate data, TMDL, PBIR and DAX files (default)")
    _common(b, "build")
    _build_args(b)
    b.set_defaults(func=cmd_build)
    v = sub.add_parser("validate", help="check the output folder: schemas, visual bindings, TOM")
    _common(v, "validate")
    v.add_argument("--schemas", type=Path, default=None, help="folder with Microsoft's PBIR/PBIP JSON schemas")
    v.add_argument("--tom", action="store_true", default=None, help="also check the TMDL with Microsoft's TOM")
    v.set_defaults(func=cmd_validate)
    for name in STAGE_COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        before = set(sub.choices)
        module.register(sub)
        for added in set(sub.choices) - before:
            if not any(a.dest == "project" for a in sub.choices[added]._actions):
                _common(sub.choices[added], added)
    return top


def _resolve(args: argparse.Namespace) -> argparse.Namespace:
    """Absolute --project and --out; a folder without semantic/model.yaml is an error, never the demo."""
    try:
        if hasattr(args, "project"):
            args.project = _project_folder(args.project)
        if getattr(args, "out", None) is not None:
            args.out = Path(args.out).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop (RuntimeError before Python 3.13)
        raise ForgeError(f"cannot resolve the --project or --out folder: {exc}") from None
    if getattr(args, "out", None) is None and hasattr(args, "project"):
        args.out = args.project / "powerbi"
    if getattr(args, "out", None) is not None:
        args.out = Path(args.out).resolve()
    return args


def _project_folder(given: Path | None) -> Path:
    folder = (given or Path.cwd()).resolve()
    if (folder / "semantic" / "model.yaml").is_file():
        return folder
    if given is not None:
        raise ForgeError(f"--project {given}: no semantic/model.yaml in {folder}")
    raise ForgeError(f"no semantic/model.yaml in the current folder {folder}; pass --project DIR, "
                     "or start a project with `pbi-forge init DIR`")


def check_options(args: argparse.Namespace) -> None:
    """Options that argparse cannot check alone; every problem is reported before any work."""
    problems = [Problem(None, msg) for msg in _option_problems(args)]
    if problems:
        raise ForgeError(problems)


def _option_problems(args: argparse.Namespace) -> Iterator[str]:
    project, out = getattr(args, "project", None), getattr(args, "out", None)
    if out is None or project is None:
        pass
    elif out.exists() and not out.is_dir():
        yield f"--out {out} is a file, not a folder"
    elif out == project or out in project.parents:
        yield f"--out {out} would hold the project itself (semantic/, measures/); choose a folder of its own"
    elif any(out == project / part or project / part in out.parents for part in ("semantic", "measures")):
        yield f"--out {out} is inside the project's YAML sources; choose a folder outside semantic/ and measures/"
    schemas = getattr(args, "schemas", None)
    if schemas is not None and not Path(schemas).is_dir():
        yield f"--schemas {schemas}: no such folder"
    junit = getattr(args, "junit", None)
    if junit is not None:
        junit = Path(junit)
        if junit.is_dir():
            yield f"--junit {junit} is a folder; give the XML file to write"
        elif not junit.parent.is_dir():
            yield f"--junit {junit}: the folder {junit.parent} does not exist (it is not created for you)"
    as_of = getattr(args, "as_of", None)
    if as_of is not None:
        try:
            dt.date.fromisoformat(as_of)
        except ValueError:
            yield f"--as-of {as_of!r} is not a date; write YYYY-MM-DD, e.g. 2024-12-31"


BUILD_STEPS = 6  # load YAML, check DAX, generate data, write files, validate, swap in


@contextmanager
def _progress(console: Console) -> Iterator:
    """A progress bar over the build steps; each step's time goes into `timings`."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    timings: dict[str, float] = {}
    with Progress(TextColumn("{task.description:<16}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task("build", total=BUILD_STEPS)

        @contextmanager
        def step(label: str) -> Iterator[None]:
            bar.update(task, description=label)
            started = time.perf_counter()
            yield
            timings[label] = time.perf_counter() - started
            bar.advance(task)

        step.timings = timings  # type: ignore[attr-defined]
        yield step


def cmd_build(args: argparse.Namespace) -> int:
    from generator.pipeline import build

    console = Console(stderr=False, highlight=False)
    with _progress(console) as step:
        result = build(args.project, args.out, rows=args.rows, seed=args.seed, force=args.force,
                       data_folder=args.data_folder, schemas=args.schemas, tom=args.tom, step=step)
    _summary(console, result, args.out, step.timings)
    return 0


def _summary(console: Console, result, out: Path, timings: dict[str, float]) -> None:
    model = result.model
    table = RichTable(title=f"pbi-forge build: {model.name}", show_edge=False)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in result.rows.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    visuals = sum(len(p.visuals) for p in model.pages)
    console.print(f"measures: {len(model.measures)}   pages: {len(model.pages)}   visuals: {visuals}   "
                  f"files: {result.files} ({result.swap.written} written, {result.swap.unchanged} unchanged)")
    for line in result.checks:
        console.print(f"check  {line}")
    for rel in result.swap.removed:
        console.print(f"removed stale generated file {rel}")
    for rel in result.swap.kept:
        console.print(f"[yellow]kept {rel}: no longer generated, but you changed it[/yellow]")
    steps = ", ".join(f"{k} {v:.2f}s" for k, v in timings.items())
    console.print(f"output: {out}\ndone in {result.seconds:.2f}s ({steps})")


def cmd_validate(args: argparse.Namespace) -> int:
    from generator.spec import load_project
    from generator.validate import validate_output

    model = load_project(args.project)
    if not args.out.is_dir():
        raise ForgeError(f"{args.out} does not exist; run `python build.py` first")
    for line in validate_output(args.out, model, schemas=args.schemas, tom=args.tom):
        print(f"check  {line}")
    print("valid")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every outcome is an exit code and a message, never a traceback."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["build", *argv]
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error (exit 2) or the help (exit 0)
        return exc.code if isinstance(exc.code, int) else 2
    return _in_deep_thread(_guarded, args)


def _check_query_depth(text: str) -> None:
    """Refuse a query too deep for the engine (see ENGINE_MAX_DEPTH); syntax errors surface here too."""
    from generator.dax.parser import parse_query

    stack = [(parse_query(text), 0)]
    while stack:  # iterative: a 10,000-term chain is a 10,000-deep tree
        node, depth = stack.pop()
        if depth > ENGINE_MAX_DEPTH:
            span = node.span
            raise ForgeError(Problem(
                Pos("<query>", span.line, span.col) if span else None,
                f"the query nests more than {ENGINE_MAX_DEPTH} levels deep (each operator of a chain "
                "a + b + … is one level); the reference engine cannot evaluate it"))
        stack.extend((child, depth + 1) for child in node.children())


def _guarded(args: argparse.Namespace) -> int:
    try:
        args = _resolve(args)
        check_options(args)
        if args.command == "query":
            _check_query_depth(args.dax)
        return int(args.func(args) or 0)
    except ForgeError as exc:
        return _report(exc.problems, exc.exit_code)
    except DaxSyntaxError as exc:  # a DAX text typed on the command line (`query`)
        where = exc.pos or Pos("<query>", exc.line, exc.col)
        return _report([Problem(where, f"DAX syntax error: {exc.message}\n{exc.excerpt}")], 2)
    except KeyboardInterrupt:
        print("interrupted; nothing was written.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _stdout_closed()
    except Exception as exc:  # noqa: BLE001 - the last resort: a bug, reported without a traceback
        return _internal_error(exc)


def _report(problems: list[Problem], code: int) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    count = len(problems)
    print(f"{count} problem{'s' if count != 1 else ''}; nothing was written.", file=sys.stderr)
    return code


def _stdout_closed() -> int:
    """The reader of our stdout went away (`build.py lint | head`): stop quietly, exit 1.

    stdout is pointed at /dev/null so that the interpreter's final flush does not raise
    again (the recipe of Python's signal documentation)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (captured)
        pass
    return 1


def _internal_error(exc: BaseException) -> int:
    if os.environ.get("PBI_FORGE_DEBUG") == "1":
        traceback.print_exception(exc, file=sys.stderr)
    detail = str(exc).splitlines()[0][:300] if str(exc) else ""
    print(f"internal error: {type(exc).__name__}{': ' + detail if detail else ''}\n"
          "This is a bug in pbi-forge, not in your input; please report it with the command you ran "
          "(set PBI_FORGE_DEBUG=1 to see the traceback). Nothing was written.", file=sys.stderr)
    return EXIT_INTERNAL


def _in_deep_thread(func, args: argparse.Namespace) -> int:
    """`func(args)` in a thread with a 1 GiB stack and a high recursion limit.

    Raising the recursion limit is only safe with a stack to match: the main thread's
    8 MiB would overflow (a crash, not an exception) long before 200,000 frames. Ctrl-C
    arrives in the main thread, which passes it on to the worker so its cleanup runs."""
    outcome: list[int] = []
    limit = sys.getrecursionlimit()
    size = threading.stack_size()

    def target() -> None:
        sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
        try:
            outcome.append(func(args))
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a command, say
            outcome.append(_internal_error(exc) if not isinstance(exc, SystemExit) else _exit_code(exc))

    try:
        threading.stack_size(STACK_BYTES)
        worker = threading.Thread(target=target, name="pbi-forge", daemon=True)
        worker.start()
    except (RuntimeError, MemoryError, ValueError):  # no address space for the stack: run here, default depth
        return func(args)
    finally:
        threading.stack_size(size)
    try:
        _join(worker)
    finally:
        sys.setrecursionlimit(limit)
    return outcome[0] if outcome else 130


def _join(worker: threading.Thread) -> None:
    while True:
        try:
            while worker.is_alive():
                worker.join(0.2)
            return
        except KeyboardInterrupt:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident),
                                                       ctypes.py_object(KeyboardInterrupt))


def _exit_code(exc: SystemExit) -> int:
    return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
