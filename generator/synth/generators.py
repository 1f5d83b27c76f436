"""The registry of generators a table's `source: {generator: ...}` can name."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import pyarrow as pa

from generator.synth.calendar import gen_calendar
from generator.synth.customers import Context, gen_channels, gen_customers, gen_products
from generator.synth.orders import gen_orders


def gen_rows(ctx: Context, params: dict[str, Any]) -> pa.Table:
    """A small static table whose rows are written inline in the YAML (`params.rows`)."""
    rows = params.get("rows", [])
    if not rows:
        return pa.table({})
    return pa.Table.from_pylist([dict(r) for r in rows])


Generator = Callable[[Context], Iterator[pa.Table]]
# name -> (function yielding the table in chunks, generators it needs first). An unknown
# name is a load error. The orders need the products table whole (unit prices); the
# customers they need come from the same row-indexed streams (customers.propensity).
GENERATORS: dict[str, tuple[Generator, tuple[str, ...]]] = {
    "customers": (gen_customers, ()),
    "products": (gen_products, ()),
    "channels": (gen_channels, ()),
    "orders": (gen_orders, ("customers", "products", "channels")),
    "calendar": (gen_calendar, ("orders",)),
}
# generators whose whole table later generators read (small: kept in Context.tables)
KEPT = ("products", "channels")
