"""FORMAT of dates: the quarter token and the locale argument.

dax.guide/FORMAT and learn.microsoft.com/dax/custom-date-and-time-formats-for-the-format-function:
"q" is the quarter of the year (1–4); a backslash makes the next character literal; the
third argument names the locale. The engine has English month and day names only, so a
locale that would change the text is refused instead of answered in English."""
import pytest

from generator.engine.errors import DaxUnsupportedError
from tests.engine.test_conformance import make_engine, scalar


@pytest.fixture(scope="module")
def eng():
    return make_engine("cte")


@pytest.mark.parametrize("expr, expected", [
    ('FORMAT(DATE(2024, 8, 15), "q")', "3"),                  # August is in the third quarter
    ('FORMAT(DATE(2024, 1, 1), "Q")', "1"),
    ('FORMAT(DATE(2024, 12, 31), "yyyy-\\QQ")', "2024-Q4"),   # \Q is a literal Q
    ('"Q" & FORMAT(DATE(2024, 5, 2), "q")', "Q2"),
    ('FORMAT(DATE(2024, 2, 1), "MMM yyyy", "en-US")', "Feb 2024"),
    ('FORMAT(DATE(2024, 2, 1), "yyyy-mm", "es-GT")', "2024-02"),  # digits do not depend on the locale
])
def test_quarter_and_literal(eng, expr, expected):
    assert scalar(eng, expr) == expected


@pytest.mark.parametrize("expr", [
    'FORMAT(DATE(2024, 2, 1), "MMMM", "es-GT")',   # "febrero" in Power BI
    'FORMAT(DATE(2024, 2, 1), "dddd", "de-DE")',
    'FORMAT(1234.5, "#,0.00", "de-DE")',           # "1.234,50" in Power BI
])
def test_locale_that_changes_the_text_is_refused(eng, expr):
    with pytest.raises(DaxUnsupportedError, match="FORMAT with the locale"):
        scalar(eng, expr)
