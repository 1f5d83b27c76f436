"""Review a change: `diff`, `docs`, `lineage` and `test --coverage` (generator/review/).

Expected values come from hand-worked fixtures (the measure-tests rows), from hand SQL
over the built Parquet files in DuckDB, or from `Engine.query` on each model version
computed here, independently of the review code.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import duckdb
import pytest

from generator.cli import main
from generator.engine import Engine
from generator.spec import load_project

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "fixtures" / "review"
LOYALTY = "measures/loyalty.yaml"
REPEAT_BEFORE = "CALCULATE ( COUNTROWS ( Fact_Orders ) ) > 1 )"
REPEAT_AFTER = "CALCULATE ( COUNTROWS ( Fact_Orders ) ) > 2 )"
# The visuals that show [Repeat Customers] or a measure using it, read off
# semantic/pages/01_customer_snapshot.yaml: its KPI card, the gauge and the matrix.
REPEAT_VISUALS = {"Customer Snapshot/kpi_repeat_rate", "Customer Snapshot/gauge_repeat_rate",
                  "Customer Snapshot/segment_by_country"}


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


def copy_project(dest: Path) -> Path:
    for part in ("semantic", "measures"):
        shutil.copytree(REPO / part, dest / part)
    return dest


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The shipped project built with its own model.yaml settings (the data docs/model describes)."""
    out = tmp_path_factory.mktemp("review-build") / "powerbi"
    code, stdout, stderr = cli("build", "--project", REPO, "--out", out, "--no-tom")
    assert code == 0, stdout + stderr
    return out


@pytest.fixture(scope="module")
def edited(tmp_path_factory) -> tuple[Path, Path]:
    """(base, after): two copies of the shipped project; `after` counts repeat customers
    as those with more than two orders instead of more than one."""
    root = tmp_path_factory.mktemp("review-edit")
    base, after = copy_project(root / "base"), copy_project(root / "after")
    edit(after / LOYALTY, REPEAT_BEFORE, REPEAT_AFTER)
    return base, after


@pytest.fixture(scope="module")
def diff_json(built, edited) -> dict:
    base, after = edited
    code, out, err = cli("diff", base, "--project", after, "--out", built, "--by", "'Dim_Date'[Year]",
                         "--format", "json")
    assert code == 0, err
    return json.loads(out)


# ---------------------------------------------------------------- diff


def test_diff_lists_the_edited_measure_its_dependants_and_their_visuals(diff_json):
    assert [(c["kind"], c["name"], c["status"]) for c in diff_json["changes"]] == [
        ("measure", "Repeat Customers", "changed")]
    change = diff_json["changes"][0]
    assert "-    FILTER ( VALUES ( Fact_Orders[Customer_ID] ), " + REPEAT_BEFORE in change["dax"]
    assert "+    FILTER ( VALUES ( Fact_Orders[Customer_ID] ), " + REPEAT_AFTER in change["dax"]
    measures = {r["name"] for r in diff_json["reached"] if r["kind"] == "measure"}
    visuals = {r["name"] for r in diff_json["reached"] if r["kind"] == "visual"}
    assert measures == {"Repeat Customers", "Repeat Purchase Rate"}  # loyalty.yaml: the rate divides by it
    assert visuals == REPEAT_VISUALS
    assert diff_json["moved"] is True


def _engine_values(project: Path, built: Path, measure: str) -> dict:
    """Total and per-year values of `measure` in one model version, straight from Engine.query."""
    engine = Engine(load_project(project), out=built)
    total = engine.query(f'EVALUATE ROW("v", [{measure}])').iloc[0, 0]
    years = engine.query(f'EVALUATE SUMMARIZECOLUMNS(Dim_Date[Year], "v", [{measure}])')
    out = {None: float(total)}
    out.update({int(y): float(v) for y, v in years.itertuples(index=False, name=None)})
    return out


@pytest.mark.parametrize("measure", ["Repeat Customers", "Repeat Purchase Rate"])
def test_diff_values_are_the_engine_query_results_of_each_version(diff_json, built, edited, measure):
    base, after = edited
    expected = {"before": _engine_values(base, built, measure), "after": _engine_values(after, built, measure)}
    rows = [r for r in diff_json["values"] if r["measure"] == measure]
    assert [r["group"] for r in rows] == [None, *sorted(k for k in expected["before"] if k is not None)]
    for r in rows:
        for side in ("before", "after"):
            assert r[side]["value"] == pytest.approx(expected[side][r["group"]], rel=1e-12), (side, r)
        assert r["moved"] is True


