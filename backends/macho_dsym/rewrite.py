"""Replacing the DWARF of an existing Mach-O file (``dwarfkit convert``): objects, dSYMs and executables.

    rewrite_bytes(original, dwarf, path="prog.o") -> bytes       # an object or a dSYM's DWARF file
    rewrite("prog.o", "out.o", dwarf)                            # atomically
    rewrite("prog.dSYM", "out.dSYM", dwarf)                      # a bundle (or its DWARF file) -> the same kind
    rewrite("prog", "out", dwarf)                                # executable: out is prog's bytes, out.dSYM its DWARF

Everything but the DWARF stays as it was: in an object (see :mod:`.rewrite_object`) code, data, symbols, their
relocations, ``__compact_unwind`` and ``__eh_frame`` keep their bytes and addresses; in a dSYM every load command,
the copied ``__eh_frame``, the symbol table and the bundle's ``Info.plist`` stay (and the DWARF file's name, the
executable's, whatever the output bundle is called), and segment ``__DWARF`` is replaced. Both drop the input's
``__apple_*`` accelerator tables with its old DWARF: they index it, and lldb and dsymutil make do without them
(dsymutil makes new ones; lldb indexes the DWARF itself).

Symbol names in ``dwarf`` (ADDRESS relocations) are what ``dwarfkit.reader`` records for Mach-O objects: the symbol
table's spelling (``_main``) or a section ``SEGNAME,sectname`` (``__TEXT,__text``, the addend an offset in it). A
name that is neither is looked up as ``_name`` too, the source-level spelling the other writers of this backend take.
In a dSYM, whose addresses are final, each such relocation is resolved through the dSYM's own symbol table and
section headers.

An executable (``MH_EXECUTE``) holds no DWARF: its debug map (STABS) names the objects that have it, and a dSYM
holds the linked DWARF. Given DWARF, :func:`rewrite` writes the executable unchanged and the DWARF as a dSYM beside
it, ``OUT.dSYM`` (with :func:`.dsym.build_dsym`, the writer of ``write_dsym``), dSYM first; :func:`rewrite_bytes`,
which can return one file only, refuses and says so. With no DWARF sections the executable is copied as it is.
(That dSYM resolves names as ``write_dsym`` does: ``_name`` first, then ``name``; no ``SEGNAME,sectname``.)

Mach-O debug sections are never compressed: ``compress=True`` is refused, and an input's GNU ``__zdebug_*`` sections
become plain ones. Fat files are refused (rewrite each thin file). Every problem with the input or ``dwarf`` is a
`~dwarfkit.errors.ContainerError` (or the `RelocationError` of a value that does not fit its field) naming the file.
"""
from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

from dwarfkit.encoding import align_up
from dwarfkit.errors import ContainerError
from dwarfkit.image import check_final_addresses
from dwarfkit.output import write_atomically
from dwarfkit.sections import DwarfSections

from . import constants as C
from .bundle import write_directory_atomic
from .commands import SegmentCommand64
from .dsym import FILE_ALIGNMENT, _write_bundle, build_dsym
from .reader import read_macho_bytes
from .rewrite_input import (
    DWARF_SEGMENT,
    Input,
    Symbols,
    check_dwarf,
    check_layout,
    check_unique_names,
    debug_sections,
    dwarf_segment_section,
    parse,
)
from .rewrite_object import rewrite_object

__all__ = ["rewrite", "rewrite_bytes"]


def rewrite_bytes(original: bytes, dwarf: DwarfSections, *, compress: bool | None = None,
                  path: str = "<input>") -> bytes:
    """``original`` (a Mach-O object or dSYM DWARF file) with its DWARF replaced by ``dwarf``."""
    _check_arguments(path, dwarf, compress)
    if not isinstance(original, (bytes, bytearray, memoryview)):
        raise ContainerError(f"{path}: the input must be bytes, not {type(original).__name__}")
    parsed = parse(path, bytes(original))
    check_dwarf(parsed, dwarf, compress)
    if parsed.filetype == C.MH_OBJECT:
        check_layout(parsed)
        return rewrite_object(parsed, dwarf)
    if parsed.filetype == C.MH_DSYM:
        check_layout(parsed)
        return _rewrite_dsym(parsed, dwarf)
    if parsed.filetype == C.MH_EXECUTE:
        if not debug_sections(dwarf):
            return original
        raise ContainerError(f"{path}: a Mach-O executable holds no DWARF (a dSYM does): rewrite its dSYM, or use "
                             f"rewrite(), which writes the DWARF as a dSYM beside the output")
    raise ContainerError(f"{path}: Mach-O file type 0x{parsed.filetype:x} is not an object, dSYM or executable")


