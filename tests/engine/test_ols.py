"""Object-level security: queries as a user whose roles hide a table or column.

Rules (learn.microsoft.com/analysis-services/tabular-models/object-level-security,
learn.microsoft.com/fabric/security/service-admin-object-level-security):
a secured table/column cannot be found or used by the role's members; measures referring
to it are restricted too (however deep); relationships through a secured column keep
filtering; roles add up (an object is secured only if every role of the user secures it);
RLS and OLS from different roles cannot be combined (error at query time).

Fixture (tests/engine/fixtures.py): customers Ann, Bob (Oslo), Cid, Dan (Rome); orders
1 Ann 10, 2 Ann 20, 3 Bob 30, 4 Cid 40 (sum 100).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.emit.tmdl import role_tmdl
from generator.engine import DaxEvalError, Engine
from generator.spec.model import ExprOrigin, Model, ObjectPermission, Pos, Role, TablePermission
from tests.engine.fixtures import CUSTOMER, CUSTOMERS, DATE, MEASURES, ORDERS, RELS, SALES, dates, measure

P = Pos("semantic/model.yaml", 40, 5)
EXTRA = (measure("Avg Amount", "DIVIDE([Sales], [Orders])"),
         measure("Customer Names", 'CONCATENATEX(Customer, Customer[Name], ",")'),
         measure("Named", "[Customer Names]"),
         measure("Customers", "COUNTROWS(Customer)", table_="Customer"))


def _role(name: str, hidden=(), **filters: str) -> Role:
    perms = tuple(TablePermission(t, e, P, ExprOrigin(P.file, 41, 20)) for t, e in filters.items())
    return Role(name, perms, P, (), None, tuple(ObjectPermission(t, c, P) for t, c in hidden))


ROLES = (
    _role("No names", hidden=[("Customer", "Name")]),
    _role("No customers", hidden=[("Customer", None)]),
    _role("No names either", hidden=[("Customer", "Name"), ("Sales", "Promo")]),
    _role("Oslo", Customer='[City] = "Oslo"'),
)


def engine(roles) -> Engine:
    model = Model("Ref", "en-US", (CUSTOMER, SALES, DATE), RELS, (*MEASURES, *EXTRA), (), Path("."),
                  date_table="Date", roles=ROLES)
    data = {"Customer": CUSTOMERS, "Sales": ORDERS, "Date": dates()}
    return Engine(model, data=data, as_of="2024-12-31", roles=roles)


def value(e: Engine, expr: str):
    v = e.query(f'EVALUATE ROW("x", {expr})').iloc[0, 0]
    return None if v is None or v != v else float(v)


def test_a_secured_column_cannot_be_queried():
    e = engine(["No names"])
    with pytest.raises(DaxEvalError, match=r"the query uses column 'Name' of table 'Customer' \(DAX 1:\d+\), "
                                           r"which object-level security of role 'No names' hides"):
        e.query("EVALUATE VALUES(Customer[Name])")


def test_other_columns_and_relationships_through_the_table_still_work():
    e = engine(["No names"])
    assert value(e, "[Sales]") == 100
    # Oslo customers Ann and Bob: 10 + 20 + 30, the relationship Sales -> Customer filters
    assert value(e, 'CALCULATE([Sales], Customer[City] = "Oslo")') == 60


def test_a_measure_using_a_secured_column_is_restricted_even_two_levels_deep():
    e = engine(["No names"])
    with pytest.raises(DaxEvalError, match=r"the measure \[Named\] uses column 'Name' of table 'Customer'"):
        e.query('EVALUATE ROW("x", [Named])')
    assert value(e, "[Avg Amount]") == 25  # 100 / 4 orders: no secured column involved


def test_an_unqualified_secured_column_in_a_row_context_is_refused():
    e = engine(["No names"])
    with pytest.raises(DaxEvalError, match="column 'Name' of table 'Customer'"):
        e.query('EVALUATE ROW("x", CONCATENATEX(Customer, [Name], ","))')


def test_a_secured_table_hides_its_columns_and_measures():
    e = engine(["No customers"])
    with pytest.raises(DaxEvalError, match="the query uses table 'Customer'"):
        e.query("EVALUATE Customer")
    with pytest.raises(DaxEvalError, match=r"measure \[Customers\] of table 'Customer'"):
        e.query('EVALUATE ROW("x", [Customers])')
    assert value(e, "SUM(Sales[Amount])") == 100


def test_roles_add_up_an_object_is_hidden_only_if_every_role_hides_it():
    e = engine(["No names", "No customers"])   # both hide Customer[Name]; only one hides the table
    assert value(e, "COUNTROWS(Customer)") == 4
    with pytest.raises(DaxEvalError, match="column 'Name'"):
        e.query("EVALUATE VALUES(Customer[Name])")
    e = engine(["No names", "No names either"])
    with pytest.raises(DaxEvalError, match="column 'Name'"):
        e.query("EVALUATE VALUES(Customer[Name])")
    assert e.query("EVALUATE VALUES(Sales[Promo])").shape[0] == 3  # A, BLANK, B: "No names" shows Promo


def test_row_and_object_security_from_different_roles_are_refused():
    e = engine(["No names", "Oslo"])
    with pytest.raises(DaxEvalError, match=r"roles 'No names' \(object-level security\) and 'Oslo' "
                                           r"\(row-level security\) cannot be combined"):
        e.query('EVALUATE ROW("x", [Sales])')


def test_without_object_security_nothing_is_checked():
    e = engine(["Oslo"])
    assert value(e, "[Sales]") == 60
    assert e.query("EVALUATE VALUES(Customer[Name])").shape[0] == 2


def test_role_tmdl_writes_metadata_and_column_permissions_as_tom_does():
    # TOM's TmdlSerializer output for a role with a row filter, a secured table and columns
    # (tablePermission <T> / metadataPermission: none / columnPermission <C> = none)
    r = Role("R", (TablePermission("Customer", '[City] = "Oslo"', P, ExprOrigin(P.file, 1, 1)),), P, (), None,
             (ObjectPermission("Customer", "Name", P), ObjectPermission("Date", None, P),
              ObjectPermission("Sales", "Promo", P), ObjectPermission("Sales", "Discount", P)))
    model = Model("Ref", "en-US", (CUSTOMER, SALES, DATE), RELS, MEASURES, (), Path("."), roles=(r,))
    text = role_tmdl(model, r, {})
    assert text.split("\tannotation")[0] == (
        "role R\n\tmodelPermission: read\n\n"
        "\ttablePermission Customer = [City] = \"Oslo\"\n\n\t\tcolumnPermission Name = none\n\n"
        "\ttablePermission Date\n\t\tmetadataPermission: none\n\n"
        "\ttablePermission Sales\n\n\t\tcolumnPermission Promo = none\n\n\t\tcolumnPermission Discount = none\n\n")


_OLS_ROLE = """\
  - name: Marketing
    members: [mia@contoso.com]
    object_security:
      Dim_Customer: [Annual_Income, Birth_Date]
      RFM_Rules: none