def test_diff_total_matches_hand_sql_over_the_parquet_files(diff_json, built):
    """Repeat customers counted in DuckDB by hand: customers with more than 1 (before) or 2 (after) orders."""
    orders = (built / "data" / "Fact_Orders.parquet").as_posix()
    sql = (f"SELECT count(*) FILTER (WHERE n > 1), count(*) FILTER (WHERE n > 2) FROM "
           f"(SELECT Customer_ID, count(*) AS n FROM read_parquet('{orders}') GROUP BY Customer_ID)")
    before, after = duckdb.connect().execute(sql).fetchone()
    total = next(r for r in diff_json["values"] if r["measure"] == "Repeat Customers" and r["group"] is None)
    assert (total["before"]["value"], total["after"]["value"]) == (before, after)
    assert after < before


def test_diff_markdown_is_the_golden_pull_request_comment(built, edited, update_golden):
    base, after = edited
    code, out, err = cli("diff", base, "--project", after, "--out", built, "--by", "'Dim_Date'[Year]",
                         "--format", "markdown")
    assert code == 0, err
    golden = GOLDEN / "repeat_customers.md"
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(out, encoding="utf-8")
    assert out == golden.read_text(encoding="utf-8")


def test_fail_on_change_exits_1_when_a_value_moves_and_0_when_none_does(built, edited, tmp_path):
    base, after = edited
    assert cli("diff", base, "--project", after, "--out", built, "--fail-on-change")[0] == 1
    code, out, _ = cli("diff", base, "--project", after, "--out", built)  # without the flag a change is no failure
    assert code == 0
    assert "values (data: powerbi/data)" in out and "[Repeat Purchase Rate]" in out and "kpi_repeat_rate" in out
    same = copy_project(tmp_path / "same")
    edit(same / LOYALTY, "description: Customers with more than one order under the current filters.",
         "description: Customers who ordered twice or more.")
    code, out, err = cli("diff", base, "--project", same, "--out", built, "--fail-on-change", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert [(c["name"], c["status"], c["dax"]) for c in doc["changes"]] == [("Repeat Customers", "changed", [])]
    assert any(d.startswith("description:") for d in doc["changes"][0]["details"])
    assert doc["values"] == [] and doc["moved"] is False


def test_diff_on_given_test_data_uses_the_hand_worked_rows(edited):
    """measures/loyalty.tests.yaml: customers 1, 2, 3 ordered 3, 1 and 2 times."""
    base, after = edited
    code, out, err = cli("diff", base, "--project", after, "--given", after / "measures" / "loyalty.tests.yaml",
                         "--format", "json")
    assert code == 0, err
    totals = {r["measure"]: (r["before"]["value"], r["after"]["value"])
              for r in json.loads(out)["values"] if r["group"] is None}
    assert totals["Repeat Customers"] == (2, 1)  # > 1 order: customers 1 and 3; > 2 orders: customer 1
    assert totals["Repeat Purchase Rate"] == (pytest.approx(2 / 3), pytest.approx(1 / 3))


def test_structural_changes_are_listed_and_an_added_measure_is_absent_before(built, tmp_path):
    base, after = copy_project(tmp_path / "base"), copy_project(tmp_path / "after")
    edit(after / "measures" / "kpis.yaml", "  - name: Total Orders\n",
         "  - name: Big Orders\n    expression: CALCULATE ( COUNTROWS ( Fact_Orders ), Fact_Orders[Revenue] > 100 )\n"
         "  - name: Total Orders\n")
    edit(after / "semantic" / "tables" / "Dim_Date.yaml", "{name: Year, type: int64, format: '0'}",
         "{name: Year, type: int64, format: '0000'}")
    edit(after / "semantic" / "pages" / "01_customer_snapshot.yaml",
         "  - {name: kpi_total_orders, type: card, title: Total Orders, field: '[Total Orders]'}\n", "")
    code, out, err = cli("diff", base, "--project", after, "--out", built, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert {(c["kind"], c["name"], c["status"]) for c in doc["changes"]} == {
        ("measure", "Big Orders", "added"), ("column", "Dim_Date[Year]", "changed"),
        ("visual", "Customer Snapshot/kpi_total_orders", "removed")}
    big = next(r for r in doc["values"] if r["measure"] == "Big Orders")
    orders = (built / "data" / "Fact_Orders.parquet").as_posix()
    expected = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{orders}') WHERE Revenue > 100").fetchone()[0]
    assert big["before"] == {"note": "absent"} and big["after"] == {"value": expected}


def test_diff_against_a_git_ref_reads_the_commit_and_leaves_the_work_tree_alone(built, tmp_path):
    repo = copy_project(tmp_path / "repo")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "."], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "shipped"], check=True)
    edit(repo / LOYALTY, REPEAT_BEFORE, REPEAT_AFTER)
    edited_text = (repo / LOYALTY).read_text(encoding="utf-8")
    code, out, err = cli("diff", "--project", repo, "--out", built, "--format", "json")  # default HEAD
    assert code == 0, err
    doc = json.loads(out)
    assert doc["before"] == "HEAD"
    assert [(c["name"], c["status"]) for c in doc["changes"]] == [("Repeat Customers", "changed")]
    assert {r["name"] for r in doc["reached"] if r["kind"] == "visual"} == REPEAT_VISUALS
    assert (repo / LOYALTY).read_text(encoding="utf-8") == edited_text
    status = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout.strip() == f"M {LOYALTY}"
    code, out, err = cli("diff", "no-such-ref", "--project", repo, "--out", built)
    assert code == 2 and "'no-such-ref' is not a commit" in err and "Traceback" not in err


