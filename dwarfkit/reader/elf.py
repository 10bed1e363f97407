"""ELF container reader: objects (with ``.rel[a].debug_*`` applied), executables, shared libraries, ``.debug`` files.

The ELF header and the section header table are bounds-checked by the ELF backend's parser
(``backends/elf/elfinput.py``, shared with the rewriter); pyelftools then reads sections, relocations and symbols.
Compressed sections (``SHF_COMPRESSED`` and GNU ``.zdebug``) are inflated here with a size bound taken from their
header.
"""
from __future__ import annotations

import io
import struct

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationHandler, RelocationSection
from elftools.elf.sections import Section, SymbolTableSection

from ..backends.elf.elfinput import read_elf_headers
from ..errors import ContainerError, ReadError
from .debugfile import (
    ByteOrder,
    CodeSection,
    DebugFile,
    SymbolRef,
    decompress_zdebug,
    inflate,
    normalise_section_name,
    section_limit,
)

_ARCHES = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64", "EM_386": "i386", "EM_ARM": "arm", "EM_MIPS": "mips",
           "EM_PPC64": "ppc64", "EM_PPC": "ppc", "EM_RISCV": "riscv"}
# llvm-dwarfdump's names of ELF formats.
_FORMAT_NAMES = {"x86_64": "x86-64", "aarch64": "littleaarch64", "i386": "i386", "arm": "littlearm",
                 "mips": "mips", "ppc64": "powerpc64", "riscv": "littleriscv"}


def read_elf(path: str, data: bytes, max_section_size: int | None = None) -> DebugFile:
    _check_headers(path, data)
    elf = None
    try:
        elf = ELFFile(io.BytesIO(data))
        return _read(path, elf, len(data), section_limit(len(data), max_section_size))
    except ELFError as e:
        raise ContainerError(f"{path}: bad ELF file: {_culprit(elf)}{e}") from None
    except (ValueError, KeyError, IndexError, AssertionError, OverflowError) as e:  # pyelftools on corrupt headers
        raise ContainerError(f"{path}: bad ELF file: {type(e).__name__}: {e}") from None
    except Exception as e:  # construct's StreamError and friends
        if type(e).__module__.startswith("elftools"):
            raise ContainerError(f"{path}: bad ELF file: {e}") from None
        raise


def _culprit(elf: ELFFile | None) -> str:
    """``section header N: `` for the first section pyelftools cannot make (its messages name none), else ``''``.
    Only on the error path: each section is made once more."""
    if elf is None:
        return ""
    sections = []
    for i in range(elf.num_sections()):
        try:
            sections.append(elf.get_section(i))
        except Exception:  # noqa: BLE001 - any failure here is the one being reported
            return f"section header {i}: "
    for i, section in enumerate(sections):   # pyelftools reads a compression header when the data is asked for
        if section["sh_flags"] & SH_FLAGS.SHF_COMPRESSED and \
                getattr(section, "_compression_type", None) != "ELFCOMPRESS_ZLIB":
            return f"section header {i} ({section.name}): "
    return ""


def _check_headers(path: str, data: bytes) -> None:
    """The ELF header and the section header table against the file, before pyelftools reads them (its own
    errors name no structure: "expected 4, found 2", "String Table not found"): the backend's parser checks them, and
    relocation sections must have the entry size pyelftools insists on."""
    headers = read_elf_headers(data, path)
    entsizes = {4: 24 if headers.is64 else 12, 9: 16 if headers.is64 else 8}  # SHT_RELA, SHT_REL
    for i, header in enumerate(headers.sections):
        kind, entsize = header[1], header[9]
        if kind in entsizes and entsize != entsizes[kind]:
            raise ContainerError(f"{path}: ELF section header {i} at 0x{headers.header_offset(i):x}: a relocation "
                                 f"section with entry size sh_entsize {entsize}, not {entsizes[kind]}")


