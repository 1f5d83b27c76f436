"""The review of one change: the model diff, what it reaches, and the values before and after.

Both versions are evaluated on the same data: one engine per model version over the
same source files (`snapshot.same_data`), either the project's built data (`out/data`)
or the `given` tables of a measure-tests file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from generator.dax.analysis import analyze_model
from generator.engine import Engine
from generator.errors import ForgeError
from generator.review.graph import build_graph
from generator.review.modeldiff import ModelDiff, diff_models
from generator.review.snapshot import Version, same_data
from generator.review.values import Reached, Row, compare, evaluate, reached
from generator.spec.model import Model


@dataclass(frozen=True)
class Data:
    """Where both versions read their rows: the built data folder, or given tables."""

    label: str  # shown in the report: "powerbi/data" or "measures/kpis.tests.yaml"
    out: Path | None = None  # a build output folder holding data/*.parquet
    given: Mapping[str, Any] | None = None
    as_of: str | None = None

    def engine(self, model: Model) -> Engine | ForgeError:
        try:
            if self.given is not None:
                engine = Engine(model, data=self.given, as_of=self.as_of)
            else:
                engine = Engine(model, out=self.out, as_of=self.as_of)
        except ForgeError as exc:  # e.g. the old model names a column the data no longer has
            return exc
        # each query self-contained (as `build.py query` runs): with the cross-query scan
        # cache, a both-directions relationship made [Orders per Customer] read 1.0 after
        # [Customers in Band] had run; a review must not show such a number
        engine.scan_cache = None
        return engine


@dataclass(frozen=True)
class Review:
    before: str
    after: str
    data: str
    by: str | None
    diff: ModelDiff
    reached: tuple[Reached, ...]
    rows: tuple[Row, ...]

    @property
    def moved(self) -> bool:
        return any(r.moved for r in self.rows)


def _checked(version: Version) -> Model:
    """The model, if its DAX resolves (a dependency graph of broken DAX would be wrong)."""
    problems = analyze_model(version.model)
    if problems:
        raise ForgeError(problems)
    return version.model


def review(before: Version, after: Version, data: Data, by: str | None = None) -> Review:
    old, new = _checked(before), _checked(after)
    diff = diff_models(old, new)
    hits = reached(diff, build_graph(old), build_graph(new))
    measures = [r.node.name for r in hits if r.node.kind == "measure"]
    values_before = evaluate(data.engine(same_data(old, new)), measures, by) if measures else {}
    values_after = evaluate(data.engine(new), measures, by) if measures else {}
    return Review(before.label, after.label, data.label, by, diff, hits, compare(values_before, values_after))
