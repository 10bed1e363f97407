"""The dSYM bundle: a directory that appears complete under its final name, or not at all, and its Info.plist.

(Single files go through :func:`dwarfkit.output.write_atomically`.)
"""
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
