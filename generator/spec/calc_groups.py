"""Calculation groups from `semantic/calculation_groups/*.yaml`.

Each file is one calculation group table. Power BI models it as a table with a text column
(the items' names, sorted by an `Ordinal` column) and a `calculationGroup` holding the
items; pbi-forge loads it as a `Table` whose `calculation_group` is set, so DAX can refer
to `'Time Intelligence'[Time Calculation]` like any column, and the engine knows its rows
(the items) without a data file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from generator.spec.model import CalculationGroup, CalculationItem, Column, Pos, Source, Table
from generator.spec.yamlpos import PosDict


def calculation_group_table(doc: PosDict, add: Callable[[Pos, str], None]) -> Table:
    """The table of one calculation group file; problems go to `add(pos, message)`."""
    name = doc["name"]
    column = doc.get("column", name)
    items, seen = [], {}
    for i, item in enumerate(doc["items"]):
        pos = doc["items"].item_pos[i]
        key = item["name"].lower()
        if key in seen:
            add(item.value_pos["name"], f"duplicate calculation item '{item['name']}' (first defined at {seen[key]})")
            continue
        seen[key] = pos
        expression = item["expression"]
        if not isinstance(expression, str):
            expression = item.raw["expression"]
        items.append(CalculationItem(
            name=item["name"], expression=expression.strip("\n"), pos=pos, origin=item.origins["expression"],
            ordinal=item.get("ordinal", i), format_string=item.get("format_string"),
            description=item.get("description")))
    ordinals: dict[int, str] = {}
    for it in items:
        if it.ordinal in ordinals:
            add(it.pos, f"calculation items '{ordinals[it.ordinal]}' and '{it.name}' have the same ordinal {it.ordinal}")
        ordinals.setdefault(it.ordinal, it.name)
    if column.lower() == "ordinal":
        add(doc.value_pos.get("column", doc.pos), "the item column cannot be called 'Ordinal' (the sort column is)")
    group = CalculationGroup(column=column, precedence=doc.get("precedence", 0), items=tuple(items), pos=doc.pos,
                             description=doc.get("description"))
    columns = (Column(column, "string", doc.value_pos.get("column", doc.value_pos["name"]), sort_by="Ordinal",
                      summarize_by="none"),
               Column("Ordinal", "int64", doc.value_pos["name"], hidden=True, format="0", summarize_by="none"))
    return Table(name=name, source=Source("calculation_group", doc.pos), columns=columns, pos=doc.pos,
                 description=doc.get("description"), calculation_group=group)


def check_precedences(tables: list[Table], add: Callable[[Pos, str], None]) -> None:
    """Power BI refuses two calculation groups with the same precedence."""
    seen: dict[int, Table] = {}
    for t in tables:
        g = t.calculation_group
        if g is None:
            continue
        if g.precedence in seen:
            add(g.pos, f"calculation groups '{seen[g.precedence].name}' and '{t.name}' have the same precedence "
                       f"{g.precedence}; precedences must be unique in the model")
        seen.setdefault(g.precedence, t)


def item_rows(table: Table) -> list[tuple[str, int]]:
    """The rows of a calculation group table: (item name, ordinal)."""
    assert table.calculation_group is not None
    return [(i.name, i.ordinal) for i in table.calculation_group.items]


def files(semantic: Path) -> list[Path]:
    return sorted((semantic / "calculation_groups").glob("*.yaml"))
