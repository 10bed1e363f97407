"""The GNU sections that tie files together: ``.note.gnu.build-id`` (a file's build id, an ELF note) and
``.gnu_debugaltlink`` (dwz's link to the alternate file that ``DW_FORM_GNU_ref_alt``/``GNU_strp_alt`` point into:
its path, a NUL, its build id), as gdb's testsuite writes them (dwarf.exp ``build_id``, ``gnu_debugaltlink``).

    dw.raw_section(".note.gnu.build-id", build_id_note(b"\\x01\\x02..."))           # the alternate file's program
    dw.raw_section(".gnu_debugaltlink", debugaltlink("/path/alt.debug", b"\\x01\\x02..."))   # the main file's

gdb opens the alternate file by that path (relative: from the main file's folder) or, failing that or when the
build ids differ, by build id under its debug-file-directory. Imports the foundations only.
"""
from __future__ import annotations

import os

from .errors import DescriptionError
from .raw import raw_bytes

NT_GNU_BUILD_ID = 3


def build_id_note(build_id: bytes | str) -> bytes:
    """A ``.note.gnu.build-id`` section: an ELF note (name "GNU", type NT_GNU_BUILD_ID) holding ``build_id``
    (bytes or hex text, 1 to 64 bytes), 4-byte aligned, little-endian."""
    data = raw_bytes(build_id, "build_id")
    if not 0 < len(data) <= 64:
        raise DescriptionError(f"build_id: {len(data)} bytes; a build id has 1 to 64 (sha1: 20)")
    desc = data + bytes(-len(data) % 4)
    return len(b"GNU\0").to_bytes(4, "little") + len(data).to_bytes(4, "little") + \
        NT_GNU_BUILD_ID.to_bytes(4, "little") + b"GNU\0" + desc


def debugaltlink(path: str | os.PathLike[str], build_id: bytes | str) -> bytes:
    """A ``.gnu_debugaltlink`` section: the alternate file's path, a NUL, its build id."""
    name = os.fsencode(path)
    if not name or b"\0" in name:
        raise DescriptionError(f"debugaltlink: {path!r} is not a file name")
    data = raw_bytes(build_id, "debugaltlink build_id")
    if not data:
        raise DescriptionError("debugaltlink: the build id is empty")
    return name + b"\0" + data
