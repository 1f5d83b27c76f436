"""Stage: check an emitted PBIP tree — JSON schemas, visual bindings, and TOM on the TMDL."""
from __future__ import annotations

from pathlib import Path

from generator.errors import ForgeError, Problem
from generator.spec.model import Model
from generator.validate import tom as tom_check
from generator.validate.bindings import check_visuals
from generator.validate.schemas import default_schema_dir, json_files, validate_tree


def validate_output(tree: Path, model: Model, schemas: Path | None = None, tom: bool | None = None) -> list[str]:
    """Run every check on `tree`; raise ForgeError on failure, else return one line per check.

    `schemas=None` looks for ../shared/schemas beside the project; `tom=None` runs TOM
    when it is installed, `tom=True` requires it, `tom=False` skips it.
    """
    lines, problems = [], []
    report = tree / f"{model.name}.Report"
    binding_problems = check_visuals(report, model) if report.is_dir() else [f"{report} is missing"]
    problems += [Problem(None, f"visual binding: {p}") for p in binding_problems]
    visuals = len(list(report.rglob("visual.json")))
    lines.append(f"bindings: {visuals} visuals, every field exists in the model")

    schema_dir = schemas or default_schema_dir(model.root)
    if schema_dir is None:
        lines.append("schemas: skipped (no ../shared/schemas found; pass --schemas DIR)")
    else:
        failures = validate_tree(tree, schema_dir)
        for path, errs in failures.items():
            problems += [Problem(None, f"schema: {path.relative_to(tree)}: {e}") for e in errs]
        lines.append(f"schemas: {len(json_files(tree))} JSON files valid against {schema_dir}")

    definition = tree / f"{model.name}.SemanticModel" / "definition"
    if tom is False:
        lines.append("TOM: skipped")
    elif not tom_check.available():
        if tom:
            problems.append(Problem(None, tom_check.INSTALL_HINT))
        else:
            lines.append("TOM: not installed, skipped (see `build.py validate --tom`)")
    else:
        result = tom_check.check(definition)
        problems += [Problem(None, f"TOM: {e}") for e in result["errors"]]
        s = result.get("summary", {})
        lines.append(f"TOM: accepted ({s.get('tables')} tables, {s.get('columns')} columns, "
                     f"{s.get('measures')} measures, {s.get('relationships')} relationships"
                     + (f", {s['functions']} functions" if s.get("functions") else "") + ")")
    if problems:
        raise ForgeError(problems)
    return lines
