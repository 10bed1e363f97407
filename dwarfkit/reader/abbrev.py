"""Abbreviation tables, each abbreviation compiled once into a specialised Python decoder.

Decoding a DIE is the hot loop of every reader. Instead of interpreting (attribute, form) pairs per DIE, each
distinct list of forms becomes one generated function that reads all attribute values with as few operations as
possible: runs of fixed-size forms are one ``struct.unpack_from``, LEB128 has an inline one-byte fast path.
Generated functions are cached by their form signature, so units that share abbreviation shapes share code.

A decoder takes ``(data, off)`` and returns ``(next_off, values)``. It raises IndexError, ValueError or
struct.error when the data ends early; callers turn those into one finding with section and offset.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Callable

from ..encoding import Leb128Error
from ..encoding import decode_sleb128 as sleb
from ..encoding import decode_uleb128 as uleb
from ..errors import ReadError
from . import forms
from .debugfile import ByteOrder
from .forms import F

Decoder = Callable[[bytes, int], tuple[int, tuple]]
_STRUCT = {1: "B", 2: "H", 4: "I", 8: "Q"}
_CACHE: dict[tuple, Decoder] = {}
# Bounds against hostile tables: an abbreviation cannot have more attributes than this.
MAX_ATTRIBUTES = 4096


@dataclass
class Abbrev:
    code: int
    tag: int
    has_children: bool
    attrs: list[tuple[int, int, int]]
    """(attribute, form, implicit constant) in order."""
    offset: int
    decode: Decoder | None = None


def parse_abbrev_table(data: bytes, offset: int) -> dict[int, Abbrev]:
    """The table at ``offset`` of ``.debug_abbrev``; raises ReadError naming the offset when it is corrupt."""
    table: dict[int, Abbrev] = {}
    off = offset
    try:
        while True:
            start = off
            code, off = uleb(data, off)
            if code == 0:
                return table
            tag, off = uleb(data, off)
            children = data[off]
            off += 1
            attrs = []
            while True:
                at, off = uleb(data, off)
                form, off = uleb(data, off)
                if at == 0 and form == 0:
                    break
                implicit = 0
                if form == F["implicit_const"]:
                    implicit, off = sleb(data, off)
                attrs.append((at, form, implicit))
                if len(attrs) > MAX_ATTRIBUTES:
                    raise ReadError(f".debug_abbrev[0x{start:x}]: abbreviation {code} has more than "
                                    f"{MAX_ATTRIBUTES} attributes")
            if code in table:
                raise ReadError(f".debug_abbrev[0x{start:x}]: abbreviation code {code} is defined twice")
            table[code] = Abbrev(code, tag, children != 0, attrs, start)
    except Leb128Error as e:
        raise ReadError(f".debug_abbrev[0x{e.pos:x}]: {e} (table at 0x{offset:x})") from None
    except IndexError:
        raise ReadError(f".debug_abbrev[0x{off:x}]: table at 0x{offset:x} runs past the end of the section "
                        f"(0x{len(data):x} bytes)") from None


COMPILE_AFTER = 16
"""DIEs of one shape decoded form by form before the shape gets its own decoder: compiling one costs as much as
decoding a hundred DIEs, and most shapes of a large file are rare (libpython3.11: 600 of its 960 shapes have fewer
than 16 DIEs)."""
_USES: dict[tuple, int] = {}
_FORM_BY_FORM: dict[tuple, Decoder] = {}


def compile_abbrev(ab: Abbrev, address_size: int, offset_size: int, version: int, byteorder: ByteOrder) -> Decoder:
    """The abbreviation's decoder, made on first use: a hostile table of many unused shapes costs nothing. A rare
    shape is decoded form by form until it has been seen COMPILE_AFTER times."""
    if ab.decode is not None:
        return ab.decode
    form_list, implicits = [f for _a, f, _i in ab.attrs], [i for _a, _f, i in ab.attrs]
    key = _key(form_list, implicits, address_size, offset_size, version, byteorder)
    fn = _CACHE.get(key)
    if fn is None:
        uses = _USES[key] = _USES.get(key, 0) + 1
        if uses < COMPILE_AFTER and len(form_list) > 1:
            slow = _FORM_BY_FORM.get(key)
            if slow is None:
                slow = _FORM_BY_FORM[key] = _form_by_form(form_list, implicits, address_size, offset_size, version,
                                                          byteorder)
            return slow
        fn = _CACHE[key] = _generate(form_list, implicits, address_size, offset_size, version, byteorder)
    ab.decode = fn
    return fn


def decoder(form_list: list[int], implicits: list[int], address_size: int, offset_size: int, version: int,
            byteorder: ByteOrder) -> Decoder:
    key = _key(form_list, implicits, address_size, offset_size, version, byteorder)
    fn = _CACHE.get(key)
    if fn is None:
        fn = _CACHE[key] = _generate(form_list, implicits, address_size, offset_size, version, byteorder)
    return fn


def _key(form_list: list[int], implicits: list[int], address_size: int, offset_size: int, version: int,
         byteorder: ByteOrder) -> tuple:
    return (tuple(form_list), tuple(i for f, i in zip(form_list, implicits, strict=True) if f == F["implicit_const"]),
            address_size, offset_size, version, byteorder)


def _form_by_form(form_list: list[int], implicits: list[int], address_size: int, offset_size: int, version: int,
                  byteorder: ByteOrder) -> Decoder:
    """A decoder that runs the one-form decoders in turn (each compiled once: a file uses a few dozen forms)."""
    steps: list[Decoder | int] = [
        implicit if form == F["implicit_const"] else 1 if form == F["flag_present"] else
        decoder([form], [0], address_size, offset_size, version, byteorder)
        for form, implicit in zip(form_list, implicits, strict=True)]

    def decode(data: bytes, off: int) -> tuple[int, tuple]:
        values = []
        for step in steps:
            if isinstance(step, int):   # a value the abbreviation holds
                values.append(step)
            else:
                off, (value,) = step(data, off)
                values.append(value)
        return off, tuple(values)
    return decode


def _generate(form_list: list[int], implicits: list[int], address_size: int, offset_size: int, version: int,
              byteorder: ByteOrder) -> Decoder:
    e = "<" if byteorder == "little" else ">"
    lines = ["def decode(data, off):"]
    names = []
    run: list[tuple[str, int]] = []  # pending fixed-size fields: (variable, size)

    def flush() -> None:
        if not run:
            return
        fmt = e + "".join(_STRUCT[size] for _v, size in run)
        total = sum(size for _v, size in run)
        targets = ", ".join(v for v, _s in run) + ("," if len(run) == 1 else "")
        lines.append(f"    {targets} = unpack_from({fmt!r}, data, off); off += {total}")
        run.clear()

    for i, (form, implicit) in enumerate(zip(form_list, implicits, strict=True)):
        v = f"v{i}"
        names.append(v)
        size = forms.fixed_size(form, address_size, offset_size, version)
        if form == F["flag_present"]:
            lines.append(f"    {v} = 1")
        elif form == F["implicit_const"]:
            lines.append(f"    {v} = {implicit!r}")
        elif size in _STRUCT:
            run.append((v, size))
            continue
        else:
            flush()
            if size is not None:  # 3 and 16 bytes
                if size == 16:
                    lines.append(f"    {v} = data[off:off + 16]")
                else:
                    lines.append(f"    {v} = int.from_bytes(data[off:off + {size}], {byteorder!r})")
                lines.append(f"    if len(data) < off + {size}: raise IndexError")
                lines.append(f"    off += {size}")
            elif form in forms.ULEB:
                lines.append(f"    {v} = data[off]; off += 1")
                lines.append(f"    if {v} & 0x80: {v}, off = uleb(data, off - 1)")
            elif form == F["sdata"]:
                lines.append(f"    {v}, off = sleb(data, off)")
            elif form == F["string"]:
                lines.append(f"    end = data.index(0, off); {v} = data[off:end]; off = end + 1")
            elif form in (F["exprloc"], F["block"]):
                lines.append("    n = data[off]; off += 1")
                lines.append("    if n & 0x80: n, off = uleb(data, off - 1)")
                lines.append(f"    {v} = data[off:off + n]; off += n")
                lines.append(f"    if len({v}) != n: raise IndexError")
            elif form in forms.BLOCKS:
                n = forms.BLOCKS[form]
                lines.append(f"    n = int.from_bytes(data[off:off + {n}], {byteorder!r}); off += {n}")
                lines.append(f"    {v} = data[off:off + n]; off += n")
                lines.append(f"    if len({v}) != n: raise IndexError")
            elif form == F["indirect"]:
                lines.append(f"    {v}, off = indirect(data, off)")
            else:
                lines.append(f"    raise UnknownForm({form})")
            continue
        flush()
    flush()
    lines.append(f"    return off, ({', '.join(names)}{',' if len(names) == 1 else ''})")
    env: dict[str, Any] = {"unpack_from": struct.unpack_from, "uleb": uleb, "sleb": sleb, "UnknownForm": UnknownForm,
           "indirect": _make_indirect(address_size, offset_size, version, byteorder)}
    exec(compile("\n".join(lines), f"<abbrev decoder {form_list}>", "exec"), env)  # noqa: S102 - our own code
    decode: Decoder = env["decode"]
    return decode


class UnknownForm(Exception):
    def __init__(self, form: int):
        super().__init__(f"unknown form 0x{form:x}")
        self.form = form


class Indirect(tuple):
    """The value of a DW_FORM_indirect attribute: (actual form, value)."""


def _make_indirect(address_size: int, offset_size: int, version: int,
                   byteorder: ByteOrder) -> Callable[[bytes, int], tuple[Indirect, int]]:
    def indirect(data: bytes, off: int) -> tuple[Indirect, int]:
        form, off = uleb(data, off)
        if form in (F["indirect"], F["implicit_const"]):
            raise UnknownForm(form)
        off, (value,) = decoder([form], [0], address_size, offset_size, version, byteorder)(data, off)
        return Indirect((form, value)), off
    return indirect
