"""DAX language front-end: AST, lexer, parser, formatter, model-aware checks and lint.

Public API: `parse_expression`, `parse_query`, `format_dax`, `DaxSyntaxError`
(see `generator.dax.ast` for the node types).
"""
