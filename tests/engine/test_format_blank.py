"""FORMAT of BLANK is an empty string for every format (https://dax.guide/format/)."""
from __future__ import annotations

from pathlib import Path

from generator.engine import Engine
from generator.spec import load_project

REPO = Path(__file__).resolve().parents[2]


def _row(dax: str) -> list:
    engine = Engine(load_project(REPO), data={"Fact_Orders": []})  # every table empty: no orders
    return engine.query(dax).iloc[0].tolist()


def test_format_of_blank_is_empty_for_date_and_number_formats():
    assert _row('EVALUATE ROW("bare", FORMAT(BLANK(), "yyyy-mm-dd"), '
                '"no orders", FORMAT(MAX(Fact_Orders[Order_Date]), "yyyy-mm-dd"), '
                '"number", FORMAT(SUM(Fact_Orders[Revenue]), "0.0%"), '
                '"a date", FORMAT(DATE(2024, 1, 5), "yyyy-mm-dd"))') == ["", "", "", "2024-01-05"]
