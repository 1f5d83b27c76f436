"""Generators for the customer-intelligence star schema.

Behavioural model (see ../docs/peers-and-style.md §4): each customer has a lognormal
purchase propensity, raised for Prime members, so repeat purchases follow a
Poisson-lognormal mix (many one-time buyers, a tail of 6+ order buyers) and spend
concentrates in a minority of customers. Order dates follow day weights (growth trend ×
weekday × month factors with a Nov/Dec peak), drawn by inverse CDF restricted to the days
on or after the customer's signup, so no order precedes its customer.

Every generator is vectorised: one numpy operation per column, no per-row Python.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pyarrow as pa

from generator.synth.random import choice, normal, poisson_small, uniform

EPOCH = np.datetime64("1970-01-01", "D")

DEFAULT_COUNTRIES = {
    "United States": 30, "United Kingdom": 12, "Germany": 11, "France": 8, "Canada": 7, "India": 7,
    "Australia": 5, "Brazil": 5, "Japan": 4, "Spain": 4, "Mexico": 3, "Netherlands": 2, "Sweden": 2,
}
DEFAULT_CATEGORIES = {
    "Electronics": {"weight": 20, "price": 180.0, "subcategories": ["Phones", "Audio", "Computers", "Cameras"]},
    "Clothing": {"weight": 22, "price": 45.0, "subcategories": ["Tops", "Bottoms", "Shoes", "Outerwear"]},
    "Groceries": {"weight": 25, "price": 12.0, "subcategories": ["Snacks", "Beverages", "Pantry", "Fresh"]},
    "Home & Kitchen": {"weight": 13, "price": 60.0, "subcategories": ["Cookware", "Decor", "Appliances"]},
    "Sports": {"weight": 8, "price": 55.0, "subcategories": ["Fitness", "Outdoor", "Team Sports"]},
    "Beauty": {"weight": 7, "price": 25.0, "subcategories": ["Skincare", "Makeup", "Fragrance"]},
    "Books": {"weight": 5, "price": 18.0, "subcategories": ["Fiction", "Non-Fiction", "Children"]},
}
DEFAULT_CHANNELS = {"Online": 45, "Mobile App": 30, "In-Store": 18, "Marketplace": 7}
DEFAULT_MONTH_FACTORS = [0.80, 0.85, 0.95, 0.95, 1.00, 0.95, 0.95, 1.00, 1.00, 1.05, 1.40, 1.60]
FIRST_NAMES = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
               "Mia", "Mateo", "Amelia", "Aarav", "Harper", "Yuki", "Chloe", "Hugo", "Lea", "Ravi",
               "Sofia", "Diego", "Priya", "Lars", "Ingrid", "Kenji", "Camila", "Omar", "Fatima", "Jonas"]
LAST_NAMES = ["Smith", "Johnson", "Garcia", "Müller", "Martin", "Brown", "Patel", "Tanaka", "Silva", "Rossi",
              "Schmidt", "Dubois", "Lopez", "Wilson", "Khan", "Andersson", "Nguyen", "Kowalski", "Ivanova", "Cohen",
              "Sato", "Fischer", "Moreau", "Santos", "Jansen", "Singh", "Taylor", "Lee", "Hernandez", "Becker"]


@dataclass(frozen=True)
class Context:
    """What every generator sees: seed, requested order count, date range, and earlier tables."""

    seed: int
    orders: int
    start: dt.date
    end: dt.date
    tables: dict[str, pa.Table]  # by generator name, filled in dependency order
    params: dict[str, dict[str, Any]]  # every generator's YAML params, by generator name

    def param(self, generator: str, key: str, default: Any) -> Any:
        return self.params.get(generator, {}).get(key, default)


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _to_date32(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), type=pa.int32()).cast(pa.date32())


def _weights(spec: dict[str, Any]) -> tuple[list[str], np.ndarray]:
    names = list(spec)
    return names, np.array([float(spec[n]["weight"] if isinstance(spec[n], dict) else spec[n]) for n in names])


def _dictionary(names: list[str], codes: np.ndarray) -> pa.Array:
    """Low-cardinality strings as a plain string column built from small integer codes."""
    return pa.array(np.asarray(names, dtype=object)[codes], type=pa.string())


def customer_count(ctx: Context) -> int:
    per = float(ctx.param("customers", "orders_per_customer", 8.0))
    return max(20, int(round(ctx.orders / per)))


def gen_customers(ctx: Context) -> pa.Table:
    p = ctx.params.get("customers", {})
    n = customer_count(ctx)
    seed, t = ctx.seed, "customers"
    countries, cw = _weights(p.get("countries", DEFAULT_COUNTRIES))
    prime = uniform(seed, t, "segment", n) < float(p.get("prime_share", 0.35))
    # Signup: from a year before the data starts to two months before it ends, skewed early.
    lo, hi = _days(ctx.start) - 365, _days(ctx.end) - 60
    skew = float(p.get("signup_skew", 1.6))
    signup = lo + np.floor(uniform(seed, t, "signup", n) ** skew * (hi - lo + 1)).astype(np.int64)
    first = choice(uniform(seed, t, "first_name", n), np.ones(len(FIRST_NAMES)))
    last = choice(uniform(seed, t, "last_name", n), np.ones(len(LAST_NAMES)))
    names = np.char.add(np.char.add(np.asarray(FIRST_NAMES)[first], " "), np.asarray(LAST_NAMES)[last])
    columns = {
        "Customer_ID": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "Customer_Name": pa.array(names.astype(object), type=pa.string()),
        "Country": _dictionary(countries, choice(uniform(seed, t, "country", n), cw)),
        "Segment": _dictionary(["Non-Prime", "Prime"], prime.astype(np.int64)),
        "Signup_Date": _to_date32(signup),
    }
    columns.update(_demographics(ctx, p, n, signup))
    return pa.table(columns)


def _calendar_age(birth: np.ndarray, on: int) -> np.ndarray:
    """Whole years from each birth day to day `on` (a birthday on `on` counts)."""
    b = EPOCH + birth
    d = EPOCH + on
    years = d.astype("datetime64[Y]").astype(np.int64) - b.astype("datetime64[Y]").astype(np.int64)
    anniversary = (b.astype("datetime64[Y]") + years.astype("timedelta64[Y]")).astype("datetime64[D]") + \
        (b - b.astype("datetime64[Y]").astype("datetime64[D]"))
    return years - (anniversary > d).astype(np.int64)


def _demographics(ctx: Context, p: dict[str, Any], n: int, signup: np.ndarray) -> dict[str, pa.Array]:
    """Gender, age, children, income, spending score, membership, preferred category.

    Ages are uniform over [min_age, max_age] on the as-of day (the end of the range);
    income is lognormal, rising with age up to the fifties; spending score is a rounded
    triangular-ish draw on 1..100 independent of income (so all four quadrants fill).
    """
    seed, t = ctx.seed, "customers"
    as_of = _days(ctx.end)
    genders, gw = _weights(p.get("genders", {"Female": 1, "Male": 1, "Other": 1}))
    lo_age, hi_age = int(p.get("min_age", 18)), int(p.get("max_age", 75))
    age_years = lo_age + uniform(seed, t, "age", n) * (hi_age - lo_age + 1)
    birth = as_of - np.floor(age_years * 365.25).astype(np.int64)
    age = _calendar_age(birth, as_of)
    kids, kw = _weights(p.get("children", {0: 35, 1: 20, 2: 22, 3: 12, 4: 7, 5: 4}))
    income_median = float(p.get("income_median", 58_000))
    age_effect = 1.0 + 0.012 * np.minimum(age - lo_age, 35) - 0.008 * np.maximum(age - 60, 0)
    income = income_median * age_effect * np.exp(float(p.get("income_sigma", 0.45)) *
                                                 normal(seed, t, "income", n))
    income = np.clip(np.round(income / 100) * 100, 12_000, 400_000)
    score = 1 + np.floor((uniform(seed, t, "score#1", n) + uniform(seed, t, "score#2", n)) / 2 * 100).astype(np.int64)
    categories, catw = _weights(p.get("preferred_categories", {"Clothing": 1, "Groceries": 1, "Electronics": 1}))
    return {
        "Gender": _dictionary(genders, choice(uniform(seed, t, "gender", n), gw)),
        "Birth_Date": _to_date32(birth),
        "Age": pa.array(age.astype(np.int64)),
        "Children": pa.array(np.asarray([int(k) for k in kids], dtype=np.int64)[
            choice(uniform(seed, t, "children", n), kw)]),
        "Annual_Income": pa.array(income),
        "Spending_Score": pa.array(np.minimum(score, 100)),
        "Membership_Years": pa.array(np.maximum((as_of - signup) // 365, 0).astype(np.int64)),
        "Preferred_Category": _dictionary(categories, choice(uniform(seed, t, "preferred_category", n), catw)),
    }


def gen_products(ctx: Context) -> pa.Table:
    p = ctx.params.get("products", {})
    n = int(p.get("count", 240))
    seed, t = ctx.seed, "products"
    cats = p.get("categories", DEFAULT_CATEGORIES)
    names, cw = _weights(cats)
    cat = choice(uniform(seed, t, "category", n), cw)
    u_sub = uniform(seed, t, "subcategory", n)
    subs = [cats[c]["subcategories"] for c in names]
    sub_names = [s for group in subs for s in group]
    offsets = np.cumsum([0] + [len(g) for g in subs])[:-1]
    sub = offsets[cat] + np.floor(u_sub * np.array([len(g) for g in subs])[cat]).astype(np.int64)
    base = np.array([float(cats[c]["price"]) for c in names])[cat]
    price = np.round(base * np.exp(0.45 * normal(seed, t, "price", n)), 2)
    ids = np.arange(1, n + 1, dtype=np.int64)
    label = np.char.add(np.char.add(np.asarray(sub_names)[sub], " #"), ids.astype(str))
    return pa.table({
        "Product_ID": pa.array(ids),
        "Product_Name": pa.array(label.astype(object), type=pa.string()),
        "Category": _dictionary(names, cat),
        "Subcategory": _dictionary(sub_names, sub),
        "List_Price": pa.array(price),
    })


def gen_channels(ctx: Context) -> pa.Table:
    names, _ = _weights(ctx.params.get("channels", {}).get("channels", DEFAULT_CHANNELS))
    return pa.table({"Channel_ID": pa.array(np.arange(1, len(names) + 1, dtype=np.int64)),
                     "Channel_Name": pa.array(names, type=pa.string())})


def _day_cdf(ctx: Context) -> tuple[int, np.ndarray]:
    """Cumulative order-date distribution over every day of the range."""
    p = ctx.params.get("orders", {})
    first, last = _days(ctx.start), _days(ctx.end)
    days = np.arange(first, last + 1)
    dates = EPOCH + days
    month = (dates.astype("datetime64[M]").astype(np.int64) % 12)
    weekday = (days + 3) % 7  # 0 = Monday
    t = (days - first) / max(1, last - first)
    w = (1.0 + float(p.get("growth", 0.6)) * t)
    w = w * np.asarray(p.get("month_factors", DEFAULT_MONTH_FACTORS), dtype=np.float64)[month]
    w = w * np.where(weekday >= 5, float(p.get("weekend_uplift", 1.15)), 1.0)
    cdf = np.cumsum(w / w.sum())
    cdf[-1] = 1.0
    return first, cdf


def gen_orders(ctx: Context) -> pa.Table:
    p = ctx.params.get("orders", {})
    n, seed, t = ctx.orders, ctx.seed, "orders"
    customers = ctx.tables["customers"]
    products = ctx.tables["products"]
    n_cust = customers.num_rows
    first, cdf = _day_cdf(ctx)
    signup = customers["Signup_Date"].cast(pa.int32()).to_numpy().astype(np.int64)
    # F(day before signup): the share of the date distribution a customer cannot use.
    before = np.clip(signup - first, 0, len(cdf))
    used = np.where(before > 0, cdf[np.maximum(before - 1, 0)], 0.0)
    prime = customers["Segment"].to_numpy(zero_copy_only=False) == "Prime"
    propensity = np.exp(float(p.get("propensity_sigma", 1.1)) * normal(seed, "customers", "propensity", n_cust))
    propensity *= np.where(prime, float(p.get("prime_multiplier", 1.8)), 1.0) * (1.0 - used)
    # Sorted uniforms make the inverse-CDF lookup cache-friendly; the pairing with the
    # (independent, unsorted) date draws keeps the joint distribution unchanged.
    cust = choice(np.sort(uniform(seed, t, "customer", n)), propensity)
    u = uniform(seed, t, "date", n)
    lo = used[cust]
    day_index = np.searchsorted(cdf, lo + u * (1.0 - lo), side="right")
    day_index = np.minimum(day_index, len(cdf) - 1).astype(np.int16 if len(cdf) < 32_767 else np.int32)
    # Orders are numbered in date order, ties by customer (already ascending): a stable,
    # readable Order_ID. A stable sort of 16-bit keys is numpy's radix sort: O(n).
    order = np.argsort(day_index, kind="stable")
    cust, day_index = cust[order], day_index[order].astype(np.int64)
    n_prod = products.num_rows
    popularity = 1.0 / np.arange(1, n_prod + 1) ** float(p.get("product_zipf", 0.8))
    prod = choice(uniform(seed, t, "product", n), popularity)
    _, channel_w = _weights(ctx.params.get("channels", {}).get("channels", DEFAULT_CHANNELS))
    channel = choice(uniform(seed, t, "channel", n), channel_w)
    qty = 1 + poisson_small(uniform(seed, t, "quantity", n), float(p.get("extra_quantity_mean", 0.5)))
    levels = p.get("discounts", {0.0: 60, 0.05: 15, 0.10: 12, 0.15: 8, 0.20: 5})
    disc_values = np.array([float(k) for k in levels])
    discount = disc_values[choice(uniform(seed, t, "discount", n), [float(v) for v in levels.values()])]
    unit_price = products["List_Price"].to_numpy()[prod]
    revenue = _revenue(qty, unit_price, discount)
    # Site visits in the session that ended in the order: engagement for churn analysis.
    sessions = 1 + poisson_small(uniform(seed, t, "sessions", n), float(p.get("extra_sessions_mean", 2.0)))
    return pa.table({
        "Order_ID": pa.array(np.arange(1, n + 1, dtype=np.int64)),
        "Order_Date": _to_date32(first + day_index),
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


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def gen_calendar(ctx: Context) -> pa.Table:
    """A continuous calendar from 1 January of the first order year to 31 December of the last."""
    orders = ctx.tables.get("orders")
    if orders is not None and orders.num_rows:
        import pyarrow.compute as pc

        lo, hi = pc.min_max(orders["Order_Date"]).values()
        first_year, last_year = lo.as_py().year, hi.as_py().year
    else:
        first_year, last_year = ctx.start.year, ctx.end.year
    days = np.arange(_days(dt.date(first_year, 1, 1)), _days(dt.date(last_year, 12, 31)) + 1)
    dates = EPOCH + days
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    weekday = (days + 3) % 7
    # ISO week: the week's Thursday decides the year; week = 1 + (thursday - Jan 1 of that year) // 7.
    thursday = days - weekday + 3
    thu_year_start = (EPOCH + thursday).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    iso_week = 1 + (thursday - thu_year_start) // 7
    quarter = (month - 1) // 3 + 1
    return pa.table({
        "Date": _to_date32(days),
        "Year": pa.array(year),
        "Quarter": pa.array(np.char.add("Q", quarter.astype(str)).astype(object), type=pa.string()),
        "Quarter_Number": pa.array(quarter),
        "Month_Number": pa.array(month),
        "Month_Name": _dictionary(MONTHS, month - 1),
        "Year_Month": pa.array(np.char.add(np.char.add(year.astype(str), "-"),
                                           np.char.zfill(month.astype(str), 2)).astype(object), type=pa.string()),
        "Year_Month_Number": pa.array(year * 100 + month),
        "Week": pa.array(iso_week.astype(np.int64)),
        "Weekday": _dictionary(WEEKDAYS, weekday),
        "Weekday_Number": pa.array((weekday + 1).astype(np.int64)),
    })


def gen_rows(ctx: Context, params: dict[str, Any]) -> pa.Table:
    """A small static table whose rows are written inline in the YAML (`params.rows`)."""
    rows = params.get("rows", [])
    if not rows:
        return pa.table({})
    return pa.Table.from_pylist([dict(r) for r in rows])


Generator = Callable[[Context], pa.Table]
# name -> (function, generators it needs first). An unknown name is a load error.
GENERATORS: dict[str, tuple[Generator, tuple[str, ...]]] = {
    "customers": (gen_customers, ()),
    "products": (gen_products, ()),
    "channels": (gen_channels, ()),
    "orders": (gen_orders, ("customers", "products", "channels")),
    "calendar": (gen_calendar, ("orders",)),
}
