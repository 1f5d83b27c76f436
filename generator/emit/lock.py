"""One build at a time per output folder, and no staging folder left behind by a dead one.

The lock is an OS file lock (`flock` on POSIX, `msvcrt.locking` on Windows) on
`.<out>.lock` next to the output folder. The operating system releases it when the
holder exits, even on a crash or kill -9, so a lock is never stale. The file records
the holder's pid for the message; on POSIX the holder deletes it on release, and a
waiter that locked a file which was deleted meanwhile starts again on the new one.
A second build on the same output waits up to `timeout` seconds, then fails clearly.
"""
from __future__ import annotations

import os
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from generator.errors import ForgeError, Problem

DEFAULT_TIMEOUT = 120.0  # seconds; PBI_FORGE_LOCK_TIMEOUT overrides it
_POLL = 0.1

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


def lock_timeout() -> float:
    try:
        return float(os.environ.get("PBI_FORGE_LOCK_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


@contextmanager
def build_lock(out: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the output folder's lock; wait for another build up to `timeout` seconds."""
    timeout = lock_timeout() if timeout is None else timeout
    path = lock_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire(path, out, time.monotonic() + timeout, timeout)
    try:
        _record_holder(fd)
        yield
    finally:
        if os.name != "nt":
            path.unlink(missing_ok=True)  # still ours: waiters notice and start again
        _unlock(fd)
        os.close(fd)


def _acquire(path: Path, out: Path, deadline: float, timeout: float) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                os.close(fd)
                raise ForgeError(Problem(None, f"another pbi-forge build ({_holder(path)}) is writing {out}; "
                                               f"waited {timeout:g} s",
                                         "wait for it to finish, or set PBI_FORGE_LOCK_TIMEOUT to wait longer"))
            time.sleep(_POLL)
        if _same_file(fd, path):
            return fd
        _unlock(fd)  # the holder deleted this file on release; lock the current one
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    if os.name == "nt":  # pragma: no cover - the lock file is never deleted on Windows
        return True
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def _record_holder(fd: int) -> None:
    text = f"{os.getpid()}\n".encode()
    if os.name == "nt":  # pragma: no cover - byte 0 is the locked region; the pid goes after it
        os.lseek(fd, 1, os.SEEK_SET)
    else:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, text)


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="ascii", errors="replace").strip("\x00 \n")
    except OSError:
        pid = ""
    return f"pid {pid}" if pid.isdigit() else "pid unknown"


def stage_path(out: Path, pid: int | None = None) -> Path:
    return out.parent / f".{out.name}.staging-{os.getpid() if pid is None else pid}"


def remove_stale_stages(out: Path, keep: set[Path] = frozenset()) -> list[Path]:
    """Remove staging folders of builds that are no longer running (call it under the lock)."""
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.staging-(\d+)$")
    removed = []
    if not out.parent.is_dir():
        return removed
    for entry in out.parent.iterdir():
        m = pattern.match(entry.name)
        if not m or entry in keep or not entry.is_dir() or entry.is_symlink():
            continue
        pid = int(m.group(1))
        if pid == os.getpid() or not pid_alive(pid):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    if os.name == "nt":  # pragma: no cover - os.kill would terminate the process on Windows
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
