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




# ============================================================================ trust-input
# Hostile input to every command ends in a positioned message and exit 2 (or 1 for a
# failed check), never a traceback, and writes nothing. Positions below are worked out
# from the edit itself (the line and column where the offending text sits).

import io  # noqa: E402 - this section is self-contained so that sections merge cleanly
import os  # noqa: E402
import sys  # noqa: E402

from generator.cli import MAX_ROWS  # noqa: E402
from generator.spec.yamlpos import ALIAS_BUDGET  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BOMB = ("x0: &a [x, x, x, x, x, x, x, x, x]\n"
        "x1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "x2: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "x3: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "x4: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n")
# *a adds 10 values, *b 91, *c 820: 9*10 + 9*91 = 909, the first *c makes 1,729 > 1,000
BOMB_POS = "4:9"

TRUST_INPUT_YAML = {
    "alias bomb in a page file": (
        "semantic/pages/01_customer_snapshot.yaml", "name: Customer Snapshot\n", BOMB + "name: Customer Snapshot\n",
        f"semantic/pages/01_customer_snapshot.yaml:{BOMB_POS}: error: aliases expand to more than "
        f"{ALIAS_BUDGET:,} values in this file"),
    "merge key": (
        "semantic/tables/Dim_Channel.yaml", "source:\n  generator: channels\n",
        "source:\n  <<: {generator: channels}\n",
        "semantic/tables/Dim_Channel.yaml:4:3: error: merge keys (<<) are not supported"),
    "custom tag": (
        "measures/kpis.yaml", "folder: KPIs\n", "folder: !secret KPIs\n",
        "measures/kpis.yaml:3:9: error: the tag !secret is not supported"),
    "NUL byte": (
        "measures/kpis.yaml", "folder: KPIs\n", "folder: KP\x00Is\n",
        "measures/kpis.yaml:3:11: error: the character U+0000 is not allowed in YAML"),
    "lone surrogate escape": (
        "measures/kpis.yaml", "folder: KPIs\n", 'folder: "KPIs \\ud83d"\n',
        "measures/kpis.yaml:3:9: error: invalid escape: the lone surrogate U+D83D is not a character"),
    "recursive alias": (
        "measures/kpis.yaml", "folder: KPIs\n", "folder: &f [KPIs, *f]\n",
        "measures/kpis.yaml:3:19: error: alias *f refers to a node that contains it"),
    "generator param of the wrong type": (
        "semantic/tables/Fact_Orders.yaml", "growth: 0.6 ", "growth: abc ",
        "semantic/tables/Fact_Orders.yaml:8:13: error: source.params.growth: expected number, got str 'abc'"),
    "static row value of the wrong type": (
        "semantic/tables/Quadrant.yaml", "{Segment: V.I.P.s,", "{Segment: true,",
        "semantic/tables/Quadrant.yaml:9:19: error: static row 1 of 'Quadrant': Segment = True does not fit "
        "the string column"),
    "negative channel weight": (
        "semantic/tables/Dim_Channel.yaml", "Online: 45", "Online: -45",
        "semantic/tables/Dim_Channel.yaml:6:24: error: source.params.channels.Online: -45 is less than the "
        "minimum of 0"),
    "impossible start date": (
        "semantic/model.yaml", "start: '2021-01-01'", "start: '2021-02-30'",
        "semantic/model.yaml:{line}:10: error: synth.start: '2021-02-30' is not a date"),
    "start after end": (
        "semantic/model.yaml", "start: '2021-01-01'", "start: '2025-01-01'",
        "semantic/model.yaml:{line}:10: error: synth.start 2025-01-01 is after synth.end 2024-12-31"),
    "as_of is not a date": (
        "semantic/model.yaml", "as_of: Fact_Orders[Order_Date]", "as_of: '2024-13-45'",
        "semantic/model.yaml:{line}:8: error: as_of: '2024-13-45' is not a date"),
}


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


def _assert_input_error(code: int, err: str, expected: str, out: Path | None = None, problems: int = 1) -> None:
    assert code == 2, err
    assert expected in err, err
    assert f"\n{problems} problem{'s' if problems != 1 else ''}; nothing was written." in err, err
    assert "Traceback" not in err and "internal error" not in err
    if out is not None:
        assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("case", sorted(TRUST_INPUT_YAML))
def test_hostile_yaml_is_a_positioned_error(case, project, tmp_path, capsys):
    rel, old, new, expected = TRUST_INPUT_YAML[case]
    line = 1 + (project / rel).read_text().split(old)[0].count("\n")
    _edit(project, rel, old, new)
    out = tmp_path / "powerbi"
    code = _build(project, out)
    _assert_input_error(code, capsys.readouterr().err, expected.replace("{line}", str(line)), out)


def test_non_utf8_bytes_are_positioned(project, tmp_path, capsys):
    path = project / "measures/kpis.yaml"
    path.write_bytes(path.read_bytes().replace(b"folder: KPIs", b"folder: KP\xe9Is", 1))
    code = _build(project, tmp_path / "powerbi")
    _assert_input_error(code, capsys.readouterr().err,
                        "measures/kpis.yaml:3:11: error: the file is not UTF-8: byte 0xE9 cannot be decoded")


def test_symlink_loop_and_unreadable_yaml_are_positioned(project, tmp_path, capsys):
    tables = project / "semantic/tables"
    os.symlink("Loop_B.yaml", tables / "Loop_A.yaml")
    os.symlink("Loop_A.yaml", tables / "Loop_B.yaml")
    (tables / "Folder.yaml").mkdir()
    code = _build(project, tmp_path / "powerbi")
    err = capsys.readouterr().err
    _assert_input_error(code, err, "semantic/tables/Loop_A.yaml:1:1: error: cannot read file: Too many levels of "
                                   "symbolic links", problems=3)
    assert "semantic/tables/Loop_B.yaml:1:1: error: cannot read file: Too many levels of symbolic links" in err
    assert "semantic/tables/Folder.yaml:1:1: error: cannot read file: Is a directory" in err


# ---------------------------------------------------------------- command-line options


def _options(project: Path, tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    (tmp_path / "a_file").write_text("x")
    return {
        "negative rows": (["--rows", "-5"], f"argument --rows: must be between 1 and {MAX_ROWS:,}, got -5"),
        "zero rows": (["--rows", "0"], f"argument --rows: must be between 1 and {MAX_ROWS:,}, got 0"),
        "20-digit rows": (["--rows", "9" * 20], f"argument --rows: must be between 1 and {MAX_ROWS:,}, got "
                                                f"{'9' * 20}"),
        "rows not a number": (["--rows", "many"], "argument --rows: expected a whole number of orders, got 'many'"),
        "out at a file": (["--out", str(tmp_path / "a_file")], f"error: --out {tmp_path / 'a_file'} is a file, "
                                                                "not a folder"),
        "out at the project": (["--out", str(project)], f"error: --out {project} would hold the project itself"),
        "out inside semantic": (["--out", str(project / "semantic/out")],
                                f"error: --out {project / 'semantic/out'} is inside the project's YAML sources"),
        "schemas missing": (["--schemas", "/nonexistent"], "error: --schemas /nonexistent: no such folder"),
    }


@pytest.mark.parametrize("case", ["negative rows", "zero rows", "20-digit rows", "rows not a number", "out at a file",
                                  "out at the project", "out inside semantic", "schemas missing"])
def test_bad_options_exit_2_before_any_work(case, project, tmp_path, capsys):
    extra, expected = _options(project, tmp_path)[case]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    argv = ["build", "--project", str(project), "--no-tom", "--rows", "2000", "--out", str(tmp_path / "powerbi")]
    code = main(argv + extra)  # a repeated option: the last one wins
    err = capsys.readouterr().err
    assert code == 2, err
    assert expected in err, err
    assert "Traceback" not in err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


# ---------------------------------------------------------------- query


@pytest.mark.parametrize("dax, expected", [
    ("EVALUATE {1 +}", "<query>:1:14: error: DAX syntax error: expected an expression, found '}'"),
    ("", "<query>:1:1: error: DAX syntax error: the query is empty"),
    ("EVALUATE {" + "(" * 256 + "1" + ")" * 256 + "}",
     "<query>:1:267: error: DAX syntax error: expression is nested more than 256 levels deep"),
    # the braces are level 1, so the 256th parenthesis (column 11 + 255) is one too many
    ("EVALUATE {" + " + ".join(["1"] * 10_000) + "}", "error: the query nests more than 500 levels deep"),
])
def test_query_input_errors(dax, expected, capsys):
    code = main(["query", dax])
    err = capsys.readouterr().err
    assert code == 2, err
    assert expected in err, err
    assert "Traceback" not in err


def test_query_at_the_deepest_allowed_nesting_runs(capsys):
    if not (REPO / "powerbi/data").is_dir():
        pytest.skip("run `python build.py` first: the query reads powerbi/data/")
    # braces level 1, ABS( levels 2..254, the parenthesis 255, the sign 256: the deepest allowed
    text = "EVALUATE {" + "ABS(" * 253 + "(-2)" + ")" * 253 + "}"
    assert main(["query", "--project", str(REPO), "--format", "csv", text]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out == "[Value]\n2\n"


# ---------------------------------------------------------------- deep and long DAX in every command

LONG_CHAIN = " + ".join(["1"] * 10_000)
DEEP_NEST = "ABS(" * 255 + "-7" + ")" * 255  # the sign is level 256


def _add_measures(project: Path) -> None:
    with (project / "measures/kpis.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"  - name: Long Chain\n    expression: '{LONG_CHAIN}'\n"
                 f"  - name: Deep Nest\n    expression: '{DEEP_NEST}'\n")


@pytest.mark.parametrize("command, code", [("build", 0), ("lint", 0), ("fmt", 1)])
def test_deep_and_long_measures_survive_every_command(command, code, project, tmp_path, capsys):
    _add_measures(project)
    extra = ["--out", str(tmp_path / "powerbi"), "--no-tom", "--rows", "2000"] if command == "build" else []
    assert main([command, "--project", str(project), *extra]) == code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "internal error" not in captured.err, captured.err
    if command == "fmt":  # both are written on one line: the formatter breaks them up
        assert "measure 'Long Chain' is not formatted" in captured.out
        assert "measure 'Deep Nest' is not formatted" in captured.out


def test_measure_one_level_too_deep_is_positioned(project, tmp_path, capsys):
    with (project / "measures/kpis.yaml").open("a", encoding="utf-8") as fh:
        fh.write("  - name: Too Deep\n    expression: '" + "ABS(" * 257 + "1" + ")" * 257 + "'\n")
    lines = (project / "measures/kpis.yaml").read_text().count("\n")
    code = _build(project, tmp_path / "powerbi")
    # the argument of the 257th ABS( is level 257: DAX column 4 * 257 + 1, YAML column 18 + 1028
    _assert_input_error(code, capsys.readouterr().err,
                        f"measures/kpis.yaml:{lines}:1046: error: measure 'Too Deep', DAX 1:1029: syntax error: "
                        "expression is nested more than 256 levels deep")


def test_deep_measure_evaluates_in_measure_tests(project, tmp_path, capsys):
    _add_measures(project)
    for path in (project / "measures").glob("*.tests.yaml"):
        path.unlink()
    (project / "measures/deep.tests.yaml").write_text(
        "tests:\n  - name: deep\n    expect:\n      Deep Nest: 7\n")  # |−7| nested 255 times is 7
    assert main(["test", "--project", str(project)]) == 0, capsys.readouterr().err
    assert "1 passed, 0 failed" in capsys.readouterr().out


# ---------------------------------------------------------------- measure test files

TESTS_FILE = "measures/kpis.tests.yaml"
TRUST_INPUT_TESTS = {
    "unknown top-level key": ("tests:\n", "test:\n  - x\ntests:\n", "measures/kpis.tests.yaml:{line}:1: error: "
                                                                    "unknown key 'test'"),
    "unknown given table": ("  Dim_Date:\n    columns: [Date, Year, Month_Number]", "  Dim_Dates:\n    columns: "
                            "[Date, Year, Month_Number]", "measures/kpis.tests.yaml:{line}:3: error: given table "
                            "'Dim_Dates' is not a table of the model\n    hint: did you mean 'Dim_Date'?"),
    "unknown given column": ("columns: [Customer_ID, Country, Segment]", "columns: [Customer_ID, Countr, Segment]",
                             "measures/kpis.tests.yaml:{line}:28: error: 'Countr' is not a column of 'Dim_Customer'"),
    "short row": ("      - [2, Norway, Non-Prime]", "      - [2, Norway]",
                  "measures/kpis.tests.yaml:{line}:9: error: row 2 of 'Dim_Customer' has 2 values for 3 columns"),
    "long row": ("      - [2, Norway, Non-Prime]", "      - [2, Norway, Non-Prime, 7]",
                 "measures/kpis.tests.yaml:{line}:9: error: row 2 of 'Dim_Customer' has 4 values for 3 columns"),
    "value of the wrong type": ("      - [2, 2024-01-02, 1, 20.00]", "      - [2, 2024-01-02, 1, lots]",
                                "measures/kpis.tests.yaml:{line}:28: error: 'lots' does not fit the decimal "
                                "column Fact_Orders[Revenue]"),
    "impossible date in a row": ("      - [2, 2024-01-02, 1, 20.00]", "      - [2, 2024-02-30, 1, 20.00]",
                                 "measures/kpis.tests.yaml:{line}:13: error: '2024-02-30' does not fit the date "
                                 "column Fact_Orders[Order_Date]"),
    "tolerance of the wrong type": ("      Total Orders: 6\n", "      Total Orders: {value: 6, tolerance: big}\n",
                                    "measures/kpis.tests.yaml:{line}:21: error: tests.0.expect.Total Orders:"),
}


@pytest.mark.parametrize("case", sorted(TRUST_INPUT_TESTS))
def test_bad_measure_test_files_are_input_errors(case, project, tmp_path, capsys):
    old, new, expected = TRUST_INPUT_TESTS[case]
    line = 1 + (project / TESTS_FILE).read_text().split(old)[0].count("\n")
    _edit(project, TESTS_FILE, old, new)
    junit = tmp_path / "junit.xml"
    code = main(["test", "--project", str(project), "--junit", str(junit)])
    _assert_input_error(code, capsys.readouterr().err, expected.replace("{line}", str(line)))
    assert not junit.exists()


def test_junit_to_a_missing_folder_is_an_input_error(project, tmp_path, capsys):
    junit = tmp_path / "missing" / "junit.xml"
    code = main(["test", "--project", str(project), "--junit", str(junit)])
    _assert_input_error(code, capsys.readouterr().err, f"error: --junit {junit}: the folder {junit.parent} does not "
                                                       "exist")
    assert not junit.parent.exists()


# ---------------------------------------------------------------- the last resorts in main


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_stdout_ends_quietly(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    code = main(["lint", "--project", str(REPO), "--format", "json"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == ""


def test_an_internal_error_is_reported_without_a_traceback(monkeypatch, capsys):
    import generator.dax.commands as dax_commands

    def broken(args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(dax_commands, "cmd_lint", broken)
    assert main(["lint", "--project", str(REPO)]) == 70
    err = capsys.readouterr().err
    assert err.startswith("internal error: ZeroDivisionError: division by zero\n")
    assert "please report it" in err and "Traceback" not in err
    monkeypatch.setenv("PBI_FORGE_DEBUG", "1")
    assert main(["lint", "--project", str(REPO)]) == 70
    assert "Traceback (most recent call last)" in capsys.readouterr().err
