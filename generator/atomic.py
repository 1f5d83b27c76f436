"""Writing a user's file so it is either the old text or the whole new one, never half.

Used wherever pbi-forge rewrites a file in the user's project (`fmt --write`, `import
--merge`): a temporary file in the same folder, then `os.replace`. `newline=""` keeps the
text's own line ends (a YAML saved with CRLF stays CRLF)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