def _read(path: str, elf: ELFFile, file_size: int, limit: int) -> DebugFile:
    arch = _ARCHES.get(elf["e_machine"], "unknown")
    bits = elf.elfclass
    little = elf.little_endian
    fmt = f"elf{bits}-" + _FORMAT_NAMES.get(arch, str(elf["e_machine"]).lower())
    if arch == "mips":
        fmt = f"elf{bits}-{'tradlittle' if little else 'tradbig'}mips"
    if arch == "aarch64" and not little:
        fmt = f"elf{bits}-bigaarch64"
    out = DebugFile(path=path, file_format=fmt, arch=arch, byteorder="little" if little else "big",
                    address_size=bits // 8, sections={}, is_object=elf["e_type"] == "ET_REL")
    handler = RelocationHandler(elf)
    reloc_sections: dict[str, RelocationSection] = {}
    if out.is_object:
        for section in elf.iter_sections():
            if isinstance(section, RelocationSection):
                target = section["sh_info"]
                reloc_sections[str(target)] = section
    pieces: list[tuple[int, Section, str]] = []   # the debug sections, in header order
    for index, section in enumerate(elf.iter_sections()):
        name = normalise_section_name(section.name)
        flags = section["sh_flags"]
        if section["sh_type"] != "SHT_NOBITS" and section["sh_offset"] + section["sh_size"] > file_size:
            if name is not None or flags & SH_FLAGS.SHF_EXECINSTR:
                out.problems.append(f"ELF section {section.name} (header {index}): offset 0x{section['sh_offset']:x} "
                                    f"+ size 0x{section['sh_size']:x} runs past the end of the file (0x{file_size:x})"
                                    "; not read")
            continue
        if name is None:
            if flags & SH_FLAGS.SHF_EXECINSTR and section["sh_type"] == "SHT_PROGBITS":
                out.code.append(CodeSection(section.name, section["sh_addr"], section.data()))
            continue
        if section["sh_type"] != "SHT_NOBITS":
            pieces.append((index, section, name))
    # Sections of one name (an object's COMDAT groups: type units, gcc's .debug_macro) are read as one, joined in
    # header order, as a linker would join them; relocations against a later piece's section symbol count from
    # where that piece starts.
    signatures = _group_signatures(elf) if out.is_object else {}
    raw_of: dict[int, bytes] = {}
    bases: dict[int, int] = {}
    lengths: dict[str, int] = {}
    for index, section, name in pieces:
        try:
            raw_of[index] = _section_bytes(path, section, limit)
        except ReadError as e:
            out.problems.append(str(e))
            continue
        bases[index] = lengths.get(name, 0)
        lengths[name] = bases[index] + len(raw_of[index])
        if bases[index]:
            out.duplicates[name] = out.duplicates.get(name, 1) + 1
    joined: dict[str, list[bytes]] = {}
    for index, section, name in pieces:
        raw = raw_of.get(index)
        if raw is None:
            continue
        rel = reloc_sections.get(str(index))
        if rel is not None:
            raw = _relocate(out, handler, section.name, raw, rel, bases, bases[index])
        if name not in joined:
            out.addresses[name] = section["sh_addr"]
            out.section_offsets[name] = section["sh_offset"]
        joined.setdefault(name, []).append(raw)
        if index in signatures:
            out.groups.setdefault(name, []).append((bases[index], signatures[index]))
    for name, parts in joined.items():
        out.sections[name] = parts[0] if len(parts) == 1 else b"".join(parts)
    return out


def _group_signatures(elf: ELFFile) -> dict[int, str]:
    """Section index -> the signature of the COMDAT group it is a member of (groups that cannot be read are left
    out: the pieces are then read joined all the same)."""
    out: dict[int, str] = {}
    for section in elf.iter_sections("SHT_GROUP"):
        try:
            data = section.data()
            symtab = elf.get_section(section["sh_link"])
            if len(data) < 4 or len(data) % 4 or not isinstance(symtab, SymbolTableSection):
                continue
            order = "<" if elf.little_endian else ">"
            flags, *members = struct.unpack(f"{order}{len(data) // 4}I", data)
            name = symtab.get_symbol(section["sh_info"]).name
        except Exception:  # noqa: BLE001 - a broken group only loses its name
            continue
        if flags & 1 and name:   # GRP_COMDAT
            out.update((m, name) for m in members)
    return out


def _section_bytes(path: str, section: Section, limit: int) -> bytes:
    if section["sh_flags"] & SH_FLAGS.SHF_COMPRESSED:
        # Inflate ourselves, bounded by the header's size (pyelftools would trust it without bound).
        ctype = getattr(section, "_compression_type", None)
        if ctype != "ELFCOMPRESS_ZLIB":
            raise ReadError(f"{section.name}: compression {ctype} is not supported (only zlib)")
        hdr_size = 24 if section.elffile.elfclass == 64 else 12
        stream = section.stream
        stream.seek(section["sh_offset"])
        blob = stream.read(section["sh_size"])
        if len(blob) < hdr_size:
            raise ReadError(f"{section.name}: compressed section of 0x{len(blob):x} bytes is shorter than its "
                            f"{hdr_size}-byte compression header")
        return inflate(section.name, blob[hdr_size:], section.data_size, limit)
    data = section.data()
    if section.name.startswith(".zdebug"):
        return decompress_zdebug(section.name, data, limit)
    return data


def _relocate(out: DebugFile, handler: RelocationHandler, name: str, data: bytes, rel: RelocationSection,
              bases: dict[int, int], base: int) -> bytes:
    """Applies ``rel`` to ``data`` (a piece starting at ``base`` of its joined section); an offset into a later
    piece of a joined section (``bases``: section index -> where its piece starts) gets that piece's start added."""
    stream = io.BytesIO(data)
    try:
        symtab = handler.elffile.get_section(rel["sh_link"])
        if not isinstance(symtab, SymbolTableSection):
            out.problems.append(f"{rel.name}: sh_link {rel['sh_link']} names {symtab.name or 'a section'} of type "
                                f"{symtab['sh_type']}, not a symbol table; its relocations are not applied")
            return data
        relocations = list(rel.iter_relocations())
    except Exception as e:  # noqa: BLE001 - a broken relocation table is a finding, not a crash
        out.problems.append(f"{rel.name}: cannot read relocations: {e}")
        return data
    refs = out.relocations.setdefault(normalise_section_name(name) or name, {})
    elf = handler.elffile
    types = _reloc_type_names(elf)
    for reloc in relocations:
        try:
            if reloc["r_offset"] >= len(data):
                raise ValueError(f"offset 0x{reloc['r_offset']:x} past the end of {name}")
            ref = _symbol_ref(elf, symtab, reloc, types, stream)
            if ref.kind == "tls":
                refs[base + reloc["r_offset"]] = ref
                continue   # only a linker knows the offset: the field keeps what the object holds
            # pyelftools knows the recipes of every relocation type debug sections use.
            handler._do_apply_relocation(stream, reloc, symtab)
            shift = bases.get(symtab.get_symbol(reloc["r_info_sym"])["st_shndx"], 0) if ref.kind == "section" else 0
            if shift:
                size = 8 if types.get(reloc["r_info_type"], "").endswith("64") else 4
                order: ByteOrder = "little" if elf.little_endian else "big"
                stream.seek(reloc["r_offset"])
                value = int.from_bytes(stream.read(size), order) + shift
                stream.seek(reloc["r_offset"])
                stream.write((value & ((1 << (8 * size)) - 1)).to_bytes(size, order))
                ref = SymbolRef(ref.symbol, ref.addend + shift, ref.kind)
            if ref.symbol or ref.kind != "address":   # symbol 0 (no name, no section): S is 0, the field is A
                refs[base + reloc["r_offset"]] = ref
        except Exception as e:  # noqa: BLE001
            out.problems.append(f"{rel.name}: relocation at 0x{reloc['r_offset']:x} "
                                f"(type {reloc['r_info_type']}) not applied: {e}")
    return stream.getvalue()


def _reloc_type_names(elf: ELFFile) -> dict[int, str]:
    from elftools.elf import enums
    table = {"EM_X86_64": enums.ENUM_RELOC_TYPE_x64, "EM_AARCH64": enums.ENUM_RELOC_TYPE_AARCH64,
             "EM_386": enums.ENUM_RELOC_TYPE_i386, "EM_ARM": enums.ENUM_RELOC_TYPE_ARM,
             "EM_MIPS": enums.ENUM_RELOC_TYPE_MIPS}.get(elf["e_machine"], {})
    return {code: name for name, code in table.items() if isinstance(code, int)}


def _symbol_ref(elf: ELFFile, symtab: SymbolTableSection, reloc: object, types: dict[int, str],
                stream: io.BytesIO) -> SymbolRef:
    """What one relocation refers to: the symbol by name (a section symbol by its section's name), the addend
    (RELA's, or for REL the field's own bytes), and its kind by the relocation type's name."""
    sym = symtab.get_symbol(reloc["r_info_sym"])  # type: ignore[index]
    name = sym.name
    kind = "address"
    if sym["st_info"]["type"] == "STT_SECTION" or not name:
        shndx = sym["st_shndx"]
        if isinstance(shndx, int) and 0 < shndx < elf.num_sections():
            name = elf.get_section(shndx).name
            debug = normalise_section_name(name)
            if debug is not None and debug != "eh_frame":
                kind, name = "section", debug
    type_name = types.get(reloc["r_info_type"], "")  # type: ignore[index]
    if "DTPOFF" in type_name or "DTPREL" in type_name:
        kind = "tls"
    elif "PC" in type_name.rsplit("_", 1)[-1] or "PREL" in type_name:
        kind = "pcrel"
    if reloc.is_RELA():  # type: ignore[attr-defined]
        addend = reloc["r_addend"]  # type: ignore[index]
    else:
        size = 8 if type_name.endswith("64") else 4
        stream.seek(reloc["r_offset"])  # type: ignore[index]
        addend = int.from_bytes(stream.read(size), "little" if elf.little_endian else "big")
    return SymbolRef(name, addend, kind)
