"""DAX user-defined functions: parser, formatter, analysis, lint, YAML spec and TMDL.

Syntax and types from learn.microsoft.com/dax/function-statement-dax:
``FUNCTION <name> = ( [<param> [: [<type>] [<subtype>] [<passing mode>]] [= <default>], ...] ) => <body>``,
types ANYVAL, SCALAR, TABLE, ANYREF, CALENDARREF, COLUMNREF, MEASUREREF, TABLEREF; subtypes
(SCALAR only) BOOLEAN, DATETIME, DECIMAL, DOUBLE, INT64, NUMERIC, STRING, VARIANT; modes
VAL / EXPR. Model functions are TMDL `function` objects in definition/functions.tmdl and
need compatibility level 1702 (learn.microsoft.com/dax/best-practices/dax-user-defined-functions).
"""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from generator.cli import main
from generator.dax import ast as A
from generator.dax.analysis import analyze_model, analyze_query
from generator.dax.catalog import is_builtin
from generator.dax.errors import DaxSyntaxError
from generator.dax.formatter import format_dax, format_function
from generator.dax.lint import lint_model
from generator.dax.parser import parse_function, parse_query
from generator.dax.udfs import ParamType
from generator.emit.tmdl import database_tmdl, functions_tmdl
from generator.errors import ForgeError
from generator.spec import load_project
from generator.spec.model import ExprOrigin, Function, Pos
from generator.validate import tom
from tests.test_dax_analysis import measure, model

REPO = Path(__file__).resolve().parents[1]
FN_FILE = "semantic/functions/f.yaml"


def fn(name: str, text: str, line: int = 3) -> Function:
    return Function(name, text, Pos(FN_FILE, line, 5), ExprOrigin(FN_FILE, line, 17))


# ---------------------------------------------------------------- parser


def test_parameter_types_subtypes_modes_and_defaults():
    q = parse_query("DEFINE FUNCTION TimeIntelligence.MonthToDate = ( m : EXPR, n : INT64 = 2, "
                    "t : table val, c : COLUMNREF, a ) => m EVALUATE { 1 }")
    (d,) = q.defines
    assert d.name == "TimeIntelligence.MonthToDate"
    assert [p.param_type for p in d.params] == [
        ParamType("ANYVAL", None, "EXPR"),  # a mode alone: the type stays ANYVAL
        ParamType("SCALAR", "INT64", "VAL"),  # a subtype alone implies SCALAR; VAL is the default
        ParamType("TABLE", None, "VAL"),
        ParamType("COLUMNREF", None, "EXPR"),  # references are passed as themselves
        ParamType("ANYVAL", None, "VAL"),
    ]
    assert d.params[1].default == A.Number(2)
    assert d.body == A.VarRef("m")  # a parameter is a variable of the body


@pytest.mark.parametrize("text, message, col", [
    ("( x : FOO ) => 1", "parameter x: unknown parameter type word 'FOO'", 7),
    ("( x : TABLE INT64 ) => 1", "the subtype INT64 applies only to SCALAR parameters, not TABLE", 13),
    ("( x : COLUMNREF VAL ) => 1", "a COLUMNREF parameter is passed as a reference; it cannot be VAL", 17),
    ("( x : EXPR SCALAR ) => 1", "'SCALAR' is out of place", 12),
    ("( x, X ) => 1", "duplicate parameter name 'X'", 6),
    ("( x : ) => 1", "expected a type after 'x :'", 7),
    ("( x ) 1", "expected '=>' after the parameters of F", 7),
])
def test_bad_parameter_lists_are_positioned_errors(text, message, col):
    with pytest.raises(DaxSyntaxError) as err:
        parse_function("F", text)
    assert message in err.value.message and (err.value.line, err.value.col) == (1, col)


def test_user_functions_are_not_builtins():
    assert not is_builtin("TimeIntelligence.MonthToDate") and is_builtin("PERCENTILEX.INC")


# ---------------------------------------------------------------- formatter


