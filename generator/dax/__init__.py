"""DAX language front-end: AST, lexer, parser, formatter, model-aware checks and lint.

Public API (other stages depend on it):

* `parse_expression(text, origin=None)` -> an expression node (`generator.dax.ast`)
* `parse_query(text, origin=None)` -> `ast.Query`
* `format_dax(text_or_node)` -> canonical DAX text
* `DaxSyntaxError` -> the only exception the parser raises on bad input

`origin` is the `ExprOrigin` of the YAML scalar holding the DAX; with it, errors carry
the YAML file:line:col as well as the position inside the DAX text.
"""
from generator.dax.errors import DaxSyntaxError
from generator.dax.formatter import format_dax
from generator.dax.parser import parse_expression, parse_query

__all__ = ["DaxSyntaxError", "format_dax", "parse_expression", "parse_query"]
