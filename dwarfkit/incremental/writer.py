"""The incremental DWARF model: per-function slots in ``.debug_info`` and ``.debug_line``, updated in place, and the
tables the unit keeps beside them: ``.debug_str`` (names, append-only), ``.debug_ranges`` and ``.debug_aranges`` (one
entry per function at the function's index, a free index holds an entry that describes nothing).

:class:`IncrementalDwarf` keeps everything the next update needs (each function, its slots, where its patchable
fields are, the free blocks, a copy of each section's bytes) and sends every change to a :class:`Target` as
``write(section, offset, bytes)``; when a section outgrows its room, the whole section goes to
``replace(section, bytes)`` and the container moves it. Layout decisions depend only on the sequence of operations,
so replaying a journal of them without a target rebuilds the same state.

The line program ends where the last used slot ends: gdb complains about ("sequence without an end") any opcode after
the last ``DW_LNE_end_sequence``, so free room after the last sequence lies outside the unit and outside the section's
visible size (``Target.resize``), as reserved room in the file; the unit length and the section size follow. The same
for ``.debug_str``: its visible size ends after the last string, the zeros after it are room for the next names.
Names no function uses any more stay in the table (an offset, once given, never changes).
"""
from __future__ import annotations

import bisect
import heapq
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar, Iterable, Protocol

from ..encoding import align_up
from ..errors import DescriptionError
from ..info.die import Die
from ..info.unit import CompileUnit
from ..program import DwarfBuilder
from ..sections import DwarfSections, Section
from .dies import UnitDies, location_bytes
from .fragments import (
    ARANGES_HEAD,
    ENCODING,
    ENTRY,
    FREE_ARANGE,
    FREE_RANGE,
    arange_entry,
    aranges_section,
    info_fill,
    line_fill,
    line_head,
    line_program,
    line_sequence,
    line_sequence_size,
    range_entry,
    ranges_section,
)
from .model import TYPES, Block, Function, UnitInfo, Variable
from .space import MIN_FREE, SlotSpace
from .tree import loads, outside_entries

INFO, LINE, ABBREV, LOC = ".debug_info", ".debug_line", ".debug_abbrev", ".debug_loc"
STR, RANGES, ARANGES = ".debug_str", ".debug_ranges", ".debug_aranges"
_HEAD_OF_FREE_INFO = 5


class Target(Protocol):
    def write(self, section: str, offset: int, data: bytes) -> None: ...

    def replace(self, section: str, data: bytes) -> None: ...

    def resize(self, section: str, size: int) -> None: ...


class NoTarget:
    """Layout only (journal replay, from-scratch layout)."""

    def write(self, section: str, offset: int, data: bytes) -> None:
        pass

    def replace(self, section: str, data: bytes) -> None:
        pass

    def resize(self, section: str, size: int) -> None:
        pass


@dataclass
class _Placed:
    fn: Function
    info: tuple[int, int]  # slot offset, capacity
    line: tuple[int, int]
    entry: int  # index of its entries in .debug_ranges and .debug_aranges
    loc: tuple[int, int] = (0, 0)  # its location lists' slot in .debug_loc; (0, 0): it has none

    # What the fields mean, for checking a state read back from disk (dwarfkit.incremental.state): a slot field is
    # (offset, capacity) in a section's SlotSpace.
    SLOTS: ClassVar[dict[str, str]] = {"info": INFO, "line": LINE, "loc": LOC}