def test_format_keeps_the_function_name_and_prints_types_and_defaults():
    text = "define function Geo.OsloSales = (v : scalar expr, k = 1) => calculate(v, Customer[City] = \"Oslo\") * k " \
           "evaluate {Geo.OsloSales([Sales])}"
    assert format_dax(text) == (
        "DEFINE\n"
        "    FUNCTION Geo.OsloSales = ( v : SCALAR EXPR, k = 1 ) =>\n"
        "        CALCULATE ( v, Customer[City] = \"Oslo\" ) * k\n"
        "EVALUATE\n"
        "{ Geo.OsloSales ( [Sales] ) }"
    )
    assert format_function("F", "(x:int64) => x*2") == "( x : INT64 ) => x * 2"
    # a line comment after the body keeps it on its own line (the comment must end the line)
    assert format_function("F", "(x:int64) => x*2 // twice") == "( x : INT64 ) =>\n    x * 2 // twice"


def test_format_is_idempotent_on_functions():
    once = format_function("F", "(t : TABLE, c : COLUMNREF) => SUMX(t, c) + COUNTROWS(t) + SUMX(t, c) + COUNTROWS(t)")
    assert format_function("F", once) == once and parse_function("F", once) == parse_function("F", once)


# ---------------------------------------------------------------- analysis and lint


def _model(*measures, functions=()):
    return replace(model(*measures), functions=tuple(functions))


def test_calls_to_model_functions_resolve_and_are_checked():
    m = _model(measure("Half Sales", "Fin.Half([Sales])"), measure("Sales", "SUM(Sales[Amount])"),
               measure("Bad", "Fin.Half(1, 2)", line=12), measure("Opt", "Fin.Scale(1) + Fin.Scale(1, 3)", line=13),
               functions=[fn("Fin.Half", "(x : SCALAR VAL) => x / 2"), fn("Fin.Scale", "(x, k = 2) => x * k", 5)])
    messages = [str(p) for p in analyze_model(m)]
    assert messages == ["measures/sales.yaml:12:17: error: measure 'Bad', DAX 1:1: Fin.Half takes exactly 1 argument, got 2"]


def test_function_bodies_are_resolved_with_their_yaml_position():
    m = _model(functions=[fn("Fin.Bad", "(x) => x + [Nope] + Sales[Qty2]", line=7)])
    messages = [p.message for p in analyze_model(m)]
    assert messages[0] == "function 'Fin.Bad', DAX 1:12: unknown measure or column [Nope]"
    assert messages[1].startswith("function 'Fin.Bad', DAX 1:21: column 'Qty2' not found in table 'Sales'")
    assert str(analyze_model(m)[0].pos) == f"{FN_FILE}:7:28"


def test_recursion_is_reported_once():
    m = _model(functions=[fn("A", "(x) => B(x)"), fn("B", "(x) => A(x) + B(x)", 5)])
    messages = [p.message for p in analyze_model(m)]
    assert messages == ["function 'A', DAX 1:8: recursive function call: A -> B -> A",
                        "function 'B', DAX 1:15: recursive function call: B -> B"]
    q = analyze_query(model(), "DEFINE FUNCTION F = (x) => G(x) FUNCTION G = (x) => F(x) EVALUATE {F(1)}")
    assert [p.message for p in q] == ["query, DAX 1:28: recursive function call: F -> G -> F"]


def test_a_measure_cycle_through_a_function_is_reported():
    # [A] calls F, whose body references [A]: A -> A, reported at the call (DAX 1:5 of [A]).
    m = _model(measure("A", "1 + Fin.UsesA()"), functions=[fn("Fin.UsesA", "() => [A] * 2")])
    assert [p.message for p in analyze_model(m)] == ["measure 'A', DAX 1:5: circular measure dependency: A -> A"]


def test_a_function_that_does_not_parse_is_one_problem():
    m = _model(measure("M", "Fin.Broken(1)"), functions=[fn("Fin.Broken", "(x) => x +")])
    problems = analyze_model(m)
    assert len(problems) == 1 and problems[0].message.startswith("function 'Fin.Broken', DAX 1:11: syntax error")


def test_lint_checks_function_bodies_and_can_be_disabled():
    f = fn("Fin.Ratio", "(a, b) => a / b")
    assert [(x.rule, x.subject) for x in lint_model(_model(functions=[f])) if x.rule == "DAX001"] == [
        ("DAX001", "function Fin.Ratio")]
    quiet = replace(f, lint_disable=("DAX001",))
    assert not [x for x in lint_model(_model(functions=[quiet])) if x.rule == "DAX001"]


# ---------------------------------------------------------------- YAML spec, fmt, TMDL, TOM


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    for part in ("semantic", "measures"):
        shutil.copytree(REPO / part, root / part)
    (root / "semantic" / "functions").mkdir()
    return root


