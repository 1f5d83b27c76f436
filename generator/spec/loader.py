"""Load a project folder (`semantic/` + `measures/`) into an immutable `Model`.

Every file is validated against its JSON Schema first, then cross-checked (relationships,
sort-by columns, hierarchies, measure homes, duplicate names, visual bindings, source
files). All problems are collected and raised together as one `ForgeError`.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from generator.errors import ForgeError, Problem
from generator.spec.model import (
    Binding,
    CalculatedColumn,
    Column,
    ExprOrigin,
    Function,
    Hierarchy,
    Level,
    Measure,
    Model,
    Page,
    Pos,
    Relationship,
    Role,
    Source,
    Table,
    TablePermission,
    Visual,
)
from generator.spec import calc_groups, field_parameters, metadata
from generator.spec.names import folder_parts, folder_problem, segment_problem
from generator.spec.visuals import COLUMN_ROLES, MEASURE_ROLES, REQUIRED, ROLES, SINGLE, VISUAL_TYPES
from generator.spec.yamlpos import PosDict, PosList, display_path, load_yaml, position_of

ROLE_KEYS = ("category", "values", "x", "y", "legend", "details", "rows", "columns", "target",
             "field", "tooltips", "size", "min", "max")
_COLREF = re.compile(r"^\s*(?:'(?P<qt>(?:[^']|'')+)'|(?P<t>[A-Za-z_][A-Za-z0-9_ ]*?))?\s*\[(?P<c>[^\]]+)\]\s*$")
_WINDOWS_ILLEGAL = set('/\\:*?"<>|')


@lru_cache(maxsize=None)
def schema(kind: str) -> dict[str, Any]:
    """The packaged JSON Schema for a YAML file kind: model, table, measures, page, functions."""
    text = resources.files("generator.spec").joinpath("schemas", f"{kind}.schema.json").read_text("utf-8")
    return json.loads(text)


def parse_field_ref(text: str) -> tuple[str | None, str] | None:
    """`Table[Col]`, `'My Table'[Col]` or `[Measure]` → (table or None, name)."""
    m = _COLREF.match(text)
    if not m:
        return None
    table = m.group("qt").replace("''", "'") if m.group("qt") else m.group("t")
    return (table.strip() if table else None), m.group("c").strip()


class _Collector:
    """Gathers problems from every file so the user sees them all in one run."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.broken_tables: set[str] = set()  # tables whose own file failed: no cascade errors
        self.broken_measures: set[str] = set()
        self.measures_incomplete = False  # a measures file failed: missing-measure errors would be noise

    def add(self, pos: Pos | None, message: str, hint: str | None = None, table: str | None = None) -> None:
        if table is not None and table.lower() in self.broken_tables:
            return
        self.problems.append(Problem(pos, message, hint))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ForgeError(self.problems)


def _schema_problems(doc: Any, kind: str, out: _Collector) -> bool:
    validator = jsonschema.Draft202012Validator(schema(kind))
    ok = True
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        ok = False
        path = list(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, PosDict):
            allowed = set(err.schema.get("properties", {}))
            for key in err.instance:
                if key not in allowed:
                    out.add(err.instance.key_pos[key], f"unknown key '{key}'",
                            f"allowed keys here: {', '.join(sorted(allowed))}")
            continue
        pos = position_of(doc, path)
        where = ".".join(str(p) for p in path) or "document"
        if err.validator == "oneOf" and not path:
            out.add(pos, "a table needs exactly one of 'source' (its data) or 'calculated' (a DAX table expression)")
        elif err.validator == "oneOf" and path and path[-1] == "source":
            out.add(pos, "source needs exactly one of 'generator' (with optional 'params'), 'csv', 'parquet' or "
                         "'m' (Power Query M kept verbatim)")
        elif err.validator == "required":
            out.add(pos, f"{where}: {err.message}")
        elif err.validator == "enum":
            out.add(pos, f"{where}: {err.instance!r} is not one of {', '.join(map(str, err.validator_value))}")
        elif err.validator == "type":
            out.add(pos, f"{where}: expected {err.validator_value}, got {type(err.instance).__name__} {err.instance!r}")
        else:
            out.add(pos, f"{where}: {err.message}")
    return ok


def schema_problems(doc: Any, kind: str) -> list[Problem]:
    """The positioned problems of `doc` against the packaged schema `kind` (also: tests)."""
    out = _Collector()
    _schema_problems(doc, kind, out)
    return out.problems


def _load(path: Path, kind: str, root: Path, out: _Collector) -> PosDict | None:
    try:
        doc = load_yaml(path, root)
    except ForgeError as exc:
        out.problems.extend(exc.problems)
        return None
    if not isinstance(doc, PosDict):
        out.add(getattr(doc, "pos", Pos(display_path(path, root), 1, 1)), f"expected a mapping at the top of a {kind} file")
        return None
    return doc if _schema_problems(doc, kind, out) else None


