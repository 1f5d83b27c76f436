"""`python build.py fmt [--write]` and `python build.py lint [--format ...]`.

fmt compares every measure and calculated-column expression with `format_dax` of it, and
every model function (semantic/functions/) with `format_function`.
Without --write it prints a unified diff per unformatted expression, each hunk labelled
with the style rules (generator/dax/style.py, docs/dax-style.md) it is about, and exits 1. With
--write it rewrites only the expression scalars in their YAML files: the text between
the scalar's first and last character is replaced (multi-line results as a ``|`` block
scalar indented two spaces past its key), so comments, key order and every other byte
stay as they were. Each rewritten file is re-read to prove the new scalar loads back to
exactly the formatted expression before it replaces the original.
"""
from __future__ import annotations

import argparse
import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from generator.dax import style
from generator.dax.errors import DaxSyntaxError
from generator.dax.formatter import format_dax, format_function
from generator.atomic import write_text_atomic
from generator.errors import ForgeError, Problem
from generator.spec.model import ExprOrigin, Model, Pos


def register(subparsers: argparse._SubParsersAction) -> None:
    f = subparsers.add_parser("fmt", help="check (or --write) the formatting of the DAX in the YAML files")
    f.add_argument("--write", action="store_true", help="rewrite unformatted expressions in place")
    f.set_defaults(func=cmd_fmt)
    lint = subparsers.add_parser("lint", help="best-practice checks of the model's DAX")
    lint.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    lint.add_argument("--min-severity", choices=("info", "warning", "error"), default="info",
                      help="report only findings of this severity or worse (default: info, all); "
                           "the exit code still follows errors only")
    lint.set_defaults(func=cmd_lint)


# ---------------------------------------------------------------- lint


def cmd_lint(args: argparse.Namespace) -> int:
    from generator.dax.lint import RENDERERS, at_least, has_errors, lint_model
    from generator.spec import load_project

    findings = at_least(lint_model(load_project(args.project)), args.min_severity)
    print(RENDERERS[args.format](findings))
    return 1 if has_errors(findings) else 0


# ---------------------------------------------------------------- fmt


@dataclass(frozen=True)
class Expression:
    """One DAX expression held in a YAML file."""

    label: str  # "measure 'Sales'" / "calculated column 'T'[C]"
    name: str  # the `name:` of the YAML item holding the expression
    text: str
    origin: ExprOrigin
    function: bool = False  # a model function's definition: ( params ) => body


def cmd_fmt(args: argparse.Namespace) -> int:
    from generator.spec import load_project

    model = load_project(args.project)
    changes, problems = unformatted(model)
    if problems:
        raise ForgeError(problems)
    if not changes:
        print(f"{_count(model)} DAX expressions are formatted")
        return 0
    if args.write:
        by_file: dict[str, list[tuple[Expression, str]]] = {}
        for expr, formatted in changes:
            by_file.setdefault(expr.origin.file, []).append((expr, formatted))
        # Every file is rewritten and verified in memory first: one bad file writes nothing.
        planned = [(rel, items, rewritten_text(args.project / rel, items)) for rel, items in sorted(by_file.items())]
        for rel, items, new in planned:
            write_text_atomic(args.project / rel, new)
            print(f"formatted {len(items)} expression{'s' if len(items) != 1 else ''} in {rel}")
        return 0
    for expr, formatted in changes:
        pos = Pos(expr.origin.file, expr.origin.line, expr.origin.col)
        sys.stdout.write(f"{pos}: {expr.label} is not formatted\n")
        sys.stdout.write(diff(expr, formatted))
    print(f"{len(changes)} expression{'s' if len(changes) != 1 else ''} not formatted; "
          "run `python build.py fmt --write`")
    return 1


def _count(model: Model) -> int:
    return len(model.measures) + sum(len(t.calculated_columns) for t in model.tables) + len(model.functions)


def expressions(model: Model) -> list[Expression]:
    out = [
        Expression(f"calculated column '{t.name}'[{c.name}]", c.name, c.expression, c.origin)
        for t in model.tables for c in t.calculated_columns
    ]
    out.extend(Expression(f"measure '{m.name}'", m.name, m.expression, m.origin)
               for m in model.measures if not m.generated)  # generated DAX has no YAML text to rewrite
    out.extend(Expression(f"function '{f.name}'", f.name, f.expression, f.origin, function=True)
               for f in model.functions)
    return out


def unformatted(model: Model) -> tuple[list[tuple[Expression, str]], list[Problem]]:
    """(expression, formatted text) for every expression that differs from its format."""
    changes: list[tuple[Expression, str]] = []
    problems: list[Problem] = []
    for expr in expressions(model):
        try:
            formatted = format_function(expr.name, expr.text) if expr.function else format_dax(expr.text)
        except DaxSyntaxError as err:
            problems.append(Problem(expr.origin.to_yaml(err.line, err.col),
                                    f"{expr.label}, DAX {err.line}:{err.col}: syntax error: {err.message}"))
            continue
        if formatted != expr.text.strip("\n"):
            changes.append((expr, formatted))
    return changes, problems


