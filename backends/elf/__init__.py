"""ELF backend: relocatable objects, static executables and separate debug files for x86_64 and aarch64.

    from dwarfkit.backends.elf import write_object, write_executable, write_debug_file
    write_object(image, "prog.o")                 # ET_REL with .rela.debug_* for ld, gold, ld.lld
    write_executable(image, "prog")               # static ET_EXEC, relocations resolved
    write_debug_file("a.out", dwarf, "a.out.debug", "a.out.linked")  # debug info for a binary we did not build
"""
from .debugfile import add_sections, build_id_path, write_debug_file
from .executable import executable_bytes, write_executable
from .objectfile import object_bytes, write_object

__all__ = ["add_sections", "build_id_path", "executable_bytes", "object_bytes", "write_debug_file", "write_executable",
           "write_object"]
