"""`build.py fmt` / `build.py lint` end to end on a copy of tests/fixtures/dax/project."""
import json
import shutil
from pathlib import Path

import pytest
import yaml

from generator.cli import main
from generator.errors import ForgeError

REPO = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "dax" / "project"


@pytest.fixture()
def project(tmp_path):
    for part in ("semantic", "measures"):
        shutil.copytree(FIXTURE / part, tmp_path / part)
    return tmp_path


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _without_expressions(node):
    if isinstance(node, dict):
        return {k: _without_expressions(v) for k, v in node.items() if k != "expression"}
    if isinstance(node, list):
        return [_without_expressions(v) for v in node]
    return node


def test_fmt_reports_then_writes_in_place(project, capsys):
    path = project / "measures" / "sales.yaml"
    before = path.read_text(encoding="utf-8")
    code, out, _ = run(capsys, "fmt", "--project", str(project))
    assert code == 1
    assert "measures/sales.yaml:5:17: measure 'Channels' is not formatted" in out
    assert "-COUNTROWS(Channel)\n+COUNTROWS ( Channel )\n" in out
    assert out.strip().splitlines()[-1] == "3 expressions not formatted; run `python build.py fmt --write`"
    assert path.read_text(encoding="utf-8") == before  # check only

    code, out, _ = run(capsys, "fmt", "--write", "--project", str(project))
    assert code == 0 and out.strip() == "formatted 3 expressions in measures/sales.yaml"
    after = path.read_text(encoding="utf-8")
    assert after == before.replace("COUNTROWS(Channel)", "COUNTROWS ( Channel )").replace(
        "DISTINCTCOUNT(Channel[Channel_Name])", "DISTINCTCOUNT ( Channel[Channel_Name] )"
    ).replace("DIVIDE(\n          [Named Channels],\n          [Channels]\n      )",
              "DIVIDE ( [Named Channels], [Channels] )")
    assert _without_expressions(yaml.safe_load(after)) == _without_expressions(yaml.safe_load(before))

    code, out, _ = run(capsys, "fmt", "--project", str(project))
    assert code == 0 and out.strip() == "3 DAX expressions are formatted"


def test_fmt_on_a_syntax_error_is_bad_input(project, capsys):
    path = project / "measures" / "sales.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("COUNTROWS(Channel)", "COUNTROWS(Channel"),
                    encoding="utf-8")
    code, _, err = run(capsys, "fmt", "--write", "--project", str(project))
    assert code == 2
    assert "measures/sales.yaml:5:34: error: measure 'Channels', DAX 1:18: syntax error" in err


def test_fmt_write_handles_flow_scalars_comments_and_quoting(project, capsys):
    path = project / "measures" / "extra.yaml"
    path.write_text(
        "# extra measures\n"
        "table: Sales\n"
        "measures:\n"
        "  - name: Ratio  # keep me\n"
        "    expression: \"[Channels]/[Named Channels]\"   # why\n"
        "    format: '0'\n"
        "  - name: Long\n"
        "    expression: IF(HASONEVALUE(Channel[Channel_ID]), CALCULATE([Channels], "
        "REMOVEFILTERS(Channel)), BLANK())\n"
        "    description: x\n"
        "  - name: Block\n"
        "    expression: |-\n"
        "        var x = [Named Channels]\n"
        "        return x\n"
        "\n"
        "    description: y\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "fmt", "--write", "--project", str(project))
    assert code == 0 and "formatted 3 expressions in measures/extra.yaml" in out
    assert path.read_text(encoding="utf-8") == (
        "# extra measures\n"
        "table: Sales\n"
        "measures:\n"
        "  - name: Ratio  # keep me\n"
        "    expression: '[Channels] / [Named Channels]'   # why\n"
        "    format: '0'\n"
        "  - name: Long\n"
        "    expression: |\n"
        "      IF (\n"
        "          HASONEVALUE ( Channel[Channel_ID] ),\n"
        "          CALCULATE ( [Channels], REMOVEFILTERS ( Channel ) ),\n"
        "          BLANK ()\n"
        "      )\n"
        "    description: x\n"
        "  - name: Block\n"
        "    expression: |\n"
        "      VAR x = [Named Channels]\n"
        "      RETURN\n"
        "          x\n"
        "\n"
        "    description: y\n"
    )
    code, _, _ = run(capsys, "fmt", "--project", str(project))
    assert code == 0


def test_lint_on_fixture_and_formats(project, capsys):
    code, out, _ = run(capsys, "lint", "--project", str(project))
    assert code == 0
    assert out.strip().splitlines()[-1] == "0 error(s), 0 warning(s), 2 info"
    code, out, _ = run(capsys, "lint", "--format", "json", "--project", str(project))
    assert code == 0 and all(row["severity"] == "info" for row in json.loads(out))
    code, out, _ = run(capsys, "lint", "--format", "sarif", "--project", str(project))
    assert code == 0 and json.loads(out)["version"] == "2.1.0"


def _misspell(project):
    path = project / "measures" / "sales.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Channel[Channel_Name]", "Channel[Chanel_Name]"), encoding="utf-8")


def test_lint_fails_on_a_misspelt_column(project, capsys):
    _misspell(project)
    code, out, _ = run(capsys, "lint", "--project", str(project))
    assert code == 1
    assert ("measures/sales.yaml:9:31: error DAX000: measure 'Named Channels', DAX 1:15: "
            "column 'Chanel_Name' not found in table 'Channel'\n    hint: did you mean 'Channel_Name'?") in out


def test_build_check_fails_on_a_misspelt_column(project):
    from generator.pipeline import check_model
    from generator.spec import load_project

    _misspell(project)
    with pytest.raises(ForgeError) as info:
        check_model(load_project(project))
    (problem,) = info.value.problems
    assert str(problem.pos) == "measures/sales.yaml:9:31"
    assert problem.hint == "did you mean 'Channel_Name'?"
    assert "measure 'Named Channels', DAX 1:15" in problem.message


def test_shipped_model_has_no_dax_errors():
    from generator.dax.analysis import analyze_model
    from generator.spec import load_project

    assert [str(p) for p in analyze_model(load_project(REPO))] == []
