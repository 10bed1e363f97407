"""COFF objects and PE32+ images with DWARF for AMD64 and ARM64 (imported as ``dwarfkit.backends.coff``).

>>> write_object(image, "prog.o")                                    # MinGW ld and lld-link link it
>>> write_pe(image, "prog.exe", imports={"kernel32.dll": ["ExitProcess"]})   # wine runs it

``object_bytes``/``pe_bytes`` give the same files in memory; ``write_pe`` also takes ``image_base`` (default
:data:`DEFAULT_IMAGE_BASE`). Both build the whole file in memory, then write it atomically.

Modules, bottom up: ``constants`` (every COFF/PE number, once; the reader uses them too), ``records`` (file and
section headers, symbols and their auxiliary records, relocations, the string table and ``/N`` long names; ``pack()``
range-checks every field), ``machine`` (``Arch`` -> ``Machine`` and the relocation type of each kind), ``contents``
(which sections a file holds: the image's, with ELF names mapped (``.rodata`` -> ``.rdata``), then the discardable
DWARF sections), then the object (``object_file``: section symbols for ``SECREL``, in-place addends,
``IMAGE_SCN_LNK_NRELOC_OVFL`` above 65535 relocations) and the image (``pe``: layout as MinGW ld does it, relocations
resolved, ``.reloc`` entries for absolute addresses, a COFF symbol table for debuggers), with its parts
``pe_headers`` (DOS stub, optional header, GNU's checksum), ``imports`` (``.idata`` and the ``__imp_<f>`` slots),
``thunks`` (``jmp [rip+__imp_f]`` / ``adrp+ldr+br`` for calls to an import by name) and ``base_relocations``
(``.reloc``); ``incremental`` rewrites an image's DWARF in place. ``rewrite`` (``rewrite``/``rewrite_bytes``, for
``dwarfkit convert``) replaces the DWARF of an existing object or MinGW image, with ``input_file`` (parse an existing
file, every structure bounds-checked) and ``symbol_edit`` (its symbol table with indices kept, sections renumbered).

Relocations (objects): SECTION/UNIT -> ``SECREL`` (4 bytes only, so no DWARF64), ADDRESS -> ``ADDR64``/``ADDR32``,
PCREL -> ``REL32``, ENTRY none. Images resolve them all and list absolute code/data addresses in ``.reloc``.

Imports: dwarfkit's foundations (``arch``, ``encoding``, ``errors``, ``image``, ``output``, ``sections``;
``dwarfkit.incremental`` for ``incremental.py``). Never ``dwarfkit.reader``, the DIE-building core or another
backend. ``dwarfkit.reader`` imports ``constants`` from here.

Where to add: a machine -> ``constants.py`` and a ``Machine`` in ``machine.py`` (and a thunk in ``thunks.py``); a kind
of section -> ``contents.py``; a data directory (exceptions, TLS) -> a builder module like ``imports.py``, placed in
``pe.py`` before ``.reloc``, with its directory entry in ``_PeLayout._optional_header``. Wine cannot load a main
executable away from its image base, so the tests compare ``.reloc`` with the linkers' instead of moving an image.
"""
from .imports import IMPORT_PREFIX
from .object_file import object_bytes, write_object
from .pe import DEFAULT_IMAGE_BASE, pe_bytes, write_pe

__all__ = ["DEFAULT_IMAGE_BASE", "IMPORT_PREFIX", "object_bytes", "pe_bytes", "write_object", "write_pe"]
