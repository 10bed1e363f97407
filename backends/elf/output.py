"""Atomic file output: write a temporary file next to the target, then rename it over the target."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dwarfkit.errors import ContainerError


def write_atomically(path: str | os.PathLike[str], data: bytes, *, executable: bool = False) -> None:
    target = Path(path)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise ContainerError(f"cannot write {target}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        mode = 0o777 if executable else 0o666
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, mode & ~umask)
        os.replace(temp, target)
    except BaseException as e:
        os.unlink(temp)
        if isinstance(e, OSError):
            raise ContainerError(f"cannot write {target}: {e.strerror}") from None
        raise
