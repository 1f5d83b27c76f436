"""Bad input: one clear message per problem with file:line:column, exit code 2, nothing written."""
from __future__ import annotations

import hashlib
import json
import shutil
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


# ---------------------------------------------------------------------------------------
# Model integrity and containment ("trust-integrity"): what Power BI would refuse, and
# names or manifest entries that would make the build write or delete outside its folder.
# Each case: edits (file, old, new), extra files to create, the expected message.
# ---------------------------------------------------------------------------------------

_CHANNEL_CSV = "source:\n  csv: ../../data/channels.csv\n"
_CHANNEL_GENERATOR = ("source:\n  generator: channels\n  params:\n    channels: {Online: 45, Mobile App: 30, "
                      "In-Store: 18, Marketplace: 7}\n")
_CHANNEL_REL = "  - from: Fact_Orders[Channel_ID]\n    to: Dim_Channel[Channel_ID]\n"
_BAND_ROW = "      - {Band: 1 order, Band_Order: 1, Min_Orders: 1, Max_Orders: 1}\n"

INTEGRITY_CASES = {
    "duplicate value on the one side": (
        [("semantic/tables/Dim_Channel.yaml", _CHANNEL_GENERATOR, _CHANNEL_CSV)],
        {"data/channels.csv": "Channel_ID,Channel_Name\n1,Online\n2,Mobile App\n2,In-Store\n4,Marketplace\n"},
        "semantic/model.yaml:27:5: error: relationship Fact_Orders[Channel_ID] -> Dim_Channel[Channel_ID]: "
        "column 'Channel_ID' in table 'Dim_Channel' contains a duplicate value '2' (2 rows), and this is not "
        "allowed for columns on the one side of a many-to-one relationship"),
    "several duplicate values on the one side": (
        [("semantic/tables/Dim_Channel.yaml", _CHANNEL_GENERATOR, _CHANNEL_CSV)],
        {"data/channels.csv": "Channel_ID,Channel_Name\n1,a\n1,b\n1,c\n2,d\n2,e\n3,f\n3,g\n4,h\n4,i\n"},
        "semantic/model.yaml:27:5: error: relationship Fact_Orders[Channel_ID] -> Dim_Channel[Channel_ID]: "
        "column 'Channel_ID' in table 'Dim_Channel' contains 4 duplicate values: '1' (3 rows), '2' (2 rows), "
        "'3' (2 rows), and 1 more, and this is not allowed"),
    "blank value on the one side": (
        [("semantic/tables/Dim_Channel.yaml", _CHANNEL_GENERATOR, _CHANNEL_CSV)],
        {"data/channels.csv": "Channel_ID,Channel_Name\n1,Online\n2,Mobile App\n,In-Store\n4,Marketplace\n"},
        "semantic/model.yaml:27:5: error: relationship Fact_Orders[Channel_ID] -> Dim_Channel[Channel_ID]: "
        "column 'Channel_ID' in table 'Dim_Channel' contains blank values (1 row), and this is not allowed "
        "for columns on the one side of a many-to-one relationship"),
    "duplicate in a key column": (
        [("semantic/tables/Order_Frequency_Band.yaml", "  - {name: Band, type: string",
          "  - {name: Band, type: string, key: true"),
         ("semantic/tables/Order_Frequency_Band.yaml", _BAND_ROW, _BAND_ROW + _BAND_ROW.replace("1 order", "'1 ORDER '"))],
        {},
        "semantic/tables/Order_Frequency_Band.yaml:15:5: error: column 'Band' in table "
        "'Order_Frequency_Band' contains a duplicate value '1 ORDER ' (2 rows), and this is not allowed for a "
        "column marked key: true"),
    "relationship between an int64 and a string column": (
        [("semantic/tables/Dim_Channel.yaml", "{name: Channel_ID, type: int64", "{name: Channel_ID, type: string")],
        {},
        "semantic/model.yaml:27:5: error: relationship Fact_Orders[Channel_ID] -> Dim_Channel[Channel_ID] relates "
        "columns of different types: Fact_Orders[Channel_ID] is int64, Dim_Channel[Channel_ID] is string"),
    "relationship cycle": (
        [("semantic/model.yaml", _CHANNEL_REL, _CHANNEL_REL + "  - from: Dim_Channel[Channel_ID]\n"
                                                           "    to: Fact_Orders[Order_ID]\n")],
        {},
        "semantic/model.yaml:29:5: error: relationship cycle: Fact_Orders -> Dim_Channel -> Fact_Orders"),
    "two active paths between two tables": (
        [("semantic/model.yaml", _CHANNEL_REL, _CHANNEL_REL + "  - from: Dim_Customer[Signup_Date]\n"
                                                           "    to: Dim_Date[Date]\n")],
        {},
        "semantic/model.yaml:29:5: error: ambiguous relationships: filters on 'Dim_Date' reach 'Fact_Orders' along "
        "two active paths: Dim_Date -> Fact_Orders and Dim_Date -> Dim_Customer -> Fact_Orders"),
    "duplicate relationship": (
        [("semantic/model.yaml", _CHANNEL_REL, _CHANNEL_REL + "  - from: fact_orders[channel_id]\n"
                                                           "    to: Dim_Channel[Channel_ID]\n    active: false\n")],
        {},
        "semantic/model.yaml:29:5: error: duplicate relationship Fact_Orders[channel_id] -> "
        "Dim_Channel[Channel_ID] (first defined at semantic/model.yaml:27:5)"),
    "table related to itself": (
        [("semantic/model.yaml", _CHANNEL_REL, _CHANNEL_REL + "  - from: Fact_Orders[Customer_ID]\n"
                                                           "    to: Fact_Orders[Order_ID]\n")],
        {},
        "semantic/model.yaml:29:5: error: relationship Fact_Orders[Customer_ID] -> Fact_Orders[Order_ID] relates "
        "table 'Fact_Orders' to itself"),
    "calculated column that refers to itself": (
        [("semantic/tables/Dim_Customer.yaml", "          Dim_Customer[Age] <= 30,\n",
          "          Dim_Customer[Age_Group] = \"x\",\n")],
        {},
        "semantic/tables/Dim_Customer.yaml:{line}:11: error: calculated column 'Dim_Customer'[Age_Group], DAX 3:5: "
        "refers to itself: Dim_Customer[Age_Group] -> Dim_Customer[Age_Group]"),
    "calculated columns in a cycle": (
        [("semantic/tables/Dim_Customer.yaml", "          Dim_Customer[Age] <= 30,\n          \"18-30\",\n",
          "          Dim_Customer[Age_Group_Order] <= 1,\n          \"18-30\",\n"),
         ("semantic/tables/Dim_Customer.yaml", "          Dim_Customer[Age] <= 30,\n          1,\n",
          "          Dim_Customer[Age_Group] = \"18-30\",\n          1,\n")],
        {},
        "semantic/tables/Dim_Customer.yaml:{line}:11: error: calculated column 'Dim_Customer'[Age_Group], DAX 3:5: "
        "is part of a circular dependency: Dim_Customer[Age_Group] -> Dim_Customer[Age_Group_Order] -> "
        "Dim_Customer[Age_Group]"),
    "calculated column in a cycle through a measure": (
        [("semantic/tables/Dim_Customer.yaml", "IF ( Dim_Customer[Children] > 0", "IF ( [Looping] > 0"),
         ("measures/kpis.yaml", "measures:\n", "measures:\n  - name: Looping\n    expression: COUNTROWS ( FILTER "
                                "( Dim_Customer, Dim_Customer[Children_Status] = \"x\" ) )\n")],
        {},
        "semantic/tables/Dim_Customer.yaml:{line}:22: error: calculated column 'Dim_Customer'[Children_Status], "
        "DAX 1:6: is part of a circular dependency: Dim_Customer[Children_Status] -> [Looping] -> "
        "Dim_Customer[Children_Status]"),
    "measure folder that climbs out of the output": (
        [("measures/kpis.yaml", "folder: KPIs\n", "folder: '..\\..\\..\\..\\x'\n")],
        {},
        "measures/kpis.yaml:3:9: error: measure folder '..\\..\\..\\..\\x' cannot be a folder name: part '..': "
        "'..' would name a folder outside its own"),
    "measure folders that differ only in case": (
        [("measures/loyalty.yaml", "folder: Loyalty\n", "folder: kpis\n")],
        {},
        "measures/loyalty.yaml:3:9: error: measure folder 'kpis' differs only in case from 'KPIs' (at "
        "measures/kpis.yaml:3:9); they would be one folder on Windows and macOS"),
    "measure named NUL": (
        [("measures/kpis.yaml", "measures:\n", "measures:\n  - name: Nul\n    expression: 1\n")],
        {},
        "measures/kpis.yaml:5:11: error: measure name 'Nul' cannot be a file or folder name: 'Nul' is a reserved "
        "device name on Windows"),
    "table named CON": (
        [],
        {"semantic/tables/CON.yaml": "name: CON\nsource:\n  generator: rows\n  params:\n    rows:\n"
                                     "      - {a: 1}\ncolumns:\n  - {name: a, type: int64}\n"},
        "semantic/tables/CON.yaml:1:7: error: table name 'CON' cannot be a file or folder name: 'CON' is a "
        "reserved device name on Windows"),
    "page id that is a device name": (
        [("semantic/pages/01_customer_snapshot.yaml", "order: 1\n", "order: 1\nid: Lpt1\n")],
        {},
        "semantic/pages/01_customer_snapshot.yaml:3:5: error: page id 'Lpt1' cannot be a file or folder name: "
        "'Lpt1' is a reserved device name on Windows"),
    "visual names that differ only in case": (
        [("semantic/pages/01_customer_snapshot.yaml", "{name: kpi_total_orders,", "{name: KPI_Total_Customers,")],
        {},
        "semantic/pages/01_customer_snapshot.yaml:6:12: error: visual name 'KPI_Total_Customers' differs only in "
        "case from 'kpi_total_customers' (at semantic/pages/01_customer_snapshot.yaml:5:5); they would be one "
        "folder on Windows and macOS"),
}


