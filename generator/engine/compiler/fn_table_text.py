"""Tables rendered as text: TOCSV and TOJSON.

Each handler follows the function's page on dax.guide / learn.microsoft.com (cited in the
docstrings); the tests in tests/engine/test_fn_tables2.py check them on hand-worked data.
"""
from __future__ import annotations

from sqlglot import exp

from generator.dax import ast as A
from generator.engine.compiler.compile_types import Env, Rel, RelCol
from generator.engine.compiler.core import CompilerCore
from generator.engine.data import fn
from generator.engine.types import DaxType
from generator.engine.values import Scalar, lit, to_text

S = exp.Literal.string
def header(c: RelCol) -> str:
    """How TOCSV/TOJSON name a column: 'Table'[Column] for model columns, [Name] otherwise."""
    if c.key is not None and c.name == f"{c.key[0]}[{c.key[1]}]":
        return f"'{c.key[0]}'[{c.key[1]}]"
    return f"[{c.name}]"


class TableTextFns(CompilerCore):
    """Mixin for `Compiler`: TOCSV and TOJSON."""

    # ------------------------------------------------------------ tables as text

    def _text_rows(self, rel: Rel, env: Env, limit: exp.Expression, render) -> tuple[exp.Expression, exp.Expression]:
        """(the first `limit` rows rendered by `render(values)` and joined by newlines, the
        row count). Rows are in the order of their columns (Power BI: storage order)."""
        a = self.new_alias()
        values = [Scalar(exp.column(c.sql, a), c.type) for c in rel.cols]
        order = [exp.Ordered(this=exp.column(c.sql, a), nulls_first=True) for c in rel.cols]
        rn = exp.Window(this=fn("row_number"), order=exp.Order(expressions=order))
        lines = exp.select(exp.alias_(render(values), "line"), exp.alias_(rn, "rn")).from_(
            self.rel_select(rel).subquery(a, copy=True))
        b = self.new_alias()
        agg = exp.GroupConcat(this=exp.Order(this=exp.column("line", b), expressions=[
            exp.Ordered(this=exp.column("rn", b))]), separator=S("\n"))
        body = exp.Subquery(this=exp.select(agg).from_(lines.subquery(b)).where(
            exp.LTE(this=exp.column("rn", b), expression=limit)))
        count = exp.Subquery(this=exp.select(exp.Count(this=exp.Star())).from_(self.rel_select(rel).subquery(copy=True)))
        return body, count

    def fn_TOCSV(self, call, env):
        """TOCSV(T [, maxRows=10 [, delimiter="," [, includeHeaders=TRUE]]]): a header line of
        'Table'[Column] names, then one line per row, values as DAX converts them to text,
        lines separated by a line feed (dax.guide/tocsv; learn.microsoft.com/dax/tocsv-function-dax)."""
        args = self.args(call, env, 1, 4)
        rel = self.table(args[0], env)
        limit = self._opt(args, 1, env, lit(10)).sql
        delim = self._opt(args, 2, env, lit(","))
        headers = self._opt(args, 3, env, lit(True))
        if delim.type is not DaxType.TEXT:
            raise self.err(env, args[2], "TOCSV: the delimiter must be text")
        sep = delim.sql

        def render(values: list[Scalar]) -> exp.Expression:
            parts = []
            for v in values:
                parts.append(fn("coalesce", to_text(v), S("")))
            return fn("concat_ws", sep.copy(), *parts) if parts else S("")

        body, _ = self._text_rows(rel, env, limit, render)
        head = fn("concat_ws", sep.copy(), *[S(header(c)) for c in rel.cols])
        with_head = exp.Case(ifs=[exp.If(this=exp.paren(body.copy()).is_(exp.null()), true=head.copy())],
                             default=fn("concat", head, S("\n"), body.copy()))
        value = exp.Case(ifs=[exp.If(this=fn("coalesce", headers.sql, exp.false()), true=with_head)],
                         default=fn("coalesce", body, S("")))
        return Scalar(value, DaxType.TEXT, False)

    def fn_TOJSON(self, call, env):
        """TOJSON(T [, maxRows=10]): {"header": [...], "rowCount": rows, "data": [[...], ...]}
        with tab indentation; text quoted, numbers bare, BLANK as null
        (dax.guide/tojson; learn.microsoft.com/dax/tojson-function-dax)."""
        args = self.args(call, env, 1, 2)
        rel = self.table(args[0], env)
        limit = self._opt(args, 1, env, lit(10)).sql

        def render(values: list[Scalar]) -> exp.Expression:
            parts = [_json_value(v) for v in values]
            return fn("concat", S("\t\t["), fn("concat_ws", S(", "), *parts), S("]")) if parts else S("\t\t[]")

        body, count = self._text_rows(rel, env, limit, render)
        names = ", ".join(_json_string(header(c)) for c in rel.cols)
        rows = fn("replace", fn("coalesce", body, S("")), S("]\n"), S("],\n"))
        data = exp.Case(ifs=[exp.If(this=exp.EQ(this=rows.copy(), expression=S("")), true=S(""))],
                        default=fn("concat", rows, S("\n")))
        value = fn("concat", S(f'{{\n\t"header": [{names}],\n\t"rowCount": '), exp.cast(count, "VARCHAR"),
                   S(',\n\t"data": [\n'), data, S("\t]\n}"))
        return Scalar(value, DaxType.TEXT, False)

    def _opt(self, args, i: int, env: Env, default: Scalar) -> Scalar:
        if i < len(args) and not isinstance(args[i], A.EmptyArg):
            return self.scalar(args[i], env)
        return default


def _json_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json_value(v: Scalar) -> exp.Expression:
    """A value in TOJSON: text quoted and escaped, BLANK as null, others as DAX text."""
    if v.type is DaxType.TEXT:
        escaped = fn("replace", fn("replace", v.sql, S("\\"), S("\\\\")), S('"'), S('\\"'))
        inner = fn("concat", S('"'), escaped, S('"'))
    elif v.type is DaxType.BOOL:
        inner = exp.Case(ifs=[exp.If(this=v.sql, true=S("true"))], default=S("false"))
    else:
        inner = to_text(v)
    return fn("coalesce", inner, S("null"))
