"""How dwarfkit's container-neutral names become Mach-O names.

Symbols: an :class:`~dwarfkit.image.Image` and the DWARF name symbols as the source language does (``main``); the
Mach-O symbol table carries the C-level name with a leading underscore (``_main``), as every Apple toolchain writes it.
The writers add the underscore. When a dSYM is made for an executable, a DWARF reference to ``X`` resolves to the
executable's ``_X``, or to ``X`` itself when there is no ``_X`` (so a description may also use the Mach-O spelling).

Sections: ELF spelling (``.debug_str_offsets``) becomes ``__debug_str_offs`` in segment ``__DWARF``: two underscores,
cut at the 16 bytes a Mach-O section name has, as clang and dsymutil do.
"""
from __future__ import annotations

from typing import Mapping

from dwarfkit.errors import ContainerError
from dwarfkit.image import SectionKind
from dwarfkit.sections import DEBUG_SECTION_ORDER

from .constants import NAME_LENGTH


def symbol_name(name: str) -> str:
    """Mach-O symbol table spelling of an Image or DWARF symbol name."""
    return "_" + name


def find_symbol(name: str, table: Mapping[str, int]) -> int | None:
    """Value of DWARF symbol ``name`` in a Mach-O symbol table: ``_name`` first, then ``name`` as written."""
    value = table.get(symbol_name(name))
    return table.get(name) if value is None else value


def debug_section_name(name: str) -> str:
    """``.debug_info`` -> ``__debug_info``; ``.debug_str_offsets`` -> ``__debug_str_offs``."""
    if not name.startswith("."):
        raise ContainerError(f"debug section name {name!r} does not start with '.'")
    return _cut("__" + name[1:])


def _cut(name: str) -> str:
    """``name`` cut to the 16 bytes of a Mach-O name field, at a character boundary (UTF-8 may take more bytes
    than characters)."""
    return name.encode()[:NAME_LENGTH].decode(errors="ignore")


_KNOWN_DEBUG_SECTIONS = DEBUG_SECTION_ORDER + (".apple_names", ".apple_types", ".apple_namespaces", ".apple_objc",
                                               ".debug_macinfo", ".debug_macro", ".debug_cu_index", ".debug_tu_index")


def elf_section_name(mach_name: str) -> str:
    """The other way: ``__debug_str_offs`` -> ``.debug_str_offsets`` (known names are restored in full)."""
    for name in _KNOWN_DEBUG_SECTIONS:
        if debug_section_name(name) == mach_name:
            return name
    return "." + mach_name.removeprefix("__")


# Content sections by kind: the Mach-O segment and section an Image section of that kind goes to, unless its name is
# one of the well-known ones below.
_BY_KIND: dict[SectionKind, tuple[str, str]] = {
    SectionKind.CODE: ("__TEXT", "__text"),
    SectionKind.RODATA: ("__TEXT", "__const"),
    SectionKind.DATA: ("__DATA", "__data"),
    SectionKind.BSS: ("__DATA", "__bss"),
}


def content_section_name(name: str, kind: SectionKind) -> tuple[str, str]:
    """(segment, section) of an Image content section: ``.text`` -> (``__TEXT``, ``__text``), ``.foo`` of kind DATA
    -> (``__DATA``, ``__foo``)."""
    segment, default = _BY_KIND[kind]
    if name in (".text", ".rodata", ".data", ".bss"):
        return segment, default
    return segment, _cut("__" + name.lstrip("."))
