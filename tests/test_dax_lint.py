"""Lint rules, per-object disabling and the three output formats."""
import json
import shutil
from dataclasses import replace
from pathlib import Path

from generator.cli import main
from generator.dax.lint import RULES, has_errors, lint_model, render_json, render_sarif, render_text
from generator.spec.model import (
    Binding, CalculatedColumn, ExprOrigin, Page, Pos, Relationship, Visual,
)
from tests.test_dax_analysis import col, measure, model, table


def rules_of(findings, subject=None):
    return sorted((f.rule, f.subject) for f in findings if subject is None or f.subject == subject)


def base(*measures, **kw):
    return model(*measures, **kw)


def test_expression_rules():
    m = base(
        measure("Sales", "SUM(Sales[Amount])", format="#,0", description="d"),
        measure("Ratio", "[Sales] / COUNTROWS(Sales) + [Sales] / 2 + [Sales] / -2", format="0", description="d"),
        measure("Bare", "SUMX(Sales, [Amount])", format="0", description="d"),
        measure("Prefixed", "Sales[Sales] * 2", format="0", description="d"),
        measure("Err", "IFERROR([Sales] / 1, 0)", format="0", description="d"),
        measure("Filt", "CALCULATE([Sales], FILTER(Sales, Sales[Qty] > 1 && Sales[Amount] < 5))",
                format="0", description="d"),
        measure("FiltOk", "CALCULATE([Sales], FILTER(Sales, [Sales] > 1), FILTER(ALL(Sales), Sales[Qty] > 1))",
                format="0", description="d"),
    )
    found = [(f.rule, f.subject) for f in lint_model(m) if f.rule in ("DAX001", "DAX007", "DAX008", "DAX009", "DAX010")]
    assert sorted(found) == [
        ("DAX001", "Ratio"), ("DAX007", "Bare"), ("DAX007", "Customer[Label]"),  # [City] in the fixture
        ("DAX008", "Prefixed"), ("DAX009", "Err"), ("DAX010", "Filt"),
    ]
    (division,) = [f for f in lint_model(m) if f.rule == "DAX001"]
    assert division.message == "measure 'Ratio' divides with '/' (DAX 1:1)"
    assert str(division.pos) == "measures/sales.yaml:10:17"


def test_model_rules_format_description_relationship_unused():
    both = Relationship("Sales", "CustomerID", "Customer", "ID", Pos("semantic/model.yaml", 14, 5), "both")
    m = base(measure("Sales", "SUM(Sales[Amount])"), measure("Used", "[Sales]", format="0", description="x"))
    m = replace(m, relationships=(both,))
    visual = Visual("v", "card", (Binding("values", "Sales", "Used", "measure", Pos("p.yaml", 3, 3)),
                                  Binding("category", "Customer", "City", "column", Pos("p.yaml", 4, 3))),
                    Pos("p.yaml", 2, 3))
    m = replace(m, pages=(Page("p1", "Page", 1, (visual,), Pos("p.yaml", 1, 1)),))
    found = lint_model(m)
    assert ("DAX002", "Sales") in rules_of(found) and ("DAX003", "Sales") in rules_of(found)
    assert ("DAX002", "Used") not in rules_of(found)
    assert ("DAX004", "Sales[CustomerID]") in rules_of(found)
    unused_measures = [f.subject for f in found if f.rule == "DAX006"]
    assert unused_measures == []  # Sales is used by Used, Used by the visual
    unused_columns = sorted(f.subject for f in found if f.rule == "DAX005")
    assert "Customer[City]" not in unused_columns and "Sales[Amount]" not in unused_columns
    assert "Sales[CustomerID]" not in unused_columns  # relationship
    assert "Sales[Qty]" in unused_columns and "Date[Year]" in unused_columns


def test_text_measures_need_no_format_string():
    m = base(
        measure("Sales", "SUM(Sales[Amount])", format="0", description="d"),
        measure("Label", '"Total: " & [Sales]', description="d"),
        measure("TopCity", "IF(NOT ISBLANK([Sales]), MAXX(TOPN(1, VALUES(Customer[City]), [Sales]), "
                           "Customer[City]))", description="d"),
        measure("Picked", "VAR c = [TopCity] RETURN SWITCH(TRUE(), c = \"x\", [TopCity], [Label])",
                description="d"),
        measure("Formatted", 'FORMAT([Sales], "0.0")', description="d"),
        measure("Number", "IF([Sales] > 0, MAXX(Sales, Sales[Qty]))", description="d"),
    )
    assert [f.subject for f in lint_model(m) if f.rule == "DAX002"] == ["Number"]


def test_calculated_column_that_aggregates():
    agg = CalculatedColumn("Total", "double", "CALCULATE(SUM(Sales[Amount]))", Pos("c.yaml", 1, 1),
                           ExprOrigin("c.yaml", 2, 17))
    row = CalculatedColumn("Net", "double", "Extra[X] * 2", Pos("c.yaml", 3, 1), ExprOrigin("c.yaml", 4, 17))
    m = base(extra_tables=(table("Extra", col("X"), calculated=[agg, row]),))
    assert [f.subject for f in lint_model(m) if f.rule == "DAX011"] == ["Extra[Total]"]


