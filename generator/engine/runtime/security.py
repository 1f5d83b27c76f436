"""Row-level security: the model's tables as a user in some roles sees them.

Power BI's rules (learn.microsoft.com/fabric/security/service-admin-row-level-security,
learn.microsoft.com/power-bi/guidance/rls-guidance):

- a role's table filter is a DAX expression evaluated for each row of its table (a row
  context, no filter context); the rows where it is TRUE are the rows the role sees;
- the filtered table filters the tables on the many side of its active relationships, and
  so on down the chain (an order of a hidden customer is hidden too, and so is an order
  without a customer);
- a user in several roles sees the union of what each role sees;
- no DAX can remove a security filter (ALL, REMOVEFILTERS see only the visible rows):
  the filters are applied to the data itself, before any query, so every later compile
  and query sees only the visible rows.

Filters are evaluated over the unsecured data (including calculated columns, which Power
BI computes at refresh, without security), all of them before any table is replaced.
Out of scope (a clear error or documented): security filters across bidirectional
relationships ("apply security filter in both directions") are not propagated upstream.

Every step is a statement tree handed to the backend's `execute` (`run`): DuckDB stores
the visible rows in temporary tables, Spark in checkpointed temporary views, the same SQL.
"""
from __future__ import annotations

from typing import Callable, Sequence

from sqlglot import exp

from generator.engine.errors import DaxEvalError
from generator.engine.schema import Schema
from generator.engine.sql import create_table, create_view, ident, parenthesize, table_ref
from generator.spec.model import CalculatedColumn, Model, Role, Table

VISIBLE = "__rls_visible"


def _topological(model: Model) -> list[Table]:
    """One sides before the many sides that relate to them."""
    order: list[Table] = []
    seen: set[str] = set()

    def visit(t: Table) -> None:
        if t.name.lower() in seen:
            return
        seen.add(t.name.lower())
        for r in model.relationships:
            if r.active and r.from_table.lower() == t.name.lower():
                visit(model.table(r.to_table))
        order.append(t)

    for t in model.tables:
        visit(t)
    return order


def _role_tables(model: Model, schema: Schema, role: Role, index: int,
                 compile_filter: Callable[[Table, CalculatedColumn], exp.Select],
                 run: Callable[[exp.Expression], None]) -> dict[str, str]:
    """Materialise the rows `role` sees of every table it restricts; returns
    lower-case table name -> the temp table holding those rows."""
    direct = {p.table.lower(): p for p in role.tables}
    done: dict[str, str] = {}
    for t in _topological(model):
        key = t.name.lower()
        upstream = [r for r in model.relationships
                    if r.active and r.from_table.lower() == key and r.to_table.lower() in done]
        if key not in direct and not upstream:
            continue
        cols = [c.name for c in schema.visible_columns(t)]
        if key in direct:
            p = direct[key]
            pseudo = CalculatedColumn(VISIBLE, "boolean", p.expression, p.pos, p.origin)
            source = parenthesize(compile_filter(t, pseudo)).subquery("s")
            conds: list[exp.Expression] = [exp.column(VISIBLE, "s", quoted=True)]
        else:
            source = table_ref(t.name, "s")
            conds = []
        for r in upstream:
            many = t.column(r.from_column).name
            one = model.table(r.to_table).column(r.to_column).name
            keys = exp.select(exp.column(one, quoted=True)).from_(table_ref(done[r.to_table.lower()]))
            conds.append(exp.In(this=exp.column(many, "s", quoted=True), query=exp.Subquery(this=keys)))
        select = exp.select(*[exp.column(c, "s", quoted=True) for c in cols]).from_(source)
        for c in conds:
            select = select.where(c, copy=False)
        target = f"__rls{index}__{t.name}"
        run(create_table(target, select, replace=True))
        done[key] = target
    return done


def apply_security(model: Model, schema: Schema, roles: Sequence[Role],
                   compile_filter: Callable[[Table, CalculatedColumn], exp.Select],
                   run: Callable[[exp.Expression], None]) -> None:
    """Replace every restricted table's view by the rows the roles (together) see."""
    per_role = [_role_tables(model, schema, role, i, compile_filter, run) for i, role in enumerate(roles)]
    for t in model.tables:
        key = t.name.lower()
        if not per_role or any(key not in seen for seen in per_role):
            continue  # some role sees the whole table: the union is the whole table
        cols = [c.name for c in schema.visible_columns(t)]
        if len(per_role) == 1:
            select = exp.select(*[exp.column(c, quoted=True) for c in cols]).from_(table_ref(per_role[0][key]))
        else:
            # the union of the roles' rows, keeping duplicates: visibility depends only on a
            # row's values, so a row is kept when an equal row is visible to some role
            snapshot = f"__rls_all__{t.name}"
            run(create_table(snapshot, exp.select(exp.Star()).from_(table_ref(t.name)), replace=True))
            union = None
            for seen in per_role:
                part = exp.select(*[exp.column(c, quoted=True) for c in cols]).from_(table_ref(seen[key]))
                union = part if union is None else exp.union(union, part, distinct=True)
            match = exp.and_(*[exp.NullSafeEQ(this=exp.column(c, "a", quoted=True), expression=exp.column(c, "u", quoted=True))
                               for c in cols]) if cols else exp.true()
            exists = exp.Exists(this=exp.select("1").from_(exp.Subquery(this=union, alias=exp.TableAlias(this=ident("u"))))
                                .where(match))
            select = exp.select(*[exp.column(c, "a", quoted=True) for c in cols]).from_(
                table_ref(snapshot, "a")).where(exists)
        run(create_view(t.name, select))


def roles_for(model: Model, user: str | None, roles: Sequence[str] | None) -> list[Role]:
    """The roles a query runs in: the named ones, else the roles listing `user` as member."""
    if roles:
        out = []
        for name in roles:
            r = model.role(name)
            if r is None:
                known = ", ".join(x.name for x in model.roles) or "none"
                raise DaxEvalError(f"role '{name}' does not exist (roles: {known})")
            out.append(r)
        return out
    if user is None or not model.roles:
        return []  # a model without roles: the user only sets USERPRINCIPALNAME()
    out = [r for r in model.roles if any(m.lower() == user.lower() for m in r.members)]
    if not out:
        raise DaxEvalError(f"user '{user}' is a member of no role; name one with --role "
                           f"(roles: {', '.join(r.name for r in model.roles) or 'none'})")
    return out
