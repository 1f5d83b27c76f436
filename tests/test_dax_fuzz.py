"""Fuzz: on any input the front-end returns a tree or raises DaxSyntaxError, nothing else."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.dax import DaxSyntaxError, format_dax, parse_expression, parse_query
from tests.conftest import needs_shared, shared_jsonl

# ["x"] keeps the strategy below valid when the corpus is missing; the test is skipped then
SAMPLES = [row["expression"] for row in shared_jsonl("dax-corpus/measures.jsonl")] or ["x"]

# Fragments that exercise every lexer rule and most grammar rules.
FRAGMENTS = [
    "VAR", "RETURN", "var", "DEFINE", "EVALUATE", "MEASURE", "ORDER BY", "START AT", "ASC",
    "NOT", "IN", "TRUE", "FALSE", "(", ")", "{", "}", ",", "[", "]", "'", '"', "[Sales]",
    "'T'[c]", "T[c]", "SUM(", "CALCULATE(", "=", "==", "<>", "<=", ">=", "<", ">", "&&",
    "||", "&", "+", "-", "*", "/", "^", "1", ".5", "1e3", "2.", '"s"', '""', "//c\n",
    "--c\n", "/*", "*/", "\n", " ", "dt\"2020-01-01\"", "@p", ".", ":", "=>", ";", "x",
    "_v", "PERCENTILEX.INC(", "'Date'[Date].[Month]", "\t", "\u00e9", "]]", "''",
]


def _only_syntax_errors(text: str) -> None:
    """Parse as expression and as query; whatever parses must also format and round-trip."""
    for parse in (parse_expression, parse_query):
        try:
            tree = parse(text)
        except DaxSyntaxError as err:
            assert err.line >= 1 and err.col >= 1 and "^" in err.excerpt
            continue
        # format_dax picks query or expression from the first token, as parse did.
        formatted = format_dax(text)
        assert parse(formatted) == tree
        assert format_dax(formatted) == formatted


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80))
def test_random_text(text):
    _only_syntax_errors(text)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_random_token_soup(parts):
    _only_syntax_errors(" ".join(parts))
    _only_syntax_errors("".join(parts))


@needs_shared("dax-corpus/measures.jsonl")
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SAMPLES),
    st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 5), st.sampled_from(FRAGMENTS + [""])),
        min_size=1,
        max_size=4,
    ),
)
def test_mutated_corpus(sample, edits):
    text = sample
    for at, delete, insert in edits:
        at %= len(text) + 1
        text = text[:at] + insert + text[at + delete :]
    _only_syntax_errors(text)