def _disabled(doc: PosDict, *parents: PosDict) -> tuple[str, ...]:
    """Lint rule ids switched off on this object or any enclosing one (file, table)."""
    ids: list[str] = []
    for d in (*parents, doc):
        ids.extend(d.get("lint", {}).get("disable", []))
    return tuple(dict.fromkeys(ids))


def _columns(doc: PosDict) -> tuple[Column, ...]:
    cols: list[Column] = []
    for i, c in enumerate(doc["columns"]):
        cols.append(Column(
            name=c["name"], type=c["type"], pos=doc["columns"].item_pos[i], key=c.get("key", False),
            format=c.get("format"), description=c.get("description"), hidden=c.get("hidden", False),
            sort_by=c.get("sort_by"), folder=c.get("folder"), summarize_by=c.get("summarize_by"),
            lint_disable=_disabled(c, doc), data_category=c.get("data_category")))
    return tuple(cols)


def _calculated(doc: PosDict) -> tuple[CalculatedColumn, ...]:
    items = doc.get("calculated_columns", PosList())
    return tuple(
        CalculatedColumn(name=c["name"], type=c["type"], expression=c["expression"], pos=items.item_pos[i],
                         origin=c.origins["expression"], format=c.get("format"),
                         description=c.get("description"), hidden=c.get("hidden", False), folder=c.get("folder"),
                         lint_disable=_disabled(c, doc), sort_by=c.get("sort_by"),
                         summarize_by=c.get("summarize_by"), data_category=c.get("data_category"))
        for i, c in enumerate(items))


def _hierarchies(doc: PosDict) -> tuple[Hierarchy, ...]:
    items = doc.get("hierarchies", PosList())
    out = []
    for i, h in enumerate(items):
        levels = tuple(Level(lv, lv) if isinstance(lv, str) else Level(lv["name"], lv["column"], lv.get("description"))
                       for lv in h["levels"])
        out.append(Hierarchy(h["name"], levels, items.item_pos[i], h.get("description"), h.get("folder"),
                             h.get("hidden", False)))
    return tuple(out)


def _source(doc: PosDict, path: Path, out: _Collector) -> Source:
    if "calculated" in doc:
        return Source("calculated", doc.value_pos["calculated"])
    src = doc["source"]
    pos = doc.value_pos["source"]
    if "generator" in src:
        return Source("generator", pos, generator=src["generator"], params=dict(src.get("params", {})))
    if "m" in src:
        return Source("external", pos, m=src["m"],
                      synthetic=dict(src["synthetic"]) if "synthetic" in src else None)
    kind = "csv" if "csv" in src else "parquet"
    try:
        file = (path.parent / src[kind]).resolve()
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError before Python 3.13)
        out.add(src.value_pos[kind], f"source file cannot be read: {src[kind]} is a symlink loop")
        return Source(kind, pos, path=path.parent / src[kind])
    if not file.is_file():
        out.add(src.value_pos[kind], f"source file not found: {src[kind]} (resolved to {file})")
    else:
        try:
            with file.open("rb") as fh:
                fh.read(1)
        except OSError as exc:
            out.add(src.value_pos[kind], f"source file cannot be read: {exc}")
    return Source(kind, pos, path=file)


def _table(doc: PosDict, path: Path, date_table: str | None, out: _Collector) -> Table:
    name = doc["name"]
    if set(name) & _WINDOWS_ILLEGAL:
        out.add(doc.value_pos["name"], f"table name '{name}' contains a character not allowed in file names")
    _check_file_name(name, "table name", doc.value_pos["name"], out)
    return Table(
        name=name, source=_source(doc, path, out), columns=_columns(doc), pos=doc.pos,
        description=doc.get("description"), calculated_columns=_calculated(doc),
        hierarchies=_hierarchies(doc), is_date_table=(date_table is not None and name == date_table),
        lint_disable=_disabled(doc), expression=doc.get("calculated"),
        origin=doc.origins.get("calculated") if "calculated" in doc else None)


def _check_file_name(name: str, what: str, pos: Pos, out: _Collector, suffix: str = "") -> None:
    """`name` (+ `suffix`) becomes a file or folder of the output: see generator.spec.names."""
    why = segment_problem(name + suffix)
    if why:
        out.add(pos, f"{what} '{name}' cannot be a file or folder name: {why}")


