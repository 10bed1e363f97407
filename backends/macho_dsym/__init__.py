"""Mach-O backend: executables, relocatable objects and dSYM bundles that lldb, ld64.lld and dsymutil accept
(64-bit little-endian: x86_64, arm64).

    from dwarfkit.backends.macho_dsym import write_dsym, write_executable, write_object
    write_executable(image, "prog")                  # MH_EXECUTE, no Apple tools needed
    write_object(image, "prog.o")                    # MH_OBJECT with __DWARF sections, for ld64.lld + dsymutil
    bundle = write_dsym("prog", image.dwarf)         # prog.dSYM next to prog (out_dir=, arch= for a fat input)
    bundle = write_executable_and_dsym(image, "prog")  # both, ordered so that a crash leaves a pair verify flags

Image symbol names are source-level (``main``); the Mach-O symbol table spells them ``_main`` (see :mod:`.names`).

Modules, bottom up: ``constants`` (every Mach-O number, once; the reader uses them too), ``commands`` (header, load
commands, ``nlist_64``, relocation records: dataclasses that encode and decode themselves, 32-bit and big-endian
ones too; unknown commands stay ``RawCommand``), ``parse`` (the one Mach-O decoder: fat header, header, load
commands, symbols, relocation records; strict or tolerant), ``reader`` (:func:`read_macho`: thin or fat input, what a
dSYM copies from its executable; ``parse`` in its strict mode),
``names`` (``main`` <-> ``_main``; ``.debug_str_offsets`` <-> ``__DWARF,__debug_str_offs``; content sections by kind),
``layout`` (``FileSpace``: the one place pieces of a file are placed, with slack in a dSYM so that sections can grow
in place), ``symtab``, ``exports`` (export trie), ``codesign`` (arm64 ad-hoc signature), ``bundle`` (the ``.dSYM``
directory and its ``Info.plist``, written atomically), then one module per kind of file: ``executable``
(``MH_EXECUTE`` with ld64.lld's load commands), ``dsym`` (``MH_DSYM`` as dsymutil writes it; ``DsymFile.grow_section``
is the hook for in-place updates), ``relocatable`` (``MH_OBJECT`` as clang writes it) and ``incremental``;
``rewrite`` (with ``rewrite_input`` and ``rewrite_object``) replaces the DWARF of an existing object or dSYM
(``dwarfkit convert``), keeping everything else.

Relocations: in executables and dSYMs every kind is resolved (ADDRESS to the executable's symbol value). In objects,
ADDRESS becomes a section-based ``*_RELOC_UNSIGNED`` (extern for an undefined symbol), PCREL is resolved in
``__eh_frame`` and is x86_64 ``BRANCH``/``SIGNED`` in code; SECTION/UNIT/ENTRY need no record (each debug section is
one piece; dsymutil reads object DWARF through the linker's debug map).

Imports: dwarfkit's foundations (``arch``, ``encoding``, ``errors``, ``image``, ``output``, ``sections``;
``dwarfkit.incremental`` for ``incremental.py``); no pyelftools. Never ``dwarfkit.reader``, the DIE-building core or
another backend. ``dwarfkit.reader`` imports ``constants``, ``parse`` and the ``commands`` dataclasses it returns
from here: one decoder of Mach-O files, whose tolerant mode is ``dwarfkit.reader.macho``'s and strict mode this
backend's (``parse`` and ``commands`` import only the standard library and ``constants``).

Where to add: a debug section -> nothing (every ``.debug_*``/``.apple_*`` name maps); a load command -> a dataclass in
``commands.py`` and its ``_DECODERS`` entry; an architecture -> ``constants.CPU_TYPES`` (and the executable's
signature/entry code if it needs one). Limits of the LLVM 14 tools: dsymutil-14 drops ``DW_FORM_line_strp`` and
``implicit_const`` (use DWARF 4 for the object -> ld64.lld -> dsymutil flow); lldb-14 does not read a Mach-O
``__debug_line_str`` (for DWARF 5 use ``DwarfBuilder(line_strings=False)``).
"""
from .dsym import write_dsym, write_executable_and_dsym
from .executable import write_executable
from .reader import MachOFile, read_macho
from .relocatable import write_object

__all__ = ["MachOFile", "read_macho", "write_dsym", "write_executable", "write_executable_and_dsym",
           "write_object"]
