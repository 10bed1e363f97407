"""The writer's state between processes: ``<file>.snapshot``, written by ``close`` and read by the next ``open``.

A snapshot is a cache. What the file holds is defined by the checkpoint and the journal (journal.py); a snapshot is
used only if it continues exactly that checkpoint and that journal, and if the output file's debug sections are, byte
for byte, the ones it describes. Otherwise :func:`load` raises ContainerError and ``open`` replays the journal. Nothing
in it is executed: it decodes into plain values and the dataclasses of model.py, writer.py and space.py only, and the
result is checked like any untrusted input (:func:`check_layout`) before the writer may write where it says.

Layout, little-endian::

    b"DWKSNAP\\0" | u32 format version | u64 payload length | sha256 of the payload | payload
    payload = u32 header length | header (JSON) | blobs (packed arrays)

The header holds ``checkpoint`` and ``journal`` (sha256 of ``PATH.state.json`` and ``PATH.journal`` at close),
``done`` (finished operations), ``sections`` (name -> [room, sha256 of its bytes]: the bytes are read back from the
output file, not stored), ``blobs`` ([typecode, offset, length] of each array) and ``state``: each attribute of the
:class:`IncrementalDwarf` but :data:`NOT_STATE`, as a column of one value. A column stores a list of values of one
type by shape, so that the fields of 100,000 functions are a few packed arrays:

    ["empty"] no values                        ["none"] every value is None
    ["opt", mask, column] None where mask is 0  ["int", blob or JSON list]  ["bool", blob]
    ["str", distinct strings, codes blob]      ["tuple", [column per position]] (tuples of one length)
    ["seq", "tuple"|"list", counts blob, column of all items]
    ["dict", counts blob, keys column, values column]
    ["obj", class name, field names, [column per field]]

Reading checks each ``obj`` column against the class's current fields and their type hints, so a snapshot from a
writer whose state had other fields is refused (and the journal replayed): new fields and classes need no code here.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import struct
import sys
import types
import typing
from array import array
from itertools import chain
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..errors import ContainerError
from ..gcpause import paused_gc
from ..output import write_atomically
from . import model, space, writer
from .fragments import ARANGES_HEAD, ENTRY
from .journal import journal_path, snapshot_path, state_path
from .space import SlotSpace
from .writer import ARANGES, RANGES, IncrementalDwarf, _Placed

MAGIC = b"DWKSNAP\0"
VERSION = 1
_HEAD = struct.Struct("<8sIQ32s")
_HEADER_LENGTH = struct.Struct("<I")
_INT_CODES = ("BHIQ", "bhiq")  # the narrowest that holds a column's values is used
_MAX_DEPTH = 64


NOT_STATE = frozenset({"target", "sections", "_program", "_dies", "_abbrev_count", "arena", "_by_address", "_refs",
                       "_placing"})
"""Attributes not stored: the session's target, the sections (read back from the file), the code arena (the
container's, set by the session), the shared tables and the unit's DIEs (made again from the sections by
``IncrementalDwarf.reload``) and what the constructor derives from the unit alone or makes when first needed
(taken from a writer made for the unit: the index of references between entries, the entries being laid out)."""

_CLASSES: dict[str, type] = {cls.__name__: cls for module in (model, writer, space) for cls in vars(module).values()
                             if isinstance(cls, type) and dataclasses.is_dataclass(cls)
                             and cls.__module__ == module.__name__}
"""The only classes a snapshot can make, by name."""


class _Unsupported(TypeError):
    """The writer's state holds a value this format has no column for (a programming error, raised by ``save``)."""


class _Malformed(ValueError):
    """What is wrong with a snapshot (``load`` turns it into a ContainerError naming the file)."""


def digest(data: bytes | bytearray) -> str:
    return hashlib.sha256(data).hexdigest()


# -- writing -------------------------------------------------------------------------------------------------------
def save(path: Path, dwarf: IncrementalDwarf, done: int) -> None:
    """The writer's state after ``done`` journalled operations, tied to the checkpoint and journal now on disk."""
    blobs = _Blobs()
    with paused_gc():
        state = {name: _encode([value], blobs) for name, value in sorted(vars(dwarf).items())
                 if name not in NOT_STATE}
    header = {"checkpoint": digest(state_path(path).read_bytes()), "journal": digest(journal_path(path).read_bytes()),
              "done": done,
              "sections": {name: [len(data), digest(data)] for name, data in dwarf.sections.items()},
              "blobs": blobs.table, "state": state}
    text = json.dumps(header, separators=(",", ":")).encode()
    payload = b"".join([_HEADER_LENGTH.pack(len(text)), text, *blobs.parts])
    write_atomically(snapshot_path(path), _HEAD.pack(MAGIC, VERSION, len(payload), hashlib.sha256(payload).digest())
                     + payload)


