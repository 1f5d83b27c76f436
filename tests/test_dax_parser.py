"""Parser: precedence, associativity, literals, references, scoping, queries, spans."""
import pytest

from generator.dax import DaxSyntaxError, parse_expression, parse_query
from generator.dax import ast as A
from generator.dax.sexp import sexp


def p(text: str) -> str:
    return sexp(parse_expression(text))


@pytest.mark.parametrize(
    "text, tree",
    [
        ("3-2-1", "(- (- 3 2) 1)"),
        ("8/4/2", "(/ (/ 8 4) 2)"),
        # DAX docs: equal precedence evaluates left to right, so ^ is left associative.
        ("2^3^2", "(^ (^ 2 3) 2)"),
        # DAX docs: ^ binds tighter than the sign, so -2^2 = -(2^2) = -4.
        ("-2^2", "(- (^ 2 2))"),
        ("(-2)^2", "(^ (- 2) 2)"),
        ("2^-1", "(^ 2 (- 1))"),
        ("NOT a && b", "(&& (NOT table:a) table:b)"),
        ("NOT a = b", "(NOT (= table:a table:b))"),
        ("a || b && c", "(|| table:a (&& table:b table:c))"),
        ("a && b || c && d", "(|| (&& table:a table:b) (&& table:c table:d))"),
        ('"a" & 1 + 2', '(& "a" (+ 1 2))'),
        ("1 + 2 * 3 - 4", "(- (+ 1 (* 2 3)) 4)"),
        ("-a * b", "(* (- table:a) table:b)"),
        ("- - 1", "(- (- 1))"),
        ("a = b = c", "(= (= table:a table:b) table:c)"),
        ("1 + 2 IN {3}", "(IN (+ 1 2) {(3)})"),
        ("NOT x IN {1, 2}", "(NOT (IN table:x {(1) (2)}))"),
        ("a == b <> c", "(<> (== table:a table:b) table:c)"),
        ("a <= b && c >= d", "(&& (<= table:a table:b) (>= table:c table:d))"),
        ("x & y = z", "(= (& table:x table:y) table:z)"),
        ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
        ("NOT NOT TRUE", "(NOT (NOT TRUE))"),
        ("NOT ( a ) && b", "(&& (NOT() table:a) table:b)"),
        ("1 + NOT x", "(+ 1 (NOT table:x))"),
    ],
)
def test_precedence_and_associativity(text, tree):
    assert p(text) == tree


@pytest.mark.parametrize(
    "text, value, kind",
    [
        ("42", 42, int),
        (".5", 0.5, float),
        ("1.", 1.0, float),
        ("1e3", 1000.0, float),
        ("1.5E-3", 0.0015, float),
        ("2E+2", 200.0, float),
    ],
)
def test_number_literals(text, value, kind):
    node = parse_expression(text)
    assert isinstance(node, A.Number)
    assert node.value == value and type(node.value) is kind and node.text == text


def test_string_and_name_escapes():
    node = parse_expression('\'O\'\'Brien\'[Say ]]hi] & "He said ""hi"""')
    assert node == A.BinaryOp("&", A.ColumnRef("O'Brien", "Say ]hi"), A.String('He said "hi"'))
    assert p('dt"2024-01-31"') == 'dt"2024-01-31"'
    assert p('""') == '""'


def test_reference_forms():
    assert p("'Table Name'[Col]") == "Table Name[Col]"
    assert p("Sales[Amount]") == "Sales[Amount]"
    assert p("Sales [Amount]") == "Sales[Amount]"
    assert p("[Measure]") == "[Measure]"
    assert p("'Sales'") == "table:Sales"
    assert p("Sales") == "table:Sales"
    assert p("'Date'[Date].[Month]") == "Date[Date].[Month]"
    assert parse_expression("''[Value]") == A.ColumnRef("", "Value")
    quoted = parse_expression("'Sales'[x]")
    assert quoted.quoted is True and parse_expression("Sales[x]").quoted is False


