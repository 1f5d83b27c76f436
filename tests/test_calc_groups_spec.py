"""Calculation groups in YAML and TMDL: positions of bad input, Desktop's TMDL shape, TOM."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.cli import main
from generator.emit.tmdl import table_tmdl
from generator.spec import load_project

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    for part in ("semantic", "measures"):
        shutil.copytree(REPO / part, tmp_path / part)
    return tmp_path


def _group_file(project: Path) -> Path:
    return project / "semantic" / "calculation_groups" / "Time_Intelligence.yaml"


def _build(project: Path, capsys) -> tuple[int, str]:
    code = main(["build", "--project", str(project), "--out", str(project / "out"), "--no-tom"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_syntax_error_in_an_item_names_file_line_and_column(project, capsys):
    f = _group_file(project)
    f.write_text(f.read_text().replace("expression: SELECTEDMEASURE ()\n", "expression: SELECTEDMEASURE ( +\n", 1))
    code, out = _build(project, capsys)
    assert code == 2
    assert "Time_Intelligence.yaml:10:36: error: calculation item 'Time Intelligence'[Current]" in out
    assert not (project / "out").exists()


def test_unknown_reference_in_an_item(project, capsys):
    f = _group_file(project)
    f.write_text(f.read_text().replace("expression: SELECTEDMEASURE ()\n", "expression: SELECTEDMEASURE () + [Nope]\n", 1))
    code, out = _build(project, capsys)
    assert code == 2 and "unknown measure or column [Nope]" in out


def test_two_groups_with_one_precedence_are_refused(project, capsys):
    (project / "semantic" / "calculation_groups" / "b.yaml").write_text(
        "name: Other\nprecedence: 10\nitems:\n  - {name: A, expression: SELECTEDMEASURE()}\n")
    code, out = _build(project, capsys)
    assert code == 2
    assert "b.yaml:1:1: error: calculation groups 'Time Intelligence' and 'Other' have the same precedence 10" in out


def test_duplicate_item_names_are_refused(project, capsys):
    f = _group_file(project)
    f.write_text(f.read_text().replace("  - name: YTD\n", "  - name: PY\n", 1))
    code, out = _build(project, capsys)
    assert code == 2 and "duplicate calculation item 'PY'" in out


def test_tmdl_has_desktops_calculation_group_shape():
    model = load_project(REPO)
    text = table_tmdl(model, model.table("Time Intelligence"), {})
    lines = text.splitlines()
    assert lines[1] == "table 'Time Intelligence'"
    assert "\tcalculationGroup" in lines and "\t\tprecedence: 10" in lines
    assert "\t\tcalculationItem PY = CALCULATE ( SELECTEDMEASURE (), SAMEPERIODLASTYEAR ( Dim_Date[Date] ) )" in lines
    assert '\t\t\tformatStringDefinition = "0.0%"' in lines
    # the item column reads the items' Name and sorts by Ordinal, as Desktop saves it
    i = lines.index("\tcolumn 'Time Calculation'")
    assert lines[i + 1:i + 6] == ["\t\tdataType: string", lines[i + 2], "\t\tsummarizeBy: none",
                                  "\t\tsourceColumn: Name", "\t\tsortByColumn: Ordinal"]
    assert not any(line.lstrip().startswith("partition") for line in lines)


# ------------------------------------------------------------ row-level security roles

def _model_file(project: Path) -> Path:
    return project / "semantic" / "model.yaml"


def test_role_on_an_unknown_table_names_the_line(project, capsys):
    f = _model_file(project)
    f.write_text(f.read_text().replace("      User_Country: User_Country[Email]", "      User_Countries: User_Country[Email]", 1))
    code, out = _build(project, capsys)
    assert code == 2
    assert "role 'Sales Region' filters table 'User_Countries', which does not exist" in out
    assert "did you mean" in out.lower() or "User_Country" in out


def test_role_filter_with_an_unknown_column_is_a_dax_error(project, capsys):
    f = _model_file(project)
    f.write_text(f.read_text().replace('User_Country[Email] = USERPRINCIPALNAME ()', 'User_Country[Mail] = USERPRINCIPALNAME ()', 1))
    code, out = _build(project, capsys)
    assert code == 2 and "model.yaml:38:85: error: role 'Sales Region' filter on 'Dim_Customer'" in out
    assert "column 'Mail' not found in table 'User_Country'" in out


def test_role_tmdl_as_desktop_writes_it():
    from generator.emit.tmdl import model_tmdl, role_tmdl

    model = load_project(REPO)
    text = role_tmdl(model, model.role("Sales Region"), {})
    assert "role 'Sales Region'\n\tmodelPermission: read\n" in text
    assert "\ttablePermission User_Country = User_Country[Email] = USERPRINCIPALNAME ()\n" in text
    assert "ref role 'Sales Region'" in model_tmdl(model)