class _Blobs:
    def __init__(self) -> None:
        self.table: list[list[Any]] = []
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, values: array) -> int:
        if sys.byteorder == "big":
            values.byteswap()
        data = values.tobytes()
        self.table.append([values.typecode, self.size, len(data)])
        self.parts.append(data)
        self.size += len(data)
        return len(self.table) - 1

    def ints(self, values: list[int]) -> int | list[int]:
        """An array of the narrowest type that holds them, or the list itself (for JSON) if none does."""
        lo, hi = (min(values), max(values)) if values else (0, 0)
        for code in _INT_CODES[lo < 0]:
            bits = 8 * array(code).itemsize
            if (lo >= 0 and hi >> bits == 0) or (lo >= -(1 << (bits - 1)) and hi < 1 << (bits - 1)):
                return self.add(array(code, values))
        return values


def _encode(values: list[Any], blobs: _Blobs) -> list[Any]:
    if not values:
        return ["empty"]
    kinds = set(map(type, values))
    if len(kinds) > 1:
        present = [v for v in values if v is not None]
        if type(None) not in kinds or len(kinds) > 2:
            raise _Unsupported(f"a column mixes {sorted(k.__name__ for k in kinds)}")
        return ["opt", blobs.add(array("B", [v is not None for v in values])), _encode(present, blobs)]
    kind = kinds.pop()
    if kind is type(None):
        return ["none"]
    if kind is bool:
        return ["bool", blobs.add(array("B", values))]
    if kind is int:
        return ["int", blobs.ints(values)]
    if kind is str:
        distinct = list(dict.fromkeys(values))
        index = {s: i for i, s in enumerate(distinct)}
        return ["str", distinct, blobs.ints(list(map(index.__getitem__, values)))]
    if kind is tuple and len(set(map(len, values))) == 1:
        return ["tuple", [_encode(list(map(itemgetter(i), values)), blobs) for i in range(len(values[0]))]]
    if kind is tuple or kind is list:
        return ["seq", kind.__name__, blobs.ints(list(map(len, values))),
                _encode(list(chain.from_iterable(values)), blobs)]
    if kind is dict:
        return ["dict", blobs.ints(list(map(len, values))), _encode(list(chain.from_iterable(values)), blobs),
                _encode(list(chain.from_iterable(map(dict.values, values))), blobs)]
    if _CLASSES.get(kind.__name__) is kind:
        names = [f.name for f in dataclasses.fields(kind)]
        return ["obj", kind.__name__, names, [_encode(list(map(attrgetter(n), values)), blobs) for n in names]]
    raise _Unsupported(f"no snapshot column for {kind.__module__}.{kind.__qualname__}")


# -- reading -------------------------------------------------------------------------------------------------------
def load(path: Path, unit: model.UnitInfo, checkpoint: str, journal: str, done: int,
         read_sections: Callable[[dict[str, int]], dict[str, tuple[int, bytes]]]) -> IncrementalDwarf:
    """The writer's state from the snapshot, if it continues ``checkpoint`` and ``journal`` (their sha256) after
    ``done`` operations and the output file holds the sections it describes. ``read_sections(rooms)`` gives each
    debug section's visible size and its first ``rooms[name]`` bytes.

    Raises ContainerError naming the snapshot and what is wrong with it.
    """
    file = snapshot_path(path)
    try:
        data = file.read_bytes()
    except OSError as e:
        raise ContainerError(f"{file}: cannot read the snapshot ({e.strerror or e})") from None
    try:
        header, blobs = _open(data)
        if header.get("checkpoint") != checkpoint:
            raise _Malformed("it belongs to another checkpoint (another file, or one written since)")
        if header.get("journal") != journal or header.get("done") != done:
            raise _Malformed("it is stale: the journal has changed since it was written")
        with paused_gc():
            dwarf = _restore(header, blobs, unit)
        rooms = {name: room for name, (room, _) in header["sections"].items()}
        if any(type(room) is not int or room < 0 for room in rooms.values()):
            raise _Malformed("a section's room is not a size")
        try:
            found = read_sections(rooms)
        except ContainerError as e:
            raise _Malformed(f"its rooms do not fit the output file ({e})") from None
        for name, (room, expected) in header["sections"].items():
            visible, data = found.get(name, (-1, b""))
            if len(data) != room or digest(data) != expected or visible != dwarf.sizes[name]:
                raise _Malformed(f"the output file's {name} is not the one it describes")
            dwarf.sections[name] = bytearray(data)
        check_layout(dwarf)
        dwarf.reload()
    except _Malformed as e:
        raise ContainerError(f"{file}: unusable snapshot: {e}") from None
    except (KeyError, IndexError, TypeError, ValueError, OverflowError, RecursionError, UnicodeError) as e:
        raise ContainerError(f"{file}: malformed snapshot ({type(e).__name__}: {e})") from None
    return dwarf