def test_bare_booleans_and_calls():
    assert p("TRUE && false") == "(&& TRUE FALSE)"
    assert p("TRUE()") == "(TRUE())"
    assert p("blank()") == "(BLANK())"
    assert p("PERCENTILEX.INC(T, [x], 0.5)") == "(PERCENTILEX.INC() table:T [x] 0.5)"
    assert p("SVG.Chart.Bar(1)") == "(SVG.CHART.BAR() 1)"


def test_keywords_case_insensitive_and_keyword_prefixed_names():
    assert p("var x = 1 Return x") == "(VAR x=1 RETURN var:x)"
    assert p("Returns[Qty] + Variance") == "(+ Returns[Qty] table:Variance)"
    assert p("VARx + INx + NOTE[a] + Truevalue[x]") == (
        "(+ (+ (+ table:VARx table:INx) NOTE[a]) Truevalue[x])"
    )
    assert p("Evaluated[x] * Defined[y]") == "(* Evaluated[x] Defined[y])"
    assert p("NOT [Flag]") == "(NOT [Flag])"


def test_omitted_and_enum_arguments():
    assert p("RANKX(ALL(T[c]), [m],,, Dense)") == "(RANKX() (ALL() T[c]) [m] _ _ enum:DENSE)"
    assert p("RANKX(ALLSELECTED(T), [S],  )") == "(RANKX() (ALLSELECTED() table:T) [S] _)"
    assert p("DATEADD('Date'[Date], -1, year)") == "(DATEADD() Date[Date] (- 1) enum:YEAR)"
    assert p("f()") == "(F())"
    assert p("f(,)") == "(F() _ _)"


def test_table_constructors_and_tuples():
    assert p("{1, 2}") == "{(1) (2)}"
    assert p('{(1, "a"), (2, "b")}') == '{(1 "a") (2 "b")}'
    assert p("{}") == "{}"
    assert p("{(1)}") == "{(1)}"
    assert p("(T[a], T[b]) IN {(1, 2)}") == "(IN (tuple T[a] T[b]) {(1 2)})"


def test_var_scoping():
    # A VAR is visible after its definition and in RETURN, not in its own expression.
    assert p("VAR a = a VAR b = a RETURN b") == "(VAR a=table:a b=var:a RETURN var:b)"
    # Scopes end with the block.
    assert p("VAR t = 1 RETURN t + 0") == "(VAR t=1 RETURN (+ var:t 0))"
    assert p("(VAR t = 1 RETURN t) + t") == "(+ (VAR t=1 RETURN var:t) table:t)"
    assert p("VAR _x = 1 RETURN _X") == "(VAR _x=1 RETURN var:_X)"
    # A VAR whose name is an enum word stays a variable in argument position.
    assert p("VAR Year = 1 RETURN f(year)") == "(VAR Year=1 RETURN (F() var:year))"
    # Nested blocks as operands.
    assert p("1 + VAR x = 2 RETURN x * 3") == "(+ 1 (VAR x=2 RETURN (* var:x 3)))"


def test_comments_are_ignored():
    text = "1 // one\n+ -- two\n2 /* three /* nested */ still */ * 3"
    assert p(text) == "(+ 1 (* 2 3))"


def test_spans_track_lines_and_columns():
    node = parse_expression("VAR x =\n    SUM ( T[a] )\nRETURN\n  x + 'T'[b]")
    assert node.span == A.Span(0, 44, 1, 1)
    (var,) = node.vars
    call = var.expr
    assert (call.span.line, call.span.col, call.span.start, call.span.end) == (2, 5, 12, 24)
    assert call.args[0].span == A.Span(18, 22, 2, 11)
    body = node.body
    assert (body.span.line, body.span.col) == (4, 3)
    assert (body.right.span.line, body.right.span.col) == (4, 7)


def test_parens_are_trivia():
    assert parse_expression("((1 + 2))") == parse_expression("1 + 2")
    assert parse_expression("((1 + 2))").parens == 2


QUERY = """
DEFINE
    MEASURE Sales[Total] = SUM ( Sales[Amount] )
    VAR _min = 10
    TABLE Big = FILTER ( Sales, [Total] > _min )
    COLUMN 'Big'[Double] = [Amount] * 2
    FUNCTION AddOne = ( x : SCALAR NUMERIC, t : TABLE ) => x + 1
EVALUATE
    SUMMARIZECOLUMNS ( Customer[City], "T", [Total] )
    ORDER BY Customer[City] DESC, [T]
    START AT "Oslo"
evaluate Big
"""


