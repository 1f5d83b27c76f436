"""What every renderer shares: the interface, and the error for what a backend cannot express."""
from __future__ import annotations

from sqlglot import exp

from generator.engine.errors import DaxCompileError


class UnsupportedOnBackend(DaxCompileError):
    """A compiled construct this backend has no exact rendering for (a compile error:
    the query is refused, never computed differently)."""


class Renderer:
    """Compiled sqlglot tree → SQL text for one backend. Subclasses set `backend` and
    `dialect` and may rewrite the tree first (`prepare`)."""

    backend = "?"
    dialect = "?"

    def prepare(self, statement: exp.Expression) -> exp.Expression:
        """The statement rewritten for this backend (in place where possible)."""
        return statement

    def render(self, statement: exp.Expression) -> str:
        """The statement's SQL text. Renders in place: the tree belongs to the caller alone
        and sqlglot would otherwise deep-copy it first."""
        return self.prepare(statement).sql(self.dialect, copy=False)

    def unsupported(self, what: str, used_by: str = "") -> UnsupportedOnBackend:
        by = f" (used by {used_by})" if used_by else ""
        return UnsupportedOnBackend(f"{what}{by} is not supported on the {self.backend} backend: it has no "
                                    f"exact {self.backend} rendering; run this query on the duckdb backend")