def _open(data: bytes) -> tuple[dict[str, Any], _Reader]:
    if len(data) < _HEAD.size:
        raise _Malformed("truncated")
    magic, version, length, checksum = _HEAD.unpack_from(data)
    if magic != MAGIC:
        raise _Malformed("not a dwarfkit snapshot (bad magic)")
    if version != VERSION:
        raise _Malformed(f"format version {version}, this dwarfkit reads {VERSION}")
    payload = memoryview(data)[_HEAD.size:]
    if len(payload) != length:
        raise _Malformed(f"{len(payload)} bytes of payload, the header says {length}")
    if hashlib.sha256(payload).digest() != checksum:
        raise _Malformed("checksum mismatch")
    size, = _HEADER_LENGTH.unpack_from(payload)
    header = json.loads(bytes(payload[4:4 + size]))
    shapes = {"sections": dict, "state": dict, "blobs": list}
    if not isinstance(header, dict) or not all(isinstance(header.get(k), t) for k, t in shapes.items()):
        raise _Malformed("the header is not an object with sections, state and blobs")
    return header, _Reader(header["blobs"], payload[4 + size:])


def _restore(header: dict[str, Any], blobs: _Reader, unit: model.UnitInfo) -> IncrementalDwarf:
    """A writer made for ``unit``, with every stored attribute replaced by the snapshot's."""
    dwarf = IncrementalDwarf(unit)
    expected = {name: value for name, value in vars(dwarf).items() if name not in NOT_STATE}
    state = header["state"]
    if set(state) != set(expected):
        raise _Malformed(f"its writer state has fields {sorted(state)}, this writer {sorted(expected)}")
    if set(header["sections"]) != set(dwarf.sections):
        raise _Malformed(f"it has sections {sorted(header['sections'])}, this writer {sorted(dwarf.sections)}")
    for name, node in state.items():
        hint = _hint_of(expected[name])
        if not _conforms(node, hint, 0):
            shown = hint.__name__ if isinstance(hint, type) else str(hint)
            raise _Malformed(f"its {name} does not fit this writer's {shown} (other fields, classes or types)")
        value, = _decode(node, 1, blobs, 0)
        setattr(dwarf, name, value)
    if dwarf.unit != unit:
        raise _Malformed("it describes another unit")
    return dwarf


def _hint_of(value: Any) -> Any:
    """The type of a fresh writer's attribute, with the item types of a non-empty dict or list (None: anything)."""
    if value is None:
        return Any
    if type(value) is dict and value:
        key, item = next(iter(value.items()))
        return dict[type(key), type(item)]  # type: ignore[misc]
    if type(value) is list and value:
        return list[type(value[0])]  # type: ignore[misc]
    return type(value)


class _Reader:
    def __init__(self, table: list[Any], data: memoryview) -> None:
        self.table, self.data = table, data

    def array(self, index: Any, count: int, codes: str = "BHIQbhiq") -> array:
        code, offset, length = self.table[index]
        if not isinstance(code, str) or code not in codes or not 0 <= offset <= offset + length <= len(self.data):
            raise _Malformed(f"blob {index} is out of place")
        values = array(code)
        if length != count * values.itemsize:
            raise _Malformed(f"blob {index} holds {length} bytes for {count} values")
        values.frombytes(self.data[offset:offset + length])
        if sys.byteorder == "big":
            values.byteswap()
        return values

    def ints(self, ref: Any, count: int) -> list[int]:
        if isinstance(ref, list):
            if len(ref) != count or any(type(v) is not int for v in ref):
                raise _Malformed("a list of integers does not hold integers")
            return ref
        return self.array(ref, count).tolist()


