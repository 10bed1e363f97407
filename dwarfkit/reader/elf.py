"""ELF container reader: objects (with ``.rel[a].debug_*`` applied), executables, shared libraries, ``.debug`` files.

pyelftools parses the headers and relocation tables; compressed sections (``SHF_COMPRESSED`` and GNU ``.zdebug``)
are inflated here with a size bound taken from their header.
"""
from __future__ import annotations

import io

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationHandler, RelocationSection

from ..errors import ContainerError, ReadError
from .container import CodeSection, DebugFile, decompress_zdebug, inflate, normalise_section_name

_ARCHES = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64", "EM_386": "i386", "EM_ARM": "arm", "EM_MIPS": "mips",
           "EM_PPC64": "ppc64", "EM_PPC": "ppc", "EM_RISCV": "riscv"}
# llvm-dwarfdump's names of ELF formats.
_FORMAT_NAMES = {"x86_64": "x86-64", "aarch64": "littleaarch64", "i386": "i386", "arm": "littlearm",
                 "mips": "mips", "ppc64": "powerpc64", "riscv": "littleriscv"}


def read_elf(path: str, data: bytes) -> DebugFile:
    try:
        elf = ELFFile(io.BytesIO(data))
        return _read(path, elf)
    except ELFError as e:
        raise ContainerError(f"{path}: bad ELF file: {e}") from None
    except (ValueError, KeyError, IndexError, AssertionError) as e:  # pyelftools' own failures on corrupt headers
        raise ContainerError(f"{path}: bad ELF file: {type(e).__name__}: {e}") from None
    except Exception as e:  # construct's StreamError and friends
        if type(e).__module__.startswith("elftools"):
            raise ContainerError(f"{path}: bad ELF file: {e}") from None
        raise


def _read(path: str, elf: ELFFile) -> DebugFile:
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
    for index, section in enumerate(elf.iter_sections()):
        name = normalise_section_name(section.name)
        flags = section["sh_flags"]
        if name is None:
            if flags & SH_FLAGS.SHF_EXECINSTR and section["sh_type"] == "SHT_PROGBITS":
                out.code.append(CodeSection(section.name, section["sh_addr"], section.data()))
            continue
        if section["sh_type"] == "SHT_NOBITS" or name in out.sections:
            continue
        try:
            raw = _section_bytes(path, section)
        except ReadError as e:
            out.problems.append(str(e))
            continue
        rel = reloc_sections.get(str(index))
        if rel is not None:
            raw = _relocate(out, handler, section.name, raw, rel)
        out.sections[name] = raw
        out.addresses[name] = section["sh_addr"]
        out.section_offsets[name] = section["sh_offset"] if raw is not None else 0
    return out


def _section_bytes(path: str, section) -> bytes:
    if section["sh_flags"] & SH_FLAGS.SHF_COMPRESSED:
        # Inflate ourselves, bounded by the header's size (pyelftools would trust it without bound).
        ctype = getattr(section, "_compression_type", None)
        if ctype != "ELFCOMPRESS_ZLIB":
            raise ReadError(f"{section.name}: compression {ctype} is not supported (only zlib)")
        hdr_size = 24 if section.elffile.elfclass == 64 else 12
        stream = section.stream
        stream.seek(section["sh_offset"])
        blob = stream.read(section["sh_size"])
        return inflate(section.name, blob[hdr_size:], section.data_size)
    data = section.data()
    if section.name.startswith(".zdebug"):
        return decompress_zdebug(section.name, data)
    return data


def _relocate(out: DebugFile, handler: RelocationHandler, name: str, data: bytes, rel: RelocationSection) -> bytes:
    stream = io.BytesIO(data)
    try:
        symtab = handler.elffile.get_section(rel["sh_link"])
        relocations = list(rel.iter_relocations())
    except Exception as e:  # noqa: BLE001 - a broken relocation table is a finding, not a crash
        out.problems.append(f"{rel.name}: cannot read relocations: {e}")
        return data
    for reloc in relocations:
        try:
            if reloc["r_offset"] >= len(data):
                raise ValueError(f"offset 0x{reloc['r_offset']:x} past the end of {name}")
            # pyelftools knows the recipes of every relocation type debug sections use.
            handler._do_apply_relocation(stream, reloc, symtab)
        except Exception as e:  # noqa: BLE001
            out.problems.append(f"{rel.name}: relocation at 0x{reloc['r_offset']:x} "
                                f"(type {reloc['r_info_type']}) not applied: {e}")
    return stream.getvalue()
