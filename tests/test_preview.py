"""`build.py preview` and `evaluate`: the report drawn in a real browser (Chromium via Playwright).

Expected values never come from the preview's own code: each is a DAX query written here
and run through Engine.query (cards through the engine's FORMAT), or a pandas/DuckDB
computation, and compared with what the page shows (card text, plotly's drawn data).
Browser tests skip when Chromium or playwright is missing, unless PBI_FORGE_REQUIRE_BROWSER=1.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from generator.cli import main
from generator.engine import Engine
from generator.errors import ForgeError

REPO = Path(__file__).resolve().parents[1]
CSV_EXAMPLE = REPO / "examples" / "customer_csv"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = REPO / "powerbi" / "preview" / "screenshots"
CHARTS = ("clusteredColumnChart", "clusteredBarChart", "lineChart", "areaChart", "pieChart", "donutChart",
          "scatterChart", "gauge")


# ---------------------------------------------------------------- fixtures

def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _browser_missing()
    if reason:
        if os.environ.get("PBI_FORGE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"PBI_FORGE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Tab:
    """A browser page that records console errors and uncaught exceptions."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1320, "height": 900})
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.drawn()

    def visit(self, url: str) -> None:
        """Open `url` unless it is already the open page."""
        if self.page.url != url:
            self.open(url)

    def drawn(self) -> None:
        self.page.wait_for_function("window.pbiPreview && window.pbiPreview.done", timeout=60000)

    def card(self, name: str) -> str:
        return self.page.locator(f"#v-{name} .card-value").text_content().strip()

    def traces(self, name: str) -> list[dict]:
        return self.page.evaluate(
            "n => document.getElementById('chart-' + n).data.map(t => ({type: t.type, name: t.name, x: t.x, "
            "y: t.y, labels: t.labels, values: t.values, value: t.value, "
            "target: t.gauge && t.gauge.threshold ? t.gauge.threshold.value : null}))", name)


@pytest.fixture
def tab(browser):
    t = Tab(browser)
    yield t
    t.page.close()


def _build(project: Path, out: Path, rows: int | None = 3000) -> Path:
    args = ["build", "--project", str(project), "--out", str(out), "--no-tom"]
    if rows:
        args += ["--rows", str(rows)]
    assert main(args) == 0
    return out


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> tuple[Path, Path]:
    """The shipped project's YAML, built small, with its preview written."""
    root = tmp_path_factory.mktemp("shipped")
    for part in ("semantic", "measures"):
        shutil.copytree(REPO / part, root / part)
    out = _build(root, root / "powerbi")
    assert main(["preview", "--project", str(root), "--out", str(out)]) == 0
    return root, out


@pytest.fixture(scope="module")
def engine(shipped) -> Engine:
    root, out = shipped
    return Engine.open(root, out=out)


# ---------------------------------------------------------------- independent expectations

def _dax_format(fmt: str) -> str:
    """Power BI's short spellings in the engine's long ones: \\$ -> $, #,0 -> #,##0."""
    fmt = fmt.replace("\\$", "$")
    return re.sub(r"^(\$?)#,0(?=[.%]|$)", r"\1#,##0", fmt)


def _expected_card(engine: Engine, measure: str, filters: list[str] = ()) -> str:
    m = engine.model.measure(measure)
    expr = f"[{measure}]" if not m.format else f'FORMAT([{measure}], "{_dax_format(m.format)}")'
    if filters:
        expr = f"CALCULATE({expr}, {', '.join(filters)})"
    value = engine.query(f'EVALUATE ROW("v", {expr})').iloc[0, 0]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value if isinstance(value, str) else f"{value:.15g}"


def _ref(table: str, column: str) -> str:
    return f"'{table}'[{column}]"


def _label(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (pd.Timestamp, dt.date)):
        return pd.Timestamp(value).date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def _pages(out: Path) -> list[Path]:
    return sorted(p for p in (out / "preview").glob("*.html") if p.name != "index.html")


