"""Model-aware DAX checks: references, functions, arity and measure cycles.

`analyze(model)` parses every measure and calculated column once and resolves each
reference against the model:

* ``Table[Column]``: the table exists and has that column (or calculated column, or a
  measure: ``Table[Measure]`` is legal DAX);
* ``[Name]``: a measure, or a column of some table (row context), or a column that the
  expression itself introduces (see *introduced names* below);
* ``Table`` / ``'Table'``: a model table;
* function calls: known to the catalog, or a model function (semantic/functions/, a DAX
  user-defined function), with an accepted number of arguments.

Model functions are analyzed like measures (their parameters are variables of the body);
calls between functions form a graph, and a cycle in it (recursion, which DAX forbids) is
reported once, as ``F -> G -> F``.

Misspellings get a "did you mean" from difflib. Measure references form a dependency
graph; a cycle is reported once, as ``A -> B -> A``. Comments are not in the AST, so
they never count as references.

Scoping rules that keep legal DAX from being flagged:

* VAR names (the parser already turns them into `VarRef`), and ``var[Column]`` on a
  table variable;
* *introduced names*: every string literal passed directly to a table function
  (``ADDCOLUMNS(t, "Margin", ...)``, ``SELECTCOLUMNS``, ``SUMMARIZE``,
  ``SUMMARIZECOLUMNS``, ``GROUPBY``, ``ROW``, ``DATATABLE`` ...), ``Value``/``ValueN``
  of table constructors and GENERATESERIES, ``Date`` of CALENDAR, the LINEST columns;
  expressions calling INFO.* or COLUMNSTATISTICS (whose column names we do not know)
  skip the ``[Name]`` check;
* bare enumeration words (``YEAR``, ``DESC``) are arguments, unless a table has that
  name.

Every problem names the object, the DAX line:col and the YAML file:line:col.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from generator.dax import ast as A
from generator.dax.catalog import FUNCTIONS, lookup
from generator.dax.cycles import find_cycles
from generator.dax.errors import DaxSyntaxError
from generator.dax.parser import parse_expression, parse_function
from generator.errors import Problem
from generator.source import ExprOrigin, Pos
from generator.spec.model import Model

_CONSTRUCTOR_COLUMNS = ("Value",)
_GENERATED_COLUMNS = {
    "GENERATESERIES": ("Value",),
    "CALENDAR": ("Date",),
    "CALENDARAUTO": ("Date",),
    "LINEST": (),  # filled below
    "LINESTX": (),
}
_LINEST = (
    "Intercept", "StandardErrorIntercept", "CoefficientOfDetermination", "StandardError",
    "FStatistic", "DegreesOfFreedom", "RegressionSumOfSquares", "ResidualSumOfSquares",
) + tuple(f"Slope{i}" for i in range(1, 21)) + tuple(f"StandardErrorSlope{i}" for i in range(1, 21))
_GENERATED_COLUMNS["LINEST"] = _GENERATED_COLUMNS["LINESTX"] = _LINEST
_OPAQUE_TABLE_FUNCTIONS = ("COLUMNSTATISTICS", "INFO.")


@dataclass
class DaxObject:
    """One measure or calculated column with what its expression references."""

    kind: str  # "measure" | "calculated column" | "function" | "query"
    name: str  # measure or function name, or column name for a calculated column
    table: str  # home table
    expression: str
    origin: ExprOrigin
    tree: A.Node | None = None  # None when the expression does not parse (a function: its DefineFunction)
    measures: dict[str, A.Span] = field(default_factory=dict)  # canonical name -> first use
    columns: set[tuple[str, str]] = field(default_factory=set)  # canonical (table, column)
    functions: dict[str, A.Span] = field(default_factory=dict)  # upper-case function name -> first call
    lint_disable: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if self.kind == "query":
            return "query"
        if self.kind == "measure":
            return f"measure '{self.name}'"
        if self.kind == "calculation item":
            return f"calculation item '{self.table}'[{self.name}]"
        if self.kind == "role filter":
            return f"role '{self.name}' filter on '{self.table}'"
        if self.kind == "function":
            return f"function '{self.name}'"
        return f"calculated column '{self.table}'[{self.name}]"

    def pos(self, span: A.Span) -> Pos:
        return self.origin.to_yaml(span.line, span.col)


@dataclass
class ModelAnalysis:
    objects: list[DaxObject]
    problems: list[Problem]

    def measure(self, name: str) -> DaxObject | None:
        key = name.lower()
        return next((o for o in self.objects if o.kind == "measure" and o.name.lower() == key), None)


def analyze_model(model: Model) -> list[Problem]:
    """Every DAX problem of the model (empty when the build may go on)."""
    return analyze(model).problems


def measure_dependencies(model: Model) -> dict[str, set[str]]:
    """Measure name -> names of the measures its expression references directly."""
    return {o.name: set(o.measures) for o in analyze(model).objects if o.kind == "measure"}


def referenced_columns(model: Model) -> dict[str, set[tuple[str, str]]]:
    """Object label (``measure 'X'`` / ``calculated column 'T'[C]``) -> the model columns
    it references, as canonical (table, column) pairs. A bare ``[Col]`` counts for every
    table that has such a column (the row context decides which one at run time)."""
    return {o.label: set(o.columns) for o in analyze(model).objects}


def analyze(model: Model) -> ModelAnalysis:
    """Parse and resolve every measure and calculated column of `model`."""
    index = _ModelIndex(model)
    objects = _objects(model)
    problems: list[Problem] = []
    for obj in objects:
        try:
            if obj.kind == "function":
                obj.tree = parse_function(obj.name, obj.expression, obj.origin)
            else:
                obj.tree = parse_expression(obj.expression, obj.origin)
        except DaxSyntaxError as err:
            problems.append(_syntax_problem(obj, err))
            continue
        problems.extend(_Resolver(index, obj).run())
    problems.extend(_cycles(objects))
    problems.extend(_recursion(objects))
    return ModelAnalysis(objects, problems)


def _objects(model: Model) -> list[DaxObject]:
    out = [
        DaxObject("calculated column", c.name, t.name, c.expression, c.origin,
                  lint_disable=tuple(getattr(c, "lint_disable", ())))
        for t in model.tables
        for c in t.calculated_columns
    ]
    out.extend(
        DaxObject("measure", m.name, m.table, m.expression, m.origin,
                  lint_disable=tuple(getattr(m, "lint_disable", ())))
        for m in model.measures
    )
    out.extend(
        DaxObject("calculation item", i.name, t.name, i.expression, i.origin)
        for t in model.tables if t.calculation_group is not None
        for i in t.calculation_group.items
    )
    out.extend(DaxObject("role filter", r.name, p.table, p.expression, p.origin)
               for r in model.roles for p in r.tables)
    out.extend(
        DaxObject("function", f.name, "", f.expression, f.origin, lint_disable=tuple(f.lint_disable))
        for f in getattr(model, "functions", ())
    )
    return out


def _syntax_problem(obj: DaxObject, err: DaxSyntaxError) -> Problem:
    message = f"{obj.label}, DAX {err.line}:{err.col}: syntax error: {err.message}\n{err.excerpt}"
    return Problem(err.pos or obj.origin.to_yaml(err.line, err.col), message)


class _ModelIndex:
    """Case-insensitive lookups over the model's tables, columns and measures."""

    def __init__(self, model: Model):
        self.tables = {t.name.lower(): t.name for t in model.tables}
        self.columns: dict[str, dict[str, str]] = {
            t.name.lower(): {c.name.lower(): c.name for c in t.all_columns} for t in model.tables
        }
        self.measures = {m.name.lower(): m.name for m in model.measures}
        self.column_owners: dict[str, list[str]] = {}
        for t in model.tables:
            for c in t.all_columns:
                self.column_owners.setdefault(c.name.lower(), []).append(t.name)
        self.all_column_names = sorted({c.name for t in model.tables for c in t.all_columns})
        self.functions: dict[str, A.DefineFunction] = {}  # upper-case name -> parsed definition
        self.broken_functions: set[str] = set()  # model functions that do not parse: calls are not reported
        for f in getattr(model, "functions", ()):
            try:
                self.functions[f.name.upper()] = parse_function(f.name, f.expression, f.origin)
            except DaxSyntaxError:  # reported on the function itself
                self.broken_functions.add(f.name.upper())


