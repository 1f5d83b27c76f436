"""YAML measure tests (`measures/*.tests.yaml`): the CI parity gate.

A file holds shared `given` data and a list of `tests`; each test may override tables in
`given`, add `filters` and expect measure values (`expect`) or the rows of a DAX query
(`query` + `expect_rows`). Format: docs/measure-tests.md.

Tables not given are empty; columns not given are BLANK. Numbers compare with a relative
tolerance of 1e-9 (Decimal-number sums depend on the order of addition), or the test's
`tolerance`, or an expectation's own absolute `tolerance` ({value: 140, tolerance: 0.5}).

A test file is input like any other: it is checked against its JSON Schema
(generator/spec/schemas/tests.schema.json) and its `given` data against the model (known
tables and columns, rows as long as `columns`, values that fit the column type) before
any test runs, so a typo is a positioned input error (exit 2), not a puzzling failure.
"""
from __future__ import annotations

import csv
import datetime as _dt
import json as _json
import math
import time
from dataclasses import replace, dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from generator.engine.runtime.engine import Engine, filter_args
from generator.errors import ForgeError, Problem
from generator.spec.loader import real_date, schema_problems
from generator.spec.model import Model, Pos, Table
from generator.spec.yamlpos import PosDict, PosList, display_path, load_yaml

DEFAULT_TOLERANCE = 1e-9


@dataclass
class Result:
    file: str
    test: str
    measure: str
    context: str
    expected: Any
    actual: Any
    ok: bool
    pos: Pos | None = None
    error: str | None = None
    seconds: float = 0.0


@dataclass
class Case:
    name: str
    pos: Pos
    given: dict[str, Any]
    filters: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, tuple[Any, Pos, float | None]] = field(default_factory=dict)  # value, where, abs tolerance
    query: str | None = None
    rows: list[list[Any]] | None = None
    tolerance: float = DEFAULT_TOLERANCE
    shared: bool = True  # uses the file's `given` unchanged
    as_user: str | None = None  # `as: {user: …, roles: […]}`: row-level security
    as_roles: tuple[str, ...] = ()


def test_files(project: Path) -> list[Path]:
    return sorted((project / "measures").glob("*.tests.yaml"))


def _table_rows(spec: Any, where: Path, pos: Pos | None) -> Any:
    """`[{col: v}, ...]`, `{columns: [...], rows: [[...], ...]}` or `{csv: file}`."""
    if isinstance(spec, list):
        return [dict(r) for r in spec]
    if isinstance(spec, dict) and "rows" in spec:
        cols = list(spec["columns"])
        return [dict(zip(cols, r)) for r in spec["rows"]]
    if isinstance(spec, dict) and "csv" in spec:
        return _read_csv(where / spec["csv"], spec.value_pos["csv"] if isinstance(spec, PosDict) else pos)
    if isinstance(spec, dict) and "calendar" in spec:
        # one row per day; each column is a strftime pattern ("%Y-%m" -> "2024-03")
        day = _dt.date.fromisoformat(str(spec["calendar"]["from"]))
        last = _dt.date.fromisoformat(str(spec["calendar"]["to"]))
        rows = []
        while day <= last:
            rows.append({c: day.strftime(str(p)) for c, p in spec["columns"].items()})
            day += _dt.timedelta(days=1)
        return rows
    raise ForgeError(Problem(pos, "table data must be a list of rows, {columns, rows}, {csv: file} or {calendar, columns}"))


