"""Generators for the customer-intelligence star schema.

Behavioural model (see ../docs/peers-and-style.md §4): each customer has a lognormal
purchase propensity, raised for Prime members, so repeat purchases follow a
Poisson-lognormal mix (many one-time buyers, a tail of 6+ order buyers) and spend
concentrates in a minority of customers. Order dates follow day weights (growth trend ×
weekday × month factors with a Nov/Dec peak), drawn by inverse CDF restricted to the days
on or after the customer's signup, so no order precedes its customer.

Every generator is vectorised (one numpy operation per column, no per-row Python) and
yields its rows in chunks of at most `Context.chunk_rows`, each drawn from row-indexed
streams (`generator.synth.random.uniform_at`): the rows do not depend on the chunk size,
and memory stays bounded however many rows are asked for. Customer IDs are in sign-up
order (see `signup_days`), which is what lets the order generator stream by day.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np
import pyarrow as pa

from generator.synth.random import choice, normal, normal_at, uniform, uniform_at

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
    tables: dict[str, pa.Table]  # small generated tables by generator name, filled in dependency order
    params: dict[str, dict[str, Any]]  # every generator's YAML params, by generator name
    chunk_rows: int = 1 << 21  # rows per generated chunk: bounds memory, never changes the values
    cache: dict[str, Any] = field(default_factory=dict)  # what several generators derive once (the day plan)

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


def _chunks(n: int, size: int) -> Iterator[tuple[int, int]]:
    for a in range(0, n, size):
        yield a, min(n, a + size)


def signup_days(ctx: Context, a: int, b: int) -> np.ndarray:
    """Sign-up day (days since 1970) of customers a..b-1 (0-based), ascending with the id.

    Customer i signs up on the quantile (i + 0.5) / n of the sign-up distribution: from a
    year before the data starts to two months before it ends, skewed early (the day
    offset is u^skew of the range for u uniform). Ids are thus given in sign-up order, as
    a shop numbers its customers, and the customers signed up by a day are a prefix of
    the ids, which the order generator needs to stream by day.
    """
    n = customer_count(ctx)
    lo, hi = _days(ctx.start) - 365, _days(ctx.end) - 60
    skew = float(ctx.param("customers", "signup_skew", 1.6))
    rank = (np.arange(a, b, dtype=np.float64) + 0.5) / n
    return np.minimum(lo + np.floor(rank ** skew * (hi - lo + 1)).astype(np.int64), hi)


def is_prime(ctx: Context, a: int, b: int) -> np.ndarray:
    return uniform_at(ctx.seed, "customers", "segment", a, b - a) < float(ctx.param("customers", "prime_share", 0.35))


def propensity(ctx: Context, a: int, b: int) -> np.ndarray:
    """Purchase propensity of customers a..b-1: lognormal, raised for Prime members."""
    p = ctx.params.get("orders", {})
    base = np.exp(float(p.get("propensity_sigma", 1.1)) * normal_at(ctx.seed, "customers", "propensity", a, b - a))
    return base * np.where(is_prime(ctx, a, b), float(p.get("prime_multiplier", 1.8)), 1.0)


def gen_customers(ctx: Context) -> Iterator[pa.Table]:
    n = customer_count(ctx)
    for a, b in _chunks(n, ctx.chunk_rows):
        yield _customer_chunk(ctx, a, b)


def _customer_chunk(ctx: Context, a: int, b: int) -> pa.Table:
    p = ctx.params.get("customers", {})
    m, seed, t = b - a, ctx.seed, "customers"
    countries, cw = _weights(p.get("countries", DEFAULT_COUNTRIES))
    signup = signup_days(ctx, a, b)
    first = choice(uniform_at(seed, t, "first_name", a, m), np.ones(len(FIRST_NAMES)))
    last = choice(uniform_at(seed, t, "last_name", a, m), np.ones(len(LAST_NAMES)))
    names = np.char.add(np.char.add(np.asarray(FIRST_NAMES)[first], " "), np.asarray(LAST_NAMES)[last])
    columns = {
        "Customer_ID": pa.array(np.arange(a + 1, b + 1, dtype=np.int64)),
        "Customer_Name": pa.array(names.astype(object), type=pa.string()),
        "Country": _dictionary(countries, choice(uniform_at(seed, t, "country", a, m), cw)),
        "Segment": _dictionary(["Non-Prime", "Prime"], is_prime(ctx, a, b).astype(np.int64)),
        "Signup_Date": _to_date32(signup),
    }
    columns.update(_demographics(ctx, p, a, b, signup))
    return pa.table(columns)


def _calendar_age(birth: np.ndarray, on: int) -> np.ndarray:
    """Whole years from each birth day to day `on` (a birthday on `on` counts)."""
    b = EPOCH + birth
    d = EPOCH + on
    years = d.astype("datetime64[Y]").astype(np.int64) - b.astype("datetime64[Y]").astype(np.int64)
    anniversary = (b.astype("datetime64[Y]") + years.astype("timedelta64[Y]")).astype("datetime64[D]") + \
        (b - b.astype("datetime64[Y]").astype("datetime64[D]"))
    return years - (anniversary > d).astype(np.int64)


def _demographics(ctx: Context, p: dict[str, Any], a: int, b: int, signup: np.ndarray) -> dict[str, pa.Array]:
    """Gender, age, children, income, spending score, membership, preferred category.

    Ages are uniform over [min_age, max_age] on the as-of day (the end of the range);
    income is lognormal, rising with age up to the fifties; spending score is a rounded
    triangular-ish draw on 1..100 independent of income (so all four quadrants fill).
    """
    seed, t, n = ctx.seed, "customers", b - a
    as_of = _days(ctx.end)

    def u(column: str) -> np.ndarray:
        return uniform_at(seed, t, column, a, n)

    genders, gw = _weights(p.get("genders", {"Female": 1, "Male": 1, "Other": 1}))
    lo_age, hi_age = int(p.get("min_age", 18)), int(p.get("max_age", 75))
    age_years = lo_age + u("age") * (hi_age - lo_age + 1)
    birth = as_of - np.floor(age_years * 365.25).astype(np.int64)
    age = _calendar_age(birth, as_of)
    kids, kw = _weights(p.get("children", {0: 35, 1: 20, 2: 22, 3: 12, 4: 7, 5: 4}))
    income_median = float(p.get("income_median", 58_000))
    age_effect = 1.0 + 0.012 * np.minimum(age - lo_age, 35) - 0.008 * np.maximum(age - 60, 0)
    income = income_median * age_effect * np.exp(float(p.get("income_sigma", 0.45)) *
                                                 normal_at(seed, t, "income", a, n))
    income = np.clip(np.round(income / 100) * 100, 12_000, 400_000)
    score = 1 + np.floor((u("score#1") + u("score#2")) / 2 * 100).astype(np.int64)
    categories, catw = _weights(p.get("preferred_categories", {"Clothing": 1, "Groceries": 1, "Electronics": 1}))
    return {
        "Gender": _dictionary(genders, choice(u("gender"), gw)),
        "Birth_Date": _to_date32(birth),
        "Age": pa.array(age.astype(np.int64)),
        "Children": pa.array(np.asarray([int(k) for k in kids], dtype=np.int64)[
            choice(u("children"), kw)]),
        "Annual_Income": pa.array(income),
        "Spending_Score": pa.array(np.minimum(score, 100)),
        "Membership_Years": pa.array(np.maximum((as_of - signup) // 365, 0).astype(np.int64)),
        "Preferred_Category": _dictionary(categories, choice(u("preferred_category"), catw)),
    }


def gen_products(ctx: Context) -> Iterator[pa.Table]:
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
    yield pa.table({
        "Product_ID": pa.array(ids),
        "Product_Name": pa.array(label.astype(object), type=pa.string()),
        "Category": _dictionary(names, cat),
        "Subcategory": _dictionary(sub_names, sub),
        "List_Price": pa.array(price),
    })


def gen_channels(ctx: Context) -> Iterator[pa.Table]:
    names, _ = _weights(ctx.params.get("channels", {}).get("channels", DEFAULT_CHANNELS))
    yield pa.table({"Channel_ID": pa.array(np.arange(1, len(names) + 1, dtype=np.int64)),
                     "Channel_Name": pa.array(names, type=pa.string())})