def test_query_language():
    q = parse_query(QUERY)
    measure, var, table, column, function = q.defines
    assert measure == A.DefineMeasure("Sales", "Total", parse_expression("SUM(Sales[Amount])"))
    assert var == A.DefineVar("_min", A.Number(10))
    assert table.name == "Big" and sexp(table.expr) == "(FILTER() table:Sales (> [Total] var:_min))"
    assert (column.table, column.name, sexp(column.expr)) == ("Big", "Double", "(* [Amount] 2)")
    assert function.name == "AddOne"
    assert [(x.name, x.type) for x in function.params] == [("x", "SCALAR NUMERIC"), ("t", "TABLE")]
    assert sexp(function.body) == "(+ var:x 1)"
    first, second = q.evaluates
    assert [(sexp(o.expr), o.descending) for o in first.order_by] == [
        ("Customer[City]", True), ("[T]", False)
    ]
    assert first.start_at == (A.String("Oslo"),)
    assert second == A.Evaluate(A.TableRef("Big"))


def test_query_without_define_and_with_params():
    q = parse_query("EVALUATE ROW(\"x\", @p) EVALUATE {1}")
    assert len(q.evaluates) == 2 and q.defines == ()
    assert sexp(q.evaluates[0].expr) == '(ROW() "x" @p)'


@pytest.mark.parametrize(
    "text, message, line, col",
    [
        ('CALCULATE([Sales], T[City] = "Oslo"', "expected ',' or ')' in the arguments of CALCULATE", 1, 36),
        ("VAR x = 1", "expected VAR or RETURN after the VAR definitions, found end of input", 1, 10),
        ("SUM(T[a]) +", "expected an expression, found end of input", 1, 12),
        ('"abc', 'unterminated string', 1, 1),
        ("'abc", "unterminated table name", 1, 1),
        ("[abc", "unterminated column or measure name", 1, 1),
        ("1 /* x", "unterminated /* comment", 1, 3),
        ("1 + * 2", "expected an expression, found '*'", 1, 5),
        ("IF(a, b c)", "found 'c'", 1, 9),
        ("[a]\n  + (3 ", "expected ')' to close the '(' at line 2, column 5", 2, 8),
        ("x ~ y", "unexpected character '~'", 1, 3),
        ("", "the expression is empty", 1, 1),
        ("RETURN 1", "expected an expression, found 'RETURN'", 1, 1),
        ("DEFINE ( 1 )", "expected an expression, found 'DEFINE'", 1, 1),
        ("1 + Evaluate[x]", "expected an expression, found 'Evaluate'", 1, 5),
        ("T[a] T[b]", "unexpected 'T' after a complete expression", 1, 6),
        ("SUM(x))", "unmatched ')'", 1, 7),
        ("VAR = 1 RETURN 1", "expected a variable name after VAR, found '='", 1, 5),
        ("@", "'@' must be followed by a parameter name", 1, 1),
    ],
)
def test_syntax_errors_have_positions(text, message, line, col):
    with pytest.raises(DaxSyntaxError) as info:
        parse_expression(text)
    err = info.value
    assert message in err.message
    assert (err.line, err.col) == (line, col)
    caret_line = err.excerpt.splitlines()[-1]
    assert caret_line.index("^") == 4 + col - 1


def test_query_errors():
    with pytest.raises(DaxSyntaxError, match="expected DEFINE or EVALUATE"):
        parse_query("SUM(x)")
    with pytest.raises(DaxSyntaxError, match="expected EVALUATE, found end of input"):
        parse_query("DEFINE VAR x = 1")
    with pytest.raises(DaxSyntaxError, match="expected MEASURE, VAR, TABLE, COLUMN or FUNCTION"):
        parse_query("DEFINE EVALUATE 1")
    with pytest.raises(DaxSyntaxError, match=r"expected a Table\[Name\] after MEASURE"):
        parse_query("DEFINE MEASURE Total = 1 EVALUATE {1}")