def test_invalid_dax_is_an_error_and_fails_lint():
    m = base(measure("Bad", "SUM(Sales[Amout])", format="0", description="d"))
    findings = lint_model(m)
    (err,) = [f for f in findings if f.rule == "DAX000"]
    assert err.severity == "error" and err.hint == "did you mean 'Amount'?"
    assert has_errors(findings)
    assert not has_errors([f for f in findings if f.rule != "DAX000"])


def test_disabling_per_object_file_and_model():
    m = base(measure("Sales", "SUM(Sales[Amount])", lint_disable=("DAX002",)))
    rules = rules_of(lint_model(m), "Sales")
    assert ("DAX002", "Sales") not in rules and ("DAX003", "Sales") in rules
    assert ("DAX003", "Sales") not in rules_of(lint_model(m, {"sales": ["DAX003"]}))
    assert [f for f in lint_model(m, {"*": ["DAX005", "DAX003", "DAX006"]}) if f.rule in ("DAX005", "DAX006")] == []
    m2 = replace(m, lint_disable=("DAX005",))
    assert [f for f in lint_model(m2) if f.rule == "DAX005"] == []
    t = replace(m.tables[2], lint_disable=("DAX005",))  # table-level disable covers its columns
    m3 = replace(m, tables=(m.tables[0], m.tables[1], t))
    assert not any(f.subject.startswith("Date[") for f in lint_model(m3) if f.rule == "DAX005")


def test_renderers():
    m = base(measure("Sales", "SUM(Sales[Amout])"))
    findings = lint_model(m)
    text = render_text(findings)
    assert "measures/sales.yaml:10:21: error DAX000: measure 'Sales', DAX 1:5: column 'Amout'" in text
    assert text.splitlines()[-1].startswith("1 error(s), ")
    rows = json.loads(render_json(findings))
    assert rows[0]["rule"] in RULES and {"file", "line", "col"} <= set(rows[0]["pos"] or {"file", "line", "col"})
    sarif = json.loads(render_sarif(findings))
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == list(RULES)
    first = next(r for r in run["results"] if r["ruleId"] == "DAX000")
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "measures/sales.yaml"}, "region": {"startLine": 10, "startColumn": 21}
    }
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "DAX000"



# ---------------------------------------------------------------- --min-severity

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "dax" / "project"


def _project_with_a_warning(tmp_path: Path, error: bool = False) -> Path:
    """The fmt/lint fixture (2 info findings: unused [Share], unused Sales[Channel_Name])
    plus one measure dividing with '/' (DAX001, a warning) and, with `error`, one bad column."""
    for part in ("semantic", "measures"):
        shutil.copytree(FIXTURE / part, tmp_path / part)
    sales = tmp_path / "measures" / "sales.yaml"
    sales.write_text(sales.read_text(encoding="utf-8") + (
        "  - name: Per Channel\n"
        "    expression: '[Named Channels] / [Channels]'\n"
        "    format: '0.0'\n"
        "    description: Names per channel.\n"
    ) + ("  - name: Broken\n    expression: 'COUNTROWS ( Nope )'\n    format: '0'\n    description: x\n"
         if error else ""), encoding="utf-8")
    return tmp_path


def _lint(capsys, project: Path, *extra: str) -> tuple[int, list[tuple[str, str]]]:
    code = main(["lint", "--project", str(project), "--format", "json", *extra])
    rows = json.loads(capsys.readouterr().out)
    return code, sorted((r["severity"], r["rule"]) for r in rows)


def test_min_severity_filters_the_findings(tmp_path, capsys):
    project = _project_with_a_warning(tmp_path)
    everything = [("info", "DAX005"), ("info", "DAX006"), ("info", "DAX006"), ("warning", "DAX001")]
    assert _lint(capsys, project) == (0, everything)  # [Per Channel] is unused too
    assert _lint(capsys, project, "--min-severity", "info") == (0, everything)
    assert _lint(capsys, project, "--min-severity", "warning") == (0, [("warning", "DAX001")])
    assert _lint(capsys, project, "--min-severity", "error") == (0, [])


def test_min_severity_keeps_errors_and_the_exit_code(tmp_path, capsys):
    project = _project_with_a_warning(tmp_path, error=True)
    code, found = _lint(capsys, project, "--min-severity", "error")
    assert (code, found) == (1, [("error", "DAX000")])
    main(["lint", "--project", str(project), "--min-severity", "warning"])
    assert capsys.readouterr().out.strip().splitlines()[-1] == "1 error(s), 1 warning(s), 0 info"


def test_min_severity_rejects_an_unknown_level(tmp_path, capsys):
    assert main(["lint", "--project", str(_project_with_a_warning(tmp_path)), "--min-severity", "notice"]) == 2
    assert "invalid choice: 'notice'" in capsys.readouterr().err