def _read_csv(path: Path, pos: Pos | None = None) -> list[dict[str, Any]]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return [{k: (None if v == "" else v) for k, v in row.items()} for row in csv.DictReader(fh)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ForgeError(Problem(pos, f"cannot read the CSV file {path.name}: {exc}")) from None


def _given(spec: Any, where: Path, pos: Pos | None) -> dict[str, Any]:
    if spec is None:
        return {}
    if isinstance(spec, dict) and set(spec) == {"folder"}:
        folder = where / spec["folder"]
        return {p.stem: _read_csv(p, pos) for p in sorted(folder.glob("*.csv"))}
    return {name: _table_rows(rows, where, getattr(spec, "value_pos", {}).get(name, pos))
            for name, rows in spec.items()}


def load_cases(path: Path, root: Path, model: Model | None = None) -> list[Case]:
    """The tests of one file; with `model`, its `given` data is checked against the model too."""
    doc = load_yaml(path, root)
    if not isinstance(doc, PosDict):
        raise ForgeError(Problem(getattr(doc, "pos", None), "a measure test file needs a `tests:` list"))
    problems = schema_problems(doc, "tests")
    if problems:
        raise ForgeError(problems)
    if model is not None:
        problems = _given_problems(doc.get("given"), path.parent, model, root)
        for t in doc["tests"]:
            problems += _given_problems(t.get("given"), path.parent, model, root)
        if problems:
            raise ForgeError(problems)
    base = _given(doc.get("given"), path.parent, doc.pos)
    cases = []
    for i, t in enumerate(doc["tests"]):
        pos = doc["tests"].item_pos[i]
        given = {**base, **_given(t.get("given"), path.parent, pos)}
        case = Case(str(t["name"]), pos, given, dict(t.get("filters") or {}),
                    tolerance=float(t.get("tolerance", DEFAULT_TOLERANCE)), shared="given" not in t,
                    as_user=(t.get("as") or {}).get("user"), as_roles=tuple((t.get("as") or {}).get("roles", ())))
        for m, v in (t.get("expect") or {}).items():
            where = t["expect"].value_pos[m]
            if isinstance(v, dict):  # {value: 140, tolerance: 0.5}
                case.expect[str(m)] = (v["value"], v.value_pos["value"], float(v.get("tolerance", 0.0)))
            else:
                case.expect[str(m)] = (v, where, None)
        if "query" in t:
            case.query = str(t["query"])
            case.rows = [list(r) for r in t.get("expect_rows", [])]
        if not case.expect and case.query is None:
            raise ForgeError(Problem(pos, f"test '{case.name}' expects nothing", "add `expect:` or `query:`"))
        cases.append(case)
    return cases


# ---------------------------------------------------------------- given data against the model


def _given_problems(spec: PosDict | None, where: Path, model: Model, root: Path) -> list[Problem]:
    if spec is None:
        return []
    if set(spec) == {"folder"}:
        folder = where / spec["folder"]
        if not folder.is_dir():
            return [Problem(spec.value_pos["folder"], f"given folder not found: {spec['folder']}")]
        problems: list[Problem] = []
        for csv_path in sorted(folder.glob("*.csv")):
            table = model.table(csv_path.stem)
            if table is None or table.is_calculated:
                what = "is not a table of the model" if table is None else "is a calculated table (computed, not given)"
                problems.append(Problem(spec.value_pos["folder"], f"{csv_path.name}: '{csv_path.stem}' {what}"))
            else:
                problems += _csv_problems(csv_path, table, spec.value_pos["folder"], root)
        return problems
    problems = []
    for name, data in spec.items():
        table = model.table(name)
        if table is None:
            problems.append(Problem(spec.key_pos[name], f"given table '{name}' is not a table of the model",
                                    _did_you_mean(name, [t.name for t in model.tables])))
        elif table.is_calculated:
            problems.append(Problem(spec.key_pos[name], f"'{table.name}' is a calculated table; it is computed "
                                                        "from the given rows of the other tables"))
        else:
            problems += _table_problems(data, table, where, root)
    return problems


def _table_problems(data: Any, table: Table, where: Path, root: Path) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(data, PosList):  # [{column: value}, ...]
        for row in data:
            for key, value in row.items():
                problems += _cell_problems(table, key, row.key_pos[key], value, row.value_pos[key])
    elif "rows" in data:  # {columns: [...], rows: [[...], ...]}
        cols = data["columns"]
        for j, name in enumerate(cols):
            problems += _cell_problems(table, name, cols.item_pos[j])
        for i, row in enumerate(data["rows"]):
            if len(row) != len(cols):
                problems.append(Problem(data["rows"].item_pos[i], f"row {i + 1} of '{table.name}' has {len(row)} "
                                        f"value{'s' if len(row) != 1 else ''} for {len(cols)} columns"))
                continue
            for j, value in enumerate(row):
                col = table.column(cols[j])
                if col is not None:
                    problems += _value_problems(table, col, value, row.item_pos[j])
    elif "csv" in data:
        problems += _csv_problems(where / data["csv"], table, data.value_pos["csv"], root)
    else:  # a calendar
        cal = data["calendar"]
        for key in ("from", "to"):
            if not real_date(cal[key]):
                problems.append(Problem(cal.value_pos[key], f"calendar {key}: '{cal[key]}' is not a date"))
        for name in data["columns"]:
            problems += _cell_problems(table, name, data["columns"].key_pos[name])
    return problems


def _csv_problems(path: Path, table: Table, pos: Pos, root: Path) -> list[Problem]:
    if not path.is_file():
        return [Problem(pos, f"CSV file not found: {path.name}")]
    rows = _read_csv(path, pos)
    file = display_path(path, root)
    problems: list[Problem] = []
    header = list(rows[0]) if rows else []
    for j, name in enumerate(header):
        problems += _cell_problems(table, name, Pos(file, 1, j + 1))
    for i, row in enumerate(rows):
        if None in row:  # csv.DictReader files surplus values under the key None
            problems.append(Problem(Pos(file, i + 2, 1), f"row {i + 1} has more values than the header has columns"))
            continue
        for j, (name, value) in enumerate(row.items()):
            col = table.column(name) if isinstance(name, str) else None
            if col is not None:
                problems += _value_problems(table, col, value, Pos(file, i + 2, j + 1))
    return problems


def _cell_problems(table: Table, name: Any, pos: Pos, value: Any = None, value_pos: Pos | None = None) -> list[Problem]:
    col = table.column(str(name))
    if col is None:
        return [Problem(pos, f"'{name}' is not a column of '{table.name}'",
                        _did_you_mean(str(name), [c.name for c in table.columns]))]
    if col in table.calculated_columns:
        return [Problem(pos, f"'{name}' is a calculated column of '{table.name}'; it is computed from the given rows")]
    return _value_problems(table, col, value, value_pos or pos)


_BOOLEAN_TEXT = frozenset({"true", "false"})


def _fits(value: Any, column_type: str) -> bool:
    """Whether the engine can load `value` into a column of `column_type` (as docs/measure-tests.md says)."""
    if value is None or column_type == "string":
        return True
    if column_type in ("date", "datetime"):
        return isinstance(value, (_dt.date, _dt.datetime)) or (isinstance(value, str) and real_date(value))
    if column_type == "boolean":
        return isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in _BOOLEAN_TEXT)
    if isinstance(value, bool):
        return False
    if column_type == "int64":
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, int) or (isinstance(value, str) and _parses(int, value))
    return isinstance(value, (int, float)) or (isinstance(value, str) and _parses(float, value))


