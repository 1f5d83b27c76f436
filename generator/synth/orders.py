"""The order fact table, streamed day by day.

The joint law of (customer, day) is P(c, d) ∝ propensity(c) × w(d) × [signup(c) <= d],
with w the day weights (growth trend × month factors × weekend uplift). The generator
draws it day-major, which gives the same law and lets it write the table in date order
chunk by chunk:

1. the **day plan**: orders per day are a multinomial draw with P(d) ∝ w(d) × S(d), S(d)
   the summed propensity of the customers signed up by d, counted from the row-indexed
   "date" stream in fixed blocks (a sum, so the counts do not depend on any chunking);
2. each **day's customers**: the day's rows of the "customer" stream, sorted, by inverse
   CDF over the cumulative propensity of the customers signed up by d (a prefix of the
   ids, see `customers.signup_days`), so each day's customers come out ascending: Order_ID
   is in date order, ties by customer, as before;
3. every other column from its own row-indexed stream at the row's global position.

Chunks hold whole days (at most `ctx.chunk_rows` rows unless a day alone is larger).
Memory: one chunk plus 8 bytes per customer (the cumulative propensity), whatever the
number of orders; the values are the same for any chunk size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pyarrow as pa

from generator.synth.customers import (DEFAULT_CHANNELS, DEFAULT_MONTH_FACTORS, EPOCH, Context, _chunks, _days,
                                       _to_date32, _weights, customer_count, propensity, signup_days)
from generator.synth.random import choice, poisson_small, uniform_at


@dataclass(frozen=True)
class DayPlan:
    """Orders per day of the range, and what each day's customer draw needs."""

    first: int  # day (since 1970) of index 0
    counts: np.ndarray  # orders on each day
    offsets: np.ndarray  # first row of each day; offsets[-1] = total orders
    eligible: np.ndarray  # customers signed up by each day (ids 1..eligible[d])
    cumulative: np.ndarray  # cumulative propensity over customer ids (index 0 = customer 1)

    def order_days(self) -> tuple[int, int] | None:
        """First and last day (since 1970) that has an order; None if there is none."""
        used = np.flatnonzero(self.counts)
        return (self.first + int(used[0]), self.first + int(used[-1])) if len(used) else None


def day_weights(ctx: Context) -> tuple[int, np.ndarray]:
    """First day and the (unnormalised) order-date weight of every day of the range."""
    p = ctx.params.get("orders", {})
    first, last = _days(ctx.start), _days(ctx.end)
    days = np.arange(first, last + 1)
    month = ((EPOCH + days).astype("datetime64[M]").astype(np.int64) % 12)
    weekday = (days + 3) % 7  # 0 = Monday
    t = (days - first) / max(1, last - first)
    w = (1.0 + float(p.get("growth", 0.6)) * t)
    w = w * np.asarray(p.get("month_factors", DEFAULT_MONTH_FACTORS), dtype=np.float64)[month]
    return first, w * np.where(weekday >= 5, float(p.get("weekend_uplift", 1.15)), 1.0)


def day_plan(ctx: Context) -> DayPlan:
    """The plan, computed once per generation (cached on the context)."""
    if "day_plan" not in ctx.cache:
        ctx.cache["day_plan"] = _day_plan(ctx)
    return ctx.cache["day_plan"]


def _day_plan(ctx: Context) -> DayPlan:
    first, w = day_weights(ctx)
    n_cust = customer_count(ctx)
    cumulative = np.empty(n_cust, dtype=np.float64)
    signed = np.zeros(len(w), dtype=np.int64)  # customers signing up on each day of the range (or before)
    carry = 0.0
    for a, b in _chunks(n_cust, ctx.chunk_rows):
        part = np.cumsum(propensity(ctx, a, b))
        cumulative[a:b] = part + carry
        carry = cumulative[b - 1]
        day = np.clip(signup_days(ctx, a, b) - first, 0, None)
        day = day[day < len(w)]
        signed += np.bincount(day, minlength=len(w))
    eligible = np.cumsum(signed)
    mass = np.where(eligible > 0, cumulative[np.maximum(eligible - 1, 0)], 0.0)
    cdf = np.cumsum(w * mass)
    cdf = cdf / cdf[-1]
    cdf[-1] = 1.0
    counts = np.zeros(len(w), dtype=np.int64)
    for a, b in _chunks(ctx.orders, ctx.chunk_rows):  # a sum of counts: the same for any chunking
        day = np.searchsorted(cdf, uniform_at(ctx.seed, "orders", "date", a, b - a), side="right")
        counts += np.bincount(np.minimum(day, len(w) - 1), minlength=len(w))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    return DayPlan(first, counts, offsets, eligible, cumulative)


