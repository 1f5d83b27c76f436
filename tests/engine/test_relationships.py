"""Many-to-many relationships, bidirectional filters, CROSSFILTER, USERELATIONSHIP, path
precedence: conformance on tiny hand-built models, every value worked by hand.

Rules (learn.microsoft.com/power-bi/transform-model/desktop-relationships-understand,
"Relationship evaluation", "Limited relationships", "Precedence rules"):
- a many-to-many relationship is limited: filters pass through the distinct key values;
  no blank virtual row; table expansion does not cross it; RELATED cannot follow it;
- filters propagate across a relationship only when something filters its far side
  (sqlbi.com/articles/understanding-blank-row-and-limited-relationships: the orphan rows
  of a limited relationship are in the total but in no row);
- CROSSFILTER directions: learn.microsoft.com/dax/crossfilter-function-dax;
- USERELATIONSHIP: learn.microsoft.com/dax/userelationship-function-dax.

Budget model: Product (1 Pen Office, 2 Pad Office, 3 Mug Kitchen, 4 Cup Kitchen) and
Budget (Office 100, Kitchen 50, Garden 7 — no product is in Garden), related
Budget[Category] *—* Product[Category]; single direction: Product filters Budget.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.engine import Engine
from generator.engine.errors import DaxCompileError
from generator.spec.model import Model, Relationship
from tests.engine.fixtures import P, col, measure, table

CROSSFILTER_URL = "https://learn.microsoft.com/dax/crossfilter-function-dax"
RELATIONSHIPS_URL = "https://learn.microsoft.com/power-bi/transform-model/desktop-relationships-understand"

PRODUCT = table("Product", col("ProductID", "int64", True), col("Name", "string"), col("Category", "string"))
BUDGET = table("Budget", col("Category", "string"), col("Amount", "int64"))
PRODUCTS = [(1, "Pen", "Office"), (2, "Pad", "Office"), (3, "Mug", "Kitchen"), (4, "Cup", "Kitchen")]
BUDGETS = [("Office", 100), ("Kitchen", 50), ("Garden", 7)]


def m2m(cross_filter: str = "single") -> Relationship:
    return Relationship("Budget", "Category", "Product", "Category", P, cross_filter=cross_filter,
                        cardinality="many_to_many")


def budget_engine(cross_filter: str = "single") -> Engine:
    model = Model("M2M", "en-US", (PRODUCT, BUDGET), (m2m(cross_filter),),
                  (measure("Budget", "SUM(Budget[Amount])", "Budget"),), (), Path("."))
    return Engine(model, data={"Product": PRODUCTS, "Budget": BUDGETS})


def val(e: Engine, expr: str):
    v = e.query(f'EVALUATE ROW("x", {expr})').iloc[0, 0]
    return None if v is None or v != v else v


def by(e: Engine, column: str, expr: str) -> dict:
    """A table visual: column, expr, with the total as key 'Total'."""
    q = f'EVALUATE SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL({column}, "T"), "v", {expr})'
    df = e.query(q)
    return {("Total" if r[1] else r[0]): r[2] for r in df.itertuples(index=False)}


@pytest.fixture(scope="module")
def single() -> Engine:
    return budget_engine()


@pytest.fixture(scope="module")
def both() -> Engine:
    return budget_engine("both")


# ---------------------------------------------------------------- many-to-many: limited relationship


def test_m2m_filter_passes_through_the_distinct_key_values(single):
    # RELATIONSHIPS_URL, limited relationships: Pen -> {Office} -> Budget Office 100;
    # Pen, Mug -> {Office, Kitchen} -> 100 + 50
    assert val(single, 'CALCULATE([Budget], Product[Name] = "Pen")') == 100
    assert val(single, 'CALCULATE([Budget], Product[Name] IN {"Pen", "Mug"})') == 150
    assert val(single, 'CALCULATE([Budget], Product[Name] IN {"Pen", "Pad"})') == 100  # one Office, not two


def test_m2m_visual_has_no_blank_row_and_orphans_only_in_the_total(single):
    # sqlbi.com/articles/understanding-blank-row-and-limited-relationships: Garden (7) has no
    # product: no (Blank) row, but the unfiltered total is every budget row, 157
    assert by(single, "Product[Category]", "[Budget]") == {"Office": 100, "Kitchen": 50, "Total": 157}
    assert by(single, "Product[Name]", "[Budget]") == {"Pen": 100, "Pad": 100, "Mug": 50, "Cup": 50, "Total": 157}


def test_m2m_values_has_no_blank_member(single):
    # RELATIONSHIPS_URL: limited relationships get no blank virtual row
    assert val(single, "COUNTROWS(VALUES(Product[Category]))") == 2
    assert val(single, "COUNTROWS(ALL(Product))") == 4
    assert val(single, 'CALCULATE([Budget], Product[Category] = BLANK())') is None


def test_m2m_single_direction_does_not_filter_the_to_side(single):
    # single cross filter: Product (to) filters Budget (from), not the other way
    assert val(single, "CALCULATE(COUNTROWS(Product), Budget[Amount] > 60)") == 4


def test_m2m_table_expansion_does_not_cross_it(single):
    # RELATIONSHIPS_URL: "table expansion doesn't occur" over a limited relationship; a
    # table filter on Budget therefore leaves Product alone (single direction)
    assert val(single, "CALCULATE(COUNTROWS(Product), FILTER(Budget, Budget[Amount] > 60))") == 4


def test_m2m_related_is_refused(single):
    # RELATIONSHIPS_URL: the RELATED function can't be used over a limited relationship
    with pytest.raises(DaxCompileError, match="RELATED cannot follow the many-to-many relationship"):
        single.query('EVALUATE ROW("x", SUMX(Budget, LEN(RELATED(Product[Name]))))')


def test_m2m_both_directions(both):
    # cross_filter both: Budget > 60 is Office -> Pen, Pad; the unfiltered table is not reduced
    assert val(both, "CALCULATE(COUNTROWS(Product), Budget[Amount] > 60)") == 2
    assert val(both, "CALCULATE(COUNTROWS(Product), FILTER(Budget, Budget[Amount] < 60))") == 2  # Kitchen
    assert val(both, "COUNTROWS(Product)") == 4
    assert val(both, 'CALCULATE([Budget], Product[Name] = "Mug")') == 50


# ---------------------------------------------------------------- CROSSFILTER on many-to-many


def test_crossfilter_left_filters_right(single):
    # CROSSFILTER_URL: ONEWAY_LEFTFILTERSRIGHT - filters on columnName1's side (Budget) filter
    # columnName2's side (Product): Office -> 2 products; and Product no longer filters Budget
    cf = "CROSSFILTER(Budget[Category], Product[Category], ONEWAY_LEFTFILTERSRIGHT)"
    assert val(single, f"CALCULATE(COUNTROWS(Product), Budget[Amount] > 60, {cf})") == 2
    assert val(single, f'CALCULATE([Budget], Product[Name] = "Pen", {cf})') == 157


def test_crossfilter_right_filters_left(single):
    # CROSSFILTER_URL: ONEWAY_RIGHTFILTERSLEFT - columnName2's side filters columnName1's side;
    # with the columns swapped the same words mean the other direction
    assert val(single, 'CALCULATE([Budget], Product[Name] = "Pen", '
                       'CROSSFILTER(Budget[Category], Product[Category], ONEWAY_RIGHTFILTERSLEFT))') == 100
    assert val(single, 'CALCULATE(COUNTROWS(Product), Budget[Amount] > 60, '
                       'CROSSFILTER(Product[Category], Budget[Category], ONEWAY_RIGHTFILTERSLEFT))') == 2
    # dax.guide/crossfilter: 3 is OneWay_RightFiltersLeft, 4 OneWay_LeftFiltersRight
    assert val(single, 'CALCULATE(COUNTROWS(Product), Budget[Amount] > 60, '
                       'CROSSFILTER(Budget[Category], Product[Category], 4))') == 2


def test_crossfilter_both_and_none_on_m2m(single, both):
    # CROSSFILTER_URL: BOTH - filters on either side filter the other; NONE - no cross-filtering
    assert val(single, 'CALCULATE(COUNTROWS(Product), Budget[Amount] > 60, '
                       'CROSSFILTER(Budget[Category], Product[Category], BOTH))') == 2
    assert val(both, 'CALCULATE([Budget], Product[Name] = "Pen", '
                     'CROSSFILTER(Budget[Category], Product[Category], NONE))') == 157


def test_crossfilter_directions_that_do_not_apply_are_errors(single):
    # CROSSFILTER_URL: ONEWAY is not for many-to-many (no side is the lookup side);
    # ONEWAY_LEFTFILTERSRIGHT/RIGHTFILTERSLEFT cannot be used with many-to-one
    with pytest.raises(DaxCompileError, match="ONEWAY on the many-to-many relationship"):
        single.query('EVALUATE ROW("x", CALCULATE([Budget], '
                     'CROSSFILTER(Budget[Category], Product[Category], ONEWAY)))')
    from tests.engine.fixtures import engine as ref_engine
    with pytest.raises(DaxCompileError, match="cannot be used on the many-to-one relationship"):
        ref_engine().query('EVALUATE ROW("x", CALCULATE([Sales], '
                           'CROSSFILTER(Sales[CustomerID], Customer[ID], ONEWAY_LEFTFILTERSRIGHT)))')


# ---------------------------------------------------------------- bidirectional bridge (multi-hop)
# Customer 1→* Owner *←1 Account (Owner→Account both), Account 1→* Txn. Ann owns account 10,
# Bob owns 10 and 20; transactions: 10: 100, 20: 30 and 5. The Customer filter crosses the
# bridge: Ann 100, Bob 135, total 135 (each transaction once, not once per owner).

CUSTOMER = table("Customer", col("CustID", "int64", True), col("Name", "string"))
ACCOUNT = table("Account", col("AcctID", "int64", True), col("Type", "string"))
OWNER = table("Owner", col("CustID", "int64"), col("AcctID", "int64"))
TXN = table("Txn", col("TxnID", "int64", True), col("AcctID", "int64"), col("Amount", "int64"))


@pytest.fixture(scope="module")
def bridge() -> Engine:
    rels = (Relationship("Owner", "CustID", "Customer", "CustID", P),
            Relationship("Owner", "AcctID", "Account", "AcctID", P, cross_filter="both"),
            Relationship("Txn", "AcctID", "Account", "AcctID", P))
    model = Model("Bridge", "en-US", (CUSTOMER, ACCOUNT, OWNER, TXN), rels,
                  (measure("Amount", "SUM(Txn[Amount])", "Txn"),), (), Path("."))
    return Engine(model, data={"Customer": [(1, "Ann"), (2, "Bob")], "Account": [(10, "Joint"), (20, "Solo")],
                               "Owner": [(1, 10), (2, 10), (2, 20)],
                               "Txn": [(1, 10, 100), (2, 20, 30), (3, 20, 5)]})


def test_bidirectional_bridge_carries_the_filter_two_hops(bridge):
    # RELATIONSHIPS_URL, "Bi-directional relationships": Customer -> Owner -> (both) Account -> Txn
    assert by(bridge, "Customer[Name]", "[Amount]") == {"Ann": 100, "Bob": 135, "Total": 135}
    assert val(bridge, 'CALCULATE(COUNTROWS(Account), Customer[Name] = "Ann")') == 1


def test_crossfilter_oneway_cuts_the_bridge(bridge):
    # CROSSFILTER_URL ONEWAY: only Account filters Owner, so Ann's filter stops at Owner: 135
    assert val(bridge, 'CALCULATE([Amount], Customer[Name] = "Ann", '
                       'CROSSFILTER(Owner[AcctID], Account[AcctID], ONEWAY))') == 135


# ---------------------------------------------------------------- USERELATIONSHIP and path precedence
# Region (North, South); Store 1 North, 2 South; Sales rows (store, region, amount):
# (1, South, 10), (2, South, 20), (1, North, 4). Sales[Region] -> Region is inactive.

REGION = table("Region", col("Region", "string", True))
STORE = table("Store", col("StoreID", "int64", True), col("Region", "string"))
SALES = table("Sales", col("StoreID", "int64"), col("Region", "string"), col("Amount", "int64"))


def region_engine(m2m_direct: bool = False) -> Engine:
    direct = (Relationship("Sales", "Region", "Region", "Region", P, active=False, cardinality="many_to_many")
              if m2m_direct else Relationship("Sales", "Region", "Region", "Region", P, active=False))
    rels = (Relationship("Sales", "StoreID", "Store", "StoreID", P),
            Relationship("Store", "Region", "Region", "Region", P), direct)
    model = Model("Regions", "en-US", (REGION, STORE, SALES), rels,
                  (measure("Sales", "SUM(Sales[Amount])"),), (), Path("."))
    return Engine(model, data={"Region": [("North",), ("South",)], "Store": [(1, "North"), (2, "South")],
                               "Sales": [(1, "South", 10), (2, "South", 20), (1, "North", 4)]})


def test_userelationship_switches_to_the_inactive_relationship():
    # learn.microsoft.com/dax/userelationship-function-dax. The active path Region -> Store ->
    # Sales gives South = store 2 = 20. Activating Sales[Region] -> Region opens a second,
    # shorter path of the same kind; the shortest path wins (RELATIONSHIPS_URL, precedence
    # rules; [check] assumed for the length rule): South = the rows marked South, 10 + 20.
    e = region_engine()
    assert val(e, 'CALCULATE([Sales], Region[Region] = "South")') == 20
    assert val(e, 'CALCULATE([Sales], Region[Region] = "South", '
                  'USERELATIONSHIP(Sales[Region], Region[Region]))') == 30


def test_many_to_one_path_takes_precedence_over_many_to_many():
    # RELATIONSHIPS_URL, precedence rules: "many-to-one and one-to-one relationships" come
    # before "many-to-many relationships". With the direct relationship many-to-many, the
    # path through Store still carries the filter: South = 20, not 30.
    e = region_engine(m2m_direct=True)
    assert val(e, 'CALCULATE([Sales], Region[Region] = "South", '
                  'USERELATIONSHIP(Sales[Region], Region[Region]))') == 20


def test_paths_of_equal_precedence_are_ambiguous():
    # Two bidirectional paths of one length from Date to Customer (through Sales and through
    # Returns): no rule picks one, so the query is refused, naming the relationships
    # (RELATIONSHIPS_URL, precedence rules; [check] assumed: an error rather than a guess).
    cust = table("Customer", col("ID", "int64", True))
    date = table("Date", col("Day", "int64", True))
    sales = table("Sales", col("ID", "int64"), col("Day", "int64"))
    returns = table("Returns", col("ID", "int64"), col("Day", "int64"))
    rels = (Relationship("Sales", "ID", "Customer", "ID", P), Relationship("Sales", "Day", "Date", "Day", P),
            Relationship("Returns", "ID", "Customer", "ID", P), Relationship("Returns", "Day", "Date", "Day", P))
    model = Model("Amb", "en-US", (cust, date, sales, returns), rels, (), (), Path("."))
    e = Engine(model, data={"Customer": [(1,), (2,)], "Date": [(1,), (2,)], "Sales": [(1, 1)], "Returns": [(2, 1)]})
    one = 'CROSSFILTER(Sales[ID], Customer[ID], BOTH)'
    two = 'CROSSFILTER(Returns[ID], Customer[ID], BOTH)'
    assert val(e, f"CALCULATE(COUNTROWS(Customer), Date[Day] = 1, {one})") == 1  # one path: customer 1
    # the tie matters only to filters on the tables it concerns: a filter on Sales has one path
    assert val(e, f"CALCULATE(COUNTROWS(Customer), Sales[Day] = 1, {one}, {two})") == 1
    with pytest.raises(DaxCompileError, match=r"ambiguous filter paths from 'Date' to 'Customer'.*Returns\[ID\]"):
        e.query(f'EVALUATE ROW("x", CALCULATE(COUNTROWS(Customer), Date[Day] = 1, {one}, {two}))')


def test_many_to_many_takes_precedence_over_a_bidirectional_path():
    # RELATIONSHIPS_URL, precedence rules: many-to-many relationships come before
    # bi-directional relationships in the reverse direction. Product 1 is in category A and
    # product 2 in B, but the one sale (product 1) is labelled B. With Sales -> Product opened
    # both ways, Cat = "B" reaches Product directly (m2m: product 2) and through Sales
    # (product 1); the m2m path wins: MAX = 2 (both paths at once would leave no product).
    cat = table("Cat", col("Category", "string", True))
    product = table("Product", col("ProductID", "int64", True), col("Category", "string"))
    sales = table("Sales", col("ProductID", "int64"), col("Category", "string"), col("Amount", "int64"))
    rels = (Relationship("Sales", "ProductID", "Product", "ProductID", P),
            Relationship("Sales", "Category", "Cat", "Category", P),
            Relationship("Product", "Category", "Cat", "Category", P, cardinality="many_to_many"))
    model = Model("Prec", "en-US", (cat, product, sales), rels, (), (), Path("."))
    e = Engine(model, data={"Cat": [("A",), ("B",)], "Product": [(1, "A"), (2, "B")], "Sales": [(1, "B", 10)]})
    cf = "CROSSFILTER(Sales[ProductID], Product[ProductID], BOTH)"
    assert val(e, 'CALCULATE(MAX(Product[ProductID]), Cat[Category] = "B")') == 2
    assert val(e, f'CALCULATE(MAX(Product[ProductID]), Cat[Category] = "B", {cf})') == 2
    # a filter on Sales itself has one path (the bidirectional one): product 1
    assert val(e, f"CALCULATE(MAX(Product[ProductID]), Sales[Amount] = 10, {cf})") == 1


def test_allcrossfiltered_removes_filters_that_arrive_over_a_many_to_many(single):
    # learn.microsoft.com/dax/allcrossfiltered-function-dax: it clears every filter applied
    # to the table, directly or through relationships; Product filters Budget over the m2m,
    # so the Pen filter goes: every budget row, 157
    assert val(single, 'CALCULATE(CALCULATE([Budget], ALLCROSSFILTERED(Budget)), Product[Name] = "Pen")') == 157
    assert val(single, 'CALCULATE(CALCULATE([Budget], ALL(Budget)), Product[Name] = "Pen")') == 100


# ---------------------------------------------------------------- columns of different types


def test_userelationship_over_columns_of_different_types_is_refused():
    # Desktop saves inactive relationships between a text and a date column (a sample of the
    # import round-trip set does); how Power BI compares such keys once activated is not
    # modelled, so USERELATIONSHIP over one is a "not supported" error, not a guessed number.
    from generator.engine.errors import DaxUnsupportedError

    day = table("Day", col("Date", "date", True))
    claims = table("Claims", col("Incurred", "string"), col("Amount", "int64"))
    rel = Relationship("Claims", "Incurred", "Day", "Date", P, active=False)
    model = Model("Mixed", "en-US", (day, claims), (rel,), (measure("Total", "SUM(Claims[Amount])", "Claims"),),
                  (), Path("."))
    e = Engine(model, data={"Day": [("2024-01-01",)], "Claims": [("2024-01-01", 5)]})
    assert val(e, "[Total]") == 5  # the inactive relationship loads and does not filter
    with pytest.raises(DaxUnsupportedError, match="columns of different types"):
        val(e, "CALCULATE([Total], USERELATIONSHIP(Claims[Incurred], Day[Date]))")
