"""Bad input: one clear message per problem with file:line:column, exit code 2, nothing written."""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.cli import main


def _edit(project: Path, rel: str, old: str, new: str) -> None:
    path = project / rel
    text = path.read_text()
    assert old in text, f"fixture text not found in {rel}: {old!r}"
    path.write_text(text.replace(old, new, 1))


CASES = {
    "malformed YAML": (
        "measures/kpis.yaml", "folder: KPIs\n", "folder: [KPIs\n",
        "measures/kpis.yaml:4:9: error: invalid YAML: while parsing a flow sequence expected ',' or ']'"),
    "unknown key": (
        "semantic/tables/Dim_Channel.yaml", "  - {name: Channel_Name, type: string}",
        "  - {name: Channel_Name, type: string, colour: red}",
        "semantic/tables/Dim_Channel.yaml:9:40: error: unknown key 'colour'"),
    "wrong type": (
        "semantic/tables/Dim_Channel.yaml", "  - {name: Channel_Name, type: string}",
        "  - {name: Channel_Name, type: text}",
        "semantic/tables/Dim_Channel.yaml:9:32: error: columns.1.type: 'text' is not one of string, int64"),
    "relationship to a missing column": (
        "semantic/model.yaml", "to: Dim_Channel[Channel_ID]", "to: Dim_Channel[Channel_Key]",
        "semantic/model.yaml:{line}:9: error: relationship to: column 'Channel_Key' does not exist in table "
        "'Dim_Channel'"),
    "duplicate measure names": (
        "measures/loyalty.yaml", "  - name: Orders per Customer",
        "  - name: Total Orders\n    expression: COUNTROWS(Fact_Orders)\n  - name: Orders per Customer",
        "measures/loyalty.yaml:24:5: error: duplicate measure name 'Total Orders' (first defined at "
        "measures/kpis.yaml:9:5)"),
    "visual bound to a missing measure": (
        "semantic/pages/01_customer_snapshot.yaml", "field: '[Total Orders]'", "field: '[Total Order]'",
        "semantic/pages/01_customer_snapshot.yaml:6:70: error: visual binds to missing measure '[Total Order]'"),
    "misspelt column in a measure": (
        "measures/kpis.yaml", "SUM ( Fact_Orders[Revenue] )", "SUM ( Fact_Orders[Revenu] )",
        "measures/kpis.yaml:{line}:23: error: measure 'Total Revenue', DAX 1:7: column 'Revenu' not found in table "
        "'Fact_Orders'\n    hint: did you mean 'Revenue'?"),
    "unreadable source file": (
        "semantic/tables/Dim_Channel.yaml",
        "source:\n  generator: channels\n  params:\n    channels: {Online: 45, Mobile App: 30, In-Store: 18, "
        "Marketplace: 7}\n", "source:\n  csv: ../data/channels.csv\n",
        "semantic/tables/Dim_Channel.yaml:4:8: error: source file not found: ../data/channels.csv"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_names_the_position_exits_2_and_writes_nothing(case, project, tmp_path, capsys):
    rel, old, new, expected = CASES[case]
    line = 1 + (project / rel).read_text().split(old)[0].count("\n")  # where the edit lands
    expected = expected.replace("{line}", str(line))
    _edit(project, rel, old, new)
    out = tmp_path / "powerbi"
    code = main(["build", "--project", str(project), "--out", str(out), "--no-tom", "--rows", "2000"])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err, err
    assert err.count("error:") == 1, f"one problem, one message: {err}"
    assert "Traceback" not in err
    assert "nothing was written" in err
    assert not out.exists() or not any(out.iterdir())
    assert not any(p.name.startswith(".powerbi.staging") for p in tmp_path.iterdir())


def test_a_failed_build_leaves_the_previous_output_untouched(project, tmp_path):
    out = tmp_path / "powerbi"
    assert main(["build", "--project", str(project), "--out", str(out), "--no-tom", "--rows", "2000"]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    _edit(project, "measures/kpis.yaml", "folder: KPIs\n", "folder: [KPIs\n")
    assert main(["build", "--project", str(project), "--out", str(out), "--no-tom", "--rows", "2000"]) == 2
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