class IncrementalDwarf:
    """``.debug_abbrev``, ``.debug_info`` (one unit) and ``.debug_line`` (one program) with a slot per function;
    ``.debug_str``, ``.debug_ranges`` and ``.debug_aranges`` for the unit, kept right after every operation."""

    def __init__(self, unit: UnitInfo, functions: Iterable[Function] = (), target: Target | None = None,
                 arena: tuple[tuple[int, int], ...] | None = None) -> None:
        self.unit = unit
        self.arena = arena
        """The code areas (start, end) every function must lie in; None: anywhere."""
        self._by_address: list[tuple[int, str]] | None = None  # built when first needed (see _check_place)
        self.target: Target = target or NoTarget()
        self.bytes_written = 0
        self.functions: dict[str, _Placed] = {}
        self._program = line_program(unit)
        functions = list(functions)
        self._check_unique(functions)
        self._check_apart(functions)
        # .debug_info: the unit's head, then each function's subtree in a slot of its size and a third more; the
        # fragments are encoded in order at their final offsets (a slot's size depends only on the fragment's).
        self._dies = UnitDies(unit)
        head = self._dies.head
        lhead = line_head(self._program)
        self._info_space = SlotSpace(len(head), len(head), 1)
        self._line_space = SlotSpace(len(lhead), len(lhead), 2)
        self._loc_space = SlotSpace(0, 0, 16)
        self._refs: dict[str, set[str]] | None = None  # entry -> the entries referring into it (see _referrers)
        fragments: list[tuple[Function, bytes, tuple[int, int], tuple[int, int], tuple[int, int], bytes]] = []
        info_at, line_at, loc_at = len(head), len(lhead), 0
        self._placing: dict[str, tuple[Function, int]] = {}  # (what _locate finds before the entries are stored)
        for fn in functions:
            lists = location_bytes(fn)
            loc = (loc_at, self._loc_space.slot_size(len(lists))) if lists else (0, 0)
            dies = self._dies.fragment(fn, info_at, loc[0], self._locate)
            self._placing[fn.name] = (fn, info_at)
            info = (info_at, self._info_space.slot_size(len(dies)))
            line = (line_at, self._line_space.slot_size(line_sequence_size(self._program, fn)))
            fragments.append((fn, dies, info, line, loc, lists))
            info_at, line_at, loc_at = sum(info), sum(line), loc_at + loc[1]
        self._placing = {}
        info_used, line_used = info_at - len(head), line_at - len(lhead)
        info_end = len(head) + info_used + max(256, info_used // 4)
        line_end = len(lhead) + align_up(line_used + max(256, line_used // 4), 2)
        loc_end = align_up(loc_at + max(256, loc_at // 4), 16)
        self._info_space.grow(info_end)
        self._line_space.grow(line_end)
        self._loc_space.grow(loc_end)
        # Range entries: function i at index i, free indices after them.
        capacity = len(functions) + max(16, len(functions) // 4)
        self._free_entries = list(range(len(functions), capacity))  # a heap: the lowest free index is used first
        free = capacity - len(functions)
        # .debug_str and .debug_abbrev: what the DIEs needed, and room for a quarter more after it.
        strings = self._dies.strings.bytes_from(0)
        abbrevs = self._dies.abbrev_section()
        self._abbrev_count = len(self._dies.builder.tables.abbrevs)
        self.sections = {ABBREV: bytearray(abbrevs + bytes(max(256, len(abbrevs) // 4))),
                         INFO: bytearray(head) + info_fill(info_end - len(head)) + b"\0",
                         LINE: bytearray(lhead) + line_fill(line_end - len(lhead)),
                         STR: bytearray(strings + bytes(max(256, len(strings) // 4))),
                         LOC: bytearray(loc_end),
                         RANGES: bytearray(ranges_section([range_entry(fn) for fn in functions] + [FREE_RANGE] * free)),
                         ARANGES: bytearray(aranges_section([arange_entry(fn) for fn in functions]
                                                            + [FREE_ARANGE] * free))}
        self.sections[INFO][0:4] = (info_end + 1 - 4).to_bytes(4, "little")
        for entry, (fn, dies, info, line, loc, lists) in enumerate(fragments):
            self._info_space.place(*info)
            self._line_space.place(*line)
            if loc[1]:
                self._loc_space.place(*loc)
            self._store(fn, info, line, dies, entry, loc, lists, quiet=True)
        self._write_free_head(INFO, info_at, info_end - info_at, quiet=True)
        self.sizes = {name: len(data) for name, data in self.sections.items()}
        self.sizes[LINE] = 0
        self.sizes[STR] = len(strings)
        self.sizes[ABBREV] = len(abbrevs)
        self._sync_line_end(quiet=True)

    def reload(self) -> None:
        """Makes the shared tables again from the sections (a state restored from a snapshot): the strings and
        abbreviations the file holds keep their offsets and codes. Raises ValueError if the unit's head in
        ``.debug_info`` is not the one they give."""
        try:
            self._dies = UnitDies(self.unit, self.visible(STR), self.visible(ABBREV))
        except DescriptionError as e:
            raise ValueError(str(e)) from None
        self._abbrev_count = len(self._dies.builder.tables.abbrevs)
        head = self._dies.head
        if self.sections[INFO][4:len(head)] != head[4:] or self._info_space.start != len(head):
            raise ValueError(f"{INFO}: the unit's head is not the one its tables give")

    # -- operations --------------------------------------------------------------------------------------------
    def add(self, fn: Function) -> None:
        if fn.name in self.functions:
            raise DescriptionError(f"function {fn.name!r} already exists; use update")
        self._check(fn)
        self._check_place(fn)
        need = line_sequence_size(self._program, fn)  # encoded before anything changes: it may refuse the rows
        lists = location_bytes(fn)
        dies = self._encode(fn, self._info_space.end, 0)  # its size (the same at any offset), then at its slot
        entry = self._allocate_entry()
        loc = self._allocate(LOC, len(lists)) if lists else (0, 0)
        info = self._allocate(INFO, len(dies))
        dies = self._encode(fn, info[0], loc[0])
        self._store(fn, info, self._allocate(LINE, need), dies, entry, loc, lists)
        self._put_entries(entry, fn)
        self._sync_line_end()

    def update(self, fn: Function) -> None:
        """New code size, rows, DIEs (or anything else): rewritten in its slots, or moved if it outgrew them. Only
        the bytes that differ from the slot's go to the file; entries referring into it are encoded again."""
        old = self._get(fn.name)
        self._check(fn)
        self._check_place(fn, old.fn)
        info, line, loc = old.info, old.line, old.loc
        need = line_sequence_size(self._program, fn)
        lists = location_bytes(fn)
        if len(lists) > loc[1] or (loc[1] and not lists):
            if loc[1]:
                self._release(LOC, loc)
            loc = self._allocate(LOC, len(lists)) if lists else (0, 0)
        self._dies.forget(fn.name)
        dies = self._encode(fn, info[0], loc[0])
        if len(dies) > info[1]:
            self._release(INFO, info)
            info = self._allocate(INFO, len(dies))
            dies = self._encode(fn, info[0], loc[0])
        if need > line[1]:
            self._release(LINE, line)
            line = self._allocate(LINE, need)
        self._store(fn, info, line, dies, old.entry, loc, lists)
        if (fn.address, fn.size) != (old.fn.address, old.fn.size):
            self._put_entries(old.entry, fn)
        for name in sorted(self._referrers(fn.name)):
            self._encode_again(self.functions[name])
        self._sync_line_end()

    def move(self, name: str, address: int) -> None:
        """The function's code moved: its DIEs, line sequence and range entries follow (only changed bytes written)."""
        self.update(self._get(name).fn.moved(address))

    def set_line(self, name: str, line: int) -> None:
        """The function moved in its source file: every line of it moves by the same amount."""
        self.update(self._get(name).fn.shifted(line))

    def remove(self, name: str) -> None:
        old = self._get(name)
        referrers = self._referrers(name)
        if referrers:
            raise DescriptionError(f"{name!r} cannot go: {', '.join(map(repr, sorted(referrers)))} refer to it")
        self._release(INFO, old.info)
        self._release(LINE, old.line)
        if old.loc[1]:
            self._release(LOC, old.loc)
        self._put(RANGES, ENTRY * old.entry, FREE_RANGE)
        self._put(ARANGES, ARANGES_HEAD + ENTRY * old.entry, FREE_ARANGE)
        heapq.heappush(self._free_entries, old.entry)
        del self.functions[name]
        self._dies.forget(name)
        self._note_refs(old.fn, None)
        self._index_change(old.fn, None)
        self._sync_line_end()

    def entry(self, die: Die, *, name: str | None = None, address: int = 0, size: int = 0, line: int = 1,
              rows: tuple[tuple[int, int], ...] = ()) -> Function:
        """An entry of the general model for :meth:`add` or :meth:`update`: ``die``, made with
        ``compile_unit.die`` (any tags and attributes; references to the unit's ``types``, to DIEs of entries added
        before, inside itself; location lists of ``builder.location_list``), its code ``[address, address + size)``
        (size 0: none, a type or an abstract instance) and its ``(offset, line)`` rows."""
        return self._dies.entry(die, name=name, address=address, size=size, line=line, rows=tuple(rows))

    @property
    def compile_unit(self) -> CompileUnit:
        """The unit of the ordinary model whose ``die`` makes the DIEs of :meth:`entry`."""
        return self._dies.cu

    @property
    def builder(self) -> DwarfBuilder:
        """Its builder (``builder.location_list(...)``)."""
        return self._dies.builder

    @property
    def types(self) -> dict[str, Die]:
        """The types of the unit's head (``long``, ``pointer``), for references from entries."""
        return self._dies.types

    def visible(self, section: str) -> bytes:
        """The section's bytes as readers see them (without the reserved room after the line program)."""
        return bytes(self.sections[section][:self.sizes[section]])

    def dwarf_sections(self, *, visible: bool = False) -> DwarfSections:
        """The sections for a whole-file writer: with their reserved room (what a container is built with, so that
        later updates fit in place), or ``visible`` only (what a from-scratch write of the same program holds)."""
        out = DwarfSections(ENCODING)
        for name, data in self.sections.items():
            out.add(Section(name, bytearray(self.visible(name) if visible else data)))
        return out

    # -- layout ------------------------------------------------------------------------------------------------
    def _space(self, section: str) -> SlotSpace:
        return self._info_space if section == INFO else self._line_space if section == LINE else self._loc_space

    def _allocate(self, section: str, need: int) -> tuple[int, int]:
        space = self._space(section)
        slot = space.allocate(need)
        if slot is None:
            self._grow(section, space.slot_size(need) + MIN_FREE)
            slot = space.allocate(need)
            assert slot is not None
        offset, capacity = slot
        rest = space.next_free(offset)
        if rest is not None and rest[0] == offset + capacity:
            self._write_free_head(section, *rest)
        return slot

    def _release(self, section: str, slot: tuple[int, int]) -> None:
        offset, size = slot
        block_start, block_size = self._space(section).release(offset, size)
        if section != INFO:
            self._put_changed(section, offset, line_fill(size) if section == LINE else bytes(size))
            return
        rel = offset - block_start
        self._put_changed(INFO, offset, info_fill(block_size, rel, rel + size))
        if block_start != offset:
            self._put(INFO, block_start, info_fill(block_size, 0, min(_HEAD_OF_FREE_INFO, rel)))
        after = rel + size
        if after < block_size:  # the free block that followed: its head is now zeros inside ours
            self._put(INFO, offset + size, info_fill(block_size, after, min(block_size, after + _HEAD_OF_FREE_INFO)))

    def _grow(self, section: str, at_least: int) -> None:
        """The section outgrows its room: half as much again (or enough), and the container moves it."""
        space = self._space(section)
        data = self.sections[section]
        extra = align_up(max(at_least, (space.end - space.start) // 2), space.alignment)
        old_end = space.end
        start, size = space.grow(space.end + extra)
        if section == INFO:
            data[old_end:old_end] = bytes(extra)
            data[start:start + size] = info_fill(size)
        else:
            data += line_fill(extra) if section == LINE else bytes(extra)
            if section == LOC:
                self.sizes[LOC] = len(data)
        if section == INFO:
            data[0:4] = (len(data) - 4).to_bytes(4, "little")
            self.sizes[INFO] = len(data)
        self.bytes_written += len(data)
        self.target.replace(section, bytes(data))
        if section == LINE:
            self.target.resize(LINE, self.sizes[LINE])

    def _encode(self, fn: Function, at: int, lists_at: int) -> bytes:
        """The function's DIEs encoded at ``at`` (its location lists at ``lists_at``); names and abbreviations it
        brings are appended to their sections."""
        dies = self._dies.fragment(fn, at, lists_at, self._locate)
        self._sync_tables()
        return dies

    def _encode_again(self, placed: _Placed) -> None:
        """An entry whose references changed (an entry it refers into moved): the same size, in its slot."""
        dies = self._encode(placed.fn, placed.info[0], placed.loc[0])
        assert len(dies) <= placed.info[1], placed.fn.name
        self._put_changed(INFO, placed.info[0], dies + info_fill(placed.info[1] - len(dies)))

    def _locate(self, name: str) -> tuple[Function, int]:
        placed = self.functions.get(name)
        if placed is not None:
            return placed.fn, placed.info[0]
        if name in self._placing:
            return self._placing[name]
        raise DescriptionError(f"a DIE refers into entry {name!r}, which this file does not have")

    def _referrers(self, name: str) -> set[str]:
        """The entries whose DIEs refer into ``name`` (an index made at the first need, then kept)."""
        if self._refs is None:
            self._refs = {}
            for placed in self.functions.values():
                self._note_refs(None, placed.fn)
        return self._refs.get(name, set())

    def _note_refs(self, old: Function | None, new: Function | None) -> None:
        if self._refs is None:
            return
        for fn, keep in ((old, False), (new, True)):
            if fn is None or '"r":["' not in fn.dies:
                continue
            for target in outside_entries(loads(fn.dies)):
                referrers = self._refs.setdefault(target, set())
                if keep:
                    referrers.add(fn.name)
                else:
                    referrers.discard(fn.name)

    def _sync_tables(self) -> None:
        """``.debug_str`` and ``.debug_abbrev`` catch up with the shared tables (both only ever grow at the end)."""
        table = self._dies.strings
        if len(table) != self.sizes[STR]:
            self._append(STR, table.bytes_from(self.sizes[STR]))
        abbrevs = self._dies.builder.tables.abbrevs
        if len(abbrevs) != self._abbrev_count:
            self._abbrev_count = len(abbrevs)
            data = abbrevs.encode()
            end = self.sizes[ABBREV] - 1  # the table's terminating 0 is written over
            self._append(ABBREV, data[end:], at=end)

    def _append(self, section: str, data: bytes, at: int | None = None) -> None:
        """``data`` at the section's visible end (or ``at``), growing its room by half if it outgrows it."""
        end = self.sizes[section] if at is None else at
        room = self.sections[section]
        if end + len(data) > len(room):  # outgrown: half as much room again, and the container moves the section
            room += bytes(max(len(data), len(room) // 2))
            self.bytes_written += len(room)
            self.target.replace(section, bytes(room))
        self._put(section, end, data)
        self.sizes[section] = end + len(data)
        self.target.resize(section, self.sizes[section])

    def _allocate_entry(self) -> int:
        if not self._free_entries:  # every index is used: half as many again, both sections move
            capacity = len(self.sections[RANGES]) // ENTRY - 1
            extra = max(16, capacity // 2)
            self._free_entries.extend(range(capacity, capacity + extra))  # all above the heap's: still a heap
            for name, free, make in ((RANGES, FREE_RANGE, ranges_section), (ARANGES, FREE_ARANGE, aranges_section)):
                data = self.sections[name]
                first = len(data) - ENTRY * (capacity + 1)
                entries = [bytes(data[first + ENTRY * i:first + ENTRY * (i + 1)]) for i in range(capacity)]
                data[:] = make(entries + [free] * extra)
                self.sizes[name] = len(data)
                self.bytes_written += len(data)
                self.target.replace(name, bytes(data))
        return heapq.heappop(self._free_entries)

    def _put_entries(self, entry: int, fn: Function) -> None:
        self._put(RANGES, ENTRY * entry, range_entry(fn))
        self._put(ARANGES, ARANGES_HEAD + ENTRY * entry, arange_entry(fn))

    def _sync_line_end(self, quiet: bool = False) -> None:
        """The line program (unit and section) ends with the last used slot."""
        space = self._line_space
        last = space.last_free()
        end = last[0] if last is not None and sum(last) == space.end else space.end
        if end != self.sizes[LINE]:
            self.sizes[LINE] = end
            self._put(LINE, 0, (end - 4).to_bytes(4, "little"), quiet)
            if not quiet:
                self.target.resize(LINE, end)

    def _write_free_head(self, section: str, offset: int, size: int, quiet: bool = False) -> None:
        if section == INFO and size:
            self._put(INFO, offset, info_fill(size, 0, min(size, _HEAD_OF_FREE_INFO)), quiet)

    def _store(self, fn: Function, info: tuple[int, int], line: tuple[int, int], dies: bytes, entry: int,
               loc: tuple[int, int], lists: bytes, quiet: bool = False) -> None:
        seq = line_sequence(self._program, fn, line[1])
        self._put_changed(INFO, info[0], dies + info_fill(info[1] - len(dies)), quiet)
        self._put_changed(LINE, line[0], seq.data, quiet)
        if loc[1]:
            self._put_changed(LOC, loc[0], lists + bytes(loc[1] - len(lists)), quiet)
        previous = self.functions.get(fn.name)
        self.functions[fn.name] = _Placed(fn, info, line, entry, loc)
        self._note_refs(previous.fn if previous else None, fn)
        if not quiet:
            self._index_change(previous.fn if previous else None, fn)

    def _put(self, section: str, offset: int, data: bytes, quiet: bool = False) -> None:
        self.sections[section][offset:offset + len(data)] = data
        if not quiet:
            self.bytes_written += len(data)
            self.target.write(section, offset, data)

    def _put_changed(self, section: str, offset: int, data: bytes, quiet: bool = False) -> None:
        """A slot's new bytes: only the part from the first to the last byte that differs from the file's goes to
        the target (slack and padding that stay zeros are not written again)."""
        old = bytes(self.sections[section][offset:offset + len(data)])
        if old == data:
            return
        first, last = _common_prefix(old, data), len(data) - _common_prefix(old[::-1], data[::-1])
        self._put(section, offset + first, data[first:last], quiet)

    # -- checks ------------------------------------------------------------------------------------------------
    def _get(self, name: str) -> _Placed:
        try:
            return self.functions[name]
        except KeyError:
            raise DescriptionError(f"no function {name!r}") from None

    def _check_apart(self, functions: list[Function]) -> None:
        """The functions lie in the arena and do not overlap each other."""
        for fn in functions:
            self._check_arena(fn)
        ordered = sorted(functions, key=lambda f: f.address)
        for before, after in pairwise(ordered):
            if before.address + before.size > after.address:
                raise DescriptionError(_overlap(after, before))

    def _check_arena(self, fn: Function) -> None:
        if fn.size and self.arena is not None \
                and not any(lo <= fn.address and fn.address + fn.size <= hi for lo, hi in self.arena):
            areas = ", ".join(f"[{lo:#x}, {hi:#x})" for lo, hi in self.arena) or "none"
            raise DescriptionError(f"function {fn.name!r}: [{fn.address:#x}, {fn.address + fn.size:#x}) lies outside "
                                   f"the code arena ({areas})")

    def _check_place(self, fn: Function, old: Function | None = None) -> None:
        """``fn`` (replacing ``old``) lies in the arena and overlaps no other function: a bisection in the functions
        sorted by address, made at the first check after construction or a snapshot (it is not stored)."""
        self._check_arena(fn)
        index = self._index()
        at = bisect.bisect_left(index, (fn.address, ""))
        for _, name in index[max(0, at - 2):at + 2]:
            other = self.functions[name].fn
            if name != fn.name and other.address < fn.address + fn.size and fn.address < other.address + other.size:
                raise DescriptionError(_overlap(fn, other))

    def _index(self) -> list[tuple[int, str]]:
        if self._by_address is None:
            self._by_address = sorted((p.fn.address, name) for name, p in self.functions.items())
        return self._by_address

    def _index_change(self, old: Function | None, new: Function | None) -> None:
        if self._by_address is None or (old is not None and new is not None and old.address == new.address):
            return  # (no index yet, or the same entry: a list of 100,000 is not shifted twice for nothing)
        if old is not None:
            del self._by_address[bisect.bisect_left(self._by_address, (old.address, old.name))]
        if new is not None:
            bisect.insort(self._by_address, (new.address, new.name))

    @staticmethod
    def _check_unique(functions: list[Function]) -> None:
        seen: set[str] = set()
        for fn in functions:
            if fn.name in seen:
                raise DescriptionError(f"function {fn.name!r} is given twice")
            seen.add(fn.name)
            IncrementalDwarf._check(fn)

    @staticmethod
    def _check(fn: Function) -> None:
        where = f"function {fn.name!r}"
        if not 0 <= fn.address <= fn.address + fn.size < 1 << 64 or not (0 < fn.size or fn.dies) or fn.size >= 1 << 32:
            raise DescriptionError(f"{where}: address {fn.address:#x} / size {fn.size} out of range")
        if not 0 < fn.line < 1 << 27:
            raise DescriptionError(f"{where}: first line {fn.line} out of range")
        last = -1
        for offset, line in fn.rows:
            if not last <= offset < fn.size or not 0 <= line < 1 << 27:
                raise DescriptionError(f"{where}: row ({offset}, {line}) is out of order or outside the function")
            last = offset
        IncrementalDwarf._check_scope(where, 0, fn.size, fn.variables, fn.blocks)
        if "\0" in fn.name:
            raise DescriptionError(f"{where}: a name cannot hold a NUL character")

    @staticmethod
    def _check_scope(where: str, low: int, high: int, variables: tuple[Variable, ...],
                     blocks: tuple[Block, ...]) -> None:
        """Variables of a function or block, and its blocks: inside ``[low, high)``, ascending, apart."""
        for v in variables:
            if v.type not in TYPES:
                raise DescriptionError(f"{where}, variable {v.name!r}: type {v.type!r} is not one of {TYPES}")
            if not 0 <= v.line < 1 << 27:
                raise DescriptionError(f"{where}, variable {v.name!r}: line {v.line} out of range")
            if "\0" in v.name:
                raise DescriptionError(f"{where}, variable {v.name!r}: a name cannot hold a NUL character")
        for block in blocks:
            inner = f"{where}, block [{block.low}, {block.high})"
            if not low <= block.low < block.high <= high:
                raise DescriptionError(f"{inner}: not a non-empty range inside [{low}, {high}) or after its sibling")
            IncrementalDwarf._check_scope(inner, block.low, block.high, block.variables, block.blocks)
            low = block.high


def _overlap(fn: Function, other: Function) -> str:
    return (f"function {fn.name!r}: [{fn.address:#x}, {fn.address + fn.size:#x}) overlaps function {other.name!r} "
            f"at [{other.address:#x}, {other.address + other.size:#x})")


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the longest common prefix of two different byte strings of the same length (binary search on
    slices: a few comparisons in C rather than a loop over bytes)."""
    low, high = 0, len(a)
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low
