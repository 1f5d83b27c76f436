"""TMDL tree → pbi-forge's YAML (semantic/, measures/) plus the TMDL kept verbatim.

What the YAML format expresses (tables, columns, calculated columns and tables, measures,
hierarchies, relationships, roles, calculation groups) becomes YAML. Power Query M that
is not a plain Parquet/CSV read stays verbatim (`source: {m: ...}`). What the format
cannot express is never dropped silently:
- an object with structure the YAML has no place for (a KPI, a dynamic format string, a
  field parameter's extended properties, an auto date/time variation, several partitions,
  a column whose sourceColumn is not its name, ...) keeps its whole table file verbatim in
  semantic/tmdl/tables/ (the build writes it back as it is; the YAML still declares the
  table so bindings, lint and the engine know it), and the YAML says so in a comment;
- perspectives, cultures, shared expressions, query groups: verbatim under semantic/tmdl/;
- a property with no YAML key (dataCategory, isAvailableInMdx, ...) is a `#` comment;
- Desktop's bookkeeping that the build regenerates (lineageTags, SummarizationSetBy, ...)
  is listed in the report as regenerated.
`ImportResult.notes` is that report.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import ForgeError, Problem
from generator.importer.tmdl_reader import Document, Node, split_dotted, unquote
from generator.importer.yaml_text import Commented, dump

# Desktop's bookkeeping: TOM-level metadata the build writes itself (IDs, inference flags)
REGENERATED_PROPS = {"lineageTag", "sourceLineageTag", "isNameInferred", "isDataTypeInferred", "summarizeBy",
                     "sourceColumn", "dataType", "changedProperty", "sourceProviderType", "mode"}
REGENERATED_ANNOTATIONS = {"SummarizationSetBy", "UnderlyingDateTimeDataType", "PBI_NavigationStepName",
                           "PBI_ResultType", "PBI_FormatHint", "PBI_Id", "__PBI_TimeIntelligenceEnabled",
                           "PBI_QueryOrder", "PBIDesktopVersion", "__PBI_SemanticLinkEnabled", "PBI_ProTooling",
                           "TabularEditor_SerializeOptions", "PBI_ChangedProperties"}
# children of a table / column / measure the YAML cannot hold: the table is kept verbatim
STRUCTURAL = {"kpi", "formatStringDefinition", "detailRowsDefinition", "extendedProperty", "variation",
              "relatedColumnDetails", "alternateOf", "refreshPolicy", "calendar"}
FALLBACK = "no dataType in the TMDL (typed at refresh): string assumed"
# a calculated table's columns are typed from its expression instead (importer/calc_types.py);
# FALLBACK stays for them only where that expression cannot be typed, with the reason
AUTO_DATE = {"__PBI_LocalDateTable", "__PBI_TemplateDateTable"}
# an auto date/time table's CALENDAR spans the dates in the data, and an imported model has
# none (its M is not run): the engine gets one day instead; the TMDL is kept verbatim
AUTO_DATE_STAND_IN = "CALENDAR ( DATE ( 2000, 1, 1 ), DATE ( 2000, 1, 1 ) )"
TYPES = {"string": "string", "int64": "int64", "double": "double", "decimal": "decimal", "boolean": "boolean"}
SUMMARIZE = {"none", "sum", "count", "distinctCount", "min", "max", "average"}
_FILE_READ = re.compile(r'^let\s+Source\s*=\s*(Parquet\.Document|Csv\.Document)\(\s*File\.Contents\(\s*"([^"]+)"\s*\)'
                        r'[^)]*\)\s*(?:,[\s\S]*)?\s+in\s+[\s\S]+$')
_ILLEGAL = re.compile(r"[\[\]'\"/\\:*?<>|]")


@dataclass
class ImportResult:
    files: dict[str, str] = field(default_factory=dict)  # relative path under DIR -> text
    notes: list[str] = field(default_factory=list)  # what is kept verbatim / commented / regenerated
    tables: int = 0
    measures: int = 0
    verbatim_tables: list[str] = field(default_factory=list)


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "x"


def ref(table: str, column: str) -> str:
    t = table if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table) else "'" + table.replace("'", "''") + "'"
    return f"{t}[{column}]"


class Importer:
    def __init__(self, docs: tuple[Document, ...], folder: Path, name: str, synthesize: bool = False,
                 calc_types: dict[tuple[str, str], tuple[str, str]] | None = None) -> None:
        self.docs, self.folder, self.name = docs, folder, name
        self.calc_types = calc_types or {}  # (table, column) -> (type, note): calc_types.expression_types
        self.result = ImportResult()
        self.regenerated: set[str] = set()
        self.synthesize = synthesize
        self.synthetic: dict[str, dict] = {}  # table -> its `synthetic:` spec (import --synthesize)

    # -- helpers ---------------------------------------------------------------------------
    def rel(self, doc: Document) -> str:
        return doc.path.relative_to(self.folder).as_posix()

    def nodes(self, kind: str) -> list[tuple[Document, Node]]:
        return [(d, n) for d in self.docs for n in d.nodes if n.kind == kind]

    def check_name(self, name: str, node: Node, what: str) -> None:
        illegal = _ILLEGAL.search(name.replace("/", "") if what == "measure" else name)
        if illegal or not name.strip():
            raise ForgeError(Problem(node.pos, f"{what} '{name}' has a character pbi-forge names cannot hold "
                                               "([ ] ' \" / \\ : * ? < > |); rename it in Desktop first"))

    def leftovers(self, node: Node, known: set[str]) -> list[str]:
        """`#` notes for the properties and annotations of `node` with no YAML key."""
        notes = []
        for p in node.props:
            if p.key in known:
                continue
            if p.key in REGENERATED_PROPS:
                self.regenerated.add(p.key)
                continue
            notes.append(f"not represented (TMDL): {p.key}" + (f": {p.value}" if p.value is not None else ""))
        for c in node.kids("annotation", "changedProperty"):
            if c.kind == "changedProperty" or c.name in REGENERATED_ANNOTATIONS:
                self.regenerated.add("annotation " + (c.name or "changedProperty"))
            else:
                notes.append(f"not represented (TMDL): annotation {c.name} = {c.expression}")
        return notes

    def structural(self, table: Node) -> list[str]:
        """Why a table must be kept verbatim (empty: the YAML holds it)."""
        why = []
        for n in (table, *table.children):
            for c in n.children:
                if c.kind in STRUCTURAL:
                    why.append(f"{c.kind} on {n.kind} {n.name}")
        if any(a.name in AUTO_DATE for a in table.kids("annotation")):
            why.append("a Desktop auto date/time table")
        parts = table.kids("partition")
        if len(parts) > 1:
            why.append(f"{len(parts)} partitions")
        for p in parts:
            if p.expression not in ("m", "calculated", "calculationGroup"):
                why.append(f"partition {p.name} of type {p.expression}")
            elif p.prop("mode", "import") != "import":
                why.append(f"partition {p.name} in {p.prop('mode')} mode")
        calculated = any(p.expression == "calculated" for p in parts)
        for c in table.kids("column") if table.kid("calculationGroup") is None else ():
            source = c.prop("sourceColumn")
            if c.expression is None and source is not None:
                plain = unquote(source)
                if calculated:
                    plain = plain.split("[", 1)[-1].rstrip("]") if "[" in plain else plain
                if plain != c.name:
                    why.append(f"column {c.name} reads sourceColumn {source}")
            if c.prop("dataType") not in (None, *TYPES, "dateTime"):
                why.append(f"column {c.name} of type {c.prop('dataType')}")
        g = table.kid("calculationGroup")
        if g is not None:
            cols = table.kids("column")
            if len(cols) != 2 or not any(c.name == "Ordinal" and c.prop("sourceColumn") == "Ordinal" for c in cols):
                why.append("a calculation group without exactly its Name and Ordinal columns")
        return why

    # -- model -----------------------------------------------------------------------------
    def run(self) -> ImportResult:
        models = self.nodes("model")
        if not models:
            raise ForgeError(Problem(None, f"{self.folder}: no `model` object (model.tmdl) in the TMDL folder"))
        _, model = models[0]
        tables = [(d, n) for d, n in self.nodes("table")]
        for d, t in tables:
            self.check_name(t.name, t, "table")
        self.table_names = {t.name for _, t in tables}
        self.types = self.column_types(tables)
        if self.synthesize:
            self.synthetic = self.synthetic_plan(tables)
        for d, t in tables:
            self.table(d, t)
        self.cultures = self.culture_entries(model.prop("culture", "en-US") or "en-US")
        self.model_yaml(model)
        self.passthrough_files()
        if self.regenerated:
            self.result.notes.append("regenerated by the build (Desktop bookkeeping, not kept): "
                                     + ", ".join(sorted(self.regenerated)))
        return self.result

    def column_types(self, tables: list[tuple[Document, Node]]) -> dict[tuple[str, str], tuple[str, str | None]]:
        """(table, column) → (YAML type, why it was guessed or None). dateTime is `date` when
        Desktop marked it so (UnderlyingDateTimeDataType = Date, a date-only format); a column
        with no dataType (typed at refresh) takes, in a calculated table, the type of its
        expression (`calc_types`), else the type of the column a relationship joins it to, else a date/time guess from its format or category, else string; the two ends
        of a relationship get one type (pbi-forge refuses date joined to datetime)."""
        types: dict[tuple[str, str], tuple[str, str | None]] = {}
        for _, t in tables:
            for c in t.kids("column"):
                types[(t.name, c.name)] = self.calc_types.get((t.name, c.name)) or _type_of(c)
        ends = []
        for _, r in self.nodes("relationship"):
            try:
                ends.append((split_dotted(r.prop("fromColumn") or ""), split_dotted(r.prop("toColumn") or "")))
            except ValueError:
                continue
        for a, b in ends:
            if a not in types or b not in types:
                continue
            (ta, wa), (tb, wb) = types[a], types[b]
            if ta == tb:
                continue
            if (wa or "").startswith(FALLBACK) and not wb:
                types[a] = (tb, f"no dataType in the TMDL: {tb}, the type of {ref(*b)} it is related to")
            elif (wb or "").startswith(FALLBACK) and not wa:
                types[b] = (ta, f"no dataType in the TMDL: {ta}, the type of {ref(*a)} it is related to")
            elif {ta, tb} == {"date", "datetime"}:
                types[a] = types[b] = ("datetime", None)
        return types

    def synthetic_plan(self, tables: list[tuple[Document, Node]]) -> dict[str, dict]:
        """`synthetic:` specs for the tables whose M stays verbatim (importer/synthesize.py)."""
        from generator.importer.synthesize import Link, plan

        external = {}
        for _, t in tables:
            part = next(iter(t.kids("partition")), None)
            if part is None or part.expression != "m" or t.kid("calculationGroup") is not None:
                continue
            if "m" in self.source(t, part):
                external[t.name] = [(c.name, self.types[(t.name, c.name)][0], c.flag("isKey"))
                                    for c in t.kids("column") if c.expression is None]
        links = []
        for _, r in self.nodes("relationship"):
            try:
                many, one = split_dotted(r.prop("fromColumn") or ""), split_dotted(r.prop("toColumn") or "")
            except ValueError:
                continue
            links.append(Link(many, one, r.prop("isActive", "true").lower() != "false",
                              r.prop("toCardinality", "one") == "many"))
        specs = plan(external, links)
        for name, spec in sorted(specs.items()):
            self.result.notes.append(f"table {name}: {spec['rows']} synthetic rows ({spec['role']}) for the engine")
        return specs

    def culture_entries(self, model_culture: str) -> dict[str, dict]:
        """cultures/*.tmdl the YAML can say, by relative path (importer/cultures.py); the
        others stay verbatim (passthrough_files), with the reason in the notes."""
        from generator.importer.cultures import culture_yaml

        out = {}
        for d in self.docs:
            rel = self.rel(d)
            if not rel.startswith("cultures/"):
                continue
            node = next((n for n in d.nodes if n.kind == "cultureInfo"), None)
            entry, notes, why = culture_yaml(node, model_culture) if node is not None else (None, [], "no cultureInfo")
            if entry is None:
                self.result.notes.append(f"{rel}: not said in YAML ({why})")
                continue
            out[rel] = Commented(entry, tuple(notes)) if notes else entry
            self.result.notes += notes
        return out

    def model_yaml(self, model: Node) -> None:
        doc: dict = {"name": self.name, "culture": model.prop("culture", "en-US")}
        if model.description:
            doc["description"] = model.description
        notes = [n for n in self.leftovers(model, {"culture", "sourceQueryCulture"})
                 if "defaultPowerBIDataSourceVersion" not in n and "discourageImplicitMeasures" not in n]
        if model.prop("sourceQueryCulture") not in (None, doc["culture"]):
            notes.append(f"sourceQueryCulture {model.prop('sourceQueryCulture')} is written as the culture")
        for c in model.children:
            if c.kind not in ("annotation", "changedProperty", "dataAccessOptions"):
                notes.append(f"kept verbatim in semantic/tmdl/model.tmdl: {c.kind} {c.name or ''}".rstrip())
        rels = []
        for d, r in self.nodes("relationship"):
            rels.append(self.relationship(r))
        if rels:
            doc["relationships"] = rels
        roles = [self.role(d, r) for d, r in self.nodes("role")]
        roles = [r for r in roles if r is not None]
        if roles:
            doc["roles"] = roles
        if self.cultures:
            doc["cultures"] = [self.cultures[rel] for rel in sorted(self.cultures)]
        header = (f"Imported by `pbi-forge import` from {self.folder.parent.name}.",
                  "Comments mark what pbi-forge's YAML cannot represent; semantic/tmdl/ keeps TMDL verbatim.",
                  *notes)
        self.result.notes += [f"model: {n}" for n in notes]
        self.result.files["semantic/model.yaml"] = dump(doc, header)

    def relationship(self, r: Node) -> Commented | dict:
        try:
            ft, fc = split_dotted(r.prop("fromColumn") or "")
            tt, tc = split_dotted(r.prop("toColumn") or "")
        except ValueError as exc:
            raise ForgeError(Problem(r.pos, f"relationship {r.name}: {exc}")) from None
        out: dict = {"from": ref(ft, fc), "to": ref(tt, tc)}
        if r.prop("crossFilteringBehavior") == "bothDirections":
            out["cross_filter"] = "both"
        if r.prop("isActive", "true").lower() == "false":
            out["active"] = False
        notes = self.leftovers(r, {"fromColumn", "toColumn", "crossFilteringBehavior", "isActive"})
        self.result.notes += [f"relationship {out['from']} -> {out['to']}: {n}" for n in notes]
        return Commented(out, tuple(notes)) if notes else out

    def role(self, d: Document, r: Node) -> dict | None:
        self.check_name(r.name, r, "role")
        structural = [c for c in r.children if c.kind not in ("tablePermission", "annotation", "member")]
        if r.prop("modelPermission", "read") != "read" or structural or any(
                p.kids("columnPermission") for p in r.kids("tablePermission")):
            self.keep(d, f"roles/{r.name}.tmdl", f"role {r.name}: kept verbatim (permissions the YAML cannot hold)")
        out: dict = {"name": r.name}
        if r.description:
            out["description"] = r.description
        members = [m.name for m in r.kids("member")]
        if members:
            out["members"] = members
        perms = {p.name: p.expression for p in r.kids("tablePermission") if p.expression}
        if not perms:
            self.result.notes.append(f"role {r.name}: no table filter; kept verbatim")
            self.keep(d, f"roles/{r.name}.tmdl", None)
            return None
        out["tables"] = perms
        return out

    def keep(self, d: Document, rel: str, note: str | None) -> None:
        """Keep one whole file verbatim (exact bytes of the original, CRLF included)."""
        with d.path.open(encoding="utf-8-sig", newline="") as fh:
            self.result.files[f"semantic/tmdl/{rel}"] = fh.read()
        if note:
            self.result.notes.append(note)

    def passthrough_files(self) -> None:
        variations = any(c.kind == "variation" for _, t in self.nodes("table") for col in t.kids("column")
                         for c in col.children)
        for d in self.docs:
            if self.rel(d) == "relationships.tmdl" and variations:  # variations name relationships by ID
                self.keep(d, "relationships.tmdl", "kept verbatim: relationships.tmdl (auto date/time "
                                                   "variations refer to relationships by their IDs)")
            rel = self.rel(d)
            if rel == "expressions.tmdl":
                # the build writes its own DataFolder parameter (Parquet sources): never twice
                kept = [n for n in d.nodes if not (n.kind == "expression" and n.name == "DataFolder")]
                if kept:
                    self.result.files["semantic/tmdl/expressions.tmdl"] = "\n".join(n.raw for n in kept)
                    self.result.notes.append("kept verbatim: expressions.tmdl (" + ", ".join(
                        n.name or n.kind for n in kept) + ")")
            elif rel in self.cultures:
                continue  # said by model.yaml `cultures:`
            elif rel.startswith(("perspectives/", "cultures/")) or rel == "functions.tmdl" \
                    or rel.startswith("dataSources"):
                self.keep(d, rel, f"kept verbatim: {rel}")
            elif rel == "model.tmdl":
                kept = [n for n in d.nodes if n.kind != "model" and not n.kind.startswith("ref ")
                        and not (n.kind == "annotation" and n.name in REGENERATED_ANNOTATIONS)]
                if kept:
                    self.result.files["semantic/tmdl/model.tmdl"] = "\n".join(n.raw for n in kept)
                    self.result.notes.append("kept verbatim in model.tmdl: "
                                             + ", ".join(f"{n.kind} {n.name}" for n in kept))

    # -- tables ----------------------------------------------------------------------------
    def table(self, d: Document, t: Node) -> None:
        self.result.tables += 1
        why = self.structural(t)
        notes: list[str] = []
        if why:
            self.keep(d, f"tables/{t.name}.tmdl", None)
            self.result.verbatim_tables.append(t.name)
            notes.append("The TMDL of this table is kept verbatim in semantic/tmdl/tables/"
                         f"{t.name}.tmdl ({'; '.join(why)}); the build writes that file as it is, so "
                         "edit it there (this YAML declares the table for bindings, lint and the engine).")
            self.result.notes.append(f"table {t.name}: kept verbatim ({'; '.join(why)})")
        g = t.kid("calculationGroup")
        if g is not None and not why:
            self.calculation_group(t, g, notes)
        else:
            self.plain_table(t, notes)
        self.measures(t)

    def calculation_group(self, t: Node, g: Node, notes: list[str]) -> None:
        name_col = next(c for c in t.kids("column") if c.name != "Ordinal")
        doc: dict = {"name": t.name, "column": name_col.name, "precedence": int(g.prop("precedence", "0"))}
        if t.description:
            doc["description"] = t.description
        items = []
        for i in g.kids("calculationItem"):
            item: dict = {"name": i.name, "expression": i.expression or ""}
            if i.prop("ordinal") is not None:
                item["ordinal"] = int(i.prop("ordinal"))
            f = i.kid("formatStringDefinition")
            if f is not None:
                item["format_string"] = f.expression
            if i.description:
                item["description"] = i.description
            items.append(item)
        if not any("ordinal" in i for i in items):  # Desktop's order is the items' order
            for n, item in enumerate(items):
                item["ordinal"] = n
        doc["items"] = items
        notes += self.leftovers(t, set()) + self.leftovers(g, {"precedence"})
        self.result.files[f"semantic/calculation_groups/{slug(t.name)}.yaml"] = dump(doc, tuple(notes))

    def plain_table(self, t: Node, notes: list[str]) -> None:
        doc: dict = {"name": t.name}
        if t.description:
            doc["description"] = t.description
        partition = next(iter(t.kids("partition")), None)
        calculated = partition is not None and partition.expression == "calculated"
        if t.kid("calculationGroup") is not None:
            # a calculation group kept verbatim: declared as a calculated table of its item names
            items = t.kid("calculationGroup").kids("calculationItem")  # type: ignore[union-attr]
            rows = ", ".join('{ "' + i.name.replace('"', '""') + f'", {n} }}' for n, i in enumerate(items))
            names = [c.name for c in t.kids("column")] + ["Name", "Ordinal"]
            doc["calculated"] = (f'DATATABLE ( "{names[0]}", STRING, "{names[1]}", INTEGER, {{ ' + rows + " } )")
        elif calculated:
            source = partition.kid("source") if partition is not None else None
            doc["calculated"] = _renamed(t, source.expression if source is not None else partition.prop("source"))
            if any(a.name in AUTO_DATE for a in t.kids("annotation")):
                notes.append(f"for the engine only (the data is not imported): {AUTO_DATE_STAND_IN} stands in "
                             f"for {' '.join(doc['calculated'].split())}")
                doc["calculated"] = AUTO_DATE_STAND_IN
        elif partition is not None:
            doc["source"] = self.source(t, partition)
            if t.name in self.synthetic:
                from generator.importer.synthesize import commented

                doc["source"]["synthetic"] = commented(self.synthetic[t.name])
        else:
            doc["source"] = {"m": "let\n    Source = #table({}, {})\nin\n    Source"}
            notes.append("the table had no partition; an empty M source stands in")
        if t.prop("dataCategory") == "Time":
            notes.append("dataCategory: Time (a date table: set model.yaml date_table to make pbi-forge treat it so)")
        notes += [n for n in self.leftovers(t, {"dataCategory"})]
        columns, calc_columns = [], []
        for c in t.kids("column"):
            self.check_name(c.name, c, "column")
            col = self.column(t, c, calculated)
            (calc_columns if c.expression is not None else columns).append(col)
        if not columns:
            columns.append(Commented({"name": "Value", "type": "string", "hidden": True},
                                     ("a placeholder: the YAML needs one column",)))
        doc["columns"] = columns
        if calc_columns:
            doc["calculated_columns"] = calc_columns
        hierarchies = []
        for h in t.kids("hierarchy"):
            levels = []
            for lv in h.kids("level"):
                col = unquote(lv.prop("column") or lv.name)
                level = {"name": lv.name, "column": col}
                if lv.description:
                    level["description"] = lv.description
                levels.append(col if col == lv.name and not lv.description else level)
            hierarchy: dict = {"name": h.name, "levels": levels}
            if h.description:
                hierarchy["description"] = h.description
            if h.prop("displayFolder"):
                hierarchy["folder"] = unquote(h.prop("displayFolder"))
            if h.flag("isHidden"):
                hierarchy["hidden"] = True
            hierarchies.append(hierarchy)
        if hierarchies:
            doc["hierarchies"] = hierarchies
        self.result.files[f"semantic/tables/{slug(t.name)}.yaml"] = dump(doc, tuple(notes))

    def source(self, t: Node, partition: Node) -> dict:
        src = partition.kid("source")
        m = src.expression if src is not None else partition.prop("source")
        if not m:
            raise ForgeError(Problem(partition.pos, f"partition {partition.name} of table {t.name} has no source"))
        read = _FILE_READ.match(m.strip())
        if read and Path(read.group(2)).is_file():
            return {"parquet" if read.group(1).startswith("Parquet") else "csv": read.group(2)}
        return {"m": m}

    def column(self, t: Node, c: Node, calculated_table: bool) -> Commented | dict:
        typ, guessed = self.types[(t.name, c.name)]
        notes: list[str] = [guessed] if guessed else []
        col: dict = {"name": c.name, "type": typ}
        if c.expression is not None:
            col["expression"] = c.expression.strip()
        if c.flag("isKey"):
            col["key"] = True
        if c.prop("formatString") is not None:
            col["format"] = unquote(c.prop("formatString"))
        if c.description:
            col["description"] = c.description
        if c.flag("isHidden"):
            col["hidden"] = True
        if c.prop("sortByColumn"):
            col["sort_by"] = unquote(c.prop("sortByColumn"))
        if c.prop("displayFolder"):
            col["folder"] = unquote(c.prop("displayFolder"))
        summarize = c.prop("summarizeBy")
        if summarize in SUMMARIZE and summarize != "none":
            col["summarize_by"] = summarize
        notes += self.leftovers(c, {"isKey", "formatString", "isHidden", "sortByColumn", "displayFolder"})
        self.result.notes += [f"column {t.name}[{c.name}]: {n}" for n in notes]
        return Commented(col, tuple(notes)) if notes else col

    def measures(self, t: Node) -> None:
        items = []
        for m in t.kids("measure"):
            self.check_name(m.name, m, "measure")
            self.result.measures += 1
            out: dict = {"name": m.name, "expression": (m.expression or "").strip()}
            if m.prop("formatString") is not None:
                out["format"] = unquote(m.prop("formatString"))
            if m.description:
                out["description"] = m.description
            if m.prop("displayFolder"):
                out["folder"] = unquote(m.prop("displayFolder"))
            notes = self.leftovers(m, {"formatString", "displayFolder"})
            notes += [f"{c.kind} (kept in the table's verbatim TMDL)" for c in m.children if c.kind in STRUCTURAL]
            self.result.notes += [f"measure [{m.name}]: {n}" for n in notes]
            items.append(Commented(out, tuple(notes)) if notes else out)
        if items:
            self.result.files[f"measures/{slug(t.name)}.yaml"] = dump(
                {"table": t.name, "measures": items}, (f"Measures of {t.name}, imported by `pbi-forge import`.",))


def _renamed(t: Node, expression: str | None) -> str | None:
    """A calculated table whose columns read other names (a field parameter's [Value1]...),
    wrapped in SELECTCOLUMNS so that the engine produces the declared names; the TMDL,
    kept verbatim, still has the original expression and sourceColumns."""
    pairs = []
    for c in t.kids("column"):
        source = unquote(c.prop("sourceColumn") or "")
        inner = source.split("[", 1)[-1].rstrip("]") if "[" in source else source
        if c.expression is None and inner and inner != c.name:
            pairs.append((c.name, inner))
    if not pairs or expression is None:
        return expression
    own = [c.name for c in t.kids("column") if c.expression is None]
    mapping = dict(pairs)
    cols = ", ".join(f'"{n}", [{mapping.get(n, n)}]' for n in own)
    return f"SELECTCOLUMNS (\n    {expression.strip()},\n    {cols}\n)"


def _type_of(c: Node) -> tuple[str, str | None]:
    dtype = c.prop("dataType")
    fmt = (unquote(c.prop("formatString") or "")).lower()
    if dtype == "dateTime":
        marked = any(a.name == "UnderlyingDateTimeDataType" and a.expression == "Date" for a in c.kids("annotation"))
        return ("date" if marked or fmt in ("short date", "long date") else "datetime"), None
    if dtype is not None:
        return TYPES.get(dtype, "string"), None
    if fmt in ("general date", "short date", "long date") or c.prop("dataCategory") == "PaddedDateTableDates":
        return "datetime", "no dataType in the TMDL (typed at refresh): datetime, from its format/category"
    return "string", FALLBACK


def import_model(docs: tuple[Document, ...], folder: Path, name: str, synthesize: bool = False) -> ImportResult:
    """Two passes when a calculated table has untyped columns: the first draft (string
    assumed) is compiled to type them from their expressions, then written again."""
    from generator.importer.calc_types import expression_types

    draft = Importer(docs, folder, name, synthesize).run()
    typed = expression_types(docs, draft.files, FALLBACK)
    return Importer(docs, folder, name, synthesize, typed).run() if typed else draft