def diff(expr: Expression, formatted: str) -> str:
    """A unified diff; each hunk header names the style rules its changes are about
    (``@@ -1 +1 @@ FMT003 space before a call's parenthesis; ...``, docs/dax-style.md)."""
    before, after = expr.text.strip("\n").splitlines(), formatted.splitlines()
    found = style.differences(expr.text.strip("\n"), formatted)
    groups = iter(difflib.SequenceMatcher(None, before, after).get_grouped_opcodes(3))
    out = []
    for line in difflib.unified_diff(before, after, f"{expr.origin.file} ({expr.label})", "formatted", lineterm=""):
        if line.startswith("@@"):
            changed = [op for op in next(groups) if op[0] != "equal"]
            rules = style.hunk_rules(found, range(changed[0][1] + 1, changed[-1][2] + 1),
                                     range(changed[0][3] + 1, changed[-1][4] + 1))
            line += " " + "; ".join(f"{r.id} {r.name}" for r in rules)
        out.append(line + "\n")
    return "".join(out)


def rewrite_file(path: Path, items: list[tuple[Expression, str]]) -> None:
    """Replace the expression scalars of `items` in `path`, leaving every other byte."""
    write_text_atomic(path, rewritten_text(path, items))


def rewritten_text(path: Path, items: list[tuple[Expression, str]]) -> str:
    """The text of `path` with the expression scalars of `items` replaced and verified."""
    text = path.read_text(encoding="utf-8")
    nodes = _expression_nodes(text, path)
    edits: list[tuple[int, int, str]] = []
    for expr, formatted in items:
        node, key_col = _find(nodes, expr, path)
        edits.append(_edit(text, node, key_col, formatted))
    new = text
    for start, end, replacement in sorted(edits, reverse=True):
        new = new[:start] + replacement + new[end:]
    _verify(new, path, items)
    return new


def _expression_nodes(text: str, path: Path) -> list[tuple[yaml.Node, yaml.Node, int]]:
    """(item mapping, expression scalar, key column) for every `expression:` of the file."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ForgeError(f"{path}: cannot re-read the YAML to rewrite it: {exc}") from None
    found = []
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == "expression" and isinstance(value, yaml.ScalarNode):
                    found.append((node, value, key.start_mark.column))
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return found


def _find(nodes, expr: Expression, path: Path) -> tuple[yaml.ScalarNode, int]:
    for mapping, value, key_col in nodes:
        names = [v.value for k, v in mapping.value if k.value == "name" and isinstance(v, yaml.ScalarNode)]
        if names == [expr.name]:
            return value, key_col
    raise ForgeError(f"{path}: cannot find the expression of {expr.label} to rewrite it")


def _edit(text: str, node: yaml.ScalarNode, key_col: int, formatted: str) -> tuple[int, int, str]:
    start, end = node.start_mark.index, node.end_mark.index
    # A block scalar owns the line breaks after its last line; keep them.
    original = text[start:end]
    breaks = original[len(original.rstrip(" \t\n")):].count("\n") if node.style in ("|", ">") else 0
    if "\n" not in formatted and node.style not in ("|", ">"):
        if node.style is None and _plain_ok(formatted):
            return start, end, formatted
        return start, end, "'" + formatted.replace("'", "''") + "'"
    indent = " " * (key_col + 2)
    body = "".join((indent + line if line else "") + "\n" for line in formatted.split("\n"))
    if node.style in ("|", ">"):
        return start, end, "|\n" + body + "\n" * max(0, breaks - 1)
    # A flow scalar becomes a block scalar; a comment after it moves onto the `|` line.
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    comment = text[end:line_end].strip()
    header = "|" + (f" {comment}" if comment.startswith("#") else "")
    return start, line_end + (1 if line_end < len(text) else 0), header + "\n" + body


_PLAIN_UNSAFE = re.compile(r"^[\[\]{}>|*&!%@`#'\",?:-]|: | #|^\s|\s$")


def _plain_ok(text: str) -> bool:
    if _PLAIN_UNSAFE.search(text):
        return False
    try:
        return yaml.safe_load(text) == text
    except yaml.YAMLError:
        return False


def _verify(new: str, path: Path, items: list[tuple[Expression, str]]) -> None:
    nodes = _expression_nodes(new, path)
    for expr, formatted in items:
        node, _ = _find(nodes, expr, path)
        if node.value.strip("\n") != formatted:
            raise ForgeError(f"{path}: rewriting {expr.label} would not load back as the formatted "
                             "expression; the file was left unchanged")


