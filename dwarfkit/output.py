"""Writing finished files so that a crash or a power loss leaves the old file or the whole new one. Every writer uses
:func:`write_atomically`; the dSYM bundle writer and the incremental writers use the pieces below it.

A whole-file write, step by step, and why:

1. the bytes go to ``.NAME.PID.RANDOM.tmp`` in the target's folder (same file system, so the rename is atomic), and
   the writer holds an ``flock`` on it from creation to rename: a temporary nobody holds a lock on belongs to a dead
   writer (the kernel drops a dead process's locks);
2. ``fsync`` of the temporary, then ``rename`` onto the target, then ``fsync`` of the folder: without the first, a
   power loss can leave the new name pointing at an empty or partial file (the rename reached the disk before the
   data); without the second, the rename itself may be forgotten;
3. before writing, :func:`remove_stale` deletes the target's temporaries that no live writer holds (left by a killed
   writer). It takes the temporary's lock itself before deleting, and a writer that locks its new temporary checks
   that the name still leads to the file it locked, so a live writer's temporary is never removed.

:func:`lock_file` is the other lock: one process at a time owns a file that is updated in place (the incremental
writers); the second gets :class:`LockedError` at once, naming the file and the pid that holds it.
"""
from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import stat
from pathlib import Path

from .errors import ContainerError


class LockedError(ContainerError):
    """Another process holds the file's lock (an incremental writer that has it open)."""


def write_atomically(path: str | os.PathLike[str], data: bytes, *, executable: bool = False) -> None:
    """Writes ``data`` to ``path`` so that a reader, a crash or a power loss sees the old file or the whole new one,
    never a part, and removes temporaries that killed writers left beside ``path``."""
    target = Path(path)
    folder = target.parent
    try:
        remove_stale(folder, target.name)
        fd, temp = locked_temporary(folder, target.name)
    except OSError as e:
        raise ContainerError(f"cannot write {target}: {e.strerror or e}") from None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, (0o777 if executable else 0o666) & ~umask)
        os.fsync(fd)
        os.replace(temp, target)
        fsync_directory(folder)
    except BaseException as e:
        _unlink(temp)
        if isinstance(e, OSError):
            raise ContainerError(f"cannot write {target}: {e.strerror or e}") from None
        raise
    finally:
        os.close(fd)  # releases the lock, after the rename: the temporary's name is gone by then


# -- temporaries ------------------------------------------------------------------------------------------------
def temporary_name(name: str, kind: str = "tmp") -> str:
    """``.NAME.PID.RANDOM.KIND``: hidden, beside the target, and recognisable as ours by :func:`remove_stale`."""
    return f".{name}.{os.getpid()}.{secrets.token_hex(4)}.{kind}"


def _pattern(name: str, regex: bool) -> re.Pattern[str]:
    return re.compile(rf"\.(?:{name if regex else re.escape(name)})\.\d+\.[0-9a-f]{{8}}\.(tmp|old)")


def locked_temporary(folder: Path, name: str, *, directory: bool = False) -> tuple[int, Path]:
    """A new temporary file (or directory) for target ``name`` in ``folder`` and an open descriptor holding an
    exclusive ``flock`` on it. The lock lasts until the descriptor is closed or the process dies."""
    while True:
        temp = folder / temporary_name(name)
        if directory:
            os.mkdir(temp, 0o700)
            fd = os.open(temp, os.O_RDONLY | os.O_DIRECTORY)
        else:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits if a cleaner holds it: then the name is gone, and we try again
        try:
            if os.stat(temp).st_ino == os.fstat(fd).st_ino:
                return fd, temp
        except FileNotFoundError:
            pass
        os.close(fd)


def remove_stale(folder: Path, name: str, *, regex: bool = False) -> list[Path]:
    """Removes the temporaries (``.tmp``, ``.old``) of target ``name`` (a regular expression of names if ``regex``)
    in ``folder`` that no live writer holds a lock on, and returns them. Each is locked before it is removed, so a
    writer cannot take it up meanwhile."""
    pattern = _pattern(name, regex)
    removed: list[Path] = []
    try:
        entries = [e for e in os.scandir(folder) if pattern.fullmatch(e.name)]
    except FileNotFoundError:
        return removed
    for entry in entries:
        path = Path(entry.path)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue  # gone meanwhile, or not ours to open
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.lstat(path).st_ino != os.fstat(fd).st_ino:
                continue
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
            removed.append(path)
        except OSError:
            continue  # a live writer holds it (BlockingIOError), or it went away
        finally:
            os.close(fd)
    if removed:
        fsync_directory(folder)
    return removed


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# -- durability -------------------------------------------------------------------------------------------------
def fsync_directory(folder: str | os.PathLike[str]) -> None:
    """Makes the folder's entries (a rename, a new or removed name) durable."""
    fd = os.open(folder or ".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Every file and folder under ``root`` (and ``root``), bottom up: a bundle is durable before it is renamed."""
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_directory(folder)


# -- the lock of a file updated in place --------------------------------------------------------------------------
def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def lock_file(path: str | os.PathLike[str]) -> int:
    """Takes the exclusive lock of ``path`` (an ``flock`` on ``PATH.lock``, which records the holder's pid) and
    returns its descriptor; closing it releases the lock, and so does the holder's death. Raises :class:`LockedError`
    at once, naming the file and the holder's pid, if another process (or another open in this one) holds it."""
    target = Path(path)
    lock = lock_path(target)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise ContainerError(f"cannot lock {target}: {lock}: {e.strerror or e}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
        os.close(fd)
        raise LockedError(f"{target} is being updated by another process (pid {holder or 'unknown'}, lock {lock}); "
                          f"one process at a time may have it open") from None
    except OSError as e:
        os.close(fd)
        raise ContainerError(f"cannot lock {target}: {lock}: {e.strerror or e}") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd
