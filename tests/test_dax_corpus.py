"""Real-world corpus: every measure parses; formatting is idempotent and keeps the AST.

Corpus: ../shared/dax-corpus/measures.jsonl (836 measures from 21 public repositories).
"""
import pytest

from generator.dax import DaxSyntaxError, format_dax, parse_expression
from generator.dax import ast as A
from tests.conftest import needs_shared, shared_jsonl

ROWS = shared_jsonl("dax-corpus/measures.jsonl")
pytestmark = needs_shared("dax-corpus/measures.jsonl")

# Measures that are not valid DAX, with the reason. Every entry must still fail to
# parse (checked below), so this list cannot hide a regression. Currently empty: all
# 836 measures parse, including the trailing empty argument Power BI accepts.
KNOWN_INVALID: dict[tuple[str, str], str] = {}


def _key(row: dict) -> tuple[str, str]:
    return (row["repo"], row["name"])


def test_corpus_size():
    assert len(ROWS) == 836


def test_every_measure_parses():
    failures = []
    for row in ROWS:
        if _key(row) in KNOWN_INVALID:
            with pytest.raises(DaxSyntaxError):  # a listed measure must really be invalid
                parse_expression(row["expression"])
            continue
        try:
            parse_expression(row["expression"])
        except DaxSyntaxError as err:
            failures.append(f"{row['repo']} / {row['name']}: {err}")
    assert failures == []


def test_format_round_trip_on_whole_corpus():
    problems = []
    for row in ROWS:
        if _key(row) in KNOWN_INVALID:
            continue
        original = parse_expression(row["expression"])
        once = format_dax(row["expression"])
        if parse_expression(once) != original:
            problems.append(f"{row['name']}: AST changed")
        elif format_dax(once) != once:
            problems.append(f"{row['name']}: not idempotent")
    assert problems == []


def test_corpus_comments_survive_formatting():
    """Every comment of the corpus is still in the formatted text, in the same order."""
    from generator.dax.lexer import tokenize
    from generator.dax.errors import SourceText

    for row in ROWS:
        before = [c.text for c in tokenize(SourceText(row["expression"]))[1]]
        after = [c.text for c in tokenize(SourceText(format_dax(row["expression"])))[1]]
        assert after == before, row["name"]


def test_corpus_covers_the_stress_cases():
    """The corpus features the parser must handle really occur (guards the fixture)."""
    nodes = [n for row in ROWS for n in parse_expression(row["expression"]).walk()]
    kinds = {type(n) for n in nodes}
    assert {A.VarBlock, A.In, A.TableConstructor, A.EmptyArg, A.UnaryOp} <= kinds
    assert sum(isinstance(n, A.ColumnRef) and n.variation is not None for n in nodes) >= 23
    assert any(isinstance(n, A.FunctionCall) and n.name.count(".") >= 2 for n in nodes)


# Measures that call a user-defined function from a library that is not in the corpus
# (data-goblin/power-bi-agentic-development's UDF demos): nothing to evaluate them with.
UDF_CALLS_OUTSIDE_THE_CORPUS = {
    "Actuals MTD - UDF": {"TIMEINTELLIGENCE.MONTHTODATE"},
    "Sales Target MTD - UDF": {"TIMEINTELLIGENCE.MONTHTODATE"},
    "Sales Target vs. Actuals (%) - UDF": {"COMPARISON.RELATIVETOTARGET"},
    "Dynamic Pareto of Actuals by Station - UDF": {"BUSCALCS.PARETO"},
    "SVG Bullet Chart (with Action Dots) - UDF": {"SVG.CHART.BULLETCHART.ACTIONDOT"},
    "SVG Overlapping Bars": {"SVG.CHART.BARCHART.OVERLAPPINGBARS"},
    "SVG Overlapping Bars (No Label)": {"SVG.CHART.BARCHART.OVERLAPPINGBARSSIMPLE"},
    "Dumbbell Plot UDF": {"SVG.CHART.DUMBBELLPLOT"},
    "Waterfall UDF": {"SVG.CHART.WATERFALL"},
}


def _called(node, out: set[str]) -> set[str]:
    if isinstance(node, A.FunctionCall):
        out.add(node.name.upper())
    for value in vars(node).values() if hasattr(node, "__dict__") else ():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(item, A.Node):
                _called(item, out)
            elif isinstance(item, tuple):
                for sub in item:
                    if isinstance(sub, A.Node):
                        _called(sub, out)
    return out


def test_every_corpus_measure_uses_only_functions_the_engine_supports():
    from generator.dax.catalog import is_builtin
    from generator.engine.runtime.engine import supported_functions

    supported = supported_functions()
    blocked = {}
    for row in ROWS:
        missing = _called(parse_expression(row["expression"]), set()) - supported
        if missing:
            blocked[row["name"]] = missing
    assert blocked == UDF_CALLS_OUTSIDE_THE_CORPUS
    assert not any(is_builtin(n) for names in blocked.values() for n in names)  # user functions only
