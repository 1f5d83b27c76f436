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


# ---------------------------------------------------------------- one catalog for the engine too


def _probe(name: str, args: int) -> str:
    """A call of `name` with `args` column arguments, as a scalar (ROW) or a table query."""
    call = f"{name}({', '.join(['Sales[Amount]'] * args)})"
    return f"EVALUATE {call}" if lookup(name).returns == "table" else f'EVALUATE ROW("x", {call})'


def test_every_catalog_function_compiles_or_is_unsupported_never_unknown():
    """A catalog name is DAX: the engine either handles it (a probe may still be rejected
    for its arguments) or says it is not supported, naming it; never "unknown function"."""
    from generator.engine import DaxCompileError, DaxUnsupportedError
    from generator.engine.runtime.engine import supported_functions
    from tests.engine.fixtures import engine

    e, handled = engine(), supported_functions()
    unknown, silent, wrong = [], [], []
    for name, info in FUNCTIONS.items():
        try:
            e.compile(_probe(name, info.min_args))
            outcome = None
        except DaxUnsupportedError as exc:
            outcome = exc
        except DaxCompileError as exc:
            outcome = exc
        message = getattr(outcome, "message", "")
        if "unknown function" in message:
            unknown.append(name)
        elif name not in handled and not (isinstance(outcome, DaxUnsupportedError) and name in message):
            silent.append((name, message))
        elif name in handled and isinstance(outcome, DaxUnsupportedError) and f"the function {name} " in message:
            wrong.append(name)
    assert unknown == [] and silent == [] and wrong == []


def test_an_unsupported_function_names_function_measure_and_position():
    """COMBINEVALUES is in the catalog (analysis accepts it) but has no engine handler.
    (CEILING.MATH now has one: it raises Desktop's "cannot resolve the name", see
    tests/engine/test_fn_scalar.py.)"""
    from generator.engine import DaxUnsupportedError
    from tests.engine.fixtures import engine, measure

    e = engine(measure("Rounded", "COMBINEVALUES(\"|\", \"1\", \"2\")", line=7))
    with pytest.raises(DaxUnsupportedError) as info:
        e.evaluate_measure("Rounded")
    err = info.value
    assert err.message.startswith("the function COMBINEVALUES is not supported by the pbi-forge DAX engine")
    assert "measure [Rounded]" in err.message
    assert (err.pos.file, err.pos.line, err.pos.col) == ("measures/m.yaml", 7, 17)


def test_an_unknown_name_is_still_unknown():
    from generator.engine import DaxCompileError
    from tests.engine.fixtures import engine

    assert lookup("CEILINGMATH") is None
    with pytest.raises(DaxCompileError, match="unknown function CEILINGMATH"):
        engine().compile('EVALUATE ROW("x", CEILINGMATH(1))')


def test_support_table_covers_the_catalog_and_the_engine():
    from generator.dax.catalog import render_markdown, support
    from generator.engine.runtime.engine import supported_functions

    handled = supported_functions()
    assert handled <= set(FUNCTIONS)
    assert support("SUM", handled) == "supported" and support("COMBINEVALUES", handled) == "not yet"
    assert support("SUMMARIZECOLUMNS", handled) == "partial"
    text = render_markdown(handled)
    assert "| COMBINEVALUES | not yet |" in text and "| INFO.STORAGETABLES | not yet |" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| function")]
    assert len(rows) == len(FUNCTIONS)
