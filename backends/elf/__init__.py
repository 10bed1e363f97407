"""ELF backend: relocatable objects, static executables and separate debug files (ELF64 little-endian, x86_64 and
aarch64).

    from dwarfkit.backends.elf import write_object, write_executable, write_debug_file
    write_object(image, "prog.o")                 # ET_REL with .rela.debug_* for ld, gold, ld.lld
    write_executable(image, "prog")               # static ET_EXEC, relocations resolved
    write_debug_file("a.out", dwarf, "a.out.debug", "a.out.linked")  # debug info for a binary we did not build

``object_bytes``/``executable_bytes`` give the same files in memory; ``add_sections`` appends non-allocated sections
to an existing ELF; ``build_id_path`` is where gdb looks a debug file up by build id.

Modules, bottom up: ``machine`` (per arch: ``e_machine``, page size, THE relocation table ``(RelocKind, size) ->
R_*`` from pyelftools' ``ENUM_RELOC_TYPE_*``), ``elffile`` (the file format only: headers, alignment, offsets
congruent to addresses, section and program header tables, ``.shstrtab``), ``symtab`` (``.symtab``/``.strtab``,
locals first), ``compression`` (``SHF_COMPRESSED``), ``contents`` (what every file shares: image checks, content and
debug sections, ``.eh_frame``), then one module per kind of file: ``objectfile`` (``ET_REL``: one ``.rela<section>``
per relocated section, relocated fields left zero as GNU as and clang leave them), ``executable`` (one ``PT_LOAD``
per allocated section, relocations resolved, debug sections not loaded), ``debugfile`` (``NOBITS`` copies of an
existing executable's sections, its build-id note and our debug sections; the executable's copy gets a
``.gnu_debuglink``) and ``incremental`` (an executable whose DWARF is rewritten in place, one function at a
time); ``dwo`` writes split DWARF's ``.dwo`` files (``DwarfSections.dwo``) beside an object, executable or
rewritten file, before it.

Rewriting a file we did not write (``dwarfkit convert``): ``rewrite`` (``rewrite_bytes``, ``rewrite``,
``rewrite_separate``: an object, executable or shared library with its DWARF replaced, everything else kept) over
``elfinput`` (the input's headers, bounds-checked; its ``read_elf_headers``, any class and byte order, is also the
parser of ``dwarfkit/reader/elf.py`` and of ``add_sections``), ``symbol_edit`` (symbols and everything holding symbol
indices, renumbered when section symbols go or come) and ``relayout`` (the loaded bytes stay, the rest is laid out
after them). Import it as ``dwarfkit.backends.elf.rewrite``: the package does not re-export ``rewrite``, whose name
is the module's.

Imports: dwarfkit's foundations (``arch``, ``encoding``, ``errors``, ``image``, ``output``, ``sections``;
``dwarfkit.incremental`` for ``incremental.py``) and pyelftools (constants and enums; ``debugfile`` reads the
executable with its ``ELFFile``). Never ``dwarfkit.reader``, the DIE-building core or another backend.

Where to add: a relocation kind or field size -> an entry in ``machine.py``'s tables; an architecture -> a
``MACHINES`` entry (and ``dwarfkit.arch.Arch``); a new kind of allocated section -> ``contents._CONTENT_FLAGS`` and
``executable._LOAD_ORDER``.
"""
from .debugfile import add_sections, build_id_path, write_debug_file
from .executable import executable_bytes, write_executable
from .objectfile import object_bytes, write_object

__all__ = ["add_sections", "build_id_path", "executable_bytes", "object_bytes", "write_debug_file", "write_executable",
           "write_object"]
