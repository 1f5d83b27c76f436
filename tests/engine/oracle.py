"""Run the Power BI Desktop oracle (../shared/dax-corpus/oracle/) against the engine.

Each probe is `EVALUATE ROW("x", <expr>)` on a tiny fixture model, with the value (or the
error) Desktop returned. A function counts as supported only if the engine has a handler
for it and *all* of its probes pass; a function without a handler must be rejected with a
compile error (never a value).

    python -m tests.engine.oracle            # prints the per-function table
"""
from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path

from generator.engine import DaxCompileError, DaxEvalError, DaxUnsupportedError, Engine
from generator.engine.runtime.engine import supported_functions
from generator.errors import ForgeError
from generator.spec.model import Column, ExprOrigin, Measure, Model, Pos, Relationship, Source, Table

ORACLE = Path(__file__).resolve().parents[3] / "shared" / "dax-corpus" / "oracle"
_TYPES = {"Double": "double", "Int64": "int64", "Boolean": "boolean", "String": "string", "DateTime": "datetime"}
P = Pos("oracle-fixture", 1, 1)


def available() -> bool:
    return (ORACLE / "pbix-mcp-conformance-golden.json").is_file()


def fixture_engine() -> Engine:
    spec = json.loads((ORACLE / "pbix-mcp-conformance-fixture.json").read_text())
    tables, data = [], {}
    for name, t in spec["tables"].items():
        cols = tuple(Column(c, _TYPES[ty], P) for c, ty in zip(t["columns"], t["types"]))
        tables.append(Table(name, Source("generator", P), cols, P))
        data[name] = [list(r) for r in t["rows"]]
    rels = tuple(Relationship(r["FromTable"], r["FromColumn"], r["ToTable"], r["ToColumn"], P,
                              active=bool(r["IsActive"])) for r in spec["relationships"])
    measures = tuple(Measure(n, m["table"], m["expression"], P, ExprOrigin("oracle-fixture", 1, 1))
                     for n, m in spec["measures"].items())
    model = Model("Oracle", "en-US", tuple(tables), rels, measures, (), Path("."))
    return Engine(model, data=data, as_of="2024-06-30")


@dataclass
class Outcome:
    function: str
    expr: str
    expected: object
    actual: object
    status: str  # pass | fail | unsupported


def _expected(probe: dict) -> tuple[str, object]:
    if "error" in probe:
        return "error", probe["error"]
    return "value", probe["value"]


def matches(expected: str | None, actual: object) -> bool:
    if expected is None:
        return actual is None
    if actual is None:
        return False
    if expected in ("True", "False"):
        return isinstance(actual, bool) and actual == (expected == "True")
    if isinstance(actual, bool):
        return False
    if isinstance(actual, (dt.datetime, dt.date)):
        try:
            want = dt.datetime.strptime(expected, "%m/%d/%Y %H:%M:%S")
        except ValueError:
            return False
        got = actual if isinstance(actual, dt.datetime) else dt.datetime.combine(actual, dt.time())
        return got == want
    if isinstance(actual, (int, float)):
        try:
            want = float(expected)
        except ValueError:
            return False
        if math.isnan(actual):
            return False
        return math.isclose(want, float(actual), rel_tol=1e-12, abs_tol=1e-12)
    return str(actual) == expected


def run() -> list[Outcome]:
    golden = json.loads((ORACLE / "pbix-mcp-conformance-golden.json").read_text())
    engine = fixture_engine()
    handlers = supported_functions()
    out = []
    for function, probes in golden.items():
        for probe in probes:
            kind, expected = _expected(probe)
            try:
                actual = engine.evaluate(probe["expr"])
                got_error = None
            except DaxUnsupportedError as exc:
                out.append(Outcome(function, probe["expr"], expected, str(exc), "unsupported"))
                continue
            except (DaxCompileError, DaxEvalError) as exc:
                actual, got_error = None, str(exc)
            except ForgeError as exc:
                actual, got_error = None, str(exc)
            if function not in handlers:
                # no handler: the only acceptable outcome is an error (compile or evaluation)
                status = "unsupported" if got_error is not None else "fail"
            elif kind == "error":
                status = "pass" if got_error is not None else "fail"
            else:
                status = "pass" if got_error is None and matches(expected, actual) else "fail"
            out.append(Outcome(function, probe["expr"], expected, got_error or actual, status))
    return out


def per_function(outcomes: list[Outcome]) -> dict[str, str]:
    """function → supported (all probes pass) | failing | not supported (rejected)."""
    status: dict[str, str] = {}
    for o in outcomes:
        cur = status.get(o.function)
        if o.status == "fail":
            status[o.function] = "failing"
        elif o.status == "unsupported" and cur != "failing":
            status[o.function] = "not supported"
        elif cur is None:
            status[o.function] = "supported"
    return status


def summary(outcomes: list[Outcome]) -> dict[str, tuple[str, int, int]]:
    status = per_function(outcomes)
    out = {}
    for name, st in status.items():
        mine = [o for o in outcomes if o.function == name]
        out[name] = (st, sum(1 for o in mine if o.status == "pass"), len(mine))
    return out


def main() -> None:
    import sys

    outcomes = run()
    if "--write-docs" in sys.argv:
        from generator.dax.catalog import render_markdown

        docs = Path(__file__).resolve().parents[2] / "docs" / "dax-support.md"
        docs.write_text(render_markdown(supported_functions(), summary(outcomes)) + "\n", encoding="utf-8")
        print(f"wrote {docs}")
    status = per_function(outcomes)
    counts = {s: sum(1 for v in status.values() if v == s) for s in ("supported", "failing", "not supported")}
    probes_pass = sum(1 for o in outcomes if o.status == "pass")
    print(f"oracle: {len(outcomes)} probes over {len(status)} functions")
    print(f"  probes passed: {probes_pass}/{len(outcomes)}")
    for s, n in counts.items():
        print(f"  functions {s}: {n}")
    for name in sorted(status):
        mine = [o for o in outcomes if o.function == name]
        ok = sum(1 for o in mine if o.status == "pass")
        print(f"{name:45s} {status[name]:14s} {ok}/{len(mine)}")
        for o in mine:
            if o.status == "fail":
                print(f"    FAIL {o.expr}  expected {o.expected!r}  got {o.actual!r}")


if __name__ == "__main__":
    main()
