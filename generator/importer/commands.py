"""`pbi-forge import PATH --project DIR`: an existing PBIP (Desktop-saved) as a pbi-forge project;
`pbi-forge import --merge [PATH] --project DIR`: Desktop's edits of a generated PBIP back into its YAML."""
from __future__ import annotations

import argparse
from pathlib import Path

from generator.errors import ForgeError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("import", help="turn a PBIP (.pbip, *.SemanticModel or *.Report) into YAML")
    p.add_argument("path", type=Path, nargs="?", default=None,
                   help="a .pbip file, a *.SemanticModel folder or a *.Report folder (with --merge: the folder "
                        "Desktop saved, default the project's powerbi/)")
    p.add_argument("--project", dest="into", type=Path, required=True,
                   help="folder to write semantic/ and measures/ into (created if missing)")
    p.add_argument("--force", action="store_true", help="overwrite files that already exist in the folder "
                   "(with --merge: merge the changes that map, list the others)")
    p.add_argument("--synthesize", action="store_true",
                   help="give tables whose M pbi-forge cannot run synthetic rows for the engine (TMDL keeps the M)")
    p.add_argument("--merge", action="store_true",
                   help="bring Power BI Desktop's edits of the project's generated PBIP back into its YAML")
    p.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    from generator.importer.project import import_project

    if args.merge:
        from generator.importer.merge import cmd_merge

        return cmd_merge(args)
    if args.path is None:
        raise ForgeError("import needs a PATH (a .pbip file, a *.SemanticModel or a *.Report folder); "
                         "or pass --merge to merge Desktop's edits of the project's own powerbi/")
    if args.into.exists() and not args.into.is_dir():
        raise ForgeError(f"--project {args.into} is a file, not a folder")
    done = import_project(args.path, args.into, force=args.force, synthesize=args.synthesize)
    print(f"imported {done.sources.name}: {done.result.tables} tables, {done.result.measures} measures, "
          f"{done.visuals} visuals ({done.passthrough_visuals} kept as raw PBIR); "
          f"{len(done.written)} files written to {args.into}")
    for note in done.result.notes:
        print(f"note  {note}")
    print(f"next: pbi-forge build --project {args.into}")
    return 0
