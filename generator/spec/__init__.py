"""Stage 1: load the YAML project, validate it against JSON Schema, keep source positions."""
from generator.spec.loader import load_project, parse_field_ref, schema
from generator.spec.model import Model, Pos

__all__ = ["load_project", "parse_field_ref", "schema", "Model", "Pos"]
