"""Atomic writes: a file or a bundle directory appears complete under its final name, or not at all."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from dwarfkit.errors import ContainerError


def _folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise ContainerError(f"cannot write {path}: folder {path.parent} does not exist")


def write_file_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Writes ``data`` to a temporary file next to ``path`` and renames it over ``path``."""
    _folder(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_directory_atomic(path: Path, fill: Callable[[Path], None]) -> None:
    """Builds a directory with ``fill(tmpdir)`` next to ``path``, then puts it in place of ``path``."""
    _folder(path)
    if path.exists() and not path.is_dir():
        raise ContainerError(f"cannot write {path}: it exists and is not a directory")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    old: Path | None = None
    try:
        os.chmod(tmp, 0o755)  # mkdtemp's folder is private; a bundle is readable like the executable beside it
        fill(tmp)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.rmdir(old)
            os.rename(path, old)
        os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not path.exists():
            os.rename(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
