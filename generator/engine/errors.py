"""Engine errors. Compile errors point at the DAX text (YAML position for measures)."""
from __future__ import annotations

from generator.errors import ForgeError, Problem
from generator.source import Pos


class DaxCompileError(ForgeError):
    """The engine cannot compile this DAX: unsupported function, unknown name, misuse."""

    def __init__(self, message: str, pos: Pos | None = None, hint: str | None = None):
        super().__init__(Problem(pos, message, hint))
        self.message = message
        self.pos = pos


class DaxUnsupportedError(DaxCompileError):
    """A DAX function or construct the engine does not implement (never guessed)."""

    def __init__(self, what: str, pos: Pos | None = None, where: str | None = None):
        text = f"{what} is not supported by the pbi-forge DAX engine"
        if where:
            text += f" (in {where})"
        super().__init__(text, pos, "see docs/dax-support.md for the supported functions")
        self.what = what


class DaxEvalError(ForgeError):
    """DAX raised an error while evaluating (e.g. comparing text with a number)."""

    def __init__(self, message: str):
        super().__init__(Problem(None, message))
        self.message = message
