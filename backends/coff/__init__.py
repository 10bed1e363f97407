"""COFF objects and PE32+ images with DWARF (imported as ``dwarfkit.backends.coff``).

>>> write_object(image, "prog.o")                                    # MinGW ld and lld-link link it
>>> write_pe(image, "prog.exe", imports={"kernel32.dll": ["ExitProcess"]})   # wine runs it
"""
from .imports import IMPORT_PREFIX
from .object_file import object_bytes, write_object
from .pe import DEFAULT_IMAGE_BASE, pe_bytes, write_pe

__all__ = ["DEFAULT_IMAGE_BASE", "IMPORT_PREFIX", "object_bytes", "pe_bytes", "write_object", "write_pe"]
