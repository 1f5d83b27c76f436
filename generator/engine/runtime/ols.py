"""Object-level security: a query as a user in roles may not refer to what they cannot see.

Power BI's rules (learn.microsoft.com/analysis-services/tabular-models/object-level-security,
learn.microsoft.com/fabric/security/service-admin-object-level-security):

- a table or column secured by a role (metadataPermission none) does not exist for its
  members: a query naming it fails, as if the name were wrong;
- measures (and other dynamic calculations) referring to a secured table or column are
  restricted automatically, however deep the reference; measures of a secured table go with it;
- relationships keep working through a secured column (its table not secured), so filter
  propagation is not a reference;
- roles add up: an object is secured only when every role of the user secures it;
- row-level and object-level security may not come from different roles: a user in such a
  combination gets an error at query time.

The check is static, on the parsed query and the measures it reaches, before anything is
compiled; row filters (security.py) are unaffected.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from generator.dax import ast as A
from generator.engine.errors import DaxEvalError
from generator.spec.model import Model, Role

DOC = "learn.microsoft.com/analysis-services/tabular-models/object-level-security"


class ObjectSecurity:
    """What the roles together cannot see, and the check of a query against it."""

    def __init__(self, model: Model, roles: Sequence[Role], measures: Mapping[str, object]):
        self.model = model
        self.roles = list(roles)
        self.measures = {name.lower(): tree for name, tree in measures.items()}
        tables = [{h.table.lower() for h in r.hidden if h.column is None} for r in self.roles]
        columns = [{(h.table.lower(), h.column.lower()) for h in r.hidden if h.column is not None} |
                   {(t.name.lower(), c.name.lower()) for t in model.tables if t.name.lower() in hidden
                    for c in t.all_columns}
                   for r, hidden in zip(self.roles, tables)]
        self.tables: set[str] = set.intersection(*tables) if tables else set()
        self.columns: set[tuple[str, str]] = set.intersection(*columns) if columns else set()
        self.mixed = self._mixed()

    @classmethod
    def for_roles(cls, model: Model, roles: Sequence[Role], measures: Mapping[str, object]) -> "ObjectSecurity | None":
        """None when no role of the user has object-level security (nothing to check)."""
        if not any(r.hidden for r in roles):
            return None
        return cls(model, roles, measures)

    def _mixed(self) -> str | None:
        ols = [r.name for r in self.roles if r.hidden]
        rls = [r.name for r in self.roles if r.tables and r.name not in ols]
        if ols and rls:
            return (f"roles '{ols[0]}' (object-level security) and '{rls[0]}' (row-level security) cannot be "
                    f"combined: Power BI refuses queries of a user in both ({DOC})")
        return None

    def check(self, query: A.Node) -> None:
        """Raise DaxEvalError naming the first secured object the query reaches."""
        if self.mixed:
            raise DaxEvalError(self.mixed)
        self._walk(query, None, set())

    def _walk(self, tree: A.Node, via: str | None, seen: set[str]) -> None:
        for node in tree.walk():
            if isinstance(node, A.TableRef):
                self._table(node.name, node, via)
            elif isinstance(node, A.ColumnRef) and node.table is not None:
                self._table(node.table, node, via)
                if (node.table.lower(), node.column.lower()) in self.columns:
                    self._refuse(f"column '{node.column}' of table '{node.table}'", node, via)
            elif isinstance(node, (A.BracketRef, A.ColumnRef)):
                name = node.name if isinstance(node, A.BracketRef) else node.column
                self._bracket(name, node, via, seen)

    def _bracket(self, name: str, node: A.Node, via: str | None, seen: set[str]) -> None:
        m = self.model.measure(name)
        if m is None:
            # a column of a row context: refused when only secured columns bear the name
            owners = [t for t in self.model.tables if t.column(name) is not None]
            if owners and all((t.name.lower(), name.lower()) in self.columns for t in owners):
                self._refuse(f"column '{name}' of table '{owners[0].name}'", node, via)
            return
        if m.table.lower() in self.tables:
            self._refuse(f"measure [{m.name}] of table '{m.table}'", node, via)
        if m.name.lower() in seen:
            return
        seen.add(m.name.lower())
        tree = self.measures.get(m.name.lower())
        if isinstance(tree, A.Node):
            self._walk(tree, via or f"[{m.name}]", seen)

    def _table(self, name: str, node: A.Node, via: str | None) -> None:
        if name.lower() in self.tables:
            self._refuse(f"table '{name}'", node, via)

    def _refuse(self, what: str, node: A.Node, via: str | None) -> None:
        roles = ", ".join(f"'{r.name}'" for r in self.roles)
        where = f"the measure {via} uses {what}" if via else f"the query uses {what}"
        at = f" (DAX {node.span})" if node.span.line and not via else ""
        raise DaxEvalError(f"{where}{at}, which object-level security of role {roles} hides: for this user it "
                           f"cannot be found or may not be used ({DOC})")