def _break(project: Path, edits: list[tuple[str, str, str]], files: dict[str, str]) -> int:
    """Apply the edits and create the files; returns the line where the first edit lands."""
    line = 0
    if edits:
        rel, old, _ = edits[0]
        line = 1 + (project / rel).read_text().split(old)[0].count("\n")
    for rel, old, new in edits:
        _edit(project, rel, old, new)
    for rel, text in files.items():
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text(text)
    return line


def _build(project: Path, out: Path, *extra: str) -> int:
    return main(["build", "--project", str(project), "--out", str(out), "--no-tom", "--rows", "2000", *extra])


def _assert_refused(code: int, err: str, expected: str) -> None:
    assert code == 2
    assert expected in err, err
    assert err.count("error:") == 1, f"one problem, one message: {err}"
    assert "Traceback" not in err
    assert "nothing was written" in err


@pytest.mark.parametrize("case", sorted(INTEGRITY_CASES))
def test_model_integrity_is_checked_before_anything_is_written(case, project, tmp_path, capsys):
    edits, files, expected = INTEGRITY_CASES[case]
    expected = expected.replace("{line}", str(_break(project, edits, files)))
    out = tmp_path / "powerbi"
    code = _build(project, out)
    _assert_refused(code, capsys.readouterr().err, expected)
    assert not out.exists() or not any(out.iterdir())
    assert not any(p.name.startswith(".powerbi.") for p in tmp_path.iterdir())