def _decode(node: list[Any], n: int, blobs: _Reader, depth: int) -> list[Any]:
    """``n`` values from a column whose shape :func:`_conforms` accepted."""
    kind = node[0]
    if kind == "empty":
        if n:
            raise _Malformed("an empty column where values are due")
        return []
    if kind == "none":
        return [None] * n
    if kind == "opt":
        mask = blobs.array(node[1], n, "B").tolist()
        if any(m > 1 for m in mask):
            raise _Malformed("a mask holds other values than 0 and 1")
        present = iter(_decode(node[2], sum(mask), blobs, depth + 1))
        return [next(present) if m else None for m in mask]
    if kind == "bool":
        flags = blobs.array(node[1], n, "B").tolist()
        if any(f > 1 for f in flags):
            raise _Malformed("a flag is neither 0 nor 1")
        return [f == 1 for f in flags]
    if kind == "int":
        return blobs.ints(node[1], n)
    if kind == "str":
        distinct, codes = node[1], blobs.ints(node[2], n)
        if any(type(s) is not str for s in distinct) or (codes and not 0 <= min(codes) <= max(codes) < len(distinct)):
            raise _Malformed("a string column refers outside its strings")
        return list(map(distinct.__getitem__, codes))
    if kind == "tuple":
        if not node[1]:
            return [()] * n
        return list(zip(*(_decode(column, n, blobs, depth + 1) for column in node[1]), strict=False))
    if kind == "seq":
        counts = blobs.ints(node[2], n)
        items = _decode(node[3], _total(counts), blobs, depth + 1)
        container = tuple if node[1] == "tuple" else list
        return [container(part) for part in _split(items, counts)]
    if kind == "dict":
        counts = blobs.ints(node[1], n)
        keys = _decode(node[2], _total(counts), blobs, depth + 1)
        values = _decode(node[3], len(keys), blobs, depth + 1)
        out = [dict(zip(k, v, strict=False))
               for k, v in zip(_split(keys, counts), _split(values, counts), strict=False)]
        if any(len(d) != c for d, c in zip(out, counts, strict=False)):
            raise _Malformed("a dict repeats a key")
        return out
    # "obj": the class and its field names were checked by _conforms. The instance gets its fields the way copy and
    # pickle give them (no __init__: fields with init=False, frozen classes), and none of these has a __post_init__.
    cls, names = _CLASSES[node[1]], node[2]
    columns = [_decode(column, n, blobs, depth + 1) for column in node[3]]
    new = object.__new__
    out = []
    rows: Iterable[tuple[Any, ...]] = zip(*columns, strict=False) if names else [()] * n
    for row in rows:
        instance: Any = new(cls)
        instance.__dict__.update(zip(names, row, strict=False))
        out.append(instance)
    return out


def _total(counts: list[int]) -> int:
    if counts and min(counts) < 0:
        raise _Malformed("a negative count")
    return sum(counts)


def _split(items: list[Any], counts: list[int]) -> Iterator[list[Any]]:
    at = 0
    for count in counts:
        yield items[at:at + count]
        at += count


def _conforms(node: Any, hint: Any, depth: int) -> bool:
    """Whether a column's shape can hold values of type ``hint`` (a type hint of a dataclass field)."""
    if depth > _MAX_DEPTH or not isinstance(node, list) or not node:
        return False
    kind = node[0]
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    nullable = type(None) in options
    options = tuple(o for o in options if o is not type(None))
    if kind == "empty":
        return len(node) == 1
    if kind == "none":
        return len(node) == 1 and nullable
    if kind == "opt":
        return len(node) == 3 and nullable and isinstance(node[2], list) and node[2][:1] != ["none"] \
            and any(_conforms(node[2], o, depth + 1) for o in options)
    return any(_conforms_to(node, o, depth) for o in options)


