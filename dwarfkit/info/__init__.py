"""The DWARF core: units, DIEs, attribute forms and the unit encoder (``.debug_info``, DWARF 4 ``.debug_types``).

Modules, bottom up (each imports only those before it, the foundations, ``expr``, ``line`` and ``tables``; never
:mod:`dwarfkit.program`, which lies above and composes them):

- ``die``: :class:`Die` (slots: tag, interned ``specs`` = the abbreviation's attribute list, ``values``, children,
  offset), ``die()``, ``set()``, ``get()``, ``path()`` for messages; ``pin(value, form)``; and :class:`UnitView`, the
  Protocol of what DIEs, forms and the encoder use of a unit, so that none of them imports ``unit``.
- ``classes``: which attribute classes (constant, reference, exprloc, ...) each ``DW_AT`` accepts, checked once per
  call shape and signature of forms.
- ``forms``: ``choose(unit, die, at, value) -> (form, stored)``: the smallest data form, ``flag_present``,
  ``exprloc``, ``string`` when shorter than an offset else ``strp``, ``line_strp`` for the root's name/comp_dir in v5
  (unless ``line_strings=False``), ``strx``/``addrx``/``rnglistx``/``loclistx`` when indexed, ``ref4`` inside a unit,
  ``ref_addr`` across, ``ref_sig8`` to a type unit, ``implicit_const`` for decl_file/call_file in v5; pinned forms
  checked; every DescriptionError names the DIE path and attribute.
- ``encode``: :class:`UnitEncoder` lays a unit's DIEs out in tree order; one encoder per abbreviation, generated as
  Python source when first used; ``Fixup`` for references to DIEs not laid out yet; late offsets (list bases).
- ``types``: type helpers mixed into units (``base_type``, ``pointer_type``, ``struct_type``/``member`` with bit
  fields, ``array_type``, ``enumeration_type``, ``subroutine_type``, ...).
- ``unit``: ``Unit`` (``CompileUnit``, ``PartialUnit``, ``TypeUnit``): the root DIE, ``die(tag, **attributes)`` and
  the hot path ``_new_die`` (names resolved once per call shape, common values decided in line, the shared attribute
  list found by a signature of forms, the rest through ``forms.choose``); ``file(name)``; ``prepare()`` adds
  ``stmt_list`` and the ``*_base`` attributes; unit headers (v2-4, v5 unit types).
- ``index_entries``: :class:`NameCollector`, the names accelerator tables index, collected from a unit's DIEs
  once it is laid out (the builder calls it in ``finish`` when ``names=`` asks for tables).
- ``split_units``: split DWARF's halves (:mod:`dwarfkit.split`): ``SplitCompileUnit`` (the ``.dwo``'s unit) and
  ``SkeletonUnit`` (the main file's), their headers and DWO id attributes.
- ``raw_encode``: raw control (:mod:`dwarfkit.raw`) applied to a unit: the encoder's walk with chosen codes, raw
  entries and values, then header fields as given and the cut of a truncated unit; called only when the program has
  raw control (``tables.raw`` is not None).

What flows: a unit is made with the program's :class:`~dwarfkit.tables.shared.SharedTables` and asks it for string
offsets, indices, interned attribute lists and list objects while the caller describes DIEs; each attribute's form is
chosen when it is set (so errors point at the call). Every form's size depends only on the value, so a function's
subtree has the same size wherever it is placed. ``DwarfBuilder.finish``/``emit`` calls ``prepare`` and
``UnitEncoder.encode_unit``.

Where to add: a form -> a rule in ``forms.choose`` (or ``_choose_general``) and an encoder in
``UnitEncoder._make_encoders`` (if it is hot, a line in ``UnitEncoder._entry``); an attribute class -> a bit and name in
``classes._CLASS_NAMES``, the attributes that take it in ``classes``' table text, how a value shows it in
``classes.value_class``, and its forms in ``forms``; an attribute that needs more
than its value's type -> the ``SPECIAL`` set in ``forms``; a DW_OP -> nothing here (``expr`` makes a method per
pyelftools opcode; operand kinds in ``expr._OPERANDS``, and the declared list in ``Expr``'s class body).
"""
