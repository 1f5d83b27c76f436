"""What the first Refresh in Desktop depends on: the Parquet codec and the DataFolder parameter."""
from __future__ import annotations

from pathlib import Path, PureWindowsPath

import pyarrow as pa
import pyarrow.parquet as pq

from generator.emit import tmdl
from generator.emit.project import render
from generator.spec import load_project
from generator.synth import write_parquet

REPO = Path(__file__).resolve().parents[1]


def test_parquet_is_written_with_snappy(tmp_path):
    path = tmp_path / "t.parquet"
    write_parquet(pa.table({"a": list(range(1000)), "b": ["x", "y"] * 500}), path)
    meta = pq.ParquetFile(path).metadata
    codecs = {meta.row_group(g).column(c).compression for g in range(meta.num_row_groups)
              for c in range(meta.num_columns)}
    assert codecs == {"SNAPPY"}


def test_windows_default_data_folder_is_the_builds_own_data_folder():
    out = PureWindowsPath("D:/work/pbi-forge/powerbi")
    assert tmdl.default_data_folder(out, os_name="nt") == "D:\\work\\pbi-forge\\powerbi\\data\\"


def test_elsewhere_the_documented_default_stays():
    assert tmdl.default_data_folder(Path("/home/me/powerbi"), os_name="posix") == "C:\\pbi-forge\\powerbi\\data\\"


def test_render_writes_the_default_into_expressions_tmdl(tmp_path, monkeypatch):
    model = load_project(REPO)
    seen = []

    def fake_default(out, os_name=None):
        seen.append(out)
        return "E:\\somewhere\\data\\"

    monkeypatch.setattr(tmdl, "default_data_folder", fake_default)
    out = tmp_path / "powerbi"
    render(model, tmp_path / "stage", out=out)
    text = (tmp_path / "stage" / f"{model.name}.SemanticModel/definition/expressions.tmdl").read_text()
    assert seen == [out.resolve()]
    assert 'expression DataFolder = "E:\\somewhere\\data\\"' in text


def test_an_explicit_data_folder_wins_over_the_default(tmp_path):
    model = load_project(REPO)
    render(model, tmp_path / "stage", data_folder="F:\\x\\", out=tmp_path / "powerbi")
    text = (tmp_path / "stage" / f"{model.name}.SemanticModel/definition/expressions.tmdl").read_text()
    assert 'expression DataFolder = "F:\\x\\"' in text
