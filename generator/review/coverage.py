"""Coverage of the CI parity net: which measures no test reaches, which the engine cannot evaluate.

A measure is *tested* when a measure test names it in `expect`, or a test `query`
references it. A measure is *evaluable* when the engine compiles it (with every measure
it uses); one that calls a function the engine does not implement (say WEEKNUM) builds,
lints and passes the tests as long as no test touches it, so it is listed with the
function that blocks it. Coverage is the share of measures both tested and evaluable.
Measures pbi-forge generates (e.g. [As Of Date] from model.yaml `as_of`) count like any
other: their value depends on the user's data and `as_of` setting, so they need a test too.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

from generator.dax import ast as A
from generator.dax.errors import DaxSyntaxError
from generator.dax.parser import parse_query
from generator.engine import DaxCompileError, DaxUnsupportedError, Engine
from generator.engine.measure_tests import load_cases, test_files
from generator.spec.model import Model


@dataclass(frozen=True)
class Gap:
    measure: str
    reason: str  # "no test" | "engine cannot evaluate: <what>"
    where: str  # the measure's YAML position


@dataclass(frozen=True)
class Coverage:
    total: int
    gaps: tuple[Gap, ...]

    @property
    def covered(self) -> int:
        return self.total - len({g.measure for g in self.gaps})

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else 100.0 * self.covered / self.total


def tests_by_measure(project: Path, model: Model) -> dict[str, tuple[str, ...]]:
    """Lower-case measure name -> the tests (`file: test name`) that expect or query it."""
    names = {m.name.lower() for m in model.measures}
    out: dict[str, list[str]] = {}
    for path in test_files(project):
        label = path.relative_to(project).as_posix()
        for case in load_cases(path, project):
            used = {k.lower() for k in case.expect}
            if case.query is not None:
                used |= _query_measures(case.query)
            for name in sorted(used & names):
                out.setdefault(name, []).append(f"{label}: {case.name}")
    return {k: tuple(v) for k, v in out.items()}


def tested_measures(project: Path, model: Model) -> set[str]:
    """Lower-case names of the measures some test expects or queries."""
    return set(tests_by_measure(project, model))


def _query_measures(text: str) -> set[str]:
    try:
        tree = parse_query(text)
    except DaxSyntaxError:
        return set()  # the test itself fails and says why
    out = set()
    for node in tree.walk():
        if isinstance(node, A.BracketRef):
            out.add(node.name.lower())
        elif isinstance(node, A.ColumnRef):
            out.add(node.column.lower())  # Table[Measure]; a column of that name is no measure
    return out


def blocked_measures(model: Model) -> dict[str, str]:
    """Measure name -> why the engine cannot evaluate it (the unsupported function first)."""
    engine = Engine(model, data={})  # empty tables: only compiling, nothing runs
    out = {}
    for m in model.measures:
        dax = 'EVALUATE ROW("Value", [' + m.name.replace("]", "]]") + "])"
        try:
            engine.compile(dax)
        except DaxUnsupportedError as exc:
            out[m.name] = exc.what
        except DaxCompileError as exc:
            out[m.name] = exc.message.splitlines()[0]
    return out


def measure_coverage(project: Path, model: Model) -> Coverage:
    tested = tested_measures(project, model)
    blocked = blocked_measures(model)
    gaps = []
    for m in sorted(model.measures, key=lambda m: m.name.lower()):
        if m.name.lower() not in tested:
            gaps.append(Gap(m.name, "no test", str(m.pos)))
        if m.name in blocked:
            gaps.append(Gap(m.name, f"engine cannot evaluate: {blocked[m.name]}", str(m.pos)))
    return Coverage(len(model.measures), tuple(gaps))


def report(cov: Coverage) -> list[str]:
    lines = [f"{g.where}: [{g.measure}] {g.reason}" for g in cov.gaps]
    lines.append(f"measure coverage: {cov.covered} of {cov.total} measures tested and evaluable ({cov.percent:.1f} %)")
    return lines


def junit_suite(cov: Coverage, minimum: float | None) -> ET.Element:
    """A testsuite with the coverage as properties and one failing testcase per gap."""
    suite = ET.Element("testsuite", name="measure coverage", tests=str(max(len(cov.gaps), 1)),
                       failures=str(len(cov.gaps)), errors="0")
    props = ET.SubElement(suite, "properties")
    for name, value in (("coverage", f"{cov.percent:.1f}"), ("measures", str(cov.total)),
                        ("covered", str(cov.covered)), ("min_coverage", "" if minimum is None else f"{minimum:g}")):
        ET.SubElement(props, "property", name=name, value=value)
    for g in cov.gaps:
        case = ET.SubElement(suite, "testcase", classname="measure coverage", name=f"[{g.measure}]")
        ET.SubElement(case, "failure", message=f"{g.where}: {g.reason}")
    if not cov.gaps:
        ET.SubElement(suite, "testcase", classname="measure coverage", name="every measure tested and evaluable")
    return suite


def add_to_junit(path: Path, suite: ET.Element) -> None:
    """Append the coverage suite to a JUnit file the test command wrote."""
    tree = ET.parse(path)
    tree.getroot().append(suite)
    ET.indent(tree)
    Path(path).write_text(ET.tostring(tree.getroot(), encoding="unicode", xml_declaration=True), encoding="utf-8")


def gate(project: Path, model: Model, minimum: float | None, junit: Path | None) -> bool:
    """Print the coverage report (and add it to the JUnit file); False when below `minimum`."""
    cov = measure_coverage(project, model)
    for line in report(cov):
        print(line)
    if junit is not None:
        add_to_junit(junit, junit_suite(cov, minimum))
    if minimum is not None and cov.percent < minimum:
        print(f"coverage {cov.percent:.1f} % is below --min-coverage {minimum:g} %")
        return False
    return True