def _conforms_to(node: list[Any], hint: Any, depth: int) -> bool:
    """``hint`` is Any for the items of a bare ``dict``/``list``/``tuple``: any shape, the classes still checked."""
    kind, origin, args = node[0], typing.get_origin(hint) or hint, typing.get_args(hint)
    if kind in ("int", "bool"):
        return len(node) == 2 and hint in ({"int": int, "bool": bool}[kind], Any)
    if kind == "str":
        return len(node) == 3 and hint in (str, Any) and isinstance(node[1], list)
    if kind == "tuple":
        if len(node) != 2 or origin not in (tuple, Any) or not isinstance(node[1], list):
            return False
        if not args or args[1:] == (Ellipsis,):
            return all(_conforms(c, args[0] if args else Any, depth + 1) for c in node[1])
        return len(args) == len(node[1]) and all(_conforms(c, a, depth + 1) for c, a in zip(node[1], args, strict=True))
    if kind == "seq":
        if len(node) != 4 or node[1] not in ("tuple", "list"):
            return False
        if origin not in ({"tuple": tuple, "list": list}[node[1]], Any):
            return False
        if origin is tuple and args and args[1:] != (Ellipsis,):
            return False  # a fixed-length tuple stored with lengths that vary
        return _conforms(node[3], args[0] if args else Any, depth + 1)
    if kind == "dict":
        return len(node) == 4 and origin in (dict, Any) and _conforms(node[2], args[0] if args else Any, depth + 1) \
            and _conforms(node[3], args[1] if args else Any, depth + 1)
    if kind == "obj":
        cls = _CLASSES.get(node[1]) if len(node) == 4 and isinstance(node[1], str) else None
        if cls is None or (hint is not Any and hint is not cls):
            return False
        fields = dataclasses.fields(cls)
        if node[2] != [f.name for f in fields] or not isinstance(node[3], list) or len(node[3]) != len(fields):
            return False
        try:
            hints = typing.get_type_hints(cls)
        except (NameError, TypeError):  # a hint only a type checker can resolve: no column can be checked against it
            return False
        return all(_conforms(c, hints[f.name], depth + 1) for c, f in zip(node[3], fields, strict=False))
    return False


# -- what a state must satisfy before the writer writes where it says -----------------------------------------------
def check_layout(dwarf: IncrementalDwarf) -> None:
    """Raises _Malformed unless each function is filed under its name, slots and free blocks tile each SlotSpace
    exactly inside its section and the range indices are what the sections hold (the string and abbreviation
    tables are made from the sections by ``reload``): then no operation writes elsewhere than the writer would
    have."""
    sections = dwarf.sections
    if set(dwarf.sizes) != set(sections) or any(not 0 <= dwarf.sizes[n] <= len(d) for n, d in sections.items()):
        raise _Malformed("a section's visible size lies outside the section")
    spaces = {section: dwarf._space(section) for section in set(_Placed.SLOTS.values())}
    described = {id(s) for s in spaces.values()}
    if any(isinstance(v, SlotSpace) and id(v) not in described for v in vars(dwarf).values()):
        raise _Malformed("the writer has a free list that no slot field of _Placed.SLOTS describes")
    # Each function's model is checked by the writer whenever bytes are made from it (update, move, set_line,
    # rebuild), so here only where it is filed and where its slots and fields are.
    for name, one in dwarf.functions.items():
        if type(one) is not _Placed or one.fn.name != name:
            raise _Malformed(f"function {name!r} is filed under another name")
    placed = list(dwarf.functions.values())
    used: dict[str, list[tuple[int, int]]] = {section: [] for section in spaces}
    for slot, section in _Placed.SLOTS.items():
        used[section] += [slot for slot in map(attrgetter(slot), placed) if slot != (0, 0)]  # (0, 0): no slot
    for section, room in spaces.items():
        if room.alignment < 1 or not 0 <= room.start <= room.end <= len(sections[section]) \
                or room._offsets != sorted(room._sizes):
            raise _Malformed(f"the free list of {section} is out of order or outside the section")
        at = room.start
        for offset, size in sorted(used[section] + room.free_blocks):
            if offset != at or size <= 0 or (offset - room.start) % room.alignment or size % room.alignment:
                raise _Malformed(f"{section}: slots and free blocks overlap or leave a gap at offset {at:#x}")
            at += size
        if at != room.end:
            raise _Malformed(f"{section}: slots and free blocks end at {at:#x}, the room at {room.end:#x}")

    _check_entries(dwarf, placed)


def _check_entries(dwarf: IncrementalDwarf, placed: list[_Placed]) -> None:
    """The functions' range indices and the free ones (a heap) are each index of the tables once."""
    free = dwarf._free_entries
    count = len(dwarf.sections[RANGES]) // ENTRY - 1
    if len(dwarf.sections[RANGES]) != ENTRY * (count + 1) \
            or len(dwarf.sections[ARANGES]) != ARANGES_HEAD + ENTRY * (count + 1):
        raise _Malformed(f"{RANGES} and {ARANGES} do not hold the same number of entries")
    if sorted(chain(map(attrgetter("entry"), placed), free)) != list(range(count)):
        raise _Malformed(f"the functions' and the free range indices are not each of 0..{count - 1} once")
    if any(free[(i - 1) // 2] > free[i] for i in range(1, len(free))):
        raise _Malformed("the free range indices are not a heap")
