"""`build.py lint`: best-practice rules for the model's DAX, in the spirit of Tabular
Editor's Best Practice Analyzer.

Each rule has a stable id, a severity, a message and a fix hint. DAX000 carries the
analysis problems (syntax, unknown references, arity, cycles) as errors; the other rules
are advice. Rules are switched off per object through the model's ``lint_disable``
tuples (``lint: {disable: [DAX001]}`` on a measure, a column, a table, a measures file
or model.yaml) or through the `disabled` mapping of `lint_model`.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Callable, Iterator

from generator.dax import ast as A
from generator.dax.analysis import DaxObject, ModelAnalysis, analyze
from generator.dax.catalog import lookup
from generator.spec.model import Model, Pos

ERROR, WARNING, INFO = "error", "warning", "info"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    title: str
    hint: str


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    message: str
    hint: str | None
    pos: Pos | None
    subject: str  # what the finding is about: "Sales" (measure), "Sales[Amount]", a relationship

    def __str__(self) -> str:
        where = f"{self.pos}: " if self.pos else ""
        text = f"{where}{self.severity} {self.rule}: {self.message}"
        return text + (f"\n    hint: {self.hint}" if self.hint else "")


RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("DAX000", ERROR, "invalid DAX",
         "fix the expression; the build refuses models with invalid DAX"),
    Rule("DAX001", WARNING, "division with '/' by a non-constant",
         "use DIVIDE(numerator, denominator), which returns BLANK instead of an error on zero"),
    Rule("DAX002", WARNING, "measure without a format string",
         "add `format:` (e.g. '#,0' or '0.0%') so every visual shows the value the same way"),
    Rule("DAX003", INFO, "measure without a description",
         "add `description:`; it becomes the tooltip in the field list"),
    Rule("DAX004", WARNING, "bidirectional relationship",
         "use cross_filter: single and CROSSFILTER(..., BOTH) inside the measures that need it"),
    Rule("DAX005", INFO, "unused column",
         "remove the column, or hide it if reports outside this project use it"),
    Rule("DAX006", INFO, "unused measure",
         "remove the measure or bind it to a visual"),
    Rule("DAX007", WARNING, "column reference without its table",
         "write Table[Column] for columns and [Measure] for measures, so readers can tell them apart"),
    Rule("DAX008", WARNING, "measure reference with a table prefix",
         "write [Measure] without the table; Table[Name] reads as a column"),
    Rule("DAX009", WARNING, "IFERROR / ISERROR",
         "test the condition that causes the error instead (DIVIDE, IF(ISBLANK(...)), ...); "
         "IFERROR forces slow cell-by-cell evaluation"),
    Rule("DAX010", WARNING, "FILTER over a whole table as a CALCULATE filter",
         "use a Boolean filter on the column, e.g. CALCULATE([m], T[c] > 1), or KEEPFILTERS(T[c] > 1)"),
    Rule("DAX011", INFO, "calculated column that aggregates",
         "an aggregation in a calculated column is frozen at refresh; a measure follows the filters"),
)}


def lint_model(model: Model, disabled: dict[str, list[str]] | None = None,
               analysis: ModelAnalysis | None = None) -> list[Finding]:
    """All findings, sorted by position, minus the disabled ones.

    `disabled` maps a subject to rule ids: ``"*"`` (whole model), a measure name, a
    table name or ``"Table[Column]"``. It adds to the ``lint_disable`` of the model
    objects.
    """
    analysis = analysis or analyze(model)
    switched_off = _switched_off(model, disabled or {})
    findings = [
        f for check in _CHECKS for f in check(model, analysis)
        if f.rule not in switched_off.get("*", set()) and f.rule not in switched_off.get(f.subject.lower(), set())
    ]
    return sorted(findings, key=lambda f: (str(f.pos.file) if f.pos else "", f.pos.line if f.pos else 0,
                                           f.pos.col if f.pos else 0, f.rule))


def _switched_off(model: Model, extra: dict[str, list[str]]) -> dict[str, set[str]]:
    off: dict[str, set[str]] = {"*": set(getattr(model, "lint_disable", ()))}

    def add(subject: str, ids) -> None:
        off.setdefault(subject.lower(), set()).update(ids)

    for m in model.measures:
        add(m.name, getattr(m, "lint_disable", ()))
    for f in getattr(model, "functions", ()):
        add(f"function {f.name}", f.lint_disable)
    for t in model.tables:
        add(t.name, getattr(t, "lint_disable", ()))
        for c in t.all_columns:
            add(f"{t.name}[{c.name}]", (*getattr(t, "lint_disable", ()), *getattr(c, "lint_disable", ())))
    for subject, ids in extra.items():
        add(subject, ids)
    return off


def _finding(rule_id: str, message: str, pos: Pos | None, subject: str, hint: str | None = None) -> Finding:
    rule = RULES[rule_id]
    return Finding(rule_id, rule.severity, message, hint or rule.hint, pos, subject)


def _subject(obj: DaxObject) -> str:
    if obj.kind == "function":
        return f"function {obj.name}"  # never the name of a measure
    return obj.name if obj.kind == "measure" else f"{obj.table}[{obj.name}]"


def _trees(analysis: ModelAnalysis) -> Iterator[tuple[DaxObject, A.Node]]:
    for obj in analysis.objects:
        if obj.tree is not None:
            for node in obj.tree.walk():
                yield obj, node


# ---------------------------------------------------------------- rules


def _invalid(model: Model, analysis: ModelAnalysis) -> Iterator[Finding]:
    for p in analysis.problems:
        yield Finding("DAX000", ERROR, p.message, p.hint, p.pos, "*model*")


def _division(model: Model, analysis: ModelAnalysis) -> Iterator[Finding]:
    for obj, node in _trees(analysis):
        if isinstance(node, A.BinaryOp) and node.op == "/" and not _constant(node.right):
            yield _finding("DAX001", f"{obj.label} divides with '/' (DAX {node.span})",
                           obj.pos(node.span), _subject(obj))


def _constant(node: A.Node) -> bool:
    while isinstance(node, A.UnaryOp) and node.op in "+-":
        node = node.operand
    return isinstance(node, A.Number)


def _no_format(model: Model, analysis: ModelAnalysis) -> Iterator[Finding]:
    """Numeric measures only: a text measure has nothing to format."""
    text = _TextMeasures(model, analysis)
    for m in model.measures:
        if not m.format and not text.is_text(m.name):
            yield _finding("DAX002", f"measure '{m.name}' has no format string", m.pos, m.name)


class _TextMeasures:
    """Which measures return text, judged from the shape of their result expression:
    a string, `&`, a text function, a text column picked by MAXX/SELECTEDVALUE & co.,
    or another text measure, through IF/SWITCH branches and VAR ... RETURN."""

    _PICKS = {"MAX": 0, "MIN": 0, "SELECTEDVALUE": 0, "MAXX": 1, "MINX": 1,
              "FIRSTNONBLANKVALUE": 1, "LASTNONBLANKVALUE": 1}

    def __init__(self, model: Model, analysis: ModelAnalysis):
        self.model = model
        self.trees = {o.name.lower(): o.tree for o in analysis.objects if o.kind == "measure"}
        self.memo: dict[str, bool] = {}

    def is_text(self, name: str) -> bool:
        key = name.lower()
        if key not in self.memo:
            self.memo[key] = False  # a cycle is not text
            tree = self.trees.get(key)
            self.memo[key] = tree is not None and self._text(tree)
        return self.memo[key]

    def _text(self, node: A.Node) -> bool:
        if isinstance(node, A.VarBlock):
            return self._text(node.body)
        if isinstance(node, A.String) or (isinstance(node, A.BinaryOp) and node.op == "&"):
            return True
        if isinstance(node, A.BracketRef):
            return self.is_text(node.name)
        if not isinstance(node, A.FunctionCall):
            return False
        info = lookup(node.name)
        if info is not None and info.category == "text":
            return True
        if node.name in ("IF", "IF.EAGER"):
            return any(self._text(a) for a in node.args[1:])
        if node.name == "SWITCH":
            return any(self._text(a) for a in node.args[2::2]) or (
                len(node.args) % 2 == 0 and self._text(node.args[-1]))
        if node.name == "COALESCE":
            return any(self._text(a) for a in node.args)
        pick = self._PICKS.get(node.name)
        if pick is not None and pick < len(node.args) and isinstance(node.args[pick], A.ColumnRef):
            ref = node.args[pick]
            table = self.model.table(ref.table or "")
            column = table.column(ref.column) if table is not None else None
            return column is not None and column.type == "string"
        return False


def _no_description(model: Model, analysis: ModelAnalysis) -> Iterator[Finding]:
    for m in model.measures:
        if not m.description:
            yield _finding("DAX003", f"measure '{m.name}' has no description", m.pos, m.name)


def _bidirectional(model: Model, analysis: ModelAnalysis) -> Iterator[Finding]:
    for r in model.relationships:
        if r.cross_filter == "both":
            yield _finding("DAX004", f"relationship {r.name} filters in both directions", r.pos,
                           f"{r.from_table}[{r.from_column}]")


def _used_columns(model: Model, analysis: ModelAnalysis) -> set[tuple[str, str]]:
    used = {c for obj in analysis.objects for c in obj.columns}
    for r in model.relationships:
        used.update({(r.from_table, r.from_column), (r.to_table, r.to_column)})
    for t in model.tables:
        for c in t.all_columns:  # calculated columns can be sort-by targets too
            if c.sort_by:
                used.add((t.name, c.sort_by))
        for h in t.hierarchies:
            used.update((t.name, lv.column) for lv in h.levels)
    for page in model.pages:
        for v in page.visuals:
            used.update((b.table, b.name) for b in v.bindings if b.kind == "column")
    date_table = model.table(model.date_table) if model.date_table else None
    if date_table is not None:  # the marked date column is used by time intelligence
        used.update((date_table.name, c.name) for c in date_table.columns if c.type in ("date", "datetime"))
    return {(t.lower(), c.lower()) for t, c in used}


def _unused_columns(model: Model, analysis: ModelAnalysis) -> Iterator[Finding]:
    used = _used_columns(model, analysis)
    for t in model.tables:
        for c in t.all_columns:
            if (t.name.lower(), c.name.lower()) not in used:
                yield _finding("DAX005", f"column {t.name}[{c.name}] is not used by any measure, "
                                         "relationship, hierarchy or visual", c.pos, f"{t.name}[{c.name}]")


def _unused_measures(model: Model, analysis: ModelAnalysis) -> Iterator[Finding]:
    used = {dep.lower() for obj in analysis.objects for dep in obj.measures}
    for page in model.pages:
        for v in page.visuals:
            used.update(b.name.lower() for b in v.bindings if b.kind == "measure")
    for m in model.measures:
        if m.name.lower() not in used:
            yield _finding("DAX006", f"measure '{m.name}' is not used by any visual or measure", m.pos, m.name)


def _reference_style(model: Model, analysis: ModelAnalysis) -> Iterator[Finding]:
    measures = {m.name.lower() for m in model.measures}
    columns = {c.name.lower() for t in model.tables for c in t.all_columns}
    for obj, node in _trees(analysis):
        if isinstance(node, A.BracketRef) and node.name.lower() not in measures and node.name.lower() in columns:
            yield _finding("DAX007", f"{obj.label} references column [{node.name}] without its table "
                                     f"(DAX {node.span})", obj.pos(node.span), _subject(obj))
        elif (isinstance(node, A.ColumnRef) and node.table and node.column.lower() in measures
              and model.table(node.table) is not None and model.table(node.table).column(node.column) is None):
            yield _finding("DAX008", f"{obj.label} references measure {node.table}[{node.column}] with a "
                                     f"table prefix (DAX {node.span})", obj.pos(node.span), _subject(obj))


def _iferror(model: Model, analysis: ModelAnalysis) -> Iterator[Finding]:
    for obj, node in _trees(analysis):
        if isinstance(node, A.FunctionCall) and node.name in ("IFERROR", "ISERROR"):
            yield _finding("DAX009", f"{obj.label} uses {node.name} (DAX {node.span})",
                           obj.pos(node.span), _subject(obj))


def _filter_whole_table(model: Model, analysis: ModelAnalysis) -> Iterator[Finding]:
    """CALCULATE(..., FILTER(T, <predicate on T's columns only, no measures>))."""
    measures = {m.name.lower() for m in model.measures}
    for obj, node in _trees(analysis):
        if not (isinstance(node, A.FunctionCall) and node.name in ("CALCULATE", "CALCULATETABLE")):
            continue
        for arg in node.args[1:]:
            if _simple_table_filter(arg, measures, model):
                yield _finding("DAX010", f"{obj.label} filters the whole table {arg.args[0].name} with FILTER "
                                         f"(DAX {arg.span})", obj.pos(arg.span), _subject(obj))


def _simple_table_filter(arg: A.Node, measures: set[str], model: Model) -> bool:
    if not (isinstance(arg, A.FunctionCall) and arg.name == "FILTER" and len(arg.args) == 2
            and isinstance(arg.args[0], A.TableRef) and model.table(arg.args[0].name) is not None):
        return False
    table = arg.args[0].name.lower()
    for node in arg.args[1].walk():
        if isinstance(node, A.BracketRef):
            return False  # a measure (context transition) or a bare column: not a simple filter
        if isinstance(node, A.ColumnRef) and (node.table or "").lower() != table:
            return False
        if isinstance(node, A.ColumnRef) and node.column.lower() in measures:
            return False
        if isinstance(node, A.FunctionCall):
            info = lookup(node.name)
            if info is None or info.returns != "scalar" or info.category in ("aggregation", "filter"):
                return False
    return True


def _aggregating_column(model: Model, analysis: ModelAnalysis) -> Iterator[Finding]:
    for obj in analysis.objects:
        if obj.kind != "calculated column" or obj.tree is None:
            continue
        for node in obj.tree.walk():
            info = lookup(node.name) if isinstance(node, A.FunctionCall) else None
            if info is not None and (info.category == "aggregation" or node.name == "CALCULATE"):
                yield _finding("DAX011", f"{obj.label} aggregates with {node.name} (DAX {node.span})",
                               obj.pos(node.span), _subject(obj))
                break


_CHECKS: tuple[Callable[[Model, ModelAnalysis], Iterator[Finding]], ...] = (
    _invalid, _division, _no_format, _no_description, _bidirectional, _unused_columns,
    _unused_measures, _reference_style, _iferror, _filter_whole_table, _aggregating_column,
)


# ---------------------------------------------------------------- output


SEVERITY_RANK = {INFO: 0, WARNING: 1, ERROR: 2}


def at_least(findings: list[Finding], severity: str) -> list[Finding]:
    """The findings of `severity` or worse: `warning` hides the info advice, `error` leaves errors only."""
    floor = SEVERITY_RANK[severity]
    return [f for f in findings if SEVERITY_RANK[f.severity] >= floor]


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)


def render_text(findings: list[Finding]) -> str:
    lines = [str(f) for f in findings]
    counts = {s: sum(f.severity == s for f in findings) for s in (ERROR, WARNING, INFO)}
    lines.append(f"{counts[ERROR]} error(s), {counts[WARNING]} warning(s), {counts[INFO]} info")
    return "\n".join(lines)


def render_json(findings: list[Finding]) -> str:
    rows = []
    for f in findings:
        row = asdict(f)
        row["pos"] = None if f.pos is None else {"file": f.pos.file, "line": f.pos.line, "col": f.pos.col}
        rows.append(row)
    return json.dumps(rows, indent=2)


_SARIF_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "note"}


def render_sarif(findings: list[Finding]) -> str:
    """SARIF 2.1.0, one run, with the rule metadata, for code-scanning UIs."""
    rules = [
        {"id": r.id, "name": r.title, "shortDescription": {"text": r.title}, "help": {"text": r.hint},
         "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]}}
        for r in RULES.values()
    ]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for f in findings:
        result = {"ruleId": f.rule, "ruleIndex": index[f.rule], "level": _SARIF_LEVEL[f.severity],
                  "message": {"text": f.message + (f" ({f.hint})" if f.hint else "")}}
        if f.pos is not None:
            result["locations"] = [{"physicalLocation": {
                "artifactLocation": {"uri": f.pos.file},
                "region": {"startLine": max(1, f.pos.line), "startColumn": max(1, f.pos.col)},
            }}]
        results.append(result)
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "pbi-forge lint", "rules": rules}}, "results": results}],
    }
    return json.dumps(doc, indent=2)


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif}
