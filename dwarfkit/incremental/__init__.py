"""Incremental DWARF: one function's debug info rewritten in place, so that one changed function changes a few
hundred bytes of the file (after the seed's ``MachO-DebugSymbols.zig``).

    writer = IncrementalExecutable.create("app", UnitInfo("jit.c", "/src"), functions)   # dwarfkit.backends.elf
    cu = writer.dwarf.compile_unit                  # the ordinary model: any DIEs, made as a compiler makes them
    die = cu.die("subprogram", name="f", low_pc=0x401000, high_pc=96, type=writer.dwarf.types["long"])
    writer.add(writer.dwarf.entry(die, address=0x401000, size=96, line=10, rows=((0, 10), (16, 11))))
    writer.update(Function("f", 0x401000, 96, 10, rows=((0, 10), (16, 11))))      # or the shorthand
    writer.move("f", 0x402000); writer.set_line("f", 12); writer.remove("f"); writer.close()

::

  caller: add / update / move / set_line / remove (model.Function)
     |  session.IncrementalFile: journal the operation, apply it, mark it done
     v
  writer.IncrementalDwarf: slots per function in .debug_info and .debug_line, free lists (space.SlotSpace), an
     |  index per function into .debug_ranges/.debug_aranges, the .debug_str table, a copy of each section
     |  Target.write(section, offset, bytes) | Target.replace(section, bytes) | Target.resize(section, size)
     v
  container target (backends/*/incremental.py): ELF (pwrite, section header patch) | dSYM (DsymFile.grow_section)
                    | PE (pwrite, section table, optional header and checksum patch)

Modules: ``model`` (``Function``: an entry, its code, rows and DIEs as JSON; ``Block``, ``Variable``: a shorthand
whose functions become ordinary DIEs; ``UnitInfo``; JSON for the journal), ``tree`` (a ``Die`` subtree as plain JSON
and back: forms as chosen, references by entry and index, location lists), ``dies`` (the unit through the ordinary
model: a ``DwarfBuilder`` compile unit, its types in the unit's head, each function's ``Die`` subtree encoded at its
slot by the ordinary unit encoder; the shared string and abbreviation tables, append-only), ``fragments`` (line
sequences, padding, free range entries), ``space`` (first-fit free list with merging and a third of slack per slot),
``writer`` (:class:`IncrementalDwarf`; layout depends only on the operation sequence, so a replay rebuilds it),
``journal`` (checkpoint and journal files), ``state`` (the ``.snapshot`` cache written by ``close``, decoded as
untrusted input and checked by ``check_layout``), ``session`` (:class:`IncrementalFile`: open from the snapshot or
replay the journal, rebuild after an interrupted operation).

What each update touches: ``update``, ``move`` and ``set_line`` encode the function again and write the bytes of its
slots that differ (or move it to free room if it outgrew them), append new names to ``.debug_str`` and new
abbreviations to ``.debug_abbrev``, and rewrite its two range entries if its address or size changed; ``remove`` frees
the slots and its range entries. A section that outgrows its room is written again whole (``replace``) and grows by
half. Location lists go to the entry's slot of ``.debug_loc``, a multiple of 16 bytes long (an empty-range entry
follows the lists, in a list no DIE refers to), so that a reader walking the section reads the zeros of free room as
empty lists. Entries referring into the one that changed are encoded again; one that is referred to cannot be
removed.

Imports: the foundations (``address``, ``encoding``, ``errors``, ``output``, ``strings``, ``writer``), ``line``
(sequences), ``program`` and ``info`` (the ordinary model and its encoder) and pyelftools' tables; never a backend
(the backends import this package).

Where to add: a container -> a subclass of :class:`~dwarfkit.incremental.session.IncrementalFile` with ``_build`` and
``_open_target`` (an object with ``read``, ``write``, ``replace``, ``resize``, ``close``); a DIE attribute ->
``dies.function_die`` (any attribute the ordinary model takes); a per-function unit table -> an entry at the
function's range index, like ``IncrementalDwarf._put_entries``; writer state -> a field of a dataclass in
model/writer/space or an attribute of ``IncrementalDwarf`` holding plain values is carried by the snapshot as is (else
list it in ``state.NOT_STATE``); a slot field -> ``_Placed.SLOTS``, anything else written at a kept offset -> a check
in ``state.check_layout``. Tests: ``tests/test_incremental_*.py``, judged by ``tests/incremental_oracle.py``; speed:
``benchmarks/bench_incremental.py``.
"""
from .model import Block, Function, Program, UnitInfo, Variable
from .writer import IncrementalDwarf, NoTarget, Target

__all__ = ["Block", "Function", "IncrementalDwarf", "NoTarget", "Program", "Target", "UnitInfo", "Variable"]