def test_error_reports_yaml_position():
    from generator.spec.model import ExprOrigin

    origin = ExprOrigin("measures/sales.yaml", 12, 17, block=True, indent=6)
    with pytest.raises(DaxSyntaxError) as info:
        parse_expression("SUM(Sales[Amount])\n  + (3 ", origin)
    err = info.value
    assert (err.line, err.col) == (2, 8)
    assert str(err.pos) == "measures/sales.yaml:13:14"
    text = str(err)
    assert text.startswith("measures/sales.yaml:13:14: DAX syntax error at line 2, column 8: expected ')'")
    assert text.splitlines()[1:] == ["      + (3 ", "           ^"]


def test_deep_nesting_is_a_syntax_error_not_a_crash():
    with pytest.raises(DaxSyntaxError, match="nested"):
        parse_expression("(" * 5000 + "1" + ")" * 5000)
    with pytest.raises(DaxSyntaxError, match="nested"):
        parse_expression("f(" * 3000 + ")" * 3000)
    assert p("(" * 30 + "1" + ")" * 30) == "1"


# ---------------------------------------------------------------- long chains, deep nesting (trust-input)

import sys  # noqa: E402

from generator.dax.parser import MAX_DEPTH  # noqa: E402


def _value(node: A.Expr) -> float:
    """Evaluate + - * / and numbers without recursion (the trees below are 10,000 deep)."""
    ops = {"+": float.__add__, "-": float.__sub__, "*": float.__mul__, "/": float.__truediv__}
    stack, done = [(node, False)], []
    while stack:
        n, visited = stack.pop()
        if isinstance(n, A.Number):
            done.append(float(n.value))
        elif visited:
            right, left = done.pop(), done.pop()
            done.append(ops[n.op](left, right))
        else:
            stack += [(n, True), (n.right, False), (n.left, False)]
    return done[0]


def test_a_10000_term_chain_parses_left_associative():
    tree = parse_expression(" - ".join(["1"] * 10_000))
    spine = 0
    while isinstance(tree, A.BinaryOp):  # ((1 - 1) - 1) - …: the left side holds the rest
        assert tree.op == "-" and isinstance(tree.right, A.Number)
        tree, spine = tree.left, spine + 1
    assert spine == 9_999


def test_a_long_mixed_chain_keeps_precedence():
    terms = [f"{i} * 2 - {i} / 4" for i in range(1, 2_501)]  # 10,000 numbers
    expected = sum(i * 2 - i / 4 for i in range(1, 2_501))  # each term is i*2 - i/4 = 1.75 i
    assert _value(parse_expression(" + ".join(terms))) == pytest.approx(expected)


def test_nesting_up_to_the_limit_parses_and_one_more_is_a_positioned_error():
    assert MAX_DEPTH == 256
    assert p("(" * 256 + "1" + ")" * 256) == "1"
    tree = parse_expression("ABS(" * 256 + "1" + ")" * 256)
    for _ in range(256):
        assert isinstance(tree, A.FunctionCall) and tree.name == "ABS"
        tree = tree.args[0]
    assert tree == A.Number(1, "1")
    # the error points at the first token of the expression that is one level too deep
    for text, col in [("(" * 257 + "1" + ")" * 257, 258), ("- " * 257 + "1", 515), ("NOT " * 257 + "x", 1029),
                      ("2 ^ " + "- " * 257 + "1", 519)]:
        with pytest.raises(DaxSyntaxError, match="nested more than 256 levels deep") as info:
            parse_expression(text)
        assert (info.value.line, info.value.col) == (1, col), text


def test_the_parser_needs_no_recursion_headroom_from_its_caller():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        assert isinstance(parse_expression("ABS(" * 256 + "1" + ")" * 256), A.FunctionCall)
        assert sys.getrecursionlimit() == 200
    finally:
        sys.setrecursionlimit(limit)


def test_an_empty_query_says_so():
    with pytest.raises(DaxSyntaxError, match="the query is empty") as info:
        parse_query("  \n ")
    assert (info.value.line, info.value.col) == (2, 2)