def _visuals(engine: Engine, types: tuple[str, ...]):
    for page in engine.model.pages:
        for v in page.visuals:
            if v.type in types:
                # a field parameter's binding draws the fields its slicer selects (engine.visuals)
                from generator.engine.visuals import shown_fields

                yield page, shown_fields(v, page)


def _fields(v, role: str) -> list:
    return [b for b in v.bindings if b.role == role]


# ---------------------------------------------------------------- static pages

def test_every_page_loads_without_console_errors_and_is_screenshot(shipped, tab):
    _, out = shipped
    pages = _pages(out)
    assert len(pages) == 7
    SHOTS.mkdir(parents=True, exist_ok=True)
    for html in pages:
        tab.open(html.as_uri())
        assert tab.errors == [], f"{html.name}: {tab.errors}"
        assert tab.page.locator("section.visual").count() > 0
        tab.page.screenshot(path=str(SHOTS / f"{html.stem}.png"), full_page=True)
    tab.page.goto((out / "preview" / "index.html").as_uri())
    assert tab.page.locator("ol.pages a").count() == 7


def test_visuals_sit_at_their_pbir_position(shipped, tab):
    _, out = shipped
    visual = json.loads(next(out.glob("*.Report/definition/pages/customer_snapshot/visuals/segment_by_country/"
                                       "visual.json")).read_text())
    tab.open((out / "preview" / "customer_snapshot.html").as_uri())
    box = tab.page.evaluate("() => { const e = document.getElementById('v-segment_by_country');"
                            " return [e.offsetLeft, e.offsetTop, e.offsetWidth, e.offsetHeight]; }")
    pos = visual["position"]
    assert box == [pos["x"], pos["y"], pos["width"], pos["height"]]


def test_every_card_shows_the_engines_formatted_value(shipped, engine, tab):
    _, out = shipped
    checked = 0
    for page, v in _visuals(engine, ("card",)):
        tab.visit((out / "preview" / f"{page.id}.html").as_uri())
        measure = v.bindings[0].name
        assert tab.card(v.name) == _expected_card(engine, measure), (page.id, v.name)
        checked += 1
    assert checked >= 15


def _category_expected(engine: Engine, v) -> dict[tuple[str, str], dict[str, float | None]]:
    cats = _fields(v, "category")
    legend = _fields(v, "legend")
    ys = _fields(v, "values")
    groups = [_ref(b.table, b.name) for b in cats + legend]
    measures = [f'"y{i}", [{b.name}]' for i, b in enumerate(ys)]
    frame = engine.query("EVALUATE SUMMARIZECOLUMNS(" + ", ".join(groups + measures) + ")")
    out = {}
    for row in frame.itertuples(index=False):
        row = list(row)
        label = " ".join(_label(x) for x in row[:len(cats)])
        series = _label(row[len(cats)]) if legend else None
        for i, b in enumerate(ys):
            value = row[len(groups) + i]
            # a series is named by the field's display name (its `label:`), as the chart's legend shows it
            out.setdefault((label, series if legend else b.display_name), {})[b.display_name] = \
                None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
    return out


def _sorted_categories(engine: Engine, b) -> list[str]:
    """The category's values in Power BI's order: by its sort-by column, else by itself."""
    column = engine.model.table(b.table).column(b.name)
    key = column.sort_by or b.name
    cols = [_ref(b.table, b.name)] + ([_ref(b.table, key)] if key != b.name else [])
    frame = engine.query(f"EVALUATE SUMMARIZECOLUMNS({', '.join(cols)})")
    frame = frame.sort_values(list(frame.columns)[-1], kind="stable",
                              key=lambda s: s.map(lambda x: x.lower() if isinstance(x, str) else x))
    return [_label(x) for x in frame.iloc[:, 0]]


