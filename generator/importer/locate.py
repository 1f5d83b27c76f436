"""Which folders an import PATH names: a `.pbip` file, a `*.SemanticModel` or a `*.Report` folder.

A .pbip lists its report (`artifacts[].report.path`); a report's definition.pbir points at
its semantic model (`datasetReference.byPath.path`). A PATH that is none of these, or a
reference that leads nowhere, is a ForgeError naming the file (exit 2).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from generator.errors import ForgeError, Problem
from generator.source import Pos


@dataclass(frozen=True)
class Sources:
    name: str  # the model's name: the SemanticModel folder's name without .SemanticModel
    model: Path | None  # the TMDL definition/ folder
    report: Path | None  # the *.Report folder


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text("utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ForgeError(Problem(Pos(str(path), 1, 1), f"cannot read: {exc}")) from None
    except json.JSONDecodeError as exc:
        raise ForgeError(Problem(Pos(str(path), exc.lineno, exc.colno), f"not valid JSON: {exc.msg}")) from None


def _definition(model: Path) -> Path:
    folder = model / "definition"
    if not folder.is_dir() or not any(folder.glob("*.tmdl")):
        if (model / "model.bim").is_file():
            raise ForgeError(Problem(Pos(str(model / "model.bim"), 1, 1),
                                     "a model.bim (TMSL) model; only TMDL (definition/*.tmdl) can be imported — "
                                     "save it in Desktop with the TMDL format option on"))
        raise ForgeError(Problem(None, f"{model}: no definition/*.tmdl folder"))
    return folder


def _report_model(report: Path) -> Path | None:
    pbir = report / "definition.pbir"
    if not pbir.is_file():
        return None
    by_path = (_json(pbir).get("datasetReference") or {}).get("byPath") or {}
    if not by_path.get("path"):
        return None  # a report bound to a model in the service (byConnection): the pages only
    model = (report / by_path["path"]).resolve()
    if not model.is_dir():
        raise ForgeError(Problem(Pos(str(pbir), 1, 1), f"the report's semantic model {by_path['path']} "
                                                        f"does not exist (resolved to {model})"))
    return model


def locate(path: Path) -> Sources:
    path = Path(path).resolve()
    if path.is_file() and path.suffix.lower() == ".pbip":
        reports = [a["report"]["path"] for a in _json(path).get("artifacts", []) if "report" in a]
        if not reports:
            raise ForgeError(Problem(Pos(str(path), 1, 1), "the .pbip lists no report artifact"))
        return locate(path.parent / reports[0])
    if path.is_dir() and path.name.endswith(".SemanticModel"):
        return Sources(path.name.removesuffix(".SemanticModel"), _definition(path), None)
    if path.is_dir() and path.name.endswith(".Report"):
        model = _report_model(path)
        name = model.name.removesuffix(".SemanticModel") if model else path.name.removesuffix(".Report")
        return Sources(name, _definition(model) if model else None, path)
    if not path.exists():
        raise ForgeError(Problem(None, f"{path}: no such file or folder"))
    raise ForgeError(Problem(None, f"{path}: expected a .pbip file, a *.SemanticModel folder or a *.Report folder"))