def _arguments(count_text: str) -> str:
    """'exactly 1' -> 'exactly 1 argument'; '2 to 3' -> '2 to 3 arguments'."""
    return f"{count_text} argument" + ("" if count_text.endswith(" 1") else "s")


def _suggest(name: str, candidates: list[str]) -> str | None:
    lowered = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f"did you mean '{lowered[close[0]]}'?" if close else None


class _Resolver:
    """Walks one expression tree with its VAR scopes and collects problems."""

    def __init__(self, index: _ModelIndex, obj: DaxObject):
        self.index = index
        self.obj = obj
        self.problems: list[Problem] = []
        self.scopes: list[set[str]] = [set()]
        self.introduced: set[str] = set()
        self.opaque = False

    def run(self) -> list[Problem]:
        assert self.obj.tree is not None
        self._collect_introduced(self.obj.tree)
        self._visit(self.obj.tree)
        return self.problems

    def _problem(self, span: A.Span, message: str, hint: str | None = None) -> None:
        where = f"{self.obj.label}, DAX {span.line}:{span.col}"
        self.problems.append(Problem(self.obj.pos(span), f"{where}: {message}", hint))

    def _collect_introduced(self, tree: A.Expr) -> None:
        for node in tree.walk():
            if isinstance(node, A.TableConstructor):
                width = max((len(r) for r in node.rows), default=1)
                names = ["Value"] if width == 1 else [f"Value{i}" for i in range(1, width + 1)]
                self.introduced.update(n.lower() for n in names)
            elif isinstance(node, A.FunctionCall):
                self._introduced_by_call(node)

    def _introduced_by_call(self, call: A.FunctionCall) -> None:
        if call.name.startswith(_OPAQUE_TABLE_FUNCTIONS):
            self.opaque = True
        self.introduced.update(n.lower() for n in _GENERATED_COLUMNS.get(call.name, ()))
        info = lookup(call.name)
        if info is not None and info.returns == "table":
            self.introduced.update(a.value.lower() for a in call.args if isinstance(a, A.String))

    # ------------------------------------------------------------ traversal

    def _visit(self, node: A.Node) -> None:
        method = _VISIT.get(type(node))
        if method is not None:
            getattr(self, method)(node)
        else:
            for child in node.children():
                self._visit(child)

    def _var_block(self, node: A.VarBlock) -> None:
        self.scopes.append(set())
        for var in node.vars:
            self._visit(var.expr)
            self.scopes[-1].add(var.name.lower())
        self._visit(node.body)
        self.scopes.pop()

    def _is_var(self, name: str) -> bool:
        key = name.lower()
        return any(key in s for s in self.scopes)

    def _function(self, node: A.DefineFunction) -> None:
        """A function definition: its parameters are variables of the defaults and body."""
        self.scopes.append({p.name.lower() for p in node.params})
        for p in node.params:
            if p.default is not None:
                self._visit(p.default)
        self._visit(node.body)
        self.scopes.pop()

    def _call(self, node: A.FunctionCall) -> None:
        udf = self.index.functions.get(node.name)
        if udf is not None or node.name in self.index.broken_functions:
            self.obj.functions.setdefault(node.name, node.span)
            if udf is not None:
                self._udf_arity(node, udf)
            for arg in node.args:
                self._visit(arg)
            return
        info = lookup(node.name)
        if info is None:
            self._problem(node.span, f"unknown function {node.name}", _suggest(node.name, list(FUNCTIONS)))
        elif not info.accepts(len(node.args)):
            self._problem(node.span, f"{node.name} takes {_arguments(info.arity_text())}, "
                                     f"got {len(node.args)}")
        for arg in node.args:
            self._visit(arg)

    def _udf_arity(self, node: A.FunctionCall, udf: A.DefineFunction) -> None:
        total = len(udf.params)
        required = sum(1 for p in udf.params if p.default is None)
        n = len(node.args)
        while n > required and isinstance(node.args[n - 1], A.EmptyArg):
            n -= 1
        if required <= n <= total:
            return
        want = f"exactly {total}" if required == total else f"{required} to {total}"
        self._problem(node.span, f"{udf.name} takes {_arguments(want)}, got {n}")

    def _table_ref(self, node: A.TableRef) -> None:
        if node.name.lower() in self.index.tables:
            return
        self._problem(node.span, f"unknown table '{node.name}'", _suggest(node.name, list(self.index.tables.values())))

    def _enum(self, node: A.EnumArg) -> None:
        """Bare words like YEAR are enumeration arguments unless a table has that name."""

    def _column(self, node: A.ColumnRef) -> None:
        table = node.table or ""
        if table == "" or self._is_var(table):
            return  # ''[Value] of a table constructor, or a column of a table variable
        key = table.lower()
        if key not in self.index.tables:
            self._problem(node.span, f"unknown table '{table}' in {table}[{node.column}]",
                          _suggest(table, list(self.index.tables.values())))
            return
        canonical_table = self.index.tables[key]
        col = self.index.columns[key].get(node.column.lower())
        if col is not None:
            self.obj.columns.add((canonical_table, col))
            return
        measure = self.index.measures.get(node.column.lower())
        if measure is not None:
            self.obj.measures.setdefault(measure, node.span)
            return
        candidates = list(self.index.columns[key].values())
        self._problem(node.span, f"column '{node.column}' not found in table '{canonical_table}'",
                      _suggest(node.column, candidates))

    def _bracket(self, node: A.BracketRef) -> None:
        key = node.name.lower()
        measure = self.index.measures.get(key)
        if measure is not None:
            self.obj.measures.setdefault(measure, node.span)
            return
        owners = self.index.column_owners.get(key)
        if owners:
            if self.obj.kind in ("calculated column", "role filter") and self.obj.table in owners:
                owners = [self.obj.table]
            for owner in owners:
                self.obj.columns.add((owner, self.index.columns[owner.lower()][key]))
            return
        if key in self.introduced or self.opaque:
            return
        candidates = list(self.index.measures.values()) + self.index.all_column_names
        self._problem(node.span, f"unknown measure or column [{node.name}]", _suggest(node.name, candidates))


