"""Loading a file's DWARF into the writer's model, and converting a file through it.

    dw = dwarfkit.load("prog.o")             # a DwarfBuilder: units, Die trees, line programs, lists, call frames
    cu = dw.units[0]
    cu.root.set("producer", "edited")
    sections = dw.emit()                     # what any backend writes

    dwarfkit.convert("prog.o", "out.o", version=4)   # the same, re-emitted into a copy of the file

:func:`load` decodes with the reader (:mod:`dwarfkit.reader`: containers, units, abbreviations, line tables, list
entries, CIEs/FDEs) and builds with the writer's own API below it (:class:`~dwarfkit.DwarfBuilder`, units,
``Die``, :class:`~dwarfkit.Expr`, ``Rle``/``Lle`` list entries, :class:`~dwarfkit.frame.CallFrames`): there is one
model. Modules: ``dies`` (units and DIEs, in two passes so that any reference finds its DIE), ``values`` (one
attribute value as read -> a typed value, with its form pinned when kept), ``lists`` (range and location lists,
entry by entry), ``lines`` (line programs), ``macros`` (a compile unit's ``.debug_macro``/``.debug_macinfo`` unit
and the units it imports), ``frames`` (``.debug_frame``), ``split`` (a skeleton followed to its ``.dwo``: kept split,
made whole, or a unit split), ``convert`` and ``cli`` (the ``dwarfkit convert`` command), ``dwp`` and ``dwp_cli``
(``dwarfkit dwp``: ``.dwo`` files packaged into a ``.dwp``, with the reader's units and indexes and the ELF backend's
file writer).

What a large file holds most of is decoded only when looked at: in a linked file, lists and line rows kept in the
file's encoding (their bytes are copied when unchanged, so a conversion of libpython neither decodes nor encodes
most of them), and ``.eh_frame``. A broken list or line program then raises on that first look (or when emitted),
naming the file and the DIE or table, as the load would have.

This package sits on top: it imports the reader and the core (and, in ``convert``, the backends); nothing imports it
but ``dwarfkit.load``/``dwarfkit.convert`` and the command line.
"""
from .dies import LoadOptions, load

__all__ = ["LoadOptions", "load"]