def test_every_chart_draws_the_engines_rows(shipped, engine, tab):
    _, out = shipped
    checked = 0
    for page, v in _visuals(engine, CHARTS):
        tab.visit((out / "preview" / f"{page.id}.html").as_uri())
        _assert_chart_draws_the_engines_rows(engine, v, tab.traces(v.name))
        checked += 1
    assert checked >= 20


def _assert_chart_draws_the_engines_rows(engine: Engine, v, traces: list[dict]) -> None:
    if v.type in ("clusteredColumnChart", "clusteredBarChart", "lineChart"):
        expected = _category_expected(engine, v)
        drawn = {}
        for t in traces:
            xs, ys = (t["y"], t["x"]) if v.type == "clusteredBarChart" else (t["x"], t["y"])
            for x, y in zip(xs, ys):
                if y is not None:
                    drawn[(x, t["name"])] = y
        assert set(drawn) == {k for k, vals in expected.items() if any(x is not None for x in vals.values())}, v.name
        for key, y in drawn.items():
            measure = next(iter(expected[key])) if len(_fields(v, "values")) == 1 else key[1]
            assert _close(y, expected[key][measure]), (v.name, key)
        cats = _fields(v, "category")
        if len(cats) == 1 and engine.model.table(cats[0].table).column(cats[0].name).type != "date":
            axis = traces[0]["y"] if v.type == "clusteredBarChart" else traces[0]["x"]
            assert axis == [c for c in _sorted_categories(engine, cats[0]) if c in axis], v.name
    elif v.type in ("pieChart", "donutChart"):
        expected = _category_expected(engine, v)
        (t,) = traces
        assert t["labels"] == [c for c in _sorted_categories(engine, _fields(v, "category")[0])
                               if c in t["labels"]]
        for label, value in zip(t["labels"], t["values"]):
            assert _close(value, next(iter(expected[(label, _fields(v, "values")[0].display_name)].values()))), v.name
    elif v.type == "scatterChart":
        x, y = _fields(v, "x")[0], _fields(v, "y")[0]
        details, legend = _fields(v, "details"), _fields(v, "legend")
        groups = [_ref(b.table, b.name) for b in details + legend]
        frame = engine.query(f'EVALUATE SUMMARIZECOLUMNS({", ".join(groups)}, "x", [{x.name}], "y", [{y.name}])')
        expected = sorted((_label(r[-3]) if legend else "", round(r[-2] or 0, 6), round(r[-1] or 0, 6))
                          for r in frame.itertuples(index=False))
        drawn = sorted((t["name"] if legend else "", round(a or 0, 6), round(b or 0, 6))
                       for t in traces for a, b in zip(t["x"], t["y"]))
        assert len(expected) <= 3500 and drawn == expected, v.name
    elif v.type == "gauge":
        (t,) = traces
        value = engine.query(f'EVALUATE ROW("v", [{_fields(v, "values")[0].name}])').iloc[0, 0]
        target = engine.query(f'EVALUATE ROW("v", [{_fields(v, "target")[0].name}])').iloc[0, 0]
        assert _close(t["value"], value) and _close(t["target"], target)


def test_a_table_sorted_by_a_measure_descending_is_shown_in_that_order(shipped, engine, tab):
    _, out = shipped
    tab.open((out / "preview" / "customer_health_risk.html").as_uri())
    shown = tab.page.locator("#v-customer_action_table tbody tr:not(.total) td:first-child").all_text_contents()
    frame = engine.query("EVALUATE SUMMARIZECOLUMNS('Dim_Customer'[Customer_ID], 'Dim_Customer'[Customer_Name], "
                         "'Dim_Customer'[Segment], \"r\", [Revenue at Risk])")
    frame = frame.sort_values(["[r]", "Dim_Customer[Customer_ID]"], ascending=[False, True], kind="stable")
    assert len(shown) == len(frame) > 3
    assert shown == [str(int(x)) for x in frame["Dim_Customer[Customer_ID]"]]
    total = tab.page.locator("#v-customer_action_table tbody tr.total td").all_text_contents()
    assert total[0] == "Total" and total[-1] == tab.page.locator("#v-customer_action_table tbody tr.total td").last.text_content()


