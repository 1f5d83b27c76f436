"""Many-to-many and bidirectional relationships in YAML and TMDL: the schema, Desktop's TMDL
shape, TOM acceptance, and the load-time ambiguity rule with positions.

Rules: learn.microsoft.com/power-bi/transform-model/desktop-relationships-understand
(cardinality many-to-many; one active filter path between two tables, "Relationship path
ambiguity"); TMDL properties fromCardinality/toCardinality/crossFilteringBehavior:
learn.microsoft.com/analysis-services/tmdl/tmdl-overview and the TOM SingleColumnRelationship
reference (FromCardinality, ToCardinality, CrossFilteringBehavior).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.cli import main
from generator.emit.tmdl import relationships_tmdl
from generator.spec import load_project
from generator.validate import tom

REPO = Path(__file__).resolve().parents[1]
ANCHOR = "  - from: Fact_Orders[Channel_ID]\n    to: Dim_Channel[Channel_ID]\n"
M2M = ("  - from: Dim_Customer[Country]\n    to: User_Country[Country]\n"
       "    cardinality: many_to_many\n    cross_filter: both\n")


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    for part in ("semantic", "measures"):
        shutil.copytree(REPO / part, tmp_path / part)
    return tmp_path


def _add(project: Path, text: str) -> int:
    """Append relationships after the Channel one; returns the line the first one starts on."""
    f = project / "semantic" / "model.yaml"
    src = f.read_text()
    assert ANCHOR in src
    line = src.split(ANCHOR)[0].count("\n") + ANCHOR.count("\n") + 1
    f.write_text(src.replace(ANCHOR, ANCHOR + text, 1))
    return line


def _build(project: Path, capsys, *extra: str) -> tuple[int, str]:
    code = main(["build", "--project", str(project), "--out", str(project / "out"), "--rows", "2000", *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_many_to_many_loads_and_emits_desktops_tmdl(project):
    _add(project, M2M)
    model = load_project(project)
    r = next(r for r in model.relationships if r.from_table == "Dim_Customer")
    assert r.many_to_many and r.cross_filter == "both" and r.to_table == "User_Country"
    block = relationships_tmdl(model).split("relationship ")[-1]
    # Desktop writes a many-to-many relationship with both cardinalities many
    assert "\tfromCardinality: many\n\ttoCardinality: many\n" in block
    assert "\tcrossFilteringBehavior: bothDirections\n" in block
    assert "fromColumn: Dim_Customer.Country" in block and "toColumn: User_Country.Country" in block
    # the default (many-to-one) writes no cardinality, as before
    assert "Cardinality" not in relationships_tmdl(load_project(REPO))


def test_unknown_cardinality_names_the_position(project, capsys):
    line = _add(project, M2M.replace("many_to_many", "one_to_many"))
    code, out = _build(project, capsys, "--no-tom")
    assert code == 2 and "Traceback" not in out
    assert f"semantic/model.yaml:{line + 2}:" in out and "one_to_many" in out
    assert not (project / "out").exists()


def test_a_second_active_path_through_a_many_to_many_is_refused_naming_both(project, capsys):
    # Dim_Customer *-* Dim_Channel on Country/Channel_Name would give filters on Dim_Channel a
    # second path to Fact_Orders (directly, and through Dim_Customer): refused at load, with
    # every relationship of both paths and its file:line:col
    line = _add(project, "  - from: Dim_Customer[Country]\n    to: Dim_Channel[Channel_Name]\n"
                         "    cardinality: many_to_many\n")
    code, out = _build(project, capsys, "--no-tom")
    assert code == 2 and "Traceback" not in out
    assert f"semantic/model.yaml:{line}:5: error: ambiguous relationships: filters on 'Dim_Channel' reach " \
           "'Fact_Orders' along two active paths" in out
    assert "Fact_Orders[Customer_ID] -> Dim_Customer[Customer_ID] at semantic/model.yaml:" in out
    assert f"Dim_Customer[Country] -> Dim_Channel[Channel_Name] at semantic/model.yaml:{line}:5" in out
    assert not (project / "out").exists()
    # inactive, it is accepted (USERELATIONSHIP switches to it where needed)
    f = project / "semantic" / "model.yaml"
    f.write_text(f.read_text().replace("    cardinality: many_to_many\n", "    cardinality: many_to_many\n"
                                       "    active: false\n", 1))
    assert load_project(project).relationships[-1].active is False


@pytest.mark.skipif(not tom.available(), reason="Microsoft TOM (pythonnet + AnalysisServices DLLs) is not installed")
def test_tom_accepts_a_model_with_a_bidirectional_many_to_many(project, capsys):
    _add(project, M2M)
    code, out = _build(project, capsys, "--no-tom")
    assert code == 0, out
    definition = next((project / "out").glob("*.SemanticModel/definition"))
    assert "toCardinality: many" in (definition / "relationships.tmdl").read_text()
    result = tom.check(definition)
    assert result["ok"], result["errors"]
    assert result["summary"]["relationships"] == 5
