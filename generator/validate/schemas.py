"""Validate every emitted JSON file against the `$schema` it names, offline.

Microsoft's schemas reference each other by relative URL; a `referencing` registry maps
every `https://developer.microsoft.com/json-schemas/fabric/...` URL to the local copy
(the `$id`s of the `schema-embedded.json` files cannot be used: they 404, see
../shared/docs/pbip-format.md §9.10).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import jsonschema
import referencing
import referencing.jsonschema

SCHEMA_ROOT = "https://developer.microsoft.com/json-schemas/"
JSON_SUFFIXES = {".json", ".pbip", ".pbir", ".pbism", ".platform"}


def default_schema_dir(start: Path) -> Path | None:
    """`../shared/schemas` next to the project or any parent: where CI and tests find them."""
    for folder in [start.resolve(), *start.resolve().parents]:
        candidate = folder.parent / "shared" / "schemas"
        if (candidate / "fabric").is_dir():
            return candidate
    return None


@lru_cache(maxsize=4)
def _registry(schema_dir: Path) -> referencing.Registry:
    def retrieve(uri: str) -> referencing.Resource:
        if not uri.startswith(SCHEMA_ROOT):
            raise referencing.exceptions.NoSuchResource(uri)
        local = schema_dir / uri[len(SCHEMA_ROOT):].split("#")[0]
        contents = json.loads(local.read_text(encoding="utf-8"))
        return referencing.Resource.from_contents(contents, default_specification=referencing.jsonschema.DRAFT7)

    return referencing.Registry(retrieve=retrieve)


@lru_cache(maxsize=64)
def _validator(schema_dir: Path, url: str) -> jsonschema.protocols.Validator:
    resource = _registry(schema_dir).get_or_retrieve(url).value
    cls = jsonschema.validators.validator_for(resource.contents, default=jsonschema.Draft7Validator)
    return cls(resource.contents, registry=_registry(schema_dir))


def validate_file(path: Path, schema_dir: Path) -> list[str]:
    """Problems (empty when valid) for one JSON file, each naming the JSON path."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"not valid JSON: {exc}"]
    url = doc.get("$schema") if isinstance(doc, dict) else None
    if not url:
        return ["no $schema"]
    try:
        validator = _validator(schema_dir, url)
    except (referencing.exceptions.Unresolvable, OSError) as exc:
        return [f"schema {url} not found under {schema_dir}: {exc}"]
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]


def json_files(tree: Path) -> list[Path]:
    """The PBIP's own JSON files: the .pbip and everything in its item folders, except
    Desktop's local .pbi folder and theme files (themes have no $schema)."""
    items = [p for p in tree.iterdir() if p.is_dir() and p.suffix in (".Report", ".SemanticModel")]
    files = [p for p in tree.glob("*.pbip")]
    for item in items:
        files += [p for p in item.rglob("*") if p.is_file() and p.name.endswith(tuple(JSON_SUFFIXES))
                  and "StaticResources" not in p.parts and ".pbi" not in p.parts]
    return sorted(files)


def validate_tree(tree: Path, schema_dir: Path) -> dict[Path, list[str]]:
    """Every JSON file of a PBIP tree that has problems, with them."""
    results = {}
    for path in json_files(tree):
        problems = validate_file(path, schema_dir)
        if problems:
            results[path] = problems
    return results
