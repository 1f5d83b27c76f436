"""User-facing errors: every problem names file:line:column and carries no traceback.

Stages collect `Problem`s and raise one `ForgeError` holding all of them, so a user sees
every mistake in one run. `build.py` prints them and exits with code 2.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.source import Pos


@dataclass(frozen=True)
class Problem:
    pos: Pos | None
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.pos}: " if self.pos else ""
        text = f"{where}error: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class ForgeError(Exception):
    """One or more problems in the user's input. Exit code 2."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem(None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