def rewrite(src: str | os.PathLike[str], out: str | os.PathLike[str], dwarf: DwarfSections, *,
            compress: bool | None = None) -> None:
    """Writes ``out``: ``src`` with its DWARF replaced, atomically (never a partial ``out``).

    ``src`` may be an object, a dSYM bundle (``out`` is then a bundle too, the input's other files copied), a dSYM's
    DWARF file, or an executable (``out`` is a copy and ``out.dSYM`` holds ``dwarf``; see the module docstring)."""
    if not isinstance(src, (str, os.PathLike)) or not isinstance(out, (str, os.PathLike)):
        raise ContainerError(f"rewrite: paths must be str or os.PathLike, not {type(src).__name__} and "
                             f"{type(out).__name__}")
    _check_arguments(str(src), dwarf, compress)
    src, out = Path(src), Path(out)
    if src.is_dir():
        _rewrite_bundle(src, out, dwarf, compress)
        return
    data = _read(src)
    if len(data) >= 16 and struct.unpack_from("<II", data)[0] == C.MH_MAGIC_64 \
            and struct.unpack_from("<I", data, 12)[0] == C.MH_EXECUTE and debug_sections(dwarf):
        _rewrite_executable(src, out, data, dwarf, compress)
        return
    write_atomically(out, rewrite_bytes(data, dwarf, compress=compress, path=str(src)),
                     executable=os.access(src, os.X_OK))


def _check_arguments(path: str, dwarf: object, compress: object) -> None:
    if not isinstance(dwarf, DwarfSections):
        raise ContainerError(f"{path}: the DWARF to write must be DwarfSections, not {type(dwarf).__name__}")
    if compress not in (None, True, False):
        raise ContainerError(f"{path}: compress must be None, True or False, not {compress!r}")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise ContainerError(f"{path}: cannot read: {e.strerror or e}") from None


def _rewrite_executable(src: Path, out: Path, data: bytes, dwarf: DwarfSections, compress: bool | None) -> None:
    parsed = parse(str(src), data)
    check_dwarf(parsed, dwarf, compress)
    executable = read_macho_bytes(out, data)  # named as the output, so that the bundle is OUT.dSYM
    _write_bundle(executable, build_dsym(executable, dwarf), None)  # first: the executable is the commit point
    write_atomically(out, data, executable=True)


def bundle_member(bundle: Path) -> Path:
    """The DWARF file of a dSYM bundle: the one file in ``Contents/Resources/DWARF``."""
    folder = bundle / "Contents" / "Resources" / "DWARF"
    members = sorted(folder.iterdir()) if folder.is_dir() else []
    if len(members) != 1 or not members[0].is_file():
        raise ContainerError(f"{bundle}: a dSYM bundle holds one file in Contents/Resources/DWARF; found "
                             f"{len(members)}")
    return members[0]


def _rewrite_bundle(src: Path, out: Path, dwarf: DwarfSections, compress: bool | None) -> None:
    member = bundle_member(src)
    data = rewrite_bytes(_read(member), dwarf, compress=compress, path=str(member))
    relative = member.relative_to(src)
    if out.exists() and not out.is_dir():
        raise ContainerError(f"cannot write {out}: the input is a dSYM bundle (a folder), and {out} is a file")

    def fill(root: Path) -> None:
        shutil.copytree(src, root, dirs_exist_ok=True)  # Info.plist and whatever else the bundle holds
        for folder, _dirs, _files in os.walk(root):  # an input bundle may be read-only
            os.chmod(folder, 0o755)
        (root / relative).unlink()
        (root / relative).write_bytes(data)

    write_directory_atomic(out, fill)


