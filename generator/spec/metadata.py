"""Model metadata from model.yaml: perspectives and cultures (translations).

Neither changes what DAX computes; both are part of the model Desktop and the service show
(a perspective is a named view of some tables/columns/measures/hierarchies; a culture gives
objects translated captions, descriptions and display folders). They are loaded here, apart
from the loader's tables and measures, and checked against them: every name must exist, so
a rename in a table file cannot leave a perspective or translation pointing at nothing.
"""
from __future__ import annotations

from typing import Callable

from generator.spec.model import Culture, Measure, ObjectPermission, Perspective, Pos, Table, Translation
from generator.spec.names import segment_problem
from generator.spec.yamlpos import PosDict, PosList

Add = Callable[..., None]  # add(pos, message, hint=None)
_KINDS = (("columns", "column"), ("measures", "measure"), ("hierarchies", "hierarchy"))


def _objects(t: Table, measures: tuple[Measure, ...]) -> dict[str, tuple[str, str]]:
    """lower-case name -> (kind, name) of every object a perspective can hold in table `t`."""
    out: dict[str, tuple[str, str]] = {}
    for m in measures:
        if m.table.lower() == t.name.lower():
            out[m.name.lower()] = ("measure", m.name)
    for c in t.all_columns:
        out[c.name.lower()] = ("column", c.name)
    for h in t.hierarchies:
        out.setdefault(h.name.lower(), ("hierarchy", h.name))
    return out


def perspectives(doc: PosDict, tables: dict[str, Table], measures: tuple[Measure, ...], add: Add) -> tuple[Perspective, ...]:
    """`perspectives:` — each table maps to `all` or a list of its column/measure/hierarchy names."""
    items = doc.get("perspectives", PosList())
    out: list[Perspective] = []
    seen: dict[str, Pos] = {}
    for i, p in enumerate(items):
        if p["name"].lower() in seen:
            add(p.value_pos["name"], f"duplicate perspective '{p['name']}' (first defined at {seen[p['name'].lower()]})")
            continue
        seen[p["name"].lower()] = items.item_pos[i]
        why = segment_problem(p["name"] + ".tmdl")
        if why:
            add(p.value_pos["name"], f"perspective name '{p['name']}' cannot be a file name: {why}")
        members: list[tuple[str, tuple[str, ...]]] = []
        for table, names in p["tables"].items():
            t = tables.get(table.lower())
            if t is None:
                add(p["tables"].key_pos[table], f"perspective '{p['name']}' names table '{table}', which does not exist", table=table)
                continue
            objects = _objects(t, measures)
            if names == "all":
                members.append((t.name, tuple(n for _, n in objects.values())))
                continue
            chosen = []
            for j, name in enumerate(names):
                if name.lower() not in objects:
                    add(names.item_pos[j], f"perspective '{p['name']}': '{name}' is not a column, measure or "
                                           f"hierarchy of table '{t.name}'")
                    continue
                chosen.append(objects[name.lower()][1])
            members.append((t.name, tuple(dict.fromkeys(chosen))))
        out.append(Perspective(p["name"], tuple(members), items.item_pos[i], p.get("description")))
    return tuple(out)


def _translation(path: tuple[str, ...], value) -> Translation:
    if isinstance(value, str):
        return Translation(path, caption=value)
    return Translation(path, caption=value.get("caption"), description=value.get("description"),
                       folder=value.get("folder"))


def cultures(doc: PosDict, tables: dict[str, Table], measures: tuple[Measure, ...], perspective_names: set[str],
             add: Add) -> tuple[Culture, ...]:
    """`cultures:` — translations of tables and their columns, measures, hierarchies and
    levels, and of perspectives, for each culture other than the model's own."""
    items = doc.get("cultures", PosList())
    out: list[Culture] = []
    seen: dict[str, Pos] = {doc.get("culture", "en-US").lower(): doc.value_pos.get("culture", doc.pos)}
    for i, c in enumerate(items):
        pos = items.item_pos[i]
        if c["name"].lower() in seen:
            add(c.value_pos["name"], f"culture '{c['name']}' is defined twice (or is the model's own culture; "
                                     f"first at {seen[c['name'].lower()]})")
            continue
        seen[c["name"].lower()] = pos
        found: list[Translation] = []
        for table, spec in c.get("tables", PosDict()).items():
            t = tables.get(table.lower())
            if t is None:
                add(c["tables"].key_pos[table], f"culture '{c['name']}' translates table '{table}', which does not exist", table=table)
                continue
            found.extend(_table_translations(c["name"], t, spec, measures, add))
        for name, value in c.get("perspectives", PosDict()).items():
            if name.lower() not in perspective_names:
                add(c["perspectives"].key_pos[name], f"culture '{c['name']}' translates perspective '{name}', "
                                                     "which does not exist")
                continue
            found.append(_translation(("perspective", name), value))
        out.append(Culture(c["name"], tuple(found), pos))
    return tuple(out)


def _table_translations(culture: str, t: Table, spec: PosDict, measures: tuple[Measure, ...], add: Add) -> list[Translation]:
    found = [_translation(("table", t.name), spec)] if any(k in spec for k in ("caption", "description")) else []
    homes = {m.name.lower(): m for m in measures if m.table.lower() == t.name.lower()}
    lookups = {"columns": {c.name.lower(): c.name for c in t.all_columns},
               "measures": {k: m.name for k, m in homes.items()},
               "hierarchies": {h.name.lower(): h.name for h in t.hierarchies}}
    for key, kind in _KINDS:
        for name, value in spec.get(key, PosDict()).items():
            real = lookups[key].get(name.lower())
            if real is None:
                add(spec[key].key_pos[name], f"culture '{culture}' translates {kind} '{name}', which is not a "
                                             f"{kind} of table '{t.name}'")
                continue
            found.append(_translation(("table", t.name, kind, real), value))
            if kind == "hierarchy" and isinstance(value, PosDict):
                h = next(h for h in t.hierarchies if h.name == real)
                levels = {lv.name.lower(): lv.name for lv in h.levels}
                for lv, text in value.get("levels", PosDict()).items():
                    if lv.lower() not in levels:
                        add(value["levels"].key_pos[lv], f"culture '{culture}': hierarchy '{real}' has no level '{lv}'")
                        continue
                    found.append(_translation(("table", t.name, "hierarchy", real, "level", levels[lv.lower()]), text))
    return found


def object_security(role: PosDict, tables: dict[str, Table], add: Add) -> tuple[ObjectPermission, ...]:
    """A role's `object_security:` — table -> `none` (the whole table) or the list of its
    columns the role cannot see (TMDL metadataPermission / columnPermission = none)."""
    spec = role.get("object_security", PosDict())
    out: list[ObjectPermission] = []
    for table, what in spec.items():
        t = tables.get(table.lower())
        if t is None:
            add(spec.key_pos[table], f"role '{role['name']}' secures table '{table}', which does not exist", table=table)
            continue
        if what == "none":
            out.append(ObjectPermission(t.name, None, spec.value_pos[table]))
            continue
        for j, col in enumerate(what):
            c = t.column(col)
            if c is None:
                add(what.item_pos[j], f"role '{role['name']}' secures column '{col}', which is not a column of '{t.name}'")
                continue
            out.append(ObjectPermission(t.name, c.name, what.item_pos[j]))
    return tuple(out)