def test_diff_bad_by_column_is_a_clear_error(built, edited):
    base, after = edited
    code, out, err = cli("diff", base, "--project", after, "--out", built, "--by", "Dim_Date[Yaer]")
    assert code == 2 and "--by Dim_Date[Yaer]" in err and "Traceback" not in err


# ---------------------------------------------------------------- docs


@pytest.fixture(scope="module")
def docs_out(built, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("review-docs") / "model"
    code, stdout, err = cli("docs", "--project", REPO, "--out", out, "--powerbi", built)
    assert code == 0, err
    return out


def test_checked_in_data_dictionary_is_up_to_date(docs_out):
    names = sorted(p.name for p in docs_out.iterdir())
    assert names == sorted(p.name for p in (REPO / "docs" / "model").iterdir())
    for name in names:
        assert (docs_out / name).read_bytes() == (REPO / "docs" / "model" / name).read_bytes(), (
            f"docs/model/{name} is stale: run `python build.py docs`")


def test_dictionary_facts_match_the_data_and_the_model(docs_out, built):
    tables = (docs_out / "tables.md").read_text(encoding="utf-8")
    con = duckdb.connect()
    path = (built / "data" / "Dim_Customer.parquet").as_posix()
    rows, countries = con.execute(f"SELECT count(*), count(DISTINCT Country) FROM read_parquet('{path}')").fetchone()
    smallest = [r[0] for r in con.execute(
        f"SELECT DISTINCT Country FROM read_parquet('{path}') ORDER BY 1 LIMIT 3").fetchall()]
    assert f"Rows: {rows:,}." in tables
    assert f"| Country | string |  | {countries} | {', '.join(smallest)} | Country of the billing address. |" in tables
    measures = (docs_out / "measures.md").read_text(encoding="utf-8")
    section = measures.split("## Repeat Customers\n", 1)[1].split("\n## ", 1)[0]
    assert "- used by: [Repeat Purchase Rate]" in section
    assert "- uses: Fact_Orders[Customer_ID]" in section
    assert "measures/loyalty.tests.yaml" in section
    assert "**none**" not in measures  # every shipped measure has a test


def test_dictionary_html_is_self_contained(built, docs_out):
    html = (built / "preview" / "model.html").read_text(encoding="utf-8")
    for marker in ("<script", "<link", " src=", "@import", "https://"):
        assert marker not in html
    assert "<svg" in html and "Repeat Customers" in html


def _browser_or_skip():
    required = os.environ.get("PBI_FORGE_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("PBI_FORGE_REQUIRE_BROWSER=1 but playwright is not installed")
        pytest.skip("playwright is not installed (pip install playwright)")
    if not Path("/usr/bin/chromium").exists():
        if required:
            pytest.fail("PBI_FORGE_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
        pytest.skip("no system chromium at /usr/bin/chromium")
    return sync_playwright


def test_dictionary_html_loads_in_headless_chromium_without_errors(built, docs_out):
    sync_playwright = _browser_or_skip()
    page_file = (built / "preview" / "model.html").resolve()
    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri())
            assert page.locator("h1").inner_text() == "CustomerIntelligence: data dictionary"
            assert page.locator("svg rect").count() >= 10  # a box per table
        finally:
            browser.close()
    assert errors == []
    assert requests == [page_file.as_uri()]  # nothing fetched from anywhere else


# ---------------------------------------------------------------- lineage


def test_lineage_json_of_a_measure(tmp_path):
    code, out, err = cli("lineage", "[Repeat Customers]", "--project", REPO, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    # loyalty.yaml: VALUES ( Fact_Orders[Customer_ID] ) and COUNTROWS ( Fact_Orders )
    assert doc["upstream"] == [{"kind": "column", "name": "Fact_Orders[Customer_ID]",
                                "children": [{"kind": "table", "name": "Fact_Orders"}]},
                               {"kind": "table", "name": "Fact_Orders", "repeated": True}]
    [rate] = doc["downstream"]
    assert rate["name"] == "Repeat Purchase Rate"
    assert {c["name"] for c in rate["children"]} == REPEAT_VISUALS


def test_lineage_accepts_columns_tables_and_table_qualified_measures():
    code, out, _ = cli("lineage", "Fact_Orders[Revenue]", "--project", REPO, "--format", "json")
    assert code == 0 and {c["name"] for c in json.loads(out)["downstream"]} >= {"Total Revenue"}
    code, out, _ = cli("lineage", "'Fact_Orders'", "--project", REPO, "--format", "json")
    assert code == 0 and json.loads(out)["kind"] == "table"
    code, out, _ = cli("lineage", "Fact_Orders[Total Revenue]", "--project", REPO, "--format", "json")
    assert code == 0 and json.loads(out)["kind"] == "measure"
    code, out, _ = cli("lineage", "[Repeat Customers]", "--project", REPO)
    assert code == 0 and "downstream" in out and "Customer Snapshot/kpi_repeat_rate" in out


def test_lineage_unknown_name_suggests_the_closest():
    code, out, err = cli("lineage", "Fact_Orders[Revnue]", "--project", REPO)
    assert code == 2 and "did you mean Fact_Orders[Revenue]?" in err and "Traceback" not in err


# ---------------------------------------------------------------- coverage


def test_shipped_model_has_full_measure_coverage():
    from generator.review.coverage import measure_coverage

    cov = measure_coverage(REPO, load_project(REPO))
    assert cov.gaps == () and cov.percent == 100.0 and cov.total == len(load_project(REPO).measures)


def _unsupported() -> str:
    """A DAX function the engine does not implement yet (WEEKNUM today)."""
    from generator.dax.catalog import support
    from generator.engine.runtime.engine import supported_functions

    handled = supported_functions()
    for name in ("WEEKNUM", "ISOWEEKNUM", "PATHLENGTH", "COMBINEVALUES", "GENERATEALL"):
        if support(name, handled) == "not yet":
            return name
    raise AssertionError("the engine implements every candidate: name another function it does not")


def _small_project(root: Path, blocked: str) -> Path:
    (root / "semantic" / "tables").mkdir(parents=True)
    (root / "measures").mkdir()
    (root / "semantic" / "model.yaml").write_text("name: Small\n", encoding="utf-8")
    (root / "semantic" / "tables" / "Sales.yaml").write_text(
        "name: Sales\nsource:\n  generator: rows\n  params:\n    rows:\n"
        "      - {Id: 1, Day: '2024-01-01', Amount: 10}\n"
        "columns:\n  - {name: Id, type: int64}\n  - {name: Day, type: date}\n  - {name: Amount, type: double}\n",
        encoding="utf-8")
    (root / "measures" / "sales.yaml").write_text(
        "table: Sales\nmeasures:\n"
        "  - {name: Total Amount, expression: 'SUM ( Sales[Amount] )'}\n"
        "  - {name: Sale Count, expression: 'COUNTROWS ( Sales )'}\n"
        f"  - {{name: Last Week, expression: '{blocked} ( MAX ( Sales[Day] ) )'}}\n", encoding="utf-8")
    (root / "measures" / "sales.tests.yaml").write_text(
        "given:\n  Sales:\n    columns: [Id, Day, Amount]\n    rows:\n      - [1, 2024-01-01, 10]\n"
        "      - [2, 2024-01-02, 20]\n"
        "tests:\n  - name: total\n    expect:\n      Total Amount: 30\n", encoding="utf-8")
    return root


def test_untested_and_unevaluable_measures_fail_min_coverage(tmp_path):
    blocked = _unsupported()
    project = _small_project(tmp_path / "small", blocked)
    junit = tmp_path / "junit.xml"
    code, out, err = cli("test", "--project", project, "--min-coverage", "100", "--junit", junit)
    assert code == 1, out + err
    assert "1 passed, 0 failed" in out  # the exit code is the coverage gate's
    assert "[Sale Count] no test" in out
    [line] = [x for x in out.splitlines() if "[Last Week] engine cannot evaluate:" in x]
    assert line.startswith("measures/sales.yaml:") and blocked in line  # the blocking function, named
    assert "1 of 3 measures tested and evaluable (33.3 %)" in out  # only [Total Amount]
    suite = next(s for s in ET.parse(junit).getroot() if s.get("name") == "measure coverage")
    assert {p.get("name"): p.get("value") for p in suite.find("properties")}["coverage"] == "33.3"
    failed = {c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None}
    assert failed == {"[Sale Count]", "[Last Week]"}


def test_coverage_alone_reports_without_failing(tmp_path):
    project = _small_project(tmp_path / "small", _unsupported())
    edit(project / "measures" / "sales.tests.yaml", "      Total Amount: 30\n", "      Total Amount: 30\n      Sale Count: 2\n")
    code, out, err = cli("test", "--project", project, "--coverage")
    assert code == 0, out + err
    assert "[Last Week] no test" in out and "(33.3 %)" not in out and "2 of 3" in out
    code, out, err = cli("test", "--project", project, "--min-coverage", "60")
    assert code == 0 and "2 of 3 measures tested and evaluable (66.7 %)" in out
    code, out, err = cli("test", "--project", project, "--min-coverage", "70")
    assert code == 1 and "below --min-coverage 70" in out


def test_review_commands_are_registered():
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "--help"], capture_output=True, text=True,
                          cwd=REPO)
    for name in ("diff", "docs", "lineage"):
        assert name in done.stdout


def test_a_changed_relationship_reaches_the_measures_over_its_tables(built, tmp_path):
    """Filtering Dim_Channel both ways changes no grand total: nothing filters Fact_Orders."""
    base, after = copy_project(tmp_path / "base"), copy_project(tmp_path / "after")
    edit(after / "semantic" / "model.yaml", "    to: Dim_Channel[Channel_ID]\n",
         "    to: Dim_Channel[Channel_ID]\n    cross_filter: both\n")
    code, out, err = cli("diff", base, "--project", after, "--out", built, "--format", "json", "--fail-on-change")
    assert code == 0, err
    doc = json.loads(out)
    assert [(c["kind"], c["status"], c["details"]) for c in doc["changes"]] == [
        ("relationship", "changed", ["cross_filter: 'single' -> 'both'"])]
    reached = {r["name"] for r in doc["reached"] if r["kind"] == "measure"}
    assert {"Total Orders", "Orders per Customer", "Customers in Band"} <= reached
    orders = (built / "data" / "Fact_Orders.parquet").as_posix()
    n, customers = duckdb.connect().execute(
        f"SELECT count(*), count(DISTINCT Customer_ID) FROM read_parquet('{orders}')").fetchone()
    [row] = [r for r in doc["values"] if r["measure"] == "Orders per Customer"]
    assert row["before"]["value"] == row["after"]["value"] == pytest.approx(n / customers, rel=1e-12)
