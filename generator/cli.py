"""`python build.py [command]` / `pbi-forge [command]`: the one command-line entry point.

Commands: build (default), validate; stages add theirs through a `commands.py` module
with `register(subparsers)` (dax: fmt, lint; engine: query, test, evaluate; scaffold: init).
Exit codes: 0 success, 1 a check found problems (tests, lint, fmt), 2 bad input.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from rich.console import Console
from rich.table import Table as RichTable

from generator.errors import ForgeError

STAGE_COMMANDS = ("generator.dax.commands", "generator.engine.commands", "generator.scaffold.commands",
                  "generator.review.commands", "generator.preview.commands")
REPO = Path(__file__).resolve().parents[1]


def _project(p: argparse.ArgumentParser) -> None:
    p.add_argument("--project", type=Path, default=None,
                   help="folder holding semantic/model.yaml and measures/ (default: the current folder)")


def _out(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=None, help="output folder (default: <project>/powerbi)")


def _synth(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=int, default=None, help="orders to generate (default: model.yaml synth.orders)")
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
    if hasattr(args, "project"):
        args.project = _project_folder(args.project)
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
    argv = list(sys.argv[1:] if argv is None else argv)
    top = parser()
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        argv = ["build", *argv]
    args = top.parse_args(argv)
    try:
        return int(args.func(_resolve(args)) or 0)
    except ForgeError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(f"{count} problem{'s' if count != 1 else ''}; nothing was written.", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted; nothing was written.", file=sys.stderr)
        return 130
