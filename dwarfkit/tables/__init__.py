"""The tables shared by all units of one program, one module per concern; the layer between the foundations and
:mod:`dwarfkit.info`.

- ``offsets``: :class:`SectionOffset`, a ``sec_offset`` value known late (unit bases, ``DW_AT_stmt_list``).
- ``specs``: interned attribute lists (the keys of abbreviations) and expression blocks.
- ``str_offsets``: ``.debug_str_offsets`` (``DW_FORM_strx``); ``addresses``: ``.debug_addr`` (``DW_FORM_addrx``).
- ``lines``: ``.debug_line``, each compile unit's line program appended when the unit is finished.
- ``list_entries``: list entries of a kind the caller chooses (``Rle.offset_pair``, ``Lle.view_pair``, ...), checked
  per DWARF version; ``lists``: range and location lists, GCC's location views and their sections (public path:
  :mod:`dwarfkit.lists`).
- ``raw``: :class:`RawControl`, the program's raw control (:mod:`dwarfkit.raw`): overrides of DIEs, unit headers
  and sections, hand-written abbreviation tables, patches; made on first use.
- ``debug_names``, ``gdb_index``, ``apple``: the accelerator tables, built at emission from the names
  :mod:`dwarfkit.info.index_entries` collected (given as plain values: this package does not import ``info``).
- ``shared``: :class:`SharedTables`, all of the above plus the string tables, the abbreviation table and the caches
  of ``Unit._new_die``. The builder (:mod:`dwarfkit.program`) makes one and gives it to each unit.

What flows: a unit asks for an index, an offset or an interned list while it is described; the builder asks each
table for its section when it emits. Imports: the foundations (``address``, ``encoding``, ``errors``, ``sections``,
``strings``, ``writer``, ``abbrev``), ``expr`` (list entries hold expressions), and ``line`` for a type only. Never
``info`` or ``program``: they are above. This ``__init__`` imports nothing, so that a module here can import its
sibling without running the others.
"""