# Node type -> resolver method name (names, so subclasses can override the methods).
# Every other node type has nothing to resolve itself; its children are visited.
_VISIT = {
    A.DefineFunction: "_function",
    A.VarBlock: "_var_block",
    A.FunctionCall: "_call",
    A.TableRef: "_table_ref",
    A.EnumArg: "_enum",
    A.ColumnRef: "_column",
    A.BracketRef: "_bracket",
}


def _cycles(objects: list[DaxObject]) -> list[Problem]:
    """One problem per measure dependency cycle, reported on its first measure. A measure
    depends on the measures its model functions reference too (at the call's position)."""
    measures = {o.name: o for o in objects if o.kind == "measure"}
    functions = {o.name.upper(): o for o in objects if o.kind == "function"}
    graph = {name: _measure_deps(m, functions) for name, m in measures.items()}
    return [_cycle_problem(measures, graph, cycle) for cycle in find_cycles(graph)]


def _measure_deps(m: DaxObject, functions: dict[str, DaxObject]) -> dict[str, A.Span]:
    deps = dict(m.measures)
    for call, span in m.functions.items():
        seen, todo = set(), [call]
        while todo:
            f = functions.get(todo.pop())
            if f is None or f.name.upper() in seen:
                continue
            seen.add(f.name.upper())
            for name in f.measures:
                deps.setdefault(name, span)
            todo.extend(f.functions)
    return deps


