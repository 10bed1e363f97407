"""Writing a finished file atomically: a temporary name in the same folder, then a rename. Every writer uses it."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import ContainerError


def write_atomically(path: str | os.PathLike[str], data: bytes, *, executable: bool = False) -> None:
    """Writes ``data`` to ``path`` so that a reader sees the old file or the whole new one, never a part."""
    target = Path(path)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    except OSError as e:
        raise ContainerError(f"cannot write {target}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, (0o777 if executable else 0o666) & ~umask)
        os.replace(temp, target)
    except BaseException as e:
        os.unlink(temp)
        if isinstance(e, OSError):
            raise ContainerError(f"cannot write {target}: {e.strerror}") from None
        raise
