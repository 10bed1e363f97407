"""Mach-O backend: executables, relocatable objects and dSYM bundles that lldb, ld64.lld and dsymutil accept.

    from dwarfkit.backends.macho_dsym import write_dsym, write_executable, write_object
    write_executable(image, "prog")                  # MH_EXECUTE, no Apple tools needed
    write_object(image, "prog.o")                    # MH_OBJECT with __DWARF sections, for ld64.lld + dsymutil
    bundle = write_dsym("prog", image.dwarf)         # prog.dSYM next to prog
    bundle = write_executable_and_dsym(image, "prog")  # both, ordered so that a crash leaves a pair verify flags

Image symbol names are source-level (``main``); the Mach-O symbol table spells them ``_main`` (see :mod:`.names`).
"""
from .dsym import write_dsym, write_executable_and_dsym
from .executable import write_executable
from .reader import MachOFile, read_macho
from .relocatable import write_object

__all__ = ["MachOFile", "read_macho", "write_dsym", "write_executable", "write_executable_and_dsym",
           "write_object"]