"""


def test_yaml_object_security_reaches_the_role_tmdl(project):
    from generator.emit.tmdl import semantic_model_files
    from generator.spec import load_project

    model_file = project / "semantic" / "model.yaml"
    text = model_file.read_text()
    model_file.write_text(text.replace("# (after roles, so the positions", _OLS_ROLE + "# (after roles, so the positions"))
    files = semantic_model_files(load_project(project), "C:\\data\\", {})
    assert files["roles/Marketing.tmdl"].split("\tannotation")[0] == (
        "role Marketing\n\tmodelPermission: read\n\n"
        "\ttablePermission Dim_Customer\n\n\t\tcolumnPermission Annual_Income = none\n\n"
        "\t\tcolumnPermission Birth_Date = none\n\n"
        "\ttablePermission RFM_Rules\n\t\tmetadataPermission: none\n\n")


def test_yaml_object_security_names_a_missing_column_with_its_position(project, capsys):
    from generator.cli import main

    model_file = project / "semantic" / "model.yaml"
    text = model_file.read_text()
    broken = _OLS_ROLE.replace("Birth_Date", "Birthdate")
    model_file.write_text(text.replace("# (after roles, so the positions", broken + "# (after roles, so the positions"))
    line = model_file.read_text().splitlines().index("      Dim_Customer: [Annual_Income, Birthdate]") + 1
    code = main(["build", "--project", str(project), "--out", str(project / "out"), "--no-tom"])
    out = capsys.readouterr()
    text = out.out + out.err
    assert code == 2
    assert f"model.yaml:{line}:37: error: role 'Marketing' secures column 'Birthdate', which is not a column of " \
           "'Dim_Customer'" in text
    assert not (project / "out").exists()