def _cycle_problem(measures: dict[str, DaxObject], graph: dict[str, dict[str, A.Span]], cycle: list[str]) -> Problem:
    first = measures[cycle[0]]
    span = graph[cycle[0]][cycle[1]]
    chain = " -> ".join(cycle)
    return Problem(
        first.pos(span),
        f"{first.label}, DAX {span.line}:{span.col}: circular measure dependency: {chain}",
        "a measure cannot depend on itself, directly or through other measures",
    )


def _recursion(objects: list[DaxObject]) -> list[Problem]:
    """One problem per cycle of model functions calling each other (DAX has no recursion)."""
    functions = {o.name.upper(): o for o in objects if o.kind == "function"}
    graph = {name: f.functions for name, f in functions.items()}
    out = []
    for cycle in find_cycles(graph):
        first = functions[cycle[0]]
        span = first.functions[cycle[1]]
        chain = " -> ".join(functions[n].name for n in cycle)
        out.append(Problem(first.pos(span), f"{first.label}, DAX {span.line}:{span.col}: recursive function "
                                            f"call: {chain}", "a DAX function cannot call itself, directly or "
                                                              "through other functions"))
    return out


def analyze_query(model: Model, text: str, origin: ExprOrigin | None = None) -> list[Problem]:
    """Check a DAX query against `model`. DEFINE'd measures, tables, columns, variables
    and functions are known to every later definition and to the EVALUATEs."""
    from generator.dax.parser import parse_query

    where = origin or ExprOrigin("<query>", 1, 1, block=True, indent=0)
    obj = DaxObject("query", "query", "", text, where)
    try:
        query = parse_query(text, origin)
    except DaxSyntaxError as err:
        return [Problem(err.pos or where.to_yaml(err.line, err.col), f"query, DAX {err.line}:{err.col}: "
                        f"syntax error: {err.message}\n{err.excerpt}")]
    index = _ModelIndex(model)
    resolver = _QueryResolver(index, obj)
    for definition in query.defines:  # a function may call one defined after it
        if isinstance(definition, A.DefineFunction):
            index.functions[definition.name.upper()] = definition
    for definition in query.defines:
        resolver.define(definition)
    resolver.recursion()
    for ev in query.evaluates:
        resolver.check(ev)
    return resolver.problems


