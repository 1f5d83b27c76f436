"""Row-level security: queries as a user in roles see only their rows.

Rules (generator/engine/runtime/security.py cites them): a role's filter is evaluated per row of
its table; it filters the many side of active relationships; several roles add up (union);
ALL/REMOVEFILTERS cannot see past it; USERPRINCIPALNAME() is the effective user.

Fixture: customers Ann, Bob (Oslo), Cid, Dan (Rome); orders 1 Ann 10, 2 Ann 20, 3 Bob 30,
4 Cid 40, and order 5 of an unknown customer 9 worth 5.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.engine import DaxEvalError, Engine
from generator.spec.model import ExprOrigin, Model, Pos, Role, TablePermission
from tests.engine.fixtures import CUSTOMER, CUSTOMERS, DATE, MEASURES, ORDERS, ORPHAN, RELS, SALES, col, dates, table

P = Pos("semantic/model.yaml", 40, 5)
USER_CITY = table("User_City", col("Email", "string"), col("City", "string"))


def role(name: str, members=(), **filters: str) -> Role:
    perms = tuple(TablePermission(t, e, P, ExprOrigin(P.file, 41, 20)) for t, e in filters.items())
    return Role(name, perms, P, tuple(members))


ROLES = (
    role("Oslo", members=("ann@contoso.com",), Customer='[City] = "Oslo"'),
    role("Rome", Customer='Customer[City] = "Rome"'),
    role("Big orders", Sales="Sales[Amount] >= 30"),
    role("By user", Customer="[City] = LOOKUPVALUE(User_City[City], User_City[Email], USERPRINCIPALNAME())"),
)


def engine(**kw) -> Engine:
    model = Model("Ref", "en-US", (CUSTOMER, SALES, DATE, USER_CITY), RELS, MEASURES, (), Path("."),
                  date_table="Date", roles=ROLES)
    data = {"Customer": CUSTOMERS, "Sales": [*ORDERS, ORPHAN], "Date": dates(),
            "User_City": [("cid@contoso.com", "Rome"), ("bob@contoso.com", "Oslo")]}
    return Engine(model, data=data, as_of="2024-12-31", **kw)


def value(e: Engine, expr: str):
    v = e.query(f'EVALUATE ROW("x", {expr})').iloc[0, 0]
    return None if v is None or v != v else float(v)


def test_without_roles_everything_is_visible():
    assert value(engine(), "[Sales]") == 105  # 10 + 20 + 30 + 40 + the orphan's 5


def test_a_dimension_filter_reaches_the_fact_table():
    e = engine(roles=["Oslo"])
    assert value(e, "[Sales]") == 60                       # Ann 10 + 20, Bob 30; the orphan is hidden too
    assert value(e, "COUNTROWS(Customer)") == 2


def test_all_and_removefilters_cannot_remove_security():
    e = engine(roles=["Oslo"])
    assert value(e, "CALCULATE([Sales], REMOVEFILTERS())") == 60
    assert value(e, "COUNTROWS(ALL(Customer))") == 2
    assert value(e, "CALCULATE([Sales], Customer[City] = \"Rome\")") is None


def test_a_fact_filter_does_not_filter_the_dimension():
    e = engine(roles=["Big orders"])
    assert value(e, "[Sales]") == 70                       # orders 3 and 4
    assert value(e, "COUNTROWS(Customer)") == 4            # one-way relationship: customers stay


def test_roles_add_up():
    assert value(engine(roles=["Oslo", "Rome"]), "[Sales]") == 100        # the orphan is in neither
    # Customer: Big orders restricts nothing there, so all 4; Sales: orders 1-3 (Oslo) or 3-4 (big)
    e = engine(roles=["Oslo", "Big orders"])
    assert value(e, "[Sales]") == 100 and value(e, "COUNTROWS(Customer)") == 4


def test_dynamic_role_by_user():
    assert value(engine(user="cid@contoso.com", roles=["By user"]), "[Sales]") == 40  # Rome: Cid (Dan has none)
    assert value(engine(user="bob@contoso.com", roles=["By user"]), "[Sales]") == 60  # Oslo: Ann and Bob
    assert value(engine(user="eve@contoso.com", roles=["By user"]), "[Sales]") is None  # unmapped: nothing


def test_user_without_role_names_uses_memberships():
    e = engine(user="ann@contoso.com")
    assert [r.name for r in e.roles] == ["Oslo"] and value(e, "[Sales]") == 60
    assert e.query('EVALUATE ROW("u", USERPRINCIPALNAME())').iloc[0, 0] == "ann@contoso.com"


def test_unknown_role_and_roleless_user_are_errors():
    with pytest.raises(DaxEvalError, match="role 'Nope' does not exist"):
        engine(roles=["Nope"])
    with pytest.raises(DaxEvalError, match="member of no role"):
        engine(user="zed@contoso.com")


def test_info_functions_list_the_roles():
    e = engine()
    roles = e.query("EVALUATE INFO.ROLES()")
    assert list(roles.iloc[:, 2]) == ["Oslo", "Rome", "Big orders", "By user"]
    perms = e.query("EVALUATE INFO.TABLEPERMISSIONS()")
    assert list(perms.iloc[:, 0]) == [1, 2, 3, 4] and list(perms.iloc[:, 1]) == [1, 2, 3, 4]
    members = e.query("EVALUATE INFO.ROLEMEMBERSHIPS()")
    assert list(members.iloc[:, 2]) == ["ann@contoso.com"]