FUNCTIONS_YAML = """\
functions:
  - name: Finance.SafeRatio
    description: Numerator over denominator; BLANK when the denominator is 0.
    expression: |
      ( numerator : SCALAR NUMERIC VAL, denominator : SCALAR NUMERIC VAL ) =>
          DIVIDE ( numerator, denominator )
  - name: Finance.Twice
    expression: '(x:EXPR) => x*2'
"""


def test_functions_load_from_yaml(project):
    (project / "semantic/functions/finance.yaml").write_text(FUNCTIONS_YAML)
    m = load_project(project)
    assert [f.name for f in m.functions] == ["Finance.SafeRatio", "Finance.Twice"]
    assert m.function("finance.twice").expression == "(x:EXPR) => x*2"
    assert str(m.functions[1].pos) == "semantic/functions/finance.yaml:7:5"


@pytest.mark.parametrize("yaml_text, message", [
    ("functions:\n  - name: Dup\n    expression: (x) => x\n  - name: dup\n    expression: (x) => x\n",
     "finance.yaml:4:11: error: duplicate function name 'dup'"),
    ("functions:\n  - name: SUM\n    expression: (x) => x\n", "function 'SUM' has the name of a built-in DAX function"),
    ("functions:\n  - name: Bad Name\n    expression: (x) => x\n", "functions.0.name: 'Bad Name' does not match"),
    ("functions:\n  - name: F\n    body: (x) => x\n", "unknown key 'body'"),
])
def test_bad_function_files_are_positioned_errors(project, yaml_text, message):
    (project / "semantic/functions/finance.yaml").write_text(yaml_text)
    with pytest.raises(ForgeError) as err:
        load_project(project)
    assert message in str(err.value)


def test_fmt_checks_and_rewrites_function_definitions(project, capsys):
    (project / "semantic/functions/finance.yaml").write_text(FUNCTIONS_YAML)
    assert main(["fmt", "--project", str(project)]) == 1
    assert "function 'Finance.Twice' is not formatted" in capsys.readouterr().out
    assert main(["fmt", "--project", str(project), "--write"]) == 0
    text = (project / "semantic/functions/finance.yaml").read_text()
    assert "expression: '( x : EXPR ) => x * 2'" in text
    assert main(["fmt", "--project", str(project)]) == 0


def test_tmdl_functions_file_and_compatibility_level():
    m = _model(functions=[fn("Fin.Half", "( x : SCALAR VAL ) => x / 2"), replace(fn("Plain", "( ) => 1"), description="One.")])
    dax = {("", "Fin.Half"): "( x : SCALAR VAL ) =>\n    x / 2", ("", "Plain"): "() => 1"}
    text = functions_tmdl(m, dax)
    lines = text.splitlines()
    assert lines[0] == "function 'Fin.Half' ="  # dotted names are quoted, like any non-identifier
    assert lines[1:3] == ["\t\t( x : SCALAR VAL ) =>", "\t\t    x / 2"]
    assert lines[3].startswith("\tlineageTag: ") and "/// One." in lines and "function Plain = () => 1" in lines
    assert functions_tmdl(m, dax) == text  # lineage tags derive from names
    assert "compatibilityLevel: 1702" in database_tmdl(m)
    assert "compatibilityLevel: 1600" in database_tmdl(model())  # models without functions do not change


def test_build_emits_functions_that_tom_accepts(project, tmp_path):
    (project / "semantic/functions/finance.yaml").write_text(FUNCTIONS_YAML)
    with (project / "measures/kpis.yaml").open("a") as fh:
        fh.write("  - name: Revenue per Order UDF\n    expression: Finance.SafeRatio ( [Total Revenue], [Total Orders] )\n")
    out = tmp_path / "out"
    assert main(["build", "--project", str(project), "--out", str(out), "--rows", "500", "--no-tom"]) == 0
    definition = next(out.glob("*.SemanticModel")) / "definition"
    text = (definition / "functions.tmdl").read_text()
    assert "function 'Finance.Twice' = ( x : EXPR ) => x * 2\n" in text
    if not tom.available():
        pytest.skip("TOM not installed here (CI installs it)")
    result = tom.check(definition)
    assert result["ok"], result["errors"]
    assert result["summary"]["functions"] == 2 and result["summary"]["compatibilityLevel"] == 1702
