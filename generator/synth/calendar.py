"""The date dimension: a continuous calendar over the years the orders cover."""
from __future__ import annotations

import datetime as dt
from typing import Iterator

import numpy as np
import pyarrow as pa

from generator.synth.customers import EPOCH, Context, _days, _dictionary, _to_date32
from generator.synth.orders import day_plan

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def gen_calendar(ctx: Context) -> Iterator[pa.Table]:
    """From 1 January of the first order year to 31 December of the last (read from the
    orders' day plan, so the fact table is never needed whole)."""
    span = day_plan(ctx).order_days()
    if span is not None:
        first_year, last_year = (int((EPOCH + d).astype("datetime64[Y]").astype(np.int64)) + 1970 for d in span)
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
    yield pa.table({
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