def test_a_matrix_has_subtotals_and_its_gradient(shipped, engine, tab):
    _, out = shipped
    tab.open((out / "preview" / "customer_snapshot.html").as_uri())
    rows = tab.page.locator("#v-segment_by_country tbody tr")
    last = rows.last.locator("td").all_text_contents()
    assert last[0] == "Total"
    # the grand total of [Total Customers]: the first of the three value cells (Customers,
    # Revenue, Repeat Rate) of the Total column
    assert last[-3] == _expected_card(engine, "Total Customers")
    assert rows.locator("td.subtotal").count() >= 4  # each segment's Total column
    tab.open((out / "preview" / "customer_health_activity.html").as_uri())
    styles = tab.page.evaluate("() => [...document.querySelectorAll('#v-monthly_activity tbody tr:not(.total) "
                               "td[style]')].map(td => [Number(td.textContent), td.getAttribute('style')])")
    top = max(v for v, _ in styles)
    low = min(v for v, _ in styles)
    scale = next(v for _, v in _visuals(engine, ("tableEx", "pivotTable"))
                 if v.name == "monthly_activity").options["color_scale"]  # the page YAML's color_scale
    assert {s for v, s in styles if v == top} == {f"background:{scale['high']}"}
    assert {s for v, s in styles if v == low} == {f"background:{scale['low']}"}


def test_a_scatter_over_the_limit_is_sampled_and_says_so(shipped, monkeypatch, tmp_path):
    from generator.engine import visuals
    from generator.preview.render import render_page
    from generator.preview.report import read_report

    root, out = shipped
    engine = Engine.open(root, out=out)
    monkeypatch.setattr(visuals, "SCATTER_LIMIT", 50)
    page = next(p for p in engine.model.pages if p.id == "customer_snapshot")
    v = next(x for x in page.visuals if x.name == "orders_vs_revenue")
    result = visuals.evaluate_visual(engine, v, page)
    full = engine.query(visuals.visual_query(v, page))
    assert result["sampled"] and result["total_rows"] == len(full) > 50 and len(result["rows"]) == 50
    html = render_page(engine, read_report(out, engine.model.name), read_report(out, engine.model.name).page(page.id))
    assert f"Sampled: 50 of {len(full):,} points" in html


def test_sampling_keeps_the_first_and_last_rows_evenly_spaced():
    from generator.engine.visuals import sample_points

    frame = pd.DataFrame({"i": range(35_000)})
    picked = sample_points(frame, 3500)["i"].tolist()
    assert len(picked) == 3500 and picked[0] == 0 and picked[-1] == 34_999
    gaps = {b - a for a, b in zip(picked, picked[1:])}
    assert gaps <= {10, 11}
    assert sample_points(frame.head(3500), 3500)["i"].tolist() == list(range(3500))


def test_the_same_build_gives_byte_identical_preview_files(tmp_path):
    outs = []
    for name in ("a", "b"):
        out = _build(CSV_EXAMPLE, tmp_path / name, rows=None)
        assert main(["preview", "--project", str(CSV_EXAMPLE), "--out", str(out)]) == 0
        outs.append(out / "preview")
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == sorted(p.name for p in outs[1].iterdir()) and "index.html" in names
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    html = (outs[0] / "index.html").read_text() + "".join(p.read_text() for p in outs[0].glob("*.html"))
    assert "http://" not in html and "https://" not in html  # offline: no CDN