def _tamper(out: Path, entries: dict[str, str | None]) -> None:
    path = out / ".pbi-forge-manifest.json"
    body = json.loads(path.read_text())
    body["files"].update(entries)
    path.write_text(json.dumps(body))


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _victim(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not pbi-forge's\n")
    return hashlib.sha256(path.read_bytes()).hexdigest()


MANIFEST_CASES = {
    # entry -> (file it points at, relative to tmp_path; whether the entry carries its hash; message)
    "a '..' entry with a matching hash": (
        "../project/semantic/extra.yaml", "project/semantic/extra.yaml", True, "it has a '..', '.' or empty part"),
    "an absolute entry with a matching hash": (
        "{abs}", "elsewhere/victim.txt", True, "it is an absolute path or not a POSIX path"),
    "a null hash outside data/": (
        "notes/readme.txt", "powerbi/notes/readme.txt", False, "it has no hash, and only data/ files may be unhashed"),
    "a null hash on a '..' entry under data/": (
        "data/../../elsewhere/victim.txt", "elsewhere/victim.txt", False, "it has a '..', '.' or empty part"),
}


@pytest.mark.parametrize("case", sorted(MANIFEST_CASES))
def test_a_manifest_entry_outside_the_output_is_refused_not_deleted(case, project, tmp_path, capsys):
    entry, victim_rel, hashed, why = MANIFEST_CASES[case]
    out = tmp_path / "powerbi"
    assert _build(project, out) == 0
    victim = tmp_path / victim_rel
    digest = _victim(victim)
    entry = entry.replace("{abs}", str(victim))
    _tamper(out, {entry: digest if hashed else None})
    before = _tree(tmp_path)
    capsys.readouterr()
    code = _build(project, out)
    expected = f"error: {out / '.pbi-forge-manifest.json'}: entry '{entry}': {why}; refusing to act on it"
    _assert_refused(code, capsys.readouterr().err, expected)
    assert victim.read_text() == "not pbi-forge's\n"
    assert _tree(tmp_path) == before


def test_a_symlink_out_of_the_output_is_neither_written_through_nor_deleted_through(project, tmp_path, capsys):
    out = tmp_path / "powerbi"
    assert _build(project, out) == 0
    outside = tmp_path / "elsewhere"
    shutil.move(out / "dax", outside)  # the generated dax/ tree now lives outside, reached by a symlink
    (out / "dax").symlink_to(outside, target_is_directory=True)
    _edit(project, "measures/kpis.yaml", "SUM ( Fact_Orders[Revenue] )", "SUM ( Fact_Orders[Revenue] ) + 0")
    before = _tree(outside)
    capsys.readouterr()
    code = _build(project, out)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "nothing was written" in err
    assert "resolves outside the output folder (through a symlink); refusing to act on it" in err, err
    assert _tree(outside) == before
