"""Reading DWARF back out of ELF, Mach-O and COFF files that real toolchains (or dwarfkit's backends) wrote:
``dwarfkit dump`` (text in llvm-dwarfdump-14's layout, ``--json``, ``--lookup``/``--name``/``--summary``) and
``dwarfkit verify``.

What it may import: the standard library, pyelftools (tables, ELF headers and relocation recipes), capstone (verify,
optional), ``dwarfkit.errors``, ``dwarfkit.encoding`` (LEB128), and from the backends only their constants and their
parsers, so that there is one layout parser per format, shared by the container readers here, ``container_check``
and the backends' rewriters: ELF ``backends/elf/elfinput.py`` (bounds-checked header and section table; the raw
layouts per class and byte order), Mach-O ``backends/macho_dsym/parse.py`` with its records ``commands.py`` (fat
header, header, load commands, sections, symbols, relocations; strict or tolerant), COFF
``backends/coff/input_file.py`` (``parse(..., lenient=True)`` and its layout functions), and
``backends/macho_dsym/constants.py``, ``backends/coff/constants.py``. It never imports the writer core
(``program``, ``info``, ``lists``, ...) nor a backend's writing code, and nothing in the writer imports it;
``cli.py`` only registers the two commands in ``dwarfkit.cli.COMMANDS``.

The flow, each stage importing only the ones to its left::

    file --container.open_debug_file--> DebugFile (debugfile.py: relocated section bytes, arch, UUID, code, problems)
         --units.DwarfContext--> unit headers; DIEs decoded one unit at a time (abbrev.py generates the decoders)
         --> text.py (llvm-dwarfdump layout) | json_dump.py | query.py | verify.py (+ container_check.py)

Modules, by stage:

- containers: ``debugfile`` (the base: ``DebugFile``, ``CodeSection``, section-name normalisation ``.debug_x``,
  ``__debug_x``, ``.zdebug_x`` -> ``debug_x``, bounded zlib inflate); ``elf``, ``macho``, ``coff`` (one reader per
  format, each depending only on ``debugfile``); ``container`` (``open_debug_file``: dispatch on the magic, a dSYM
  bundle -> its one DWARF file; it re-exports the base names).
- decoding: ``forms``, ``names`` (form sizes and classes; llvm-dwarfdump's spelling of tags, attributes and
  enumerators), ``abbrev`` (each distinct list of forms is compiled once into a function that decodes a DIE),
  ``units`` (``DwarfContext``, ``Unit`` as parallel lists offset/abbrev/values/parent/depth, ``forget``), ``lines``
  (line programs v2-5 -> rows), ``ranges`` (range and location lists of a DIE), ``cfi`` (CIEs, FDEs, unwind rows),
  ``macros`` (one ``.debug_macro`` or ``.debug_macinfo`` unit at an offset -> header and entries; not dumped yet),
  ``package`` (a ``.dwp``'s ``.debug_cu_index``/``.debug_tu_index``; ``units`` applies each unit's contributions),
  ``split`` (skeletons -> their split units, from ``<file>.dwp`` or the ``.dwo`` named; ``SplitFiles.split_unit``),
  ``lists_text``, ``names_text``, ``str_offsets_text`` (whole-section list, name-index and string-offset dumps),
  ``gdb_index_text``, ``apple_text`` (``.gdb_index`` and the Apple accelerator tables, read and printed).
- rendering: ``expr`` (DW_OP text with register names), ``typename`` (llvm-dwarfdump 14's type names), ``text``
  (``InfoDumper``: a generated f-string per abbreviation shape), ``line_text``, ``die_format``, ``tables`` (abbrev,
  aranges, strings, pubnames, addr), ``dump`` (``dump_text`` in llvm-dwarfdump's section order, ``SECTION_FLAGS``,
  forked workers for a large ``.debug_info``), ``json_dump`` (its docstring documents the JSON), ``query``.
- checking: ``verify`` (``Verifier``: headers, forms, references, ranges, line tables, instruction starts, dSYM
  UUID), ``verify_shapes`` (units without DIEs or left open, DW_AT_sibling, type_offset, aranges and list-table
  headers, line-table header fields), ``package_check`` (a package's index rows against its units),
  ``container_check`` (section and relocation layout of the container itself:
  checks only, the structures decoded by the backends' parsers above, which judge nothing in that use so that every
  problem is reported).

What flows out: text/JSON on stdout; problems one per line, always ``.section[0xOFFSET]: message``, on stderr
(``dump``, exit 1) or stdout (``verify``, exit 1). Errors that stop reading are ``ContainerError``/``ReadError``
(exit 2, one line).

Where to add:

- a section dump: a function in ``tables.py`` (or its own ``x_text.py`` with a ``read_x`` returning records and a
  ``dump_x_text``), a flag in ``dump.SECTION_FLAGS``, a branch in ``dump.dump_text`` in llvm-dwarfdump's order, a
  test against llvm-dwarfdump-14 in ``tests/test_dump_llvm.py`` or ``tests/test_dump_sections.py``.
- a form: its size/class in ``forms.py``, its decoding in ``abbrev._generate``, its text in
  ``text.InfoDumper.form_text`` (and ``describe`` if it is common).
- a renderer: a module that takes a ``DwarfContext`` and walks ``Unit``s (see ``json_dump``), an option in
  ``cli.py``.
- a container: a ``read_x(path, data) -> DebugFile`` module importing ``debugfile`` and the format's one parser in
  its backend, one magic test in ``container.open_debug_file``, its structure checks in ``container_check`` over the
  same parser.
- a verify check: a method of ``verify.Verifier`` that appends ``.section[0xOFFSET]: message`` lines.

Tests: ``test_dump_llvm.py`` (every corpus file against llvm-dwarfdump-14; ``python3 tests/dump_compare.py FILE``
shows a diff), ``test_dump_sections.py``, ``test_dump_queries.py``, ``test_verify_corpus.py``,
``test_reader_pyelftools.py`` (pyelftools as the DIE oracle), ``test_reader_hostile.py``, ``test_reader_fuzz.py``
(``DWARFKIT_FUZZ_CASES`` for a longer run; ``tools/fuzz_reader.py`` for campaigns). Speed:
``benchmarks/bench_dump.py``.
"""