def test_the_csv_example_previews_in_the_browser(tmp_path, tab):
    out = _build(CSV_EXAMPLE, tmp_path / "powerbi", rows=None)
    assert main(["preview", "--project", str(CSV_EXAMPLE), "--out", str(out)]) == 0
    engine = Engine.open(CSV_EXAMPLE, out=out)
    for page in engine.model.pages:
        tab.open((out / "preview" / f"{page.id}.html").as_uri())
        assert tab.errors == []
        for v in page.visuals:
            if v.type == "card":
                assert tab.card(v.name) == _expected_card(engine, v.bindings[0].name)
        for v in page.visuals:
            if v.type == "pieChart":
                (t,) = tab.traces(v.name)
                frame = engine.query(f"EVALUATE SUMMARIZECOLUMNS({_ref(_fields(v, 'category')[0].table, _fields(v, 'category')[0].name)}, "
                                     f"\"y\", [{_fields(v, 'values')[0].name}])")
                assert dict(zip(t["labels"], t["values"])) == pytest.approx(
                    {_label(a): float(b) for a, b in frame.itertuples(index=False)})


def test_the_init_project_previews_in_the_browser(tmp_path, tab):
    """`pbi-forge init`'s project: every page loads without console errors, is screenshot, and
    its cards and charts show the engine's values."""
    project = tmp_path / "mine"
    assert main(["init", str(project)]) == 0
    out = _build(project, project / "powerbi", rows=None)
    assert main(["preview", "--project", str(project), "--out", str(out)]) == 0
    engine = Engine.open(project, out=out)
    SHOTS.mkdir(parents=True, exist_ok=True)
    cards = charts = 0
    for page in engine.model.pages:
        tab.open((out / "preview" / f"{page.id}.html").as_uri())
        assert tab.errors == [], f"{page.id}: {tab.errors}"
        tab.page.screenshot(path=str(SHOTS / f"init-{page.id}.png"), full_page=True)
        for v in page.visuals:
            if v.type == "card":
                assert tab.card(v.name) == _expected_card(engine, v.bindings[0].name), v.name
                cards += 1
            elif v.type in CHARTS:
                _assert_chart_draws_the_engines_rows(engine, v, tab.traces(v.name))
                charts += 1
    assert cards >= 1 and charts >= 1


# ---------------------------------------------------------------- --serve

@pytest.fixture
def server_for():
    started = []

    def start(root: Path, out: Path, watch: bool = False, rows: int | None = 3000):
        from generator.preview.server import PreviewServer, PreviewState

        server = PreviewServer(PreviewState(root, out, rows=rows), port=0, watch=watch).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_a_changed_slicer_shows_the_engines_values_for_the_selection(shipped, engine, server_for, tab):
    root, out = shipped
    server = server_for(root, out)
    assert server.httpd.server_address[0] == "127.0.0.1"
    tab.open(server.url + "customer_snapshot.html")
    before = tab.card("kpi_total_revenue")
    tab.page.select_option("#v-slicer_segment select", label="Prime")
    tab.page.wait_for_function("window.pbiPreview.updates >= 1 && window.pbiPreview.done", timeout=60000)
    prime = ["TREATAS({\"Prime\"}, 'Dim_Customer'[Segment])"]
    for name, measure in (("kpi_total_customers", "Total Customers"), ("kpi_total_orders", "Total Orders"),
                          ("kpi_total_revenue", "Total Revenue"), ("kpi_aov", "Average Order Value"),
                          ("kpi_repeat_rate", "Repeat Purchase Rate")):
        assert tab.card(name) == _expected_card(engine, measure, prime), name
    assert tab.card("kpi_total_revenue") != before
    # a date range as well: orders between two dates, counted straight from the Parquet file
    tab.page.fill("#v-slicer_date input.from", "2023-01-01")
    tab.page.fill("#v-slicer_date input.to", "2023-06-30")
    tab.page.locator("#v-slicer_date input.to").dispatch_event("change")
    tab.page.wait_for_function("window.pbiPreview.updates >= 3 && window.pbiPreview.done", timeout=60000)
    count = duckdb.connect().execute(f"""
        SELECT count(*) FROM '{out}/data/Fact_Orders.parquet' f JOIN '{out}/data/Dim_Customer.parquet' c
        USING (Customer_ID) WHERE c.Segment = 'Prime' AND f.Order_Date BETWEEN '2023-01-01' AND '2023-06-30'
        """).fetchone()[0]
    assert tab.card("kpi_total_orders") == f"{count:,}"
    assert tab.errors == []


