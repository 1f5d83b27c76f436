"""`pbi-forge init DIR`: start a project of one's own (see generator/scaffold/__init__.py)."""
from __future__ import annotations

import argparse
from pathlib import Path

from generator.scaffold import init_project


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("init", help="write a small working project (CSV tables, measures, tests, a page)")
    p.add_argument("dir", type=Path, help="folder to create (must be empty or not exist)")
    p.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    p.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    made = init_project(args.dir, force=args.force)
    print(f"wrote {len(made.files)} files to {made.root} (model {made.name})")
    print(f"next: cd {args.dir} && pbi-forge build && pbi-forge test && pbi-forge lint && pbi-forge fmt")
    return 0
