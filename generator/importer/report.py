"""`python -m generator.importer.report [--write]`: the per-sample import table of docs/import.md.

For every Desktop-saved sample in ../shared/pbip-samples (and the shipped powerbi/): the
tables and measures imported, the report visuals found, which tables are kept as verbatim
TMDL, and which measures the reference engine evaluates vs refuses, by function name (a
measure is refused when it calls a DAX function the engine has no handler for).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from generator.dax import ast as A
from generator.dax.errors import DaxSyntaxError
from generator.dax.parser import parse_expression
from generator.errors import ForgeError
from generator.importer.project import import_files

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "pbip-samples"
DOC = REPO / "docs" / "import.md"


def sample_paths(samples: Path = SAMPLES) -> list[Path]:
    """Every *.SemanticModel of the samples (a model with reports: through its first report)."""
    models = sorted(p for p in samples.rglob("*.SemanticModel") if p.is_dir())
    return [*models, REPO / "powerbi" / "CustomerIntelligence.SemanticModel"]


def functions(expression: str) -> set[str]:
    try:
        tree = parse_expression(expression)
    except DaxSyntaxError:
        return {"<syntax error>"}
    names, stack = set(), [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, A.FunctionCall):
            names.add(node.name.upper())
        stack.extend(node.children())
    return names


@dataclass
class SyntheticRun:
    """What `import --synthesize` gives a sample: synthesized tables with their rows, and
    each measure evaluated once (`EVALUATE ROW`) over the synthetic data."""

    tables: dict[str, int] = field(default_factory=dict)  # table -> synthetic rows
    evaluated: int = 0  # measures that returned a value (blank included) without error
    errors: dict[str, int] = field(default_factory=dict)  # reason (a function, mostly) -> measures


def measure_ref(name: str) -> str:
    return "[" + name.replace("]", "]]") + "]"


def _reason(exc: Exception) -> str:
    """The function or construct an engine error is about, short, for the docs table."""
    from generator.engine.errors import DaxUnsupportedError

    if isinstance(exc, DaxUnsupportedError):
        return exc.what
    text = str(exc.problems[0].message) if isinstance(exc, ForgeError) and exc.problems else str(exc)
    return text.split("\n")[0][:80]


def synthetic_run(path: Path) -> SyntheticRun:
    """Import `path` with --synthesize into a temporary project, generate its data as the
    build does (synth stage), open the engine on it and evaluate every measure."""
    from generator.engine.runtime.engine import Engine
    from generator.spec import load_project
    from generator.synth import generate_files

    run = SyntheticRun()
    done = import_files(path, synthesize=True)
    with tempfile.TemporaryDirectory(prefix="pbi-forge-synth-report-") as tmp:
        root = Path(tmp)
        for rel, text in done.result.files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text, "utf-8")
        model = load_project(root)
        data = generate_files(model, root / "powerbi" / "data")
        run.tables = {t.name: pq.read_metadata(data[t.name]).num_rows for t in model.tables
                      if t.source.kind == "external" and t.source.synthetic is not None}
        try:
            engine = Engine(model, out=root / "powerbi")
        except ForgeError as exc:  # the calculated tables cannot be computed: every measure is refused
            run.errors["calculated tables: " + _reason(exc)] = len(model.measures)
            return run
        try:
            for m in model.measures:
                try:
                    engine.query(f'EVALUATE ROW ( "v", {measure_ref(m.name)} )')
                    run.evaluated += 1
                except ForgeError as exc:
                    run.errors[_reason(exc)] = run.errors.get(_reason(exc), 0) + 1
        finally:
            engine.con.close()
    return run


def row(path: Path, supported: set[str]) -> list[str]:
    label = path.relative_to(SAMPLES).as_posix() if SAMPLES in path.parents else "pbi-forge powerbi/ (shipped)"
    reports = [r for r in path.parent.glob("*.Report") if (r / "definition.pbir").is_file()
               and path.name in (r / "definition.pbir").read_text("utf-8-sig")]
    try:
        done = import_files(path)
    except ForgeError as exc:
        return [label, "refused: " + str(exc.problems[0]).split(": error: ")[-1][:120], "", "", "", "", "", "", "",
                ""]
    import yaml

    ok, refused = 0, {}
    for rel, text in done.result.files.items():
        if rel.startswith("measures/"):
            for m in yaml.safe_load(text)["measures"]:
                missing = {f for f in functions(str(m["expression"])) if f not in supported}
                if missing:
                    for f in missing:
                        refused[f] = refused.get(f, 0) + 1
                else:
                    ok += 1
    visuals = raw = 0
    for r in reports:
        pages = import_files(r)
        visuals, raw = visuals + pages.visuals, raw + pages.passthrough_visuals
    total = done.result.measures
    refused_text = ", ".join(f"{f} ({n})" for f, n in sorted(refused.items())) or "—"
    verbatim = ", ".join(done.result.verbatim_tables) or "—"
    shown = f"{visuals - raw} / {raw}" if reports else "— (no report)"
    synth = synthetic_run(path)
    synthesized = f"{len(synth.tables)} tables, {sum(synth.tables.values()):,} rows" if synth.tables else "—"
    errors = ", ".join(f"{r} ({n})" for r, n in sorted(synth.errors.items())) or "—"
    return [label, str(done.result.tables), str(total), shown, f"{ok} / {total}", refused_text, verbatim,
            synthesized, f"{synth.evaluated} / {total}", errors]


def table(paths: list[Path]) -> str:
    from generator.engine.runtime.engine import supported_functions

    supported = {f.upper() for f in supported_functions()}
    head = ["sample (SemanticModel)", "tables", "measures", "visuals: YAML / raw PBIR (its reports)",
            "measures the engine evaluates", "refused: DAX functions without a handler (measures)",
            "tables kept as verbatim TMDL", "--synthesize: tables given synthetic rows",
            "measures evaluated on the synthetic rows", "errors on the synthetic rows (measures)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in paths:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row(p, supported)) + " |")
    return "\n".join(lines) + "\n"


INTRO = """# Importing an existing PBIP: what each sample gives