def test_watch_mode_rebuilds_on_a_measure_edit_and_shows_a_bad_edit(project, tmp_path, server_for, tab):
    out = _build(project, tmp_path / "powerbi")
    server = server_for(project, out, watch=True)
    tab.open(server.url + "customer_snapshot.html")
    orders = duckdb.connect().execute(f"SELECT count(*) FROM '{out}/data/Fact_Orders.parquet'").fetchone()[0]
    assert tab.card("kpi_total_orders") == f"{orders:,}"
    kpis = project / "measures" / "kpis.yaml"
    text = kpis.read_text()
    assert "expression: COUNTROWS ( Fact_Orders )" in text
    kpis.write_text(text.replace("expression: COUNTROWS ( Fact_Orders )", "expression: COUNTROWS ( Fact_Orders ) * 2"))
    tab.page.wait_for_function("document.body && document.body.dataset.version === '1'", timeout=120000)
    tab.drawn()
    assert tab.card("kpi_total_orders") == f"{2 * orders:,}"
    # a bad edit: the page shows the positioned error and the server keeps serving
    line = next(i for i, s in enumerate(kpis.read_text().splitlines(), 1) if "* 2" in s)
    kpis.write_text(kpis.read_text().replace("COUNTROWS ( Fact_Orders ) * 2", "COUNTROWS ( Fact_Orders ) *"))
    tab.page.wait_for_selector("#error:not([hidden])", timeout=120000)
    message = tab.page.locator("#error pre").text_content()
    assert re.search(rf"kpis\.yaml:{line}:\d+: error", message), message
    assert tab.card("kpi_total_orders") == f"{2 * orders:,}"  # the last good build stays
    tab.page.reload()
    tab.drawn()
    assert "kpis.yaml" in tab.page.locator("#error pre").text_content()


def test_the_server_refuses_a_non_loopback_host(shipped, capsys):
    from generator.preview.server import PreviewServer, PreviewState

    root, out = shipped
    assert main(["preview", "--serve", "--host", "0.0.0.0", "--project", str(root), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "127.0.0.1 only" in err and "Traceback" not in err
    with pytest.raises(ForgeError, match="127.0.0.1 only"):
        PreviewServer(PreviewState(root, out), port=0, host="localhost")


def test_preview_without_a_build_is_a_clear_error(tmp_path, capsys):
    assert main(["preview", "--project", str(CSV_EXAMPLE), "--out", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "run `python build.py` first" in err and "Traceback" not in err
    assert not (tmp_path / "nothing").exists()


# ---------------------------------------------------------------- evaluate

def test_evaluate_follows_the_sort_and_samples_scatter(shipped, monkeypatch, capsys):
    from generator.engine import visuals

    root, out = shipped
    monkeypatch.setattr(visuals, "SCATTER_LIMIT", 100)
    assert main(["evaluate", "--project", str(root), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "64 visual(s) evaluated" in captured.out  # 62 + the Metric slicer and chart
    assert captured.err == ""  # no progress bar when stderr is not a terminal
    top = json.loads((out / "preview" / "RFM & Retention__top_10_customers.json").read_text())
    revenue = [r[-1] for r in top["rows"]]
    assert top["rows"][0][2] is True  # the grand total first, as in Power BI's query result
    assert revenue[1:] == sorted(revenue[1:], reverse=True) and len(revenue) == 11
    scatter = json.loads((out / "preview" / "Customer Snapshot__orders_vs_revenue.json").read_text())
    assert scatter["sampled"] and len(scatter["rows"]) == 100 < scatter["total_rows"]
    band = json.loads((out / "preview" / "Customer Snapshot__customers_by_band.json").read_text())
    assert [r[0] for r in band["rows"]] == ["1 order", "2-3 orders", "4-5 orders", "6+ orders"]