def _day_chunks(plan: DayPlan, size: int) -> Iterator[tuple[int, int]]:
    """Ranges of whole days holding at most `size` rows each (or one day, if larger)."""
    j, n = 0, len(plan.counts)
    while j < n:
        k = int(np.searchsorted(plan.offsets, plan.offsets[j] + size, side="right")) - 1
        k = min(max(k, j + 1), n)
        yield j, k
        j = k


def gen_orders(ctx: Context) -> Iterator[pa.Table]:
    plan = day_plan(ctx)
    products = ctx.tables["products"]
    for j0, j1 in _day_chunks(plan, ctx.chunk_rows):
        if plan.offsets[j1] > plan.offsets[j0]:
            yield _order_chunk(ctx, plan, products, j0, j1)


def _customers_of_days(ctx: Context, plan: DayPlan, j0: int, j1: int) -> np.ndarray:
    """0-based customer index of every row of days j0..j1-1, ascending within each day."""
    r0 = int(plan.offsets[j0])
    u = uniform_at(ctx.seed, "orders", "customer", r0, int(plan.offsets[j1]) - r0)
    cust = np.empty(len(u), dtype=np.int64)
    for j in range(j0, j1):
        a, b = int(plan.offsets[j]) - r0, int(plan.offsets[j + 1]) - r0
        if a == b:
            continue
        k = int(plan.eligible[j])  # > 0: a day with orders has customers (its weight is their propensity)
        prefix = plan.cumulative[:k]
        seg = np.sort(u[a:b])
        cust[a:b] = np.minimum(np.searchsorted(prefix, seg * prefix[-1], side="right"), k - 1)
    return cust


def _order_chunk(ctx: Context, plan: DayPlan, products: pa.Table, j0: int, j1: int) -> pa.Table:
    p = ctx.params.get("orders", {})
    seed, t = ctx.seed, "orders"
    r0, r1 = int(plan.offsets[j0]), int(plan.offsets[j1])
    m = r1 - r0

    def u(column: str) -> np.ndarray:
        return uniform_at(seed, t, column, r0, m)

    cust = _customers_of_days(ctx, plan, j0, j1)
    day = plan.first + np.repeat(np.arange(j0, j1, dtype=np.int64), plan.counts[j0:j1])
    n_prod = products.num_rows
    popularity = 1.0 / np.arange(1, n_prod + 1) ** float(p.get("product_zipf", 0.8))
    prod = choice(u("product"), popularity)
    _, channel_w = _weights(ctx.params.get("channels", {}).get("channels", DEFAULT_CHANNELS))
    channel = choice(u("channel"), channel_w)
    qty = 1 + poisson_small(u("quantity"), float(p.get("extra_quantity_mean", 0.5)))
    levels = p.get("discounts", {0.0: 60, 0.05: 15, 0.10: 12, 0.15: 8, 0.20: 5})
    disc_values = np.array([float(k) for k in levels])
    discount = disc_values[choice(u("discount"), [float(v) for v in levels.values()])]
    unit_price = products["List_Price"].to_numpy()[prod]
    revenue = _revenue(qty, unit_price, discount)
    # Site visits in the session that ended in the order: engagement for churn analysis.
    sessions = 1 + poisson_small(u("sessions"), float(p.get("extra_sessions_mean", 2.0)))
    return pa.table({
        "Order_ID": pa.array(np.arange(r0 + 1, r1 + 1, dtype=np.int64)),
        "Order_Date": _to_date32(day),
        "Customer_ID": pa.array(cust + 1),
        "Product_ID": pa.array(prod + 1),
        "Channel_ID": pa.array(channel + 1),
        "Quantity": pa.array(qty.astype(np.int64)),
        "Unit_Price": pa.array(unit_price),
        "Discount": pa.array(discount),
        "Revenue": pa.array(revenue),
        "Discount_Used": pa.array(discount > 0),
        "Sessions": pa.array(sessions.astype(np.int64)),
    })


def _revenue(qty: np.ndarray, unit_price: np.ndarray, discount: np.ndarray) -> np.ndarray:
    """quantity × price × (1 − discount) in exact integer cents, halves rounded away from zero."""
    price_cents = np.round(unit_price * 100).astype(np.int64)
    keep_bp = 10_000 - np.round(discount * 10_000).astype(np.int64)
    numerator = qty.astype(np.int64) * price_cents * keep_bp  # cents × 10,000
    return ((numerator * 2 + 10_000) // 20_000) / 100.0
