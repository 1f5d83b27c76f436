"""Model integrity rules on hand-made models and data (expected values worked out by hand)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from generator.spec.integrity import relationship_problems
from generator.spec.model import Column, Model, Pos, Relationship, Source, Table
from generator.validate.integrity import integrity_problems


def _table(name: str, *columns: tuple[str, str], key: str | None = None) -> Table:
    cols = tuple(Column(c, t, Pos(f"{name}.yaml", i + 1, 5), key=(c == key)) for i, (c, t) in enumerate(columns))
    return Table(name, Source("generator", Pos(f"{name}.yaml", 1, 1), generator="rows"), cols, Pos(f"{name}.yaml", 1, 1))


def _rel(n: int, many: str, one: str, active: bool = True, both: bool = False) -> Relationship:
    (ft, fc), (tt, tc) = (x.split(".") for x in (many, one))
    return Relationship(ft, fc, tt, tc, Pos("model.yaml", n, 5), "both" if both else "single", active)


def _model(tables: list[Table], rels: list[Relationship]) -> Model:
    return Model("M", "en-US", tuple(tables), tuple(rels), (), (), Path("."))


def _star(*rels: Relationship) -> Model:
    """Two facts (F, G), three dimensions (A, B, C); every column is an int64 `k`/`a`/`b`/`c`."""
    cols = [("k", "int64"), ("a", "int64"), ("b", "int64"), ("c", "int64")]
    return _model([_table(n, *cols) for n in ("F", "G", "A", "B", "C")], list(rels))


def _messages(model: Model) -> list[str]:
    return [f"{p.pos.line}: {p.message}" for p in relationship_problems(model)]


def test_two_facts_sharing_two_dimensions_is_not_ambiguous():
    # F -> A, F -> B, G -> A, G -> B: an undirected cycle, but filters on A reach F and G
    # by one path each (they never flow from a many side to a one side).
    assert _messages(_star(_rel(1, "F.a", "A.k"), _rel(2, "F.b", "B.k"), _rel(3, "G.a", "A.k"),
                           _rel(4, "G.b", "B.k"))) == []


def test_a_diamond_is_ambiguous_unless_one_relationship_is_inactive():
    rels = [_rel(1, "F.a", "A.k"), _rel(2, "F.b", "B.k"), _rel(3, "A.c", "C.k"), _rel(4, "B.c", "C.k")]
    assert _messages(_star(*rels)) == [
        "4: ambiguous relationships: filters on 'C' reach 'F' along two active paths: C -> A -> F and C -> B -> F "
        "(relationships F[a] -> A[k] at model.yaml:1:5, F[b] -> B[k] at model.yaml:2:5, A[c] -> C[k] at model.yaml:3:5, "
        "B[c] -> C[k] at model.yaml:4:5)"]
    rels[3] = _rel(4, "B.c", "C.k", active=False)
    assert _messages(_star(*rels)) == []


def test_a_bidirectional_relationship_opens_a_second_path():
    # F -> A, G -> A, G -> B: fine. Adding F -> B is still fine single-direction (B filters F
    # and G once each), but with F -> A both-ways, filters on B reach G via B -> F -> A -> G too.
    rels = [_rel(1, "F.a", "A.k"), _rel(2, "G.a", "A.k"), _rel(3, "G.b", "B.k"), _rel(4, "F.b", "B.k")]
    assert _messages(_star(*rels)) == []
    rels[0] = _rel(1, "F.a", "A.k", both=True)
    assert _messages(_star(*rels)) == [
        "4: ambiguous relationships: filters on 'B' reach 'G' along two active paths: B -> G and B -> F -> A -> G "
        "(relationships F[a] -> A[k] at model.yaml:1:5, G[a] -> A[k] at model.yaml:2:5, G[b] -> B[k] at model.yaml:3:5, "
        "F[b] -> B[k] at model.yaml:4:5)"]


def test_cycles_follow_many_to_one_and_ignore_inactive_relationships():
    rels = [_rel(1, "F.a", "A.k"), _rel(2, "A.b", "B.k"), _rel(3, "B.k", "F.k")]
    assert _messages(_star(*rels)) == ["3: relationship cycle: F -> A -> B -> F"]
    rels[2] = _rel(3, "B.k", "F.k", active=False)
    assert _messages(_star(*rels)) == []


def test_date_and_datetime_may_be_related_but_int_and_double_may_not():
    t = _table("T", ("d", "date"), ("n", "int64"))
    u = _table("U", ("d", "datetime"), ("n", "double"))
    assert _messages(_model([t, u], [_rel(1, "T.d", "U.d")])) == []
    assert _messages(_model([t, u], [_rel(1, "T.n", "U.n")])) == [
        "1: relationship T[n] -> U[n] relates columns of different types: T[n] is int64, U[n] is double"]


def _data_messages(one_type: str, values: list, key: bool = False) -> list[str]:
    fact, dim = _table("F", ("x", one_type)), _table("D", ("x", one_type), key="x" if key else None)
    rels = [] if key else [_rel(7, "F.x", "D.x")]
    data = {"F": pa.table({"x": pa.array(values[:1])}), "D": pa.table({"x": pa.array(values)})}
    return [f"{p.pos}: {p.message}" for p in integrity_problems(_model([fact, dim], rels), data)]


def test_text_keys_compare_like_power_bi_case_insensitive_and_trailing_spaces_trimmed():
    assert _data_messages("string", ["a", "A", "b ", "b", "c", " c"]) == [
        "model.yaml:7:5: relationship F[x] -> D[x]: column 'x' in table 'D' contains 2 duplicate values: "
        "'A' (2 rows), 'b' (2 rows), and this is not allowed for columns on the one side of a many-to-one "
        "relationship"]


def test_blank_and_duplicate_key_values_are_two_problems_on_the_column():
    assert _data_messages("int64", [1, None, 2, None, 2, 3], key=True) == [
        "D.yaml:1:5: column 'x' in table 'D' contains blank values (2 rows), and this is not allowed for a "
        "column marked key: true",
        "D.yaml:1:5: column 'x' in table 'D' contains a duplicate value '2' (2 rows), and this is not allowed "
        "for a column marked key: true"]


def test_unique_values_pass():
    assert _data_messages("int64", [3, 1, 2]) == []
    assert _data_messages("date", [pa.scalar(1, pa.date32()).as_py(), pa.scalar(2, pa.date32()).as_py()]) == []


def test_the_data_check_is_one_aggregate_not_a_python_loop():
    # 2M unique keys plus one duplicate at the end. ~1 s on an idle core; the bound only
    # catches a per-row Python loop (minutes), not a loaded CI machine.
    n = 2_000_000
    fact = _table("F", ("x", "int64"), key="x")
    data = {"F": pa.table({"x": pa.array(np.append(np.arange(n), 17))})}
    started = time.perf_counter()
    problems = integrity_problems(_model([fact], []), data)
    assert time.perf_counter() - started < 30
    assert [p.message for p in problems] == [
        "column 'x' in table 'F' contains a duplicate value '17' (2 rows), and this is not allowed for a column "
        "marked key: true"]
