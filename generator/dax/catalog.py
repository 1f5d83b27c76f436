"""DAX function catalog (stub: every name counts as built-in until the table lands)."""


def is_builtin(name: str) -> bool:
    return True
