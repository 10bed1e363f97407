"""The one exception hierarchy of dwarfkit.

Every error a user can cause (a bad description, a bad input file, a missing tool) is a DwarfkitError. Its message
says what is wrong and where: the unit, the DIE path or row, the attribute, the section and offset.
"""
from __future__ import annotations


class DwarfkitError(Exception):
    """Base class of every error dwarfkit raises on purpose."""


class EncodingError(DwarfkitError):
    """An encoding parameter (version, offset size, address size, byte order) is not supported."""


class DescriptionError(DwarfkitError):
    """The described program is invalid: a DIE, attribute, form, expression, line row or frame is wrong."""


class LayoutError(DwarfkitError):
    """The program cannot be laid out as asked, e.g. a 32-bit offset overflows (DWARF64 is needed)."""


class RelocationError(DwarfkitError):
    """A relocation cannot be resolved or represented: unknown symbol, value out of range."""


class ContainerError(DwarfkitError):
    """A container (ELF, Mach-O, COFF) cannot be written or read as asked."""


class ReadError(DwarfkitError):
    """Input data is truncated or corrupt. The message names the section and offset."""


class ToolError(DwarfkitError):
    """An external tool (assembler, disassembler) failed or is missing."""
