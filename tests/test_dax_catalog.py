"""Function catalog: coverage of the Desktop oracle, arities, result kinds."""
import pytest

from generator.dax import ast as A
from generator.dax import parse_expression
from generator.dax.catalog import FUNCTIONS, lookup
from tests.conftest import needs_shared, shared_json

GOLDEN = shared_json("dax-corpus/oracle/pbix-mcp-conformance-golden.json", default={})
needs_oracle = needs_shared("dax-corpus/oracle")


def test_catalog_is_large_and_well_formed():
    assert len(FUNCTIONS) >= 400
    for info in FUNCTIONS.values():
        assert info.name == info.name.upper()
        assert info.returns in ("scalar", "table", "any")
        assert info.max_args is None or info.max_args >= info.min_args >= 0


@needs_oracle
def test_every_oracle_function_is_in_the_catalog():
    assert len(GOLDEN) == 294
    assert sorted(name for name in GOLDEN if lookup(name) is None) == []


@needs_oracle
def test_every_oracle_probe_parses_with_catalog_arity():
    """Desktop evaluated these probes, so each call's argument count is valid DAX."""
    wrong = []
    for probes in GOLDEN.values():
        for probe in probes:
            for node in parse_expression(probe["expr"]).walk():
                if isinstance(node, A.FunctionCall):
                    info = lookup(node.name)
                    if info is None or not info.accepts(len(node.args)):
                        wrong.append(f"{node.name}/{len(node.args)} in {probe['expr']}")
    assert wrong == []


@pytest.mark.parametrize(
    "name, lo, hi, returns, category",
    [
        ("CALCULATE", 1, None, "scalar", "filter"),
        ("FILTER", 2, 2, "table", "filter"),
        ("DIVIDE", 2, 3, "scalar", "math and trig"),
        ("RANKX", 2, 5, "scalar", "statistical"),
        ("DATEADD", 3, 5, "table", "time intelligence"),
        ("PERCENTILEX.INC", 3, 3, "scalar", "statistical"),
        ("INFO.VIEW.TABLES", 0, None, "table", "info"),
        ("BLANK", 0, 0, "scalar", "other"),
    ],
)
def test_known_entries(name, lo, hi, returns, category):
    info = lookup(name.lower())
    assert (info.min_args, info.max_args, info.returns, info.category) == (lo, hi, returns, category)


def test_arity_text():
    assert lookup("IF").arity_text() == "2 to 3"
    assert lookup("SUM").arity_text() == "exactly 1"
    assert lookup("CALCULATE").arity_text() == "at least 1"
    assert lookup("NO.SUCH") is None