def _check_folder(folder: str | None, pos: Pos, siblings: dict[tuple[str, ...], tuple[str, Pos]],
                  out: _Collector) -> None:
    """A measure folder becomes folders under dax/: safe parts, no case-only twins."""
    if not folder or any(p.pos == pos and p.message.startswith("measure folder") for p in out.problems):
        return  # a file-level folder is reported once, not once per measure
    why = folder_problem(folder)
    if why:
        out.add(pos, f"measure folder '{folder}' cannot be a folder name: {why}")
        return
    parts = folder_parts(folder)
    for i in range(1, len(parts) + 1):
        key = tuple(p.lower() for p in parts[:i])
        other = siblings.setdefault(key, (parts[i - 1], pos))
        if other[0] != parts[i - 1]:
            out.add(pos, f"measure folder '{parts[i - 1]}' differs only in case from '{other[0]}' (at {other[1]}); "
                         "they would be one folder on Windows and macOS", f"spell it '{other[0]}'")
            return


def real_date(text: Any) -> bool:
    """`2021-02-30` matches the schema's pattern but is no date."""
    try:
        dt.datetime.fromisoformat(str(text))
    except ValueError:
        return False
    return True


def _fits(value: Any, column_type: str) -> bool:
    if column_type in ("date", "datetime"):
        return isinstance(value, str) and real_date(value)
    return isinstance(value, _PYTHON_TYPES[column_type]) and (column_type == "boolean") == isinstance(value, bool)


def _check_static_rows(doc: PosDict, t: Table, out: _Collector) -> None:
    """`generator: rows`: every value names a column of the table and fits its type."""
    if t.source.generator != "rows":
        return
    rows = doc["source"].get("params", {}).get("rows", PosList())
    for i, row in enumerate(rows):
        for key, value in row.items():
            col = t.column(key)
            if col is None:
                out.add(row.key_pos[key], f"static row {i + 1} of '{t.name}' sets '{key}', which is not a column",
                        _did_you_mean(key, [c.name for c in t.columns]))
            elif value is not None and not _fits(value, col.type):
                out.add(row.value_pos[key], f"static row {i + 1} of '{t.name}': {key} = {value!r} does not fit "
                                            f"the {col.type} column")


def _check_dates(doc: PosDict, out: _Collector) -> None:
    """model.yaml dates are real dates and the synthetic range runs forwards."""
    synth = doc.get("synth", PosDict())
    for key in ("start", "end"):
        if key in synth and not real_date(synth[key]):
            out.add(synth.value_pos[key], f"synth.{key}: '{synth[key]}' is not a date")
    if all(k in synth and real_date(synth[k]) for k in ("start", "end")) and synth["start"] > synth["end"]:
        out.add(synth.value_pos["start"], f"synth.start {synth['start']} is after synth.end {synth['end']}")
    as_of = doc.get("as_of")
    if isinstance(as_of, str) and parse_field_ref(as_of) is None and not real_date(as_of):
        out.add(doc.value_pos["as_of"], f"as_of: '{as_of}' is not a date")


def _check_table(t: Table, out: _Collector) -> None:
    seen: dict[str, Pos] = {}
    for c in t.all_columns:
        if c.name.lower() in seen:
            out.add(c.pos, f"duplicate column '{c.name}' in table '{t.name}' (first defined at {seen[c.name.lower()]})")
        seen.setdefault(c.name.lower(), c.pos)
    for c in t.all_columns:
        if c.sort_by and t.column(c.sort_by) is None:
            out.add(c.pos, f"column '{c.name}' sorts by '{c.sort_by}', which is not a column of '{t.name}'",
                    _did_you_mean(c.sort_by, [x.name for x in t.all_columns]))
    for h in t.hierarchies:
        for lv in h.levels:
            if t.column(lv.column) is None:
                out.add(h.pos, f"hierarchy '{h.name}' level '{lv.name}' names a missing column '{lv.column}'",
                        _did_you_mean(lv.column, [x.name for x in t.all_columns]))