Generated by `python -m generator.importer.report --write` (do not edit by hand). `pbi-forge
import PATH --project DIR` reads a Desktop-saved semantic model (TMDL) and writes pbi-forge's
YAML; `tests/test_importer.py` then builds each import and compares the rebuilt model with the
original through Microsoft's TOM (tables, column types, measures and their DAX, partition M,
relationships, roles, calculation groups, perspectives, cultures).

## What an import writes

- `semantic/model.yaml`, `semantic/tables/*.yaml`, `semantic/calculation_groups/*.yaml`,
  `semantic/pages/*.yaml`, `measures/<table>.yaml`: what pbi-forge's YAML can say, with a
  `#` comment on every property or annotation it cannot (dataCategory, isAvailableInMdx, ...).
  `///` descriptions become `description:` wherever the YAML has one (the model, tables,
  columns, measures, hierarchies and levels, roles, calculation groups and their items).
- A calculated table's columns, which Desktop writes without a `dataType` (typed at refresh),
  get the type of their DAX expression, compiled by the reference engine
  (generator/importer/calc_types.py); where it cannot be typed (an unsupported function, a
  column of mixed or only-BLANK type) string is assumed, and a `#` comment says why.
- Power Query M that is not a local Parquet/CSV read stays verbatim: `source: {m: |- ...}`.
  The build writes it into the partition as it is; pbi-forge cannot run M, so such a table has
  no rows for the engine unless imported with `--synthesize` (below); measure tests can
  still give it rows with `given:`.
- `semantic/tmdl/`: TMDL kept verbatim, written back byte-for-byte by the build in place of
  the generated file: a table with structure the YAML has no place for (a KPI, a dynamic format
  string, a field parameter's extended properties, an auto date/time variation, a column whose
  sourceColumn is not its name), perspectives, cultures with linguistic metadata (or anything
  else `cultures:` cannot say; a culture of translations only becomes model.yaml `cultures:`,
  its annotations `#` comments), shared expressions
  (`expressions.tmdl`, appended after the build's DataFolder) and model-level objects
  (`model.tmdl`, appended). The YAML still declares such a table, for bindings, lint and the engine.
- With `--synthesize`, every table whose M stays verbatim also gets `source.synthetic:`, a
  generic generator derived from the column types, keys and relationships
  (generator/importer/synthesize.py, run by generator/synth/synthetic.py): one sides and
  `isKey` columns unique, many-side keys drawn from the keys the one side has (no orphans),
  a date table one row per day of 2021-2024 with Year/Month/"Q1 2024"... columns derived
  from its date, other dates in that range, text from small vocabularies, rows by role
  (dimension 50, order-header-like "bridge" 500, fact 5,000, unrelated 100; edit `rows:`).
  **These rows are synthetic, for the engine only** (`query`, `test`, CI): the TMDL
  partition keeps the original M, so Power BI's refresh reads the real source and the TOM
  round trip is unchanged. Same YAML and seed: byte-identical Parquet.
- `semantic/pbir/`: raw PBIR (page.json, visual.json) written back byte-for-byte.
- An existing file that would change is refused unless `--force`; bad TMDL or JSON is an error
  naming file:line:col (exit 2) and nothing is written.

`Prueba Con Todas Las Aseguradoras` relates text columns to a date/time column with inactive
relationships: they load, and the engine refuses to activate one with USERELATIONSHIP. Its
DIM_Tiempo table formats dates with the es-GT locale, which the engine refuses, so the build
warns that its calculated tables are not computed (Power BI computes them on refresh).
Known refusals: `Report04` binds a table its model
(Model02) does not have. `Sales.Report` of the Analysis-Services sample keeps no pages in the
corpus (only definition.pbir).

"Measures the engine evaluates" counts the measures whose every DAX function has a handler in
the reference engine (generator/engine); the next column names the functions that have none.
Visuals: those of every report bound to the model (byPath); a visual becomes YAML only when
the YAML says all of it (spec/visuals.py types, integer position, plain fields, at most a title),
every other one is kept as raw PBIR and written back byte-for-byte by the build.
The last three columns import with `--synthesize`, generate the data as the build does and
evaluate every measure once (`EVALUATE ROW`) on the synthetic rows; an error names the
function or rule the engine stopped at (tests/test_import_synthesize.py builds each sample).

"""


HAND_WRITTEN = "<!-- Hand-written from here on: `--write` keeps this part as it is. -->"


def hand_written(doc: Path = DOC) -> str:
    """The hand-written part of docs/import.md (from the HAND_WRITTEN line on), kept by --write."""
    text = doc.read_text("utf-8") if doc.is_file() else ""
    at = text.find(HAND_WRITTEN)
    return "\n" + text[at:] if at >= 0 else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator.importer.report")
    parser.add_argument("--write", action="store_true", help=f"write {DOC.relative_to(REPO)}")
    args = parser.parse_args(argv)
    if not SAMPLES.is_dir():
        print(f"no samples at {SAMPLES}", file=sys.stderr)
        return 2
    text = INTRO + table(sample_paths()) + hand_written()
    if args.write:
        DOC.write_text(text, "utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
