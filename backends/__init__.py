"""Container writers: ``dwarfkit.backends.elf``, ``.macho_dsym`` and ``.coff`` (the folder ``backends/``, installed as
``dwarfkit.backends`` through pyproject's ``package-dir``; a source checkout maps it in ``dwarfkit/__init__.py``).

In: an :class:`dwarfkit.image.Image` (code and data sections, symbols, entry, arch) whose ``dwarf`` is the core's
:class:`dwarfkit.sections.DwarfSections` (bytes per debug section plus symbolic relocations), or, for separate debug
files and dSYMs, an existing executable plus ``DwarfSections``. Out: files on disk, each written atomically
(:func:`dwarfkit.output.write_atomically`), or their bytes. Every backend validates the image first and refuses what
its container cannot hold (address size, byte order, machine, relocation kind) with a typed
:class:`dwarfkit.errors.DwarfkitError`.

A backend's one DWARF-specific job is the relocation kinds of :mod:`dwarfkit.sections`:

=========  ==================================  =================================  ==================================
kind       ELF object (one ``.rela`` record)   Mach-O object                      COFF object
=========  ==================================  =================================  ==================================
ENTRY      none: the value is final            none                               none
UNIT       R_*_16/32/64 vs the section symbol  none: each section is one piece    SECREL (4 bytes: no DWARF64)
SECTION    the same                            none                               SECREL
ADDRESS    R_*_16/32/64 vs the symbol          ``*_RELOC_UNSIGNED`` (section-     ADDR64 / ADDR32
                                               based; extern if undefined)
PCREL      R_X86_64_PC32/64, R_AARCH64_PREL*   resolved in ``__eh_frame``;        REL32
                                               x86_64 code: BRANCH / SIGNED
=========  ==================================  =================================  ==================================

Final files (ELF executables, Mach-O executables and dSYMs, PE images, ELF debug files) resolve every kind to its
value with :meth:`DwarfSections.resolve` / :func:`dwarfkit.sections.apply_relocations` and then check every DWARF
address against their sections.

Imports: a backend uses dwarfkit's foundations only -- ``arch``, ``encoding``, ``errors``, ``image``, ``output``,
``sections`` (the ``incremental.py`` modules also ``dwarfkit.incremental``) -- plus pyelftools' tables in the ELF
backend. It never imports ``dwarfkit.reader``, the DIE-building core (``program``, ``info``, ``line``, ``expr``,
``frame``) or another backend. The one import into a backend from elsewhere: ``dwarfkit.reader`` takes the Mach-O and
COFF numbers from ``macho_dsym.constants`` and ``coff.constants``, so each container's constants live once.

Where to add a container: a package here with ``write_*``/``*_bytes`` functions over an ``Image``, a ``constants``
module, one relocation table from ``(RelocKind, size)`` to the container's types, its name in pyproject's
``packages``, a reader in ``dwarfkit.reader`` and tests that run the platform's own tools on its files.
A relocation kind: ``dwarfkit.sections.RelocKind``, then one entry in each backend's table (``elf/machine.py``,
``coff/machine.py``, ``macho_dsym/relocatable.py:_relocation``). An architecture: ``dwarfkit.arch.Arch``, then an
``ElfMachine`` in ``elf/machine.py``, a ``Machine`` (and thunk) in ``coff/``, CPU types in
``macho_dsym/constants.py``.
"""
