"""Split DWARF's ``.dwo`` files (:mod:`dwarfkit.split`): relocatable ELF files holding only ``.debug_*.dwo`` sections,
as gcc ``-gsplit-dwarf`` writes them, each beside the object or executable whose skeleton units name it.

:func:`write_with_dwo` writes a main file and its ``.dwo`` files, each atomically: the ``.dwo`` files first, so that no
new main file is on disk before the files it names; if the main file cannot be written, the ``.dwo`` files written
for it are removed again.
"""
from __future__ import annotations

import os
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.enums import ENUM_E_TYPE, ENUM_SH_TYPE_BASE

from dwarfkit.arch import Arch
from dwarfkit.errors import RelocationError
from dwarfkit.output import write_atomically
from dwarfkit.sections import DwarfSections

from .elffile import ElfHeader, ElfSection, serialize
from .machine import machine_for

SHT = ENUM_SH_TYPE_BASE
_SHF_EXCLUDE = 0x80000000   # what gcc marks .dwo sections with: a linker never takes them into its output


def dwo_bytes(dwarf: DwarfSections, machine: int) -> bytes:
    """The ``.dwo`` file of one part: an ``ET_REL`` ELF with its sections, final bytes, no symbols or relocations."""
    sections = []
    for s in dwarf:
        if not s.name.endswith(".dwo"):
            raise RelocationError(f"section {s.name} in a .dwo part: its sections are named .debug_*.dwo")
        section = ElfSection(s.name, SHT["SHT_PROGBITS"], flags=_SHF_EXCLUDE, data=bytes(s.data), align=s.alignment)
        if s.name == ".debug_str.dwo":
            section.flags |= SH_FLAGS.SHF_MERGE | SH_FLAGS.SHF_STRINGS
            section.entsize = 1
        sections.append(section)
    return serialize(ElfHeader(machine, ENUM_E_TYPE["ET_REL"]), sections)


def write_with_dwo(dwarf: DwarfSections | None, arch: Arch | int, path: str | os.PathLike[str], data: bytes, *,
                   executable: bool = False) -> list[Path]:
    """Writes ``data`` at ``path`` and each ``.dwo`` of ``dwarf`` beside it (by name); returns the ``.dwo`` paths.
    ``arch``: the main file's architecture, or its ``e_machine``."""
    folder = Path(path).parent
    parts = dict(dwarf.dwo) if dwarf is not None else {}
    machine = arch if isinstance(arch, int) else machine_for(arch).machine
    files = [(folder / name, dwo_bytes(part, machine)) for name, part in parts.items()]
    written: list[Path] = []
    try:
        for dwo_path, dwo_data in files:
            dwo_path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(dwo_path, dwo_data)
            written.append(dwo_path)
        write_atomically(path, data, executable=executable)
    except BaseException:
        for done in written:   # the .dwo files are useless without the file that names them
            done.unlink(missing_ok=True)
        raise
    return written