def _value_problems(table: Table, col, value: Any, pos: Pos) -> list[Problem]:
    if _fits(value, col.type):
        return []
    return [Problem(pos, f"{value!r} does not fit the {col.type} column {table.name}[{col.name}]")]


def _parses(kind, text: str) -> bool:
    try:
        kind(text.strip())
    except ValueError:
        return False
    return True


def _did_you_mean(name: str, options: list[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


def same(expected: Any, actual: Any, tol: float = DEFAULT_TOLERANCE) -> bool:
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        if math.isnan(actual) or math.isnan(expected):
            return math.isnan(actual) and math.isnan(expected)
        return math.isclose(expected, actual, rel_tol=tol, abs_tol=tol)
    if isinstance(expected, str) and isinstance(actual, (_dt.date, _dt.datetime)):
        try:
            expected = _dt.datetime.fromisoformat(expected)
        except ValueError:
            return False
        if isinstance(actual, _dt.datetime) is False:
            actual = _dt.datetime.combine(actual, _dt.time())
        return expected == actual
    if isinstance(expected, _dt.date) and isinstance(actual, _dt.datetime):
        return actual.date() == (expected if not isinstance(expected, _dt.datetime) else expected.date()) \
            and (not isinstance(expected, _dt.datetime) or expected == actual)
    if isinstance(expected, str) and isinstance(actual, str):
        return expected == actual
    return expected == actual


def within(expected: Any, actual: Any, tolerance: float | None, relative: float = DEFAULT_TOLERANCE) -> bool:
    """An expectation's own `tolerance` is absolute: |expected - actual| <= tolerance."""
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (expected, actual))
    if tolerance is None or not numbers or math.isnan(expected) or math.isnan(actual):
        return same(expected, actual, relative)
    return abs(expected - actual) <= tolerance


def _context(filters: dict[str, Any], case: "Case | None" = None) -> str:
    text = ", ".join(f"{k} = {v!r}" for k, v in filters.items()) or "(no filters)"
    if case is not None and (case.as_user or case.as_roles):
        who = [f"user {case.as_user}"] if case.as_user else []
        who += [f"roles {', '.join(case.as_roles)}"] if case.as_roles else []
        text += " as " + ", ".join(who)
    return text


def run_file(path: Path, model: Model, root: Path, as_of: str | None = None,
             engine_options: dict[str, Any] | None = None) -> list[Result]:
    return _run_cases(path, load_cases(path, root, model), model, root, as_of, engine_options)


class Engines:
    """The engines of a run, one per distinct given data and `as:`: cases whose `given` rows
    are the same (compared value by value with their types, never assumed from where they
    came from) share one opened engine, across test files too. Opening is most of a case's
    cost on Spark (loading, the calculated columns), and an engine's queries never change
    its data, so a second case on the same rows gets the same values from it."""

    def __init__(self, model: Model, as_of: str | None, engine_options: dict[str, Any] | None):
        self.model, self.as_of, self.options = model, as_of, dict(engine_options or {})
        self.opened: dict[str, Engine] = {}

    def get(self, case: Case) -> Engine:
        key = _json.dumps([_canonical(case.given), case.as_user, list(case.as_roles)], sort_keys=True)
        engine = self.opened.get(key)
        if engine is None:
            engine = self.opened[key] = Engine(self.model, data=case.given, as_of=self.as_of, user=case.as_user,
                                               roles=case.as_roles or None, **self.options)
        return engine


def _canonical(value: Any) -> Any:
    """Given rows as JSON-able data that keeps each value's type (1, 1.0, True and "1" differ)."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return [type(value).__name__, value]
    return [type(value).__name__, repr(value)]


def _run_cases(path: Path, cases: list[Case], model: Model, root: Path, as_of: str | None,
               engine_options: dict[str, Any] | None = None, engines: Engines | None = None) -> list[Result]:
    results: list[Result] = []
    label = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    engines = engines if engines is not None else Engines(model, as_of, engine_options)
    for case in cases:
        start = time.perf_counter()
        try:
            engine = engines.get(case)
        except ForgeError as exc:
            results.append(Result(label, case.name, "-", _context(case.filters, case), None, None, False, case.pos,
                                  str(exc)))
            continue
        results.extend(_expectations(engine, case, label))
        if case.query is not None:
            try:
                frame = engine.query(case.query)
                actual_rows = [[None if _nan_blank(v) else _plain(v) for v in r]
                               for r in frame.itertuples(index=False, name=None)]
                ok = len(actual_rows) == len(case.rows) and all(
                    len(a) == len(e) and all(same(x, y, case.tolerance) for x, y in zip(e, a))
                    for a, e in zip(actual_rows, case.rows))
                results.append(Result(label, case.name, "(query)", _context(case.filters, case), case.rows, actual_rows, ok,
                                      case.pos, None, time.perf_counter() - start))
            except ForgeError as exc:
                results.append(Result(label, case.name, "(query)", "", case.rows, None, False, case.pos, str(exc)))
    return results


def _expectations(engine: Engine, case: Case, label: str) -> list[Result]:
    """A case's `expect:` values, all measures in one query (one compile and one round trip:
    on Spark each query is planned by Catalyst, which costs more than the data); a measure
    that fails there is evaluated on its own, so each error names its own measure."""
    t0 = time.perf_counter()
    batch = _batched(engine, list(case.expect), case.filters) if len(case.expect) > 1 else None
    each = (time.perf_counter() - t0) / len(case.expect) if batch is not None else 0.0
    out = []
    for measure, (expected, pos, tolerance) in case.expect.items():
        t1 = time.perf_counter()
        try:
            actual = batch[measure] if batch is not None else engine.evaluate_measure(measure, case.filters or None)
            ok, err = within(expected, actual, tolerance, case.tolerance), None
        except ForgeError as exc:
            actual, ok, err = None, False, str(exc)
        seconds = each if batch is not None else time.perf_counter() - t1
        out.append(Result(label, case.name, measure, _context(case.filters, case), expected, actual, ok, pos, err,
                          seconds))
    return out


def _batched(engine: Engine, measures: list[str], filters: dict[str, Any]) -> dict[str, Any] | None:
    """Each measure's value under `filters`, from one query: SUMMARIZECOLUMNS(filters, "v0",
    [m0], "v1", [m1], …), or ROW(…) without filters; the values Engine.evaluate_measure gives
    one by one (a row only when some value is not BLANK; a BLANK column is None). None when
    the query fails: the caller evaluates each measure alone."""
    if any(engine.model.measure(m) is None for m in measures):
        return None
    values = ", ".join(f'"v{i}", [{m.replace("]", "]]")}]' for i, m in enumerate(measures))
    args = filter_args(filters or None)
    dax = f"EVALUATE SUMMARIZECOLUMNS({', '.join(args)}, {values})" if args else f"EVALUATE ROW({values})"
    try:
        frame = engine.query(dax)
    except ForgeError:
        return None
    if frame.empty:
        return {m: None for m in measures}
    row = frame.iloc[0, frame.shape[1] - len(measures):]
    return {m: None if _nan_blank(v) else _plain(v) for m, v in zip(measures, row)}


def _nan_blank(v: Any) -> bool:
    return v is None


def _plain(v: Any) -> Any:
    if hasattr(v, "to_pydatetime"):
        return v.to_pydatetime()
    if hasattr(v, "item"):
        return v.item()
    return v


def run_all(project: Path, model: Model, as_of: str | None = None,
            engine_options: dict[str, Any] | None = None, user: str | None = None,
            roles: tuple[str, ...] = ()) -> list[Result]:
    """Every file's tests; all files are loaded and checked first, so bad input runs nothing.
    `engine_options` go to each `Engine` (e.g. backend="spark", spark=session); `user`/`roles`
    (test --as-user/--role) apply to the tests without their own `as:`."""
    loaded, problems = [], []
    for path in test_files(project):
        try:
            loaded.append((path, load_cases(path, project, model)))
        except ForgeError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ForgeError(problems)
    results = []
    engines = Engines(model, as_of, engine_options)
    for path, cases in loaded:
        if user or roles:
            cases = [c if (c.as_user or c.as_roles) else replace(c, as_user=user, as_roles=tuple(roles))
                     for c in cases]
        results.extend(_run_cases(path, cases, model, project, as_of, engine_options, engines))
    return results


def junit_xml(results: list[Result]) -> str:
    suites = ET.Element("testsuites", name="pbi-forge measure tests")
    by_file: dict[str, list[Result]] = {}
    for r in results:
        by_file.setdefault(r.file, []).append(r)
    for file, rs in by_file.items():
        suite = ET.SubElement(suites, "testsuite", name=file, tests=str(len(rs)),
                              failures=str(sum(1 for r in rs if not r.ok and not r.error)),
                              errors=str(sum(1 for r in rs if r.error)))
        for r in rs:
            case = ET.SubElement(suite, "testcase", classname=file, name=f"{r.test} :: {r.measure}",
                                 time=f"{r.seconds:.4f}")
            if r.error:
                ET.SubElement(case, "error", message=r.error.splitlines()[0]).text = r.error
            elif not r.ok:
                where = f"{r.pos}: " if r.pos else ""
                ET.SubElement(case, "failure", message=f"{where}expected {r.expected!r}, got {r.actual!r}").text = (
                    f"context: {r.context}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)