def _rewrite_dsym(parsed: Input, dwarf: DwarfSections) -> bytes:
    """Segment ``__DWARF`` replaced, at the end of the file; the rest keeps its bytes, moved by whole pages only
    when the load commands outgrow the room before the first piece (dsymutil leaves most of a page)."""
    path, data = parsed.path, parsed.data
    sections = debug_sections(dwarf)
    debug = DwarfSections(dwarf.encoding, {s.name: s for s in sections})
    addresses = _addresses(parsed, debug)
    check_final_addresses(debug, addresses, ((f"{s.segname},{s.sectname}", s.addr, s.size)
                                             for s in parsed.macho.sections if s.segname != DWARF_SEGMENT), path)
    resolved = debug.resolve(addresses)
    segments = parsed.macho.segments
    seg_commands = [c for c in parsed.commands if c.cmd == C.LC_SEGMENT_64]
    old_dwarf = next((i for i, s in enumerate(segments) if s.segname == DWARF_SEGMENT), None)
    if old_dwarf is None:
        end = max((s.vmaddr + s.vmsize for s in segments), default=0)
        new = SegmentCommand64(DWARF_SEGMENT, align_up(end, FILE_ALIGNMENT), maxprot=7, initprot=3)
    else:
        old = segments[old_dwarf]
        new = SegmentCommand64(DWARF_SEGMENT, old.vmaddr, maxprot=old.maxprot, initprot=old.initprot,
                               flags=old.flags)
    new.sections = [dwarf_segment_section(s.name, len(s.data), s.alignment) for s in sections]
    check_unique_names(new.sections, path)

    kept = [s for i, s in enumerate(segments) if i != old_dwarf]
    pieces = [(s.fileoff, s.filesize) for s in kept if s.filesize]
    pieces += [(s.offset, s.size) for seg in kept for s in seg.sections if s.offset and not s.is_zerofill]
    pieces += [(s.reloff, s.nreloc * C.RELOCATION_INFO_SIZE) for seg in kept for s in seg.sections if s.nreloc]
    pieces += [(offset, size) for _c, _at, offset, size in parsed.tables()]
    old_commands = sum(len(c.data) for c in parsed.commands)
    new_commands = old_commands - (len(seg_commands[old_dwarf].data) if old_dwarf is not None else 0) \
        + len(new.encode())
    first = min((offset for offset, _ in pieces), default=None)
    header_end = C.MACH_HEADER_64_SIZE + new_commands
    delta = 0 if first is None or header_end <= first else align_up(header_end - first, FILE_ALIGNMENT)

    commands: list[bytes] = []
    segment_index = 0
    for command in parsed.commands:
        if command.cmd == C.LC_SEGMENT_64:
            is_dwarf = segment_index == old_dwarf
            segment = segments[segment_index]
            segment_index += 1
            if not is_dwarf:
                commands.append(_shifted_segment(segment, delta))
            continue
        raw = bytearray(command.data)
        for _c, at, _offset, _size in (t for t in parsed.tables() if t[0] is command):
            struct.pack_into("<I", raw, at, struct.unpack_from("<I", raw, at)[0] + delta)
        commands.append(bytes(raw))
    commands.insert(_dwarf_position(parsed, old_dwarf), b"")  # placeholder until __DWARF is laid out

    out = bytearray(header_end)
    for offset, size in pieces:
        at = offset + delta
        if len(out) < at + size:
            out += bytes(at + size - len(out))
        out[at:at + size] = data[offset:offset + size]
    new.fileoff = cursor = align_up(len(out), FILE_ALIGNMENT)
    blobs = []
    for header, section in zip(new.sections, sections, strict=True):
        cursor = align_up(cursor, 1 << header.align)
        header.offset = cursor
        header.addr = new.vmaddr + cursor - new.fileoff
        blobs.append((cursor, resolved[section.name]))
        cursor += header.size
    new.filesize = cursor - new.fileoff
    new.vmsize = align_up(new.filesize, FILE_ALIGNMENT)
    commands[commands.index(b"")] = new.encode()
    mach_header = bytearray(data[:C.MACH_HEADER_64_SIZE])
    struct.pack_into("<II", mach_header, 16, len(parsed.commands) + (old_dwarf is None), new_commands)
    out[:header_end] = mach_header + b"".join(commands)
    for at, blob in blobs:
        out += bytes(at - len(out))
        out += blob
    return bytes(out)


def _dwarf_position(parsed: Input, old_dwarf: int | None) -> int:
    """Where the ``__DWARF`` command goes among the others: where it was, else last."""
    if old_dwarf is None:
        return len(parsed.commands)
    segment_index = 0
    for i, command in enumerate(parsed.commands):
        if command.cmd == C.LC_SEGMENT_64:
            if segment_index == old_dwarf:
                return i
            segment_index += 1
    raise AssertionError("unreachable: the __DWARF segment is among the commands")


def _shifted_segment(segment: SegmentCommand64, delta: int) -> bytes:
    if delta:
        if segment.filesize:
            segment.fileoff += delta
        for s in segment.sections:
            if s.offset and not s.is_zerofill:
                s.offset += delta
            if s.nreloc:
                s.reloff += delta
    return segment.encode()


def _addresses(parsed: Input, dwarf: DwarfSections) -> dict[str, int]:
    """The final address of every symbol ``dwarf`` refers to, from the dSYM's symbol table and sections."""
    symbols = Symbols(parsed)
    addresses = {}
    for name in sorted(dwarf.symbols()):
        value = symbols.address(name)
        if value is None:
            where = next(f"{s.name}+0x{r.offset:x}" for s in dwarf for r in s.relocations if r.target == name)
            raise ContainerError(f"{parsed.path}: relocation at {where} against {name!r}, which is neither a "
                                 f"defined symbol nor a section of this dSYM")
        addresses[name] = value
    return addresses
