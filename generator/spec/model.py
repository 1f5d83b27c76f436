"""The loaded semantic model: immutable dataclasses every later stage reads.

`generator.spec.load_project(root)` builds a `Model` from `semantic/` and `measures/`.
Every object carries the `Pos` of its YAML node so that later stages (DAX checks,
binding checks, the engine) can report file:line:column. DAX expressions also carry an
`ExprOrigin` that maps a (line, column) inside the expression back to YAML coordinates.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.source import ExprOrigin, Pos  # noqa: F401  (re-exported: spec.model.Pos)

COLUMN_TYPES = ("string", "int64", "double", "decimal", "boolean", "date", "datetime")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    pos: Pos
    key: bool = False
    format: str | None = None
    description: str | None = None
    hidden: bool = False
    sort_by: str | None = None
    folder: str | None = None
    summarize_by: str | None = None
    lint_disable: tuple[str, ...] = ()
    data_category: str | None = None  # TMDL dataCategory: City, Country, WebUrl, ImageUrl, ...


@dataclass(frozen=True)
class CalculatedColumn:
    name: str
    type: str
    expression: str
    pos: Pos
    origin: ExprOrigin
    format: str | None = None
    description: str | None = None
    hidden: bool = False
    folder: str | None = None
    lint_disable: tuple[str, ...] = ()
    sort_by: str | None = None
    summarize_by: str | None = None
    data_category: str | None = None


@dataclass(frozen=True)
class Level:
    name: str
    column: str
    description: str | None = None


@dataclass(frozen=True)
class Hierarchy:
    name: str
    levels: tuple[Level, ...]
    pos: Pos
    description: str | None = None
    folder: str | None = None
    hidden: bool = False


@dataclass(frozen=True)
class Source:
    """Exactly one of a generator, a CSV file or a Parquet file; or, for a calculated table,
    the kind "calculated" (no data to read or synthesise: the DAX in `Table.expression`); or
    "external": Power Query M kept verbatim (an imported model's own source, `source: {m: ...}`),
    written to the TMDL partition as it is; pbi-forge cannot run M, so its data is empty unless
    `synthetic` gives the engine generated stand-in rows (the TMDL still carries the M)."""

    kind: str  # "generator" | "csv" | "parquet" | "calculated" | "external"
    pos: Pos
    generator: str | None = None
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    path: Path | None = None  # absolute, resolved relative to the YAML file
    m: str | None = None  # "external": the partition's M expression, verbatim
    # "external" only: `synthetic:` rows for the engine (import --synthesize; synth/synthetic.py)
    synthetic: dict[str, Any] | None = field(default=None, hash=False, compare=False)


@dataclass(frozen=True)
class CalculationItem:
    """One item of a calculation group: an expression over SELECTEDMEASURE()."""

    name: str
    expression: str
    pos: Pos
    origin: ExprOrigin
    ordinal: int
    format_string: str | None = None  # a DAX expression (formatStringDefinition)
    description: str | None = None


@dataclass(frozen=True)
class CalculationGroup:
    """A calculation group: its table has one text column (`column`, the items' names) and
    an `Ordinal` column; selecting an item in the filter context rewrites measure references
    (learn.microsoft.com/analysis-services/tabular-models/calculation-groups)."""

    column: str
    precedence: int
    items: tuple[CalculationItem, ...]
    pos: Pos
    description: str | None = None
    ordinal_column: str = "Ordinal"

    def item(self, name: str) -> CalculationItem | None:
        for i in self.items:
            if i.name.lower() == name.lower():
                return i
        return None


@dataclass(frozen=True)
class ParameterField:
    """One field of a field parameter: its shown name, the measure or column, its order."""

    name: str
    table: str  # the measure's home table or the column's table
    field: str
    kind: str  # "measure" | "column"
    order: int
    pos: Pos


@dataclass(frozen=True)
class FieldParameter:
    """A field parameter's fields; its table has the shown column (the table's name), the
    hidden '<name> Fields' (NAMEOF of each field) and '<name> Order' columns."""

    fields: tuple[ParameterField, ...]

    def selected(self, names: "tuple[str, ...] | list[str] | None") -> tuple[ParameterField, ...]:
        """The fields a slicer selection picks, in the parameter's order; none selected: all."""
        chosen = {str(n).lower() for n in names or ()}
        fields = sorted(self.fields, key=lambda f: f.order)
        return tuple(f for f in fields if not chosen or f.name.lower() in chosen)


@dataclass(frozen=True)
class Table:
    name: str
    source: Source
    columns: tuple[Column, ...]
    pos: Pos
    description: str | None = None
    calculated_columns: tuple[CalculatedColumn, ...] = ()
    hierarchies: tuple[Hierarchy, ...] = ()
    is_date_table: bool = False
    lint_disable: tuple[str, ...] = ()
    calculation_group: CalculationGroup | None = None  # a calculation group's table
    # a calculated table (`calculated:` in its YAML): the DAX table expression and where it is
    expression: str | None = None
    origin: ExprOrigin | None = None
    field_parameter: FieldParameter | None = None  # a field parameter's table (semantic/field_parameters)

    @property
    def is_calculated(self) -> bool:
        return self.expression is not None

    def column(self, name: str) -> Column | CalculatedColumn | None:
        for c in (*self.columns, *self.calculated_columns):
            if c.name.lower() == name.lower():
                return c
        return None

    @property
    def all_columns(self) -> tuple[Column | CalculatedColumn, ...]:
        return (*self.columns, *self.calculated_columns)


@dataclass(frozen=True)
class Relationship:
    from_table: str  # many side
    from_column: str
    to_table: str  # one side (also many with cardinality many_to_many)
    to_column: str
    pos: Pos
    cross_filter: str = "single"  # "single" | "both"
    active: bool = True
    # "many_to_one" | "many_to_many": a many-to-many relationship is *limited* (no blank row,
    # no table expansion, no RELATED); single cross_filter then means `to` filters `from`
    cardinality: str = "many_to_one"

    @property
    def many_to_many(self) -> bool:
        return self.cardinality == "many_to_many"

    @property
    def name(self) -> str:
        return f"{self.from_table}[{self.from_column}] -> {self.to_table}[{self.to_column}]"


@dataclass(frozen=True)
class Measure:
    name: str
    table: str
    expression: str
    pos: Pos
    origin: ExprOrigin
    format: str | None = None
    description: str | None = None
    folder: str | None = None
    lint_disable: tuple[str, ...] = ()  # measure-level plus its file's `lint: {disable: [...]}`
    generated: bool = False  # made by pbi-forge (e.g. [As Of Date] from model.yaml as_of), not in measures/


@dataclass(frozen=True)
class TablePermission:
    """A role's row filter on one table: DAX evaluated in the row context of each row."""

    table: str
    expression: str
    pos: Pos
    origin: ExprOrigin


@dataclass(frozen=True)
class ObjectPermission:
    """Object-level security: a table (`column` None) or one column the role cannot see at
    all, not even its name (metadataPermission none;
    learn.microsoft.com/analysis-services/tabular-models/object-level-security)."""

    table: str
    column: str | None
    pos: Pos


@dataclass(frozen=True)
class Role:
    """A row-level security role (learn.microsoft.com/fabric/security/service-admin-row-level-security)."""

    name: str
    tables: tuple[TablePermission, ...]
    pos: Pos
    members: tuple[str, ...] = ()
    description: str | None = None
    hidden: tuple[ObjectPermission, ...] = ()  # object-level security (`object_security:` in YAML)


@dataclass(frozen=True)
class Function:
    """A DAX user-defined function of the model (semantic/functions/*.yaml). `expression`
    is the definition as TMDL stores it: ``( params ) => body``."""

    name: str  # may be dotted: TimeIntelligence.MonthToDate
    expression: str
    pos: Pos
    origin: ExprOrigin
    description: str | None = None
    lint_disable: tuple[str, ...] = ()


@dataclass(frozen=True)
class Binding:
    """A field bound to a visual role: `Table[Column]` or `[Measure]` / `Table[Measure]`."""

    role: str
    table: str
    name: str
    kind: str  # "column" | "measure" (resolved by the loader against the model)
    pos: Pos
    label: str | None = None  # the YAML `label:`; None = the name with underscores as spaces
    # kind "field_parameter": a visual bound to a field parameter's column shows the fields
    # the page's slicer on it selects (all when none); these are those fields, as bindings
    fields: tuple["Binding", ...] = ()

    @property
    def display_name(self) -> str:
        """What the visual shows for the field (axis title, legend, header, slicer header)."""
        return self.label if self.label is not None else self.name.replace("_", " ")


@dataclass(frozen=True)
class Visual:
    name: str
    type: str
    bindings: tuple[Binding, ...]
    pos: Pos
    title: str | None = None
    position: tuple[int, int, int, int] | None = None  # x, y, width, height
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Page:
    id: str  # folder name in PBIR: letters, digits, _ and - only, derived from the name
    name: str
    order: int
    visuals: tuple[Visual, ...]
    pos: Pos
    width: int = 1280
    height: int = 720


@dataclass(frozen=True)
class Perspective:
    """A named subset of the model's tables, columns, measures and hierarchies
    (learn.microsoft.com/analysis-services/tabular-models/perspectives-ssas-tabular).
    `tables` maps each table in it to the names of its objects in the perspective."""

    name: str
    tables: tuple[tuple[str, tuple[str, ...]], ...]
    pos: Pos
    description: str | None = None


@dataclass(frozen=True)
class Translation:
    """One object's translated properties in a culture: `path` names the object the way
    TMDL's translations block nests it, e.g. ("table", "Fact_Orders", "measure", "Total Revenue")."""

    path: tuple[str, ...]
    caption: str | None = None
    description: str | None = None
    folder: str | None = None


@dataclass(frozen=True)
class Culture:
    """A culture with translated captions/descriptions/display folders
    (learn.microsoft.com/analysis-services/tabular-models/translations-in-tabular-models-analysis-services)."""

    name: str  # e.g. nb-NO
    translations: tuple[Translation, ...]
    pos: Pos


@dataclass(frozen=True)
class Model:
    name: str
    culture: str
    tables: tuple[Table, ...]
    relationships: tuple[Relationship, ...]
    measures: tuple[Measure, ...]
    pages: tuple[Page, ...]
    root: Path
    date_table: str | None = None
    as_of: str | None = None  # ISO date or None (= last order date)
    synth: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    data_folder: str | None = None
    lint_disable: tuple[str, ...] = ()
    roles: tuple[Role, ...] = ()
    functions: tuple[Function, ...] = ()
    # semantic/tmdl/**.tmdl, verbatim, by path under the SemanticModel's definition/ folder: TMDL
    # an imported model uses that the YAML cannot express (perspectives, cultures, shared M
    # expressions, a table with a KPI); the build writes them back byte-for-byte
    passthrough: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    # semantic/pbir/**.json, verbatim, by path under the Report folder: an imported report's
    # pages and visuals the YAML cannot express, written back byte-for-byte
    report_passthrough: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    description: str | None = None
    perspectives: tuple[Perspective, ...] = ()
    cultures: tuple[Culture, ...] = ()  # translations; the model's own `culture` is not among them

    def role(self, name: str) -> Role | None:
        for r in self.roles:
            if r.name.lower() == name.lower():
                return r
        return None

    def function(self, name: str) -> Function | None:
        for f in self.functions:
            if f.name.lower() == name.lower():
                return f
        return None

    def table(self, name: str) -> Table | None:
        for t in self.tables:
            if t.name.lower() == name.lower():
                return t
        return None

    @property
    def calculation_groups(self) -> tuple[Table, ...]:
        """The calculation group tables, highest precedence first (the order they apply in)."""
        groups = [t for t in self.tables if t.calculation_group is not None]
        return tuple(sorted(groups, key=lambda t: -t.calculation_group.precedence))

    def measure(self, name: str) -> Measure | None:
        for m in self.measures:
            if m.name.lower() == name.lower():
                return m
        return None
