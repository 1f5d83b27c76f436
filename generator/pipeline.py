"""The build: load → check → synthesise → render into a staging folder → validate → swap in.

Nothing reaches the output folder unless every step before the swap succeeded. The
model is checked before the staging folder exists; the data is streamed into the staging
folder's data/ (memory bounded whatever --rows is) and checked there, over the files, so
a data problem discards the staging folder before anything is swapped in. From the staging
folder on, the build holds the output's lock (a second build on the same output waits),
first finishes a swap-in an earlier build was killed in, and removes staging folders
that dead builds left behind.
"""
from __future__ import annotations

import sys

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from generator.dax.analysis import analyze_model
from generator.dax.column_cycles import column_cycle_problems
from generator.emit.project import render
from generator.emit.journal import discard_stage
from generator.emit.paths import contained
from generator.emit.lock import build_lock, remove_stale_stages
from generator.emit.writer import SwapReport, new_stage, recover, swap_in
from generator.errors import ForgeError
from generator.spec import load_project
from generator.spec.integrity import relationship_problems
from generator.spec.model import Model
from generator.synth import generate_files
from generator.validate import validate_output
from generator.validate.integrity import MEMORY_LIMIT as CHECK_MEMORY_LIMIT, integrity_problems


@dataclass
class BuildResult:
    model: Model
    rows: dict[str, int]
    files: int
    swap: SwapReport
    seconds: float
    checks: list[str] = field(default_factory=list)


@contextmanager
def _no_progress(label: str) -> Iterator[None]:
    yield


def check_model(model: Model) -> None:
    """Model checks that need no data: DAX (syntax, references, arity, measure and
    calculated-column cycles) and the relationship graph; raise on any problem."""
    problems = analyze_model(model)  # every analysis problem is an error
    if not problems:  # a column cycle needs every expression to parse and resolve
        problems = column_cycle_problems(model)
    problems += relationship_problems(model)
    if problems:
        raise ForgeError(problems)


def check_data(model: Model, data: Mapping[str, pa.Table | Path]) -> None:
    """What Power BI's refresh would refuse: duplicate or blank one sides and keys
    (each table as an Arrow table or its Parquet file)."""
    problems = integrity_problems(model, data)
    if problems:
        raise ForgeError(problems)


def check_calculated(model: Model, stage: Path) -> None:
    """Compute the calculated tables (and columns) once on the data, as Desktop's refresh
    would: an expression that fails, a cycle, or a declared column the expression does not
    produce stops the build before anything is written (calculated_tables.py)."""
    if not any(t.is_calculated for t in model.tables):
        return
    from generator.engine.runtime.engine import Engine
    from generator.engine.errors import DaxUnsupportedError

    try:
        # reads the data files just written to the stage, under the integrity checks' memory
        # limit: DuckDB spills beyond it, so the build's memory does not grow with the rows
        # (the engine's default, 75% of the machine, let a 100M build reach 4.3 GiB)
        Engine(model, out=stage, memory_limit=CHECK_MEMORY_LIMIT).con.close()
    except DaxUnsupportedError as exc:
        # Valid DAX that Power BI computes on refresh but this engine cannot (an imported
        # model's FORMAT with a Spanish locale, say): the TMDL is still right, so the build
        # goes on; every engine query of the model then stops with this same message.
        print(f"warning: the engine cannot compute the calculated tables: {exc}; "
              "Power BI computes them on refresh, `query`/`test` of this model are refused", file=sys.stderr)


def build(project: Path, out: Path, rows: int | None = None, seed: int | None = None, force: bool = False,
          data_folder: str | None = None, schemas: Path | None = None, tom: bool | None = None,
          step: Callable[[str], object] = _no_progress, lock_timeout: float | None = None) -> BuildResult:
    started = time.perf_counter()
    with step("load YAML"):
        model = load_project(project)
    with step("check DAX"):
        check_model(model)
    with build_lock(out, lock_timeout):
        recover(out, force=force)
        remove_stale_stages(out)
        stage = new_stage(out)
        try:
            with step("generate data"):
                for t in model.tables:  # names were checked at load time; refuse any that would escape
                    contained(stage, f"data/{t.name}.parquet")
                data = generate_files(model, stage / "data", rows=rows, seed=seed)
                check_data(model, data)
                check_calculated(model, stage)
                rows_of = {name: pq.read_metadata(path).num_rows for name, path in data.items()}
            with step("write files"):
                files = render(model, stage, data_folder, out) + [f"data/{p.name}" for p in data.values()]
            with step("validate"):
                checks = validate_output(stage, model, schemas=schemas, tom=tom)
            with step("swap in"):
                report = swap_in(stage, out, force=force)
        finally:
            discard_stage(stage, out)
    return BuildResult(model, rows_of, len(files), report,
                       time.perf_counter() - started, checks)

