"""The import as a whole: locate → read TMDL and PBIR → YAML → write into the project folder.

Every file is computed before any is written; an existing file that would change is
refused (all of them are named) unless --force, so a failed import writes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import ForgeError, Problem
from generator.importer.locate import Sources, locate
from generator.importer.to_yaml import ImportResult, import_model
from generator.importer.tmdl_reader import read_folder


@dataclass
class Imported:
    sources: Sources
    result: ImportResult
    written: list[str] = field(default_factory=list)
    visuals: int = 0
    passthrough_visuals: int = 0  # of them, kept as raw PBIR


def import_files(path: Path, synthesize: bool = False) -> Imported:
    """What an import of `path` writes, by relative path (nothing is written); with
    `synthesize`, tables whose M is kept verbatim get synthetic rows (importer/synthesize.py)."""
    sources = locate(path)
    if sources.model is None:
        raise ForgeError(f"{path}: the report is bound to no semantic model in a folder (byPath); "
                         "import the *.SemanticModel it uses")
    result = import_model(read_folder(sources.model), sources.model, sources.name, synthesize)
    done = Imported(sources, result)
    if sources.report is not None:
        from generator.importer.pbir_reader import import_report

        pages = import_report(sources.report, result)
        done.visuals, done.passthrough_visuals = pages.visuals, pages.passthrough
    return done


def import_project(path: Path, into: Path, force: bool = False, synthesize: bool = False) -> Imported:
    done = import_files(path, synthesize)
    into = Path(into)
    refused = []
    for rel, text in sorted(done.result.files.items()):
        target = into / rel
        if target.exists() and not force and target.read_bytes() != text.encode("utf-8"):
            refused.append(Problem(None, f"{target} exists; not overwritten (pass --force to replace it)"))
    if refused:
        raise ForgeError(refused)
    for rel, text in sorted(done.result.files.items()):
        target = into / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
        done.written.append(rel)
    return done