def _did_you_mean(name: str, options: list[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if not close:
        close = [o for o in options if o.lower() == name.lower()]
    return f"did you mean '{close[0]}'?" if close else None


def _relationships(doc: PosDict, tables: dict[str, Table], out: _Collector) -> tuple[Relationship, ...]:
    rels = []
    items = doc.get("relationships", PosList())
    for i, r in enumerate(items):
        ends = []
        for side in ("from", "to"):
            table, column = parse_field_ref(r[side]) or (None, "")
            pos = r.value_pos[side]
            t = tables.get((table or "").lower())
            if t is None:
                out.add(pos, f"relationship {side}: table '{table}' does not exist",
                        _did_you_mean(table or "", [x.name for x in tables.values()]), table=table or "")
            elif t.column(column) is None:
                out.add(pos, f"relationship {side}: column '{column}' does not exist in table '{t.name}'",
                        _did_you_mean(column, [x.name for x in t.all_columns]))
            ends.append((t.name if t else table or "", column))
        rels.append(Relationship(ends[0][0], ends[0][1], ends[1][0], ends[1][1], items.item_pos[i],
                                 cross_filter=r.get("cross_filter", "single"), active=r.get("active", True),
                                 cardinality=r.get("cardinality", "many_to_one")))
    return tuple(rels)


def _roles(doc: PosDict, tables: dict[str, Table], out: _Collector) -> tuple[Role, ...]:
    roles: list[Role] = []
    items = doc.get("roles", PosList())
    seen: dict[str, Pos] = {}
    for i, r in enumerate(items):
        if "tables" not in r and "object_security" not in r:
            out.add(items.item_pos[i], f"role '{r['name']}' needs 'tables' (row filters) or 'object_security'")
            continue
        pos = items.item_pos[i]
        if r["name"].lower() in seen:
            out.add(r.value_pos["name"], f"duplicate role '{r['name']}' (first defined at {seen[r['name'].lower()]})")
            continue
        seen[r["name"].lower()] = pos
        _check_file_name(r["name"], "role name", r.value_pos["name"], out, suffix=".tmdl")
        perms = []
        for table, expression in r.get("tables", PosDict()).items():
            t = tables.get(table.lower())
            if t is None:
                out.add(r["tables"].key_pos[table], f"role '{r['name']}' filters table '{table}', which does not exist",
                        _did_you_mean(table, [x.name for x in tables.values()]))
                continue
            if not isinstance(expression, str):
                expression = "TRUE()" if expression else "FALSE()"
            perms.append(TablePermission(t.name, expression.strip("\n"), r["tables"].value_pos[table],
                                         r["tables"].origins.get(table) or ExprOrigin(
                                             r["tables"].value_pos[table].file, r["tables"].value_pos[table].line,
                                             r["tables"].value_pos[table].col)))
        roles.append(Role(r["name"], tuple(perms), pos, tuple(r.get("members", ())), r.get("description"),
                          metadata.object_security(r, tables, out.add)))
    return tuple(roles)


def _measures(files: list[Path], root: Path, tables: dict[str, Table], out: _Collector) -> tuple[Measure, ...]:
    measures: list[Measure] = []
    seen: dict[str, Pos] = {}
    folders: dict[tuple[str, ...], tuple[str, Pos]] = {}
    for path in files:
        doc = _load(path, "measures", root, out)
        if doc is None:
            out.measures_incomplete = True
            continue
        home = tables.get(doc["table"].lower())
        if home is None:
            out.add(doc.value_pos["table"], f"measures' home table '{doc['table']}' does not exist",
                    _did_you_mean(doc["table"], [t.name for t in tables.values()]), table=doc["table"])
            out.broken_measures.update(m["name"].lower() for m in doc["measures"])
            continue
        items = doc["measures"]
        for i, m in enumerate(items):
            pos = items.item_pos[i]
            name = m["name"]
            if name.lower() in seen:
                out.add(m.key_pos["name"], f"duplicate measure name '{name}' (first defined at {seen[name.lower()]})")
                continue
            if home.column(name) is not None:
                out.add(m.key_pos["name"], f"measure '{name}' has the same name as a column of '{home.name}'")
            seen[name.lower()] = pos
            # a '/' is fine in a measure name: its .dax file name replaces it (emit/project.py dax_file_path)
            _check_file_name(name.replace("/", "_"), "measure name", m.value_pos["name"], out, suffix=".dax")
            _check_folder(m.get("folder", doc.get("folder")),
                          m.value_pos["folder"] if "folder" in m else doc.value_pos.get("folder", pos), folders, out)
            expression = m["expression"]
            origin = m.origins["expression"]
            if not isinstance(expression, str):  # a bare number such as 0.40: keep it as written
                expression = m.raw["expression"]
            measures.append(Measure(
                name=name, table=home.name, expression=expression.strip("\n"), pos=pos, origin=origin,
                format=m.get("format"), description=m.get("description"),
                folder=m.get("folder", doc.get("folder")), lint_disable=_disabled(m, doc)))
    return tuple(measures)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").lower()


def _bindings(v: PosDict, tables: dict[str, Table], measures: dict[str, Measure], out: _Collector) -> tuple[Binding, ...]:
    found: list[Binding] = []
    for role in ROLE_KEYS:
        if role not in v:
            continue
        values = v[role] if isinstance(v[role], list) else [v[role]]
        positions = v[role].item_pos if isinstance(v[role], PosList) else [v.value_pos[role]]
        for item, pos in zip(values, positions):
            text, label = item, None
            if isinstance(item, PosDict):  # {field: 'T[C]', label: 'Shown name'}
                text, label, pos = item["field"], item.get("label"), item.value_pos["field"]
            binding = _resolve_field(text, role, pos, tables, measures, out)
            if binding:
                found.append(replace(binding, label=label) if label is not None else binding)
    return tuple(found)


def _resolve_field(text: str, role: str, pos: Pos, tables: dict[str, Table], measures: dict[str, Measure],
                   out: _Collector) -> Binding | None:
    ref = parse_field_ref(text)
    if ref is None:
        out.add(pos, f"'{text}' is not a field reference; write Table[Column] or [Measure]")
        return None
    table, name = ref
    m = measures.get(name.lower())
    if table is None or (m is not None and m.table.lower() == table.lower()):
        if m is None:
            if name.lower() not in out.broken_measures and not out.measures_incomplete:
                out.add(pos, f"visual binds to missing measure '[{name}]'",
                        _did_you_mean(name, [x.name for x in measures.values()]))
            return None
        return Binding(role, m.table, m.name, "measure", pos)
    t = tables.get(table.lower())
    if t is None:
        out.add(pos, f"visual binds to missing table '{table}'", _did_you_mean(table, [x.name for x in tables.values()]),
                table=table)
        return None
    c = t.column(name)
    if c is None:
        out.add(pos, f"visual binds to missing column '{table}[{name}]'",
                _did_you_mean(name, [x.name for x in t.all_columns] + [x.name for x in measures.values()]))
        return None
    return Binding(role, t.name, c.name, "column", pos)


def _sort(v: PosDict, bindings: tuple[Binding, ...], tables: dict[str, Table], measures: dict[str, Measure],
          out: _Collector) -> tuple[Binding, str] | None:
    """`sort: {field, direction}`: the field must be one the visual shows."""
    spec = v["sort"]
    b = _resolve_field(spec["field"], "sort", spec.value_pos["field"], tables, measures, out)
    if b is None:
        return None
    if not any((x.table, x.name) == (b.table, b.name) for x in bindings):
        out.add(spec.value_pos["field"], f"a visual can only sort by a field it shows; '{spec['field']}' is not bound")
        return None
    return b, spec.get("direction", "ascending")


_PYTHON_TYPES = {"string": (str,), "int64": (int,), "double": (int, float), "decimal": (int, float),
                 "boolean": (bool,), "date": (str,), "datetime": (str,)}


def _selection(v: PosDict, vtype: str, bindings: tuple[Binding, ...], tables: dict[str, Table],
               out: _Collector) -> dict[str, Any]:
    """A slicer's pre-selection: `selected` values (list/dropdown) or a date `range` (between)."""
    keys = [k for k in ("selected", "range") if k in v]
    if not keys:
        return {}
    columns = [b for b in bindings if b.kind == "column"]
    if vtype != "slicer" or not columns:
        out.add(v.key_pos[keys[0]], f"'{keys[0]}' is a slicer option; a {v['type']} visual has no selection")
        return {}
    column = tables[columns[0].table.lower()].column(columns[0].name)
    mode = v.get("mode", "list")
    if "range" in v:
        if mode != "between" or column.type not in ("date", "datetime"):
            out.add(v.key_pos["range"], "'range' needs a slicer with mode: between on a date column")
            return {}
        lo, hi = v["range"]["from"], v["range"]["to"]
        bad = [k for k in ("from", "to") if not real_date(v["range"][k])]
        for k in bad:
            out.add(v["range"].value_pos[k], f"range {k}: '{v['range'][k]}' is not a date")
        if not bad and lo > hi:
            out.add(v.value_pos["range"], f"range from {lo} is after to {hi}")
        return {"range": (lo, hi)}
    if mode == "between":
        out.add(v.key_pos["selected"], "a between slicer takes 'range', not 'selected'")
        return {}
    values = v["selected"] if isinstance(v["selected"], list) else [v["selected"]]
    allowed = _PYTHON_TYPES[column.type]
    for value in values:
        if not isinstance(value, allowed) or (column.type != "boolean" and isinstance(value, bool)):
            out.add(v.value_pos["selected"], f"selected value {value!r} does not fit the {column.type} column "
                                             f"{columns[0].table}[{columns[0].name}]")
            return {}
    return {"selected": tuple(values)}


def _check_roles(v: PosDict, vtype: str, bindings: tuple[Binding, ...], out: _Collector) -> None:
    """Every binding key must be a role of the visual type, required roles bound, kinds right."""
    roles = ROLES[vtype]
    for key in ROLE_KEYS:
        if key in v and key not in roles:
            out.add(v.key_pos[key], f"a {v['type']} visual has no '{key}' binding",
                    f"allowed: {', '.join(sorted(roles))}")
    bound: dict[str, int] = {}
    for b in bindings:
        if b.role not in roles:
            continue
        role = roles[b.role]
        bound[role] = bound.get(role, 0) + 1
        if b.kind == "field_parameter":
            kinds = {f.kind for f in b.fields}
            if kinds and ((role in COLUMN_ROLES and kinds != {"column"}) or (role in MEASURE_ROLES and kinds != {"measure"})):
                need = "columns" if role in COLUMN_ROLES else "measures"
                out.add(b.pos, f"'{b.role}' of a {v['type']} visual takes {need}; the field parameter "
                               f"'{b.table}' lists {' and '.join(sorted(k + 's' for k in kinds))}")
            continue
        if role in COLUMN_ROLES and b.kind != "column":
            out.add(b.pos, f"'{b.role}' of a {v['type']} visual takes a column, not the measure [{b.name}]")
        if role in MEASURE_ROLES and b.kind != "measure":
            out.add(b.pos, f"'{b.role}' of a {v['type']} visual takes a measure, not the column {b.table}[{b.name}]")
        if vtype == "slicer" and b.kind != "column":
            out.add(b.pos, f"a slicer filters by a column, not the measure [{b.name}]")
    for role, count in bound.items():
        if count > 1 and (vtype, role) in SINGLE:
            out.add(v.pos, f"a {v['type']} visual takes one field for its {role} role, got {count}")
    keys = [k for k in ROLE_KEYS if k in v]
    missing = [r for r in REQUIRED[vtype] if r not in bound and not any(roles.get(k) == r for k in keys)]
    if missing:
        need = [k for k, r in roles.items() if r in missing]
        out.add(v.pos, f"a {v['type']} visual needs a binding for {', '.join(missing)}",
                f"add one of: {', '.join(sorted(need))}")


def _check_position(v: PosDict, position: tuple[int, int, int, int], page_width: int,
                    placed: list[tuple[tuple[int, int, int, int], Pos]], out: _Collector) -> None:
    """An explicit position must lie inside the page width and not cover another explicit one
    (Desktop would draw them on top of each other); the page grows downwards to fit."""
    x, y, width, height = position
    pos = v.value_pos["position"]
    if width <= 0 or height <= 0 or x + width > page_width:
        out.add(pos, f"position x={x} width={width} does not fit in the page width {page_width}"
                if x + width > page_width else "position needs a width and height above 0")
    for (ox, oy, ow, oh), other in placed:
        if x < ox + ow and ox < x + width and y < oy + oh and oy < y + height:
            out.add(pos, f"position overlaps the visual positioned at {other}")
    placed.append((position, pos))


def _pages(files: list[Path], root: Path, tables: dict[str, Table], measures: dict[str, Measure],
           out: _Collector) -> tuple[Page, ...]:
    pages: list[Page] = []
    seen_ids: dict[str, tuple[str, Pos]] = {}  # lower-case id -> (id, position)
    for n, path in enumerate(files):
        doc = _load(path, "page", root, out)
        if doc is None:
            continue
        page_id = doc.get("id") or _slug(doc["name"])[:50] or f"page_{n}"
        id_pos = doc.value_pos.get("id", doc.value_pos["name"])
        _check_file_name(page_id, "page id", id_pos, out)
        if page_id.lower() in seen_ids:
            other, other_pos = seen_ids[page_id.lower()]
            if other == page_id:
                out.add(doc.value_pos["name"], f"two pages share the id '{page_id}' (other at {other_pos})",
                        "give one of them an explicit 'id'")
            else:
                out.add(id_pos, f"page id '{page_id}' differs only in case from '{other}' (at {other_pos}); "
                                "they would be one folder on Windows and macOS")
        seen_ids.setdefault(page_id.lower(), (page_id, doc.value_pos["name"]))
        visuals: list[Visual] = []
        names: dict[str, tuple[str, Pos]] = {}  # lower-case name -> (name, position): folders of one page
        placed: list[tuple[tuple[int, int, int, int], Pos]] = []
        for i, v in enumerate(doc["visuals"]):
            vpos = doc["visuals"].item_pos[i]
            vtype = VISUAL_TYPES.get(v["type"], v["type"])
            vname = v.get("name") or _slug(f"{v['type']}_{v.get('title', '')}")[:46] or f"visual_{i}"
            if vname.lower() in names:
                other, other_pos = names[vname.lower()]
                if "name" not in v:
                    vname = f"{vname[:44]}_{i:02d}"
                elif other == vname:
                    out.add(v.value_pos["name"], f"two visuals share the name '{vname}' (other at {other_pos})")
                else:
                    out.add(v.value_pos["name"], f"visual name '{vname}' differs only in case from '{other}' (at "
                                                 f"{other_pos}); they would be one folder on Windows and macOS")
            if "name" in v:
                _check_file_name(vname, "visual name", v.value_pos["name"], out)
            names.setdefault(vname.lower(), (vname, vpos))
            position = None
            if "position" in v:
                p = v["position"]
                position = (int(p["x"]), int(p["y"]), int(p["width"]), int(p["height"]))
                _check_position(v, position, doc.get("width", 1280), placed, out)
            options = {k: v[k] for k in ("mode", "color_scale") if k in v}
            bindings = _bindings(v, tables, measures, out)
            if vtype != "slicer":  # a slicer on the parameter picks fields; any other visual shows them
                bindings = tuple(field_parameters.parameter_binding(b, tables[b.table.lower()])
                                 if b.kind == "column" and field_parameters.is_parameter_column(
                                     tables[b.table.lower()], b.name) else b for b in bindings)
            _check_roles(v, vtype, bindings, out)
            if "sort" in v:
                options["sort"] = _sort(v, bindings, tables, measures, out)
            options.update(_selection(v, vtype, bindings, tables, out))
            if vtype == "slicer" and bindings and field_parameters.is_parameter_column(
                    tables.get(bindings[0].table.lower()), bindings[0].name):
                options.update(field_parameters.slicer_options(tables[bindings[0].table.lower()]))
                unknown = [x for x in options.get("selected", ()) if str(x).lower() not in options["parameter_fields"]]
                if unknown and not (out.measures_incomplete or out.broken_measures):
                    out.add(v.value_pos["selected"], f"field parameter '{bindings[0].table}' has no field named "
                                                     f"'{unknown[0]}'")
            visuals.append(Visual(vname, vtype, bindings, vpos, v.get("title"), position, options))
        pages.append(Page(page_id, doc["name"], doc.get("order", n), tuple(visuals), doc.pos,
                          doc.get("width", 1280), doc.get("height", 720)))
    return tuple(sorted(pages, key=lambda p: (p.order, p.name)))


AS_OF_MEASURE = "As Of Date"


def _as_of_measure(doc: PosDict, tables: dict[str, Table], out: _Collector) -> Measure | None:
    """model.yaml `as_of` as the measure [As Of Date] in the date table.

    An ISO date becomes DATE(y, m, d); `Table[Column]` becomes the latest value of that
    column over all rows, ignoring every filter, so as-of logic is reproducible.
    """
    if "as_of" not in doc:
        return None
    value, pos = doc["as_of"], doc.value_pos["as_of"]
    home = doc.get("date_table")
    if home is None or home.lower() not in tables:
        out.add(pos, "as_of needs a date_table to hold the [As Of Date] measure")
        return None
    ref = parse_field_ref(value)
    if ref is None:
        y, m, d = (int(x) for x in value.split("-"))
        expression = f"DATE({y}, {m}, {d})"
        how = f"the fixed date {value}"
    else:
        t = tables.get((ref[0] or "").lower())
        if t is None and (ref[0] or "").lower() in out.broken_tables:
            return None  # that table's own file failed: its error is enough
        if t is None or t.column(ref[1]) is None:
            out.add(pos, f"as_of names a missing column {value}")
            return None
        expression = f"CALCULATE(MAX({quote_table(t.name)}[{t.column(ref[1]).name}]), REMOVEFILTERS())"
        how = f"the latest {value} in the data"
    return Measure(name=AS_OF_MEASURE, table=tables[home.lower()].name, expression=expression, pos=pos,
                   origin=doc.origins["as_of"], format="Short Date", folder="Parameters", generated=True,
                   description=f"The 'today' of every as-of calculation: {how} (model.yaml as_of).")


def quote_table(name: str) -> str:
    """A table name as DAX writes it: quoted unless it is a plain identifier."""
    return name if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name) else "'" + name.replace("'", "''") + "'"


def _functions(files: list[Path], root: Path, out: _Collector) -> tuple[Function, ...]:
    """semantic/functions/*.yaml: DAX user-defined functions, unique by name (case-insensitive)
    and never named like a built-in function (a call would be ambiguous)."""
    from generator.dax.catalog import is_builtin

    functions: list[Function] = []
    seen: dict[str, Pos] = {}
    for path in files:
        doc = _load(path, "functions", root, out)
        if doc is None:
            continue
        items = doc["functions"]
        for i, f in enumerate(items):
            name = f["name"]
            if name.lower() in seen:
                out.add(f.value_pos["name"], f"duplicate function name '{name}' (first defined at {seen[name.lower()]})")
                continue
            if is_builtin(name):
                out.add(f.value_pos["name"], f"function '{name}' has the name of a built-in DAX function",
                        "choose another name, e.g. with a prefix such as 'Custom.'")
                continue
            seen[name.lower()] = items.item_pos[i]
            functions.append(Function(
                name=name, expression=f["expression"].strip("\n"), pos=items.item_pos[i],
                origin=f.origins["expression"], description=f.get("description"), lint_disable=_disabled(f, doc)))
    return tuple(functions)


def _name_in(path: Path, root: Path) -> str:
    """The `name:` of a table file that failed validation, else its file stem."""
    try:
        doc = load_yaml(path, root)
        return str(doc.get("name", path.stem)).lower() if isinstance(doc, dict) else path.stem.lower()
    except ForgeError:
        return path.stem.lower()


def load_project(root: Path) -> Model:
    """Load and check `root/semantic` and `root/measures`; raise ForgeError on any problem."""
    root = Path(root).resolve()
    out = _Collector()
    semantic = root / "semantic"
    model_file = semantic / "model.yaml"
    if not model_file.is_file():
        raise ForgeError(Problem(Pos(display_path(model_file, root), 1, 1),
                                 f"no semantic/model.yaml in project folder {root}"))
    model_doc = _load(model_file, "model", root, out)
    if model_doc is not None:
        _check_dates(model_doc, out)
    out.raise_if_any()
    assert model_doc is not None
    date_table = model_doc.get("date_table")
    _check_file_name(model_doc["name"], "model name", model_doc.value_pos["name"], out)

    tables: dict[str, Table] = {}
    for path in sorted((semantic / "tables").glob("*.yaml")):
        doc = _load(path, "table", root, out)
        if doc is None:
            out.broken_tables.add(_name_in(path, root))
            continue
        t = _table(doc, path, date_table, out)
        if t.name.lower() in tables:
            out.add(doc.value_pos["name"], f"duplicate table '{t.name}' (first defined at {tables[t.name.lower()].pos})")
            continue
        _check_table(t, out)
        _check_static_rows(doc, t, out)
        tables[t.name.lower()] = t
    for path in calc_groups.files(semantic):
        doc = _load(path, "calculation_group", root, out)
        if doc is None:
            out.broken_tables.add(_name_in(path, root))
            continue
        t = calc_groups.calculation_group_table(doc, out.add)
        if t.name.lower() in tables:
            out.add(doc.value_pos["name"], f"duplicate table '{t.name}' (first defined at {tables[t.name.lower()].pos})")
            continue
        tables[t.name.lower()] = t
    calc_groups.check_precedences(list(tables.values()), out.add)
    if date_table and date_table.lower() not in tables:
        out.add(model_doc.value_pos["date_table"], f"date_table '{date_table}' does not exist",
                _did_you_mean(date_table, [t.name for t in tables.values()]))
    relationships = _relationships(model_doc, tables, out)
    roles = _roles(model_doc, tables, out)
    measure_files = sorted(p for p in (root / "measures").glob("*.yaml") if not p.name.endswith(".tests.yaml"))
    measures = _measures(measure_files, root, tables, out)
    as_of = _as_of_measure(model_doc, tables, out)
    if as_of is not None:
        if any(m.name.lower() == as_of.name.lower() for m in measures):
            out.add(as_of.pos, f"model.yaml as_of defines the measure [{as_of.name}], which a measures file "
                               "defines too")
        measures = (as_of, *measures)
    functions = _functions(sorted((semantic / "functions").glob("*.yaml")), root, out)
    by_name = {m.name.lower(): m for m in measures}
    for path in field_parameters.files(semantic):
        doc = _load(path, "field_parameter", root, out)
        if doc is None:
            out.broken_tables.add(_name_in(path, root))
            continue
        t = field_parameters.field_parameter_table(doc, tables, by_name, out.add, parse_field_ref,
                                                   not (out.measures_incomplete or out.broken_measures))
        _check_file_name(t.name, "field parameter name", doc.value_pos["name"], out)
        if t.name.lower() in tables:
            out.add(doc.value_pos["name"], f"duplicate table '{t.name}' (first defined at {tables[t.name.lower()].pos})")
            continue
        tables[t.name.lower()] = t
    pages = _pages(sorted((semantic / "pages").glob("*.yaml")), root, tables, by_name, out)
    # a measures file that failed leaves its measures unknown: no cascade of errors about them
    add = out.add if not out.measures_incomplete else (lambda *a, **k: None)
    views = metadata.perspectives(model_doc, tables, measures, add)
    cultures = metadata.cultures(model_doc, tables, measures, {p.name.lower() for p in views}, add)
    out.raise_if_any()
    return Model(
        name=model_doc["name"], culture=model_doc.get("culture", "en-US"), tables=tuple(tables.values()),
        relationships=relationships, measures=measures, pages=pages, root=root, date_table=date_table,
        as_of=model_doc.get("as_of"),
        synth=dict(model_doc.get("synth", {})), data_folder=model_doc.get("data_folder"),
        lint_disable=_disabled(model_doc), roles=roles, functions=functions,
        passthrough=_passthrough(semantic / "tmdl", "*.tmdl"),
        report_passthrough=_passthrough(semantic / "pbir", "*.json"),
        description=model_doc.get("description"), perspectives=views, cultures=cultures,
    )


def _passthrough(folder: Path, pattern: str) -> dict[str, str]:
    """Verbatim files (semantic/tmdl/**.tmdl, semantic/pbir/**.json) by relative path, exact
    text (CRLF kept: read without newline translation)."""
    files = {}
    for path in sorted(folder.rglob(pattern)) if folder.is_dir() else ():
        with path.open(encoding="utf-8", newline="") as fh:
            files[path.relative_to(folder).as_posix()] = fh.read()
    return files
