"""Grouped evaluation (one GROUP BY per aggregate, joined to the cells) must give exactly
the values of the per-cell evaluation (correlated subqueries), which is the spec
(dax-engine-survey.md §3.4: the grouped compiler must equal the per-cell interpreter)."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from generator.engine import Engine
from generator.engine.visuals import visual_query
from tests.engine.fixtures import build_project, engine, measure

REPO = Path(__file__).resolve().parents[2]


def _same(a, b) -> bool:
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        for x, y in zip(ra, rb):
            if x is None or y is None:
                if not (x is None and y is None):
                    return False
            elif isinstance(x, float) or isinstance(y, float):
                if not (math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-9)
                        or (math.isnan(float(x)) and math.isnan(float(y)))):
                    return False
            elif x != y:
                return False
    return True


def _both(e: Engine, dax: str):
    e.grouped = True
    grouped = [tuple(r) for r in e.query(dax).itertuples(index=False)]
    sql_grouped = e.last_sql
    e.grouped = False
    per_cell = [tuple(r) for r in e.query(dax).itertuples(index=False)]
    e.grouped = True
    return sorted(grouped, key=repr), sorted(per_cell, key=repr), sql_grouped


REF_MEASURES = [
    measure("Avg Order", "DIVIDE([Sales], [Orders])"),
    measure("Oslo Sales", 'CALCULATE([Sales], Customer[City] = "Oslo")'),
    measure("Oslo KF", 'CALCULATE([Sales], KEEPFILTERS(Customer[City] = "Oslo"))'),
    measure("% All", "DIVIDE([Sales], CALCULATE([Sales], ALL(Customer)))"),
    measure("City Sales", "CALCULATE([Sales], ALLEXCEPT(Customer, Customer[City]))"),
    measure("Avg Cust", "AVERAGEX(VALUES(Customer[ID]), [Sales])"),
    measure("Repeat", "COUNTROWS(FILTER(VALUES(Sales[CustomerID]), CALCULATE(COUNTROWS(Sales)) > 1))"),
    measure("Big Cust", "COUNTROWS(FILTER(VALUES(Customer[ID]), [Sales] > 25))"),
    measure("No Trans", "SUMX(VALUES(Customer[ID]), SUM(Sales[Amount]))"),
    measure("Rank", "RANKX(ALL(Customer[Name]), [Sales])"),
    measure("YTD", "TOTALYTD([Sales], 'Date'[Date])"),
    measure("Band", 'SWITCH(TRUE(), [Sales] >= 50, "High", [Sales] >= 30, "Mid", "Low")'),
    measure("Qty x Amt", "SUMX(Sales, Sales[Qty] * Sales[Amount])"),
    measure("Promo Cnt", "DISTINCTCOUNT(Sales[Promo])"),
    measure("Sel %", "DIVIDE([Sales], CALCULATE([Sales], ALLSELECTED(Customer)))"),
    measure("Var M", "VAR s = [Sales] RETURN CALCULATE(s + [Orders], ALL(Customer))"),
]

GROUPINGS = ["Customer[City]", "Customer[Name]", "Customer[City], Customer[Name]", "'Date'[Year]",
             "Customer[City], 'Date'[Year], 'Date'[Month]", "Sales[Promo]", "Sales[CustomerID], Customer[City]"]


@pytest.mark.parametrize("orphan", [False, True])
@pytest.mark.parametrize("grouping", GROUPINGS)
def test_reference_model_grouped_equals_per_cell(grouping, orphan):
    e = engine(*REF_MEASURES, orphan=orphan)
    measures = ", ".join(f'"{m.name}", [{m.name}]' for m in REF_MEASURES)
    keys = [g.strip() for g in grouping.split(", ")]
    rollup = ", ".join(f'{k}, "t{i}"' for i, k in enumerate(keys))
    dax = f"EVALUATE SUMMARIZECOLUMNS(ROLLUPADDISSUBTOTAL({rollup}), TREATAS({{1, 2, 5}}, Sales[Qty]), {measures})"
    grouped, per_cell, _ = _both(e, dax)
    assert _same(grouped, per_cell), (grouped, per_cell)


def test_grouped_plan_uses_group_by_not_correlation():
    e = engine(*REF_MEASURES)
    _, _, sql = _both(e, 'EVALUATE SUMMARIZECOLUMNS(Customer[City], "S", [Sales], "R", [Repeat])')
    assert "GROUP BY" in sql and "IS NOT DISTINCT FROM t" not in sql.split("GROUP BY")[0].split("FROM")[1]


@pytest.fixture(scope="module")
def project_engine(tmp_path_factory):
    return Engine.open(REPO, out=build_project(tmp_path_factory.mktemp("pf"), 3000))


def test_every_report_visual_grouped_equals_per_cell(project_engine):
    e = project_engine
    checked = 0
    for page in e.model.pages:
        for visual in page.visuals:
            grouped, per_cell, _ = _both(e, visual_query(visual, page))
            assert _same(grouped, per_cell), (page.name, visual.name)
            checked += 1
    assert checked >= 14
