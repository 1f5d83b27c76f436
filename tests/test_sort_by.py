"""Sort-by columns: never computed from the label they sort (a circular dependency on refresh)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.cli import main
from generator.dax.analysis import referenced_columns
from generator.spec import load_project

REPO = Path(__file__).resolve().parents[1]
PROJECTS = [REPO, REPO / "examples" / "customer_csv"]


def _calculated_inputs(model) -> dict[tuple[str, str], set[tuple[str, str]]]:
    """(table, calculated column) -> every column it reads, directly or through other calculated columns."""
    direct = {}
    for label, cols in referenced_columns(model).items():
        if label.startswith("calculated column"):
            table, column = label[len("calculated column '"):].split("'[")
            direct[(table.lower(), column[:-1].lower())] = {(t.lower(), c.lower()) for t, c in cols}
    closed: dict[tuple[str, str], set[tuple[str, str]]] = {}

    def inputs(key, seen=()):
        if key not in closed:
            out = set()
            for ref in direct.get(key, ()):
                out.add(ref)
                if ref in direct and ref not in seen:
                    out |= inputs(ref, (*seen, key))
            closed[key] = out
        return closed[key]

    for key in direct:
        inputs(key)
    return closed


@pytest.mark.parametrize("project", PROJECTS, ids=["customer_intelligence", "customer_csv"])
def test_no_sort_by_column_reads_the_column_it_sorts(project):
    model = load_project(project)
    inputs = _calculated_inputs(model)
    offenders = []
    for t in model.tables:
        for c in t.all_columns:
            if c.sort_by:
                target = (t.name.lower(), c.sort_by.lower())
                if (t.name.lower(), c.name.lower()) in inputs.get(target, set()):
                    offenders.append(f"{t.name}[{c.sort_by}] reads {t.name}[{c.name}]")
    assert offenders == []


def test_the_check_sees_a_sort_column_reading_its_label(project):
    path = project / "semantic/tables/Dim_Customer.yaml"
    text = path.read_text()
    start = text.index("  - name: Customer_Class_Order")
    path.write_text(text[:start] + "  - name: Customer_Class_Order\n    type: int64\n    hidden: true\n"
                    "    expression: SWITCH ( Dim_Customer[Customer_Class], \"VIP\", 1, \"Loyal\", 2, 3 )\n")
    inputs = _calculated_inputs(load_project(project))
    assert ("dim_customer", "customer_class") in inputs[("dim_customer", "customer_class_order")]


# Hand-worked from the label definitions in semantic/tables/Dim_Customer.yaml and RFM_Rules.yaml.
EXPECTED_ORDER = {
    "Engagement_Segment": {"High-Value Active": 1, "Discount-Driven": 2, "At-Risk/Dormant": 3, None: None},
    "Customer_Class": {"VIP": 1, "Loyal": 2, "Periodic": 3, None: None},
    "RFM_Segment": {"Champions": 1, "Loyal": 2, "Potential Loyalists": 3, "Needs Attention": 4, "At Risk": 5,
                    "Hibernating": 6, "Lost": 7, None: None},
}


@pytest.mark.parametrize("label", sorted(EXPECTED_ORDER))
def test_each_label_has_exactly_its_order(label, capsys):
    query = f"EVALUATE SUMMARIZECOLUMNS(Dim_Customer[{label}], Dim_Customer[{label}_Order])"
    assert main(["query", query, "--format", "json", "--project", str(REPO)]) == 0  # reads powerbi/data
    rows = json.loads(capsys.readouterr().out)["rows"]
    pairs: dict = {}
    for name, order in rows:
        pairs.setdefault(name, set()).add(order)
    assert all(len(orders) == 1 for orders in pairs.values()), pairs
    got = {k: next(iter(v)) for k, v in pairs.items()}
    expected = EXPECTED_ORDER[label]
    assert got == expected