class _QueryResolver(_Resolver):
    """A resolver whose index grows with each DEFINE."""

    def __init__(self, index: _ModelIndex, obj: DaxObject):
        super().__init__(index, obj)
        self.calls: dict[str, dict[str, A.Span]] = {}  # query function -> functions its body calls
        self.opaque_tables: set[str] = set()

    def define(self, d: A.Node) -> None:
        if isinstance(d, A.DefineMeasure):
            self.index.measures.setdefault(d.name.lower(), d.name)
            self.check(d.expr)
        elif isinstance(d, A.DefineColumn):
            self.index.columns.setdefault(d.table.lower(), {})[d.name.lower()] = d.name
            self.index.column_owners.setdefault(d.name.lower(), []).append(d.table)
            self.check(d.expr)
        elif isinstance(d, A.DefineTable):
            self.check(d.expr)
            self.index.tables[d.name.lower()] = d.name
            self.index.columns.setdefault(d.name.lower(), {})
            self.opaque_tables.add(d.name.lower())
        elif isinstance(d, A.DefineVar):
            self.check(d.expr)
            self.scopes[0].add(d.name.lower())
        elif isinstance(d, A.DefineFunction):
            self.index.functions[d.name.upper()] = d
            outer, self.obj.functions = self.obj.functions, {}
            self.check(d)
            self.calls[d.name.upper()], self.obj.functions = self.obj.functions, outer

    def recursion(self) -> None:
        """Report each cycle among the query's functions (a query may redefine a model
        function; the model's own calls are checked with the model)."""
        for cycle in find_cycles(self.calls):
            span = self.calls[cycle[0]][cycle[1]]
            names = [self.index.functions[n].name for n in cycle]
            self._problem(span, f"recursive function call: {' -> '.join(names)}",
                          "a DAX function cannot call itself, directly or through other functions")

    def check(self, node: A.Node) -> None:
        self._collect_introduced(node)
        self._visit(node)

    def _column(self, node: A.ColumnRef) -> None:
        if (node.table or "").lower() in self.opaque_tables:
            return  # columns of a DEFINE TABLE are whatever its expression makes
        super()._column(node)

