"""The reference model of ../shared/docs/dax-semantics.md §0, built by hand."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from generator.engine import Engine  # noqa: F401 (re-exported for tests)
from generator.spec.model import Column, ExprOrigin, Measure, Model, Pos, Relationship, Source, Table

P = Pos("test.yaml", 1, 1)


def col(name: str, type_: str, key: bool = False) -> Column:
    return Column(name, type_, P, key=key)


def table(name: str, *cols: Column, date: bool = False) -> Table:
    return Table(name, Source("generator", P), tuple(cols), P, is_date_table=date)


def measure(name: str, expr: str, table_: str = "Sales", line: int = 10) -> Measure:
    return Measure(name, table_, expr, Pos("measures/m.yaml", line, 5), ExprOrigin("measures/m.yaml", line, 17))


CUSTOMER = table("Customer", col("ID", "int64", True), col("Name", "string"), col("City", "string"))
SALES = table("Sales", col("OrderID", "int64", True), col("CustomerID", "int64"), col("OrderDate", "date"),
              col("Qty", "int64"), col("Amount", "decimal"), col("Promo", "string"), col("Discount", "int64"))
DATE = table("Date", col("Date", "date", True), col("Year", "int64"), col("Month", "int64"), date=True)

RELS = (
    Relationship("Sales", "CustomerID", "Customer", "ID", P),
    Relationship("Sales", "OrderDate", "Date", "Date", P),
)

MEASURES = (
    measure("Sales", "SUM(Sales[Amount])"),
    measure("Orders", "COUNTROWS(Sales)"),
)

CUSTOMERS = [(1, "Ann", "Oslo"), (2, "Bob", "Oslo"), (3, "Cid", "Rome"), (4, "Dan", "Rome")]
ORDERS = [
    (1, 1, dt.date(2024, 1, 10), 2, 10, "A", 1),
    (2, 1, dt.date(2024, 2, 5), 1, 20, None, None),
    (3, 2, dt.date(2024, 2, 20), 5, 30, "B", 3),
    (4, 3, dt.date(2023, 2, 15), 1, 40, "A", 0),
]
ORPHAN = (5, 9, dt.date(2024, 3, 1), 1, 5, None, None)


def dates() -> list[tuple]:
    d, out = dt.date(2023, 1, 1), []
    while d <= dt.date(2024, 12, 31):
        out.append((d, d.year, d.month))
        d += dt.timedelta(days=1)
    return out


def model(measures=(), relationships=RELS) -> Model:
    return Model("Ref", "en-US", (CUSTOMER, SALES, DATE), relationships, MEASURES + tuple(measures), (),
                 Path("."), date_table="Date")


def engine(*measures: Measure, orphan: bool = False, relationships=RELS, orders=None) -> Engine:
    rows = list(ORDERS if orders is None else orders) + ([ORPHAN] if orphan else [])
    return Engine(model(measures, relationships),
                  data={"Customer": CUSTOMERS, "Sales": rows, "Date": dates()}, as_of="2024-12-31")


REPO = Path(__file__).resolve().parents[2]


def build_project(out: Path, rows: int) -> Path:
    """`build.py build` of the shipped project into `out` with `rows` orders (no TOM)."""
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "build", "--out", str(out), "--rows", str(rows),
                           "--no-tom"], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return out
