"""Formatter: golden files, idempotence and meaning preservation.

Golden files live in tests/fixtures/dax_format/<case>.in.dax (input) and
<case>.out.dax (expected). Regenerate the expected files with
`UPDATE_GOLDEN=1 python -m pytest tests/test_dax_format.py`, then review the diff.
"""
import os
from pathlib import Path

import pytest

from generator.dax import DaxSyntaxError, format_dax, parse_expression, parse_query
from generator.dax import ast as A

GOLDEN = Path(__file__).resolve().parent / "fixtures" / "dax_format"
CASES = sorted(p.name[: -len(".in.dax")] for p in GOLDEN.glob("*.in.dax"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def parse_any(text: str) -> A.Node:
    head = text.lstrip().split(None, 1)[0].upper() if text.strip() else ""
    return parse_query(text) if head in ("DEFINE", "EVALUATE") else parse_expression(text)


def test_golden_cases_exist():
    assert len(CASES) >= 9


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    source = (GOLDEN / f"{case}.in.dax").read_text(encoding="utf-8")
    expected_path = GOLDEN / f"{case}.out.dax"
    actual = format_dax(source) + "\n"
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), f"missing {expected_path.name}; run with UPDATE_GOLDEN=1"
    assert actual == expected_path.read_text(encoding="utf-8")
    # Meaning preserved and idempotent.
    assert parse_any(actual) == parse_any(source)
    assert format_dax(actual) + "\n" == actual


@pytest.mark.parametrize(
    "source, expected",
    [
        ("sum(T[a])", "SUM ( T[a] )"),
        ("blank()", "BLANK ()"),
        ("3-2-1", "3 - 2 - 1"),
        ("3-(2-1)", "3 - ( 2 - 1 )"),
        ("(3-2)-1", "( 3 - 2 ) - 1"),
        ("2^3^2", "2 ^ 3 ^ 2"),
        ("2^(3^2)", "2 ^ ( 3 ^ 2 )"),
        ("-2^2", "-2 ^ 2"),
        ("(-2)^2", "( -2 ) ^ 2"),
        ("2^-1", "2 ^ ( -1 )"),
        ("- -1", "- -1"),
        ("not a && b", "NOT a && b"),
        ("not (a && b)", "NOT ( a && b )"),
        ("a   in {1,2}", "a IN { 1, 2 }"),
        ("f(a,)", "f ( a, )"),
        ("f(,)", "f ( , )"),
        ("sum(x) + Svg.Chart.Bar(1)", "SUM ( x ) + Svg.Chart.Bar ( 1 )"),
        ("'Sales'[x] + Sales[y]", "'Sales'[x] + Sales[y]"),
        ("var x=1 return x", "VAR x = 1\nRETURN\n    x"),
        ("1 // note", "1 // note"),
    ],
)
def test_small_cases(source, expected):
    assert format_dax(source) == expected


def test_long_call_breaks_one_argument_per_line():
    args = ", ".join(f"[Measure number {i}]" for i in range(8))
    out = format_dax(f"COALESCE({args})")
    lines = out.splitlines()
    assert lines[0] == "COALESCE ("
    assert lines[1:-1] == [f"    [Measure number {i}]," for i in range(7)] + ["    [Measure number 7]"]
    assert lines[-1] == ")"
    assert all(len(line) <= 100 for line in lines)


def test_fits_exactly_at_100_columns():
    inner = "x" * (100 - len("F ( [] )"))
    assert format_dax(f"F([{inner}])") == f"F ( [{inner}] )"
    assert format_dax(f"F([{inner}x])").splitlines()[0] == "F ("


def test_format_from_node_without_source():
    node = A.BinaryOp("*", A.BinaryOp("+", A.Number(1), A.Number(2)), A.TableRef("Year"))
    assert format_dax(node) == "( 1 + 2 ) * 'Year'"
    call = A.FunctionCall("COUNTROWS", (A.TableRef("Currency"),))
    assert format_dax(call) == "COUNTROWS ( 'Currency' )"
    assert parse_expression(format_dax(call)) == call


def test_format_reports_syntax_errors():
    with pytest.raises(DaxSyntaxError):
        format_dax("SUM(")


def test_comments_never_disappear():
    src = "/*a*/ SUM( /*b*/ T[x] /*c*/ ) // d\n-- e"
    out = format_dax(src)
    for mark in ("/*a*/", "/*b*/", "/*c*/", "// d", "-- e"):
        assert mark in out
    assert format_dax(out) == out


# ---------------------------------------------------------------- style rules (docs/dax-style.md)

STYLE_DOC = Path(__file__).resolve().parents[1] / "docs" / "dax-style.md"


def _documented_rules() -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """rule id -> (name in the heading, [(before, after), ...]) from docs/dax-style.md."""
    import re

    out = {}
    for section in re.split(r"^## ", STYLE_DOC.read_text(encoding="utf-8"), flags=re.M)[1:]:
        heading, _, body = section.partition("\n")
        rule_id, _, name = heading.partition(" ")
        blocks = re.findall(r"```dax\n(.*?)\n```", body, flags=re.S)
        assert len(blocks) % 2 == 0, f"{rule_id}: examples come in before/after pairs"
        out[rule_id] = (name, list(zip(blocks[::2], blocks[1::2])))
    return out


def test_every_style_rule_is_documented_under_its_name():
    from generator.dax.style import RULES

    documented = _documented_rules()
    assert sorted(documented) == sorted(RULES)
    assert {rule_id: name for rule_id, (name, _) in documented.items()} == {r.id: r.name for r in RULES.values()}
    assert all(examples for rule_id, (_, examples) in documented.items() if rule_id != "FMT000")


@pytest.mark.parametrize("rule_id, before, after", [
    (rule_id, before, after)
    for rule_id, (_, examples) in _documented_rules().items() for before, after in examples
])
def test_each_documented_example_is_what_fmt_does_and_is_named_by_its_rule(rule_id, before, after):
    from generator.dax.style import differences

    assert format_dax(before) == after
    assert {d.rule for d in differences(before, after)} == {rule_id}


@pytest.mark.parametrize("case", CASES)
def test_every_golden_difference_is_named_by_a_rule(case):
    from generator.dax.style import differences

    source = (GOLDEN / f"{case}.in.dax").read_text(encoding="utf-8").strip("\n")
    found = differences(source, format_dax(source))
    assert found and "FMT000" not in {d.rule for d in found}


def test_fmt_labels_each_hunk_with_the_rules_of_its_lines():
    from generator.dax.commands import Expression, diff
    from generator.spec.model import ExprOrigin

    source = "VAR a = DIVIDE ( [x],[y] )\n" + "".join(f"VAR v{i} = {i}\n" for i in range(7)) + "RETURN\n  a + v0"
    expr = Expression("measure 'M'", "M", source, ExprOrigin("measures/m.yaml", 3, 7))
    headers = [line for line in diff(expr, format_dax(source)).splitlines() if line.startswith("@@")]
    # line 1 only misses a space after the comma; lines 9-10 only the 4-space indent of the body
    assert headers == ["@@ -1,4 +1,4 @@ FMT002 space after comma", "@@ -7,4 +7,4 @@ FMT007 indentation"]


def test_fmt_command_names_the_rules(tmp_path, capsys):
    import shutil

    from generator.cli import main

    fixture = Path(__file__).resolve().parent / "fixtures" / "dax" / "project"
    for part in ("semantic", "measures"):
        shutil.copytree(fixture / part, tmp_path / part)
    assert main(["fmt", "--project", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert ("@@ -1 +1 @@ FMT003 space before a call's parenthesis; FMT004 spaces inside parentheses\n"
            "-COUNTROWS(Channel)\n+COUNTROWS ( Channel )\n") in out
    # DIVIDE(\n [Named Channels],\n [Channels]\n) fits on one line: joined, and the name gets its space
    assert "@@ -1,4 +1 @@ FMT003 space before a call's parenthesis; FMT006 line breaks\n-DIVIDE(\n" in out
