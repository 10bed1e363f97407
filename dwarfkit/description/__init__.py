"""DWARF as a text description: a YAML (or JSON) file a person writes by hand, built into a real file.

    dwarfkit build prog.yaml -o prog          # or dwarfkit.build({...}).write("prog")

A description names the target (``arch``: x86_64 or aarch64; ``output``: elf-executable, elf-object,
macho-object, coff-object), the DWARF encoding (``dwarf``: version, offset_size, indexed), the
code (``functions``: name -> assembly text, assembled with keystone, or ``{hex: BYTES}``) and the units: their
attributes, nested DIEs (``tag``, attributes by DW_AT_ name, ``label``, ``children``) and line rows. Values are read
by the attribute's DWARF class: a reference names a DIE's label, an address a function or ``function.label``, an
expression is a list of operations. What can be computed has a default: a ``_start`` that calls ``main``, the unit's
and a function DIE's code range. ``docs/description.md`` is the reference.

The way back: ``describe`` renders a loaded file's model (:func:`dwarfkit.load`) as a description that names the
file (``file:``) and builds to the same DWARF again, written into a copy of the file.

Modules: ``source`` (the file -> data, with the line of every value), ``build`` (data -> the writer's model and an
Image, through the ordinary API), ``code`` (the functions and symbols addresses name), ``frames`` (``frames`` and
``debug_frame``), ``described`` (build's part for what describe writes: any container as ``file:``, line-program
tables, list entries by kind, macro units), ``raw`` (raw control keys: raw values, codes, header overrides,
abbreviation tables, raw sections, patches),
``describe`` and ``describe_tables`` (a loaded model -> a description), ``cli`` and ``describe_cli`` (the
``dwarfkit build`` and ``dwarfkit describe`` commands, ``dump --yaml``). This package sits on top: it imports the
core, ``asm``, the loader and (to write) the backends; nothing imports it but ``dwarfkit.build``,
``dwarfkit.describe`` and the command line.
"""
from .build import Built, build, build_file
from .describe import describe
from .source import Source, read_description

__all__ = ["Built", "Source", "build", "build_file", "describe", "read_description"]
