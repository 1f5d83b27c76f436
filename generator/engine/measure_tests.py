"""YAML measure tests (`measures/*.tests.yaml`): the CI parity gate.

A file holds shared `given` data and a list of `tests`; each test may override tables in
`given`, add `filters` and expect measure values (`expect`) or the rows of a DAX query
(`query` + `expect_rows`). Format: docs/measure-tests.md.

Tables not given are empty; columns not given are BLANK. Numbers compare with a relative
tolerance of 1e-9 (Decimal-number sums depend on the order of addition), or `tolerance`.
"""
from __future__ import annotations

import csv
import datetime as _dt
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from generator.engine.engine import Engine
from generator.errors import ForgeError, Problem
from generator.spec.model import Model, Pos
from generator.spec.yamlpos import load_yaml

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
    expect: dict[str, tuple[Any, Pos]] = field(default_factory=dict)
    query: str | None = None
    rows: list[list[Any]] | None = None
    tolerance: float = DEFAULT_TOLERANCE
    shared: bool = True  # uses the file's `given` unchanged


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
        return _read_csv(where / spec["csv"])
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


def _read_csv(path: Path) -> list[dict[str, Any]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: (None if v == "" else v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _given(spec: Any, where: Path, pos: Pos | None) -> dict[str, Any]:
    if spec is None:
        return {}
    if isinstance(spec, dict) and set(spec) == {"folder"}:
        folder = where / spec["folder"]
        return {p.stem: _read_csv(p) for p in sorted(folder.glob("*.csv"))}
    return {name: _table_rows(rows, where, getattr(spec, "value_pos", {}).get(name, pos))
            for name, rows in spec.items()}


def load_cases(path: Path, root: Path) -> list[Case]:
    doc = load_yaml(path, root)
    if not isinstance(doc, dict) or not isinstance(doc.get("tests"), list):
        raise ForgeError(Problem(getattr(doc, "pos", None), "a measure test file needs a `tests:` list"))
    base = _given(doc.get("given"), path.parent, doc.pos)
    cases = []
    for i, t in enumerate(doc["tests"]):
        pos = doc["tests"].item_pos[i]
        if not isinstance(t, dict) or "name" not in t:
            raise ForgeError(Problem(pos, "each test needs a `name`"))
        given = {**base, **_given(t.get("given"), path.parent, pos)}
        case = Case(str(t["name"]), pos, given, dict(t.get("filters") or {}),
                    tolerance=float(t.get("tolerance", DEFAULT_TOLERANCE)), shared="given" not in t)
        for m, v in (t.get("expect") or {}).items():
            case.expect[str(m)] = (v, t["expect"].value_pos[m])
        if "query" in t:
            case.query = str(t["query"])
            case.rows = [list(r) for r in t.get("expect_rows", [])]
        if not case.expect and case.query is None:
            raise ForgeError(Problem(pos, f"test '{case.name}' expects nothing", "add `expect:` or `query:`"))
        cases.append(case)
    return cases


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


def _context(filters: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in filters.items()) or "(no filters)"


def run_file(path: Path, model: Model, root: Path, as_of: str | None = None) -> list[Result]:
    results: list[Result] = []
    label = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    engines: dict[int, Engine] = {}
    for case in load_cases(path, root):
        key = -1 if case.shared else len(engines)
        start = time.perf_counter()
        try:
            engine = engines.get(key)
            if engine is None:
                engine = engines[key] = Engine(model, data=case.given, as_of=as_of)
        except ForgeError as exc:
            results.append(Result(label, case.name, "-", _context(case.filters), None, None, False, case.pos,
                                  str(exc)))
            continue
        for measure, (expected, pos) in case.expect.items():
            t0 = time.perf_counter()
            try:
                actual = engine.evaluate_measure(measure, case.filters or None)
                ok, err = same(expected, actual, case.tolerance), None
            except ForgeError as exc:
                actual, ok, err = None, False, str(exc)
            results.append(Result(label, case.name, measure, _context(case.filters), expected, actual, ok, pos, err,
                                  time.perf_counter() - t0))
        if case.query is not None:
            try:
                frame = engine.query(case.query)
                actual_rows = [[None if _nan_blank(v) else _plain(v) for v in r]
                               for r in frame.itertuples(index=False, name=None)]
                ok = len(actual_rows) == len(case.rows) and all(
                    len(a) == len(e) and all(same(x, y, case.tolerance) for x, y in zip(e, a))
                    for a, e in zip(actual_rows, case.rows))
                results.append(Result(label, case.name, "(query)", _context(case.filters), case.rows, actual_rows, ok,
                                      case.pos, None, time.perf_counter() - start))
            except ForgeError as exc:
                results.append(Result(label, case.name, "(query)", "", case.rows, None, False, case.pos, str(exc)))
    return results


def _nan_blank(v: Any) -> bool:
    return v is None


def _plain(v: Any) -> Any:
    if hasattr(v, "to_pydatetime"):
        return v.to_pydatetime()
    if hasattr(v, "item"):
        return v.item()
    return v


def run_all(project: Path, model: Model, as_of: str | None = None) -> list[Result]:
    results = []
    for path in test_files(project):
        results.extend(run_file(path, model, project, as_of))
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
