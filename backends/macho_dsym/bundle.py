"""The dSYM bundle: a directory replaced in one step, never missing, never half there; and its Info.plist.

(Single files go through :func:`dwarfkit.output.write_atomically`.) :func:`write_directory_atomic` builds the new
bundle in ``.NAME.PID.RANDOM.tmp`` beside it, holding an ``flock`` on that folder (so that a later write knows a
left-over one from a killed writer: nobody holds its lock), fsyncs every file and folder in it, and then:

* on Linux, exchanges it with the old bundle in one ``renameat2(RENAME_EXCHANGE)``: at every moment ``NAME.dSYM`` is
  the whole old bundle or the whole new one. The old one, now under the temporary name, is deleted (a reader that
  has already walked into it may see its files go; files it has open stay readable); a crash before
  that leaves it there unlocked, and the next write to the same bundle deletes it
  (:func:`~dwarfkit.output.remove_stale`);
* where the kernel or the file system cannot exchange (not Linux, EINVAL, ENOSYS), it falls back to two renames: the
  old bundle to ``.NAME.PID.RANDOM.old``, the new one into place. Between them there is no bundle; a crash there
  leaves the old one under that name, which the next write removes as stale.

The parent folder is fsynced after the exchange, so the new name survives a power loss.
"""
from __future__ import annotations

import ctypes
import errno
import os
import shutil
from pathlib import Path
from typing import Callable

from dwarfkit.errors import ContainerError
from dwarfkit.output import fsync_directory, fsync_tree, locked_temporary, remove_stale, temporary_name

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_SYS_RENAMEAT2 = {"x86_64": 316, "aarch64": 276}.get(os.uname().machine)


def _folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise ContainerError(f"cannot write {path}: folder {path.parent} does not exist")


def exchange(a: Path, b: Path) -> bool:
    """Swaps the names ``a`` and ``b`` atomically (both must exist). False where the system cannot do it."""
    if _SYS_RENAMEAT2 is None:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    result = libc.syscall(_SYS_RENAMEAT2, _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):  # no exchange here: rename twice
        return False
    raise OSError(error, os.strerror(error), str(b))


def write_directory_atomic(path: Path, fill: Callable[[Path], None]) -> None:
    """Builds a directory with ``fill(tmpdir)`` next to ``path``, then puts it in place of ``path`` (see above)."""
    _folder(path)
    if path.exists() and not path.is_dir():
        raise ContainerError(f"cannot write {path}: it exists and is not a directory")
    try:
        remove_stale(path.parent, path.name)
        fd, tmp = locked_temporary(path.parent, path.name, directory=True)
    except OSError as e:
        raise ContainerError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        os.chmod(tmp, 0o755)  # a bundle is readable like the executable beside it
        fill(tmp)
        fsync_tree(tmp)
        if path.exists() and exchange(tmp, path):
            shutil.rmtree(tmp, ignore_errors=True)  # the old bundle, under the temporary name now
        else:
            if path.exists():
                os.rename(path, path.parent / temporary_name(path.name, "old"))
            os.rename(tmp, path)
            remove_stale(path.parent, path.name)  # the .old just made: nobody holds a lock on it
        fsync_directory(path.parent)
    except BaseException as e:
        if tmp.exists() and path.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            raise ContainerError(f"cannot write {path}: {e.strerror or e}") from None
        raise
    finally:
        os.close(fd)


def info_plist(name: str) -> str:
    """The bundle's Info.plist, with the keys dsymutil writes."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple Computer//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
	<dict>
		<key>CFBundleDevelopmentRegion</key>
		<string>English</string>
		<key>CFBundleIdentifier</key>
		<string>com.apple.xcode.dsym.{_xml_escape(name)}</string>
		<key>CFBundleInfoDictionaryVersion</key>
		<string>6.0</string>
		<key>CFBundlePackageType</key>
		<string>dSYM</string>
		<key>CFBundleSignature</key>
		<string>????</string>
		<key>CFBundleShortVersionString</key>
		<string>1.0</string>
		<key>CFBundleVersion</key>
		<string>1</string>
	</dict>
</plist>
"""


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
