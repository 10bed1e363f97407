"""``.debug_names`` (DWARF 5 name index) in llvm-dwarfdump-14's layout: per name index its header, unit lists,
abbreviations (in the order llvm's hash set keeps them), and per hash bucket the names with their entries.

``read_names(data, order, debug_str) -> [NameIndex]`` reads, ``dump_names`` prints. The abbreviation order is that
of llvm's DenseSet (hash code*37, quadratic probing); clang-14-built objects in the corpus are the test input.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TextIO

from ..encoding import decode_uleb128 as uleb
from . import forms, names
from .debugfile import ByteOrder
from .errors_text import where
from .units import cstring

IDX = {1: "DW_IDX_compile_unit", 2: "DW_IDX_type_unit", 3: "DW_IDX_die_offset", 4: "DW_IDX_parent",
       5: "DW_IDX_type_hash", 0x2000: "DW_IDX_GNU_internal", 0x2001: "DW_IDX_GNU_external"}
_FIXED = {0x0b: 1, 0x05: 2, 0x06: 4, 0x07: 8, 0x11: 1, 0x12: 2, 0x13: 4, 0x14: 8, 0x19: 0}  # data*, ref*, flag_present
_UDATA, _SDATA, _REF_UDATA, _FLAG_PRESENT = 0x0f, 0x0d, 0x15, 0x19
MAX_ENTRIES = 1 << 16  # per name; entries are also bounded by the section's bytes


class _Bad(Exception):
    pass


@dataclass
class Abbrev:
    code: int
    tag: int
    attrs: list[tuple[int, int]]


@dataclass
class NameIndex:
    offset: int
    header: dict
    cus: list[int] = field(default_factory=list)
    local_tus: list[int] = field(default_factory=list)
    foreign_tus: list[int] = field(default_factory=list)
    abbrevs: dict[int, Abbrev] = field(default_factory=dict)
    buckets: list[int] = field(default_factory=list)
    # (index, hash or None, string offset, string, [(entry offset, abbrev, [(idx, form, value)])])
    names: list[tuple] = field(default_factory=list)
    entry_problems: dict[int, str] = field(default_factory=dict)  # name index -> problem after its entries


def read_names(data: bytes, order: ByteOrder, strings: bytes) -> tuple[list[NameIndex], list[str]]:
    """Every name index in the section, and the problems found (reading stops at a damaged index)."""
    out: list[NameIndex] = []
    problems: list[str] = []
    off = 0
    while off < len(data):
        try:
            index, off = _read_index(data, off, order, strings)
        except _Bad as e:
            problems.append(where("debug_names", e.args[0], e.args[1]))
            break
        out.append(index)
        problems += [where("debug_names", index.offset, p) for p in index.entry_problems.values()]
    return out, problems


def _int(data: bytes, off: int, size: int, order: ByteOrder, what: str) -> int:
    if off + size > len(data):
        raise _Bad(off, f"{what} runs past the end of the section (0x{len(data):x})")
    return int.from_bytes(data[off:off + size], order)


def _uleb(data: bytes, off: int, end: int, what: str) -> tuple[int, int]:
    try:
        v, new = uleb(data, off)
    except IndexError:
        new = len(data) + 1
    if new > end:
        raise _Bad(off, f"{what} runs past the end of its name index (0x{end:x})")
    return v, new


def _read_index(data: bytes, start: int, order: ByteOrder, strings: bytes) -> tuple[NameIndex, int]:
    length = _int(data, start, 4, order, "name index length")
    off, osz = start + 4, 4
    if length == 0xFFFFFFFF:
        length, off, osz = _int(data, off, 8, order, "name index length"), off + 8, 8
    end = off + length
    if end > len(data) or length < 36:
        raise _Bad(start, f"name index length 0x{length:x} runs past the end of the section (0x{len(data):x})")
    fields = [_int(data, off + k, n, order, "header") for k, n in ((0, 2), (2, 2), (4, 4), (8, 4), (12, 4),
                                                                     (16, 4), (20, 4), (24, 4), (28, 4))]
    version, _pad, ncu, nltu, nftu, nbuckets, nnames, abbrev_size, aug_size = fields
    off += 32
    aug = data[off:off + aug_size].decode("latin-1")
    off += aug_size
    header = {"length": length, "format": "DWARF64" if osz == 8 else "DWARF32", "version": version,
              "cu_count": ncu, "local_tu_count": nltu, "foreign_tu_count": nftu, "bucket_count": nbuckets,
              "name_count": nnames, "abbrev_table_size": abbrev_size, "augmentation": aug}
    need = (ncu + nltu) * osz + nftu * 8 + nbuckets * 4 + (nnames * 4 if nbuckets else 0) + 2 * nnames * osz
    if version != 5 or off + need + abbrev_size > end:
        raise _Bad(start, f"name index header is invalid (version {version}, {nnames} names, {nbuckets} buckets "
                          f"do not fit in length 0x{length:x})")
    index = NameIndex(start, header)
    index.cus = [_int(data, off + k * osz, osz, order, "unit") for k in range(ncu)]
    off += ncu * osz
    index.local_tus = [_int(data, off + k * osz, osz, order, "unit") for k in range(nltu)]
    off += nltu * osz
    index.foreign_tus = [_int(data, off + k * 8, 8, order, "signature") for k in range(nftu)]
    off += nftu * 8
    index.buckets = [_int(data, off + k * 4, 4, order, "bucket") for k in range(nbuckets)]
    hashes = off + nbuckets * 4
    str_offsets = hashes + (nnames * 4 if nbuckets else 0)
    entry_offsets = str_offsets + nnames * osz
    pos = entry_offsets + nnames * osz
    abbrev_end = pos + abbrev_size
    while True:
        code, pos = _uleb(data, pos, abbrev_end, "abbreviation")
        if code == 0:
            break
        tag, pos = _uleb(data, pos, abbrev_end, "abbreviation")
        attrs = []
        while True:
            idx, pos = _uleb(data, pos, abbrev_end, "abbreviation")
            form, pos = _uleb(data, pos, abbrev_end, "abbreviation")
            if idx == 0 and form == 0:
                break
            attrs.append((idx, form))
        index.abbrevs[code] = Abbrev(code, tag, attrs)
    entries_base = abbrev_end
    for i in range(1, nnames + 1):
        h = _int(data, hashes + (i - 1) * 4, 4, order, "hash") if nbuckets else None
        s = _int(data, str_offsets + (i - 1) * osz, osz, order, "string offset")
        e = entries_base + _int(data, entry_offsets + (i - 1) * osz, osz, order, "entry offset")
        entries = []
        try:
            for _ in range(MAX_ENTRIES):
                at = e
                code, e = _uleb(data, e, end, "entry")
                if code == 0:
                    break
                ab = index.abbrevs.get(code)
                if ab is None:
                    raise _Bad(at, f"entry uses abbreviation 0x{code:x}, which the index does not define")
                values = []
                for idx, form in ab.attrs:
                    if form in (_UDATA, _SDATA, _REF_UDATA):
                        v, e = _uleb(data, e, end, "entry")
                        if form == _SDATA and v >= 1 << 63:
                            v -= 1 << 64
                    elif form in _FIXED:
                        v = 1 if form == _FLAG_PRESENT else _int(data, e, _FIXED[form], order, "entry")
                        e += _FIXED[form]
                    else:
                        raise _Bad(at, f"entry uses {forms.form_name(form)}, which a name index cannot hold")
                    values.append((idx, form, v))
                entries.append((at, ab, values))
        except _Bad as bad:
            index.entry_problems[i] = f"name {i}: [0x{bad.args[0]:x}] {bad.args[1]}"
        index.names.append((i, h, s, cstring(strings, s) or "", entries))
    return index, end


# llvm-dwarfdump keeps abbreviations in a DenseSet keyed by code (hash code * 37, quadratic probing, grown at
# 3/4 full); it prints them in that table's bucket order.
def _dense_set_order(codes: list[int]) -> list[int]:
    size = 0
    table: list[int | None] = []
    for count, code in enumerate(codes):
        if (count + 1) * 4 >= size * 3:
            size = max(64, size * 2)
            old = [c for c in table if c is not None]
            table = [None] * size
            for c in old:
                _probe(table, c)
        _probe(table, code)
    return [c for c in table if c is not None]


def _probe(table: list[int | None], code: int) -> None:
    mask = len(table) - 1
    bucket, step = (code * 37) & 0xFFFFFFFF & mask, 1
    while table[bucket] is not None:
        if table[bucket] == code:
            return
        bucket = (bucket + step) & mask
        step += 1
    table[bucket] = code


def form_value(form: int, v: int) -> str:
    if form in (0x0b, 0x05, 0x06, 0x07):
        return f"0x{v:0{2 * _FIXED[form]}x}"
    if form == _UDATA or form == _SDATA:
        return str(v)
    if form == _FLAG_PRESENT:
        return "true"
    return f"0x{v:08x}"  # references: offsets in their unit


def dump_names(data: bytes, order: ByteOrder, strings: bytes, out: TextIO) -> list[str]:
    indices, problems = read_names(data, order, strings)
    w = out.write
    for index in indices:
        h = index.header
        w(f"Name Index @ 0x{index.offset:x} {{\n  Header {{\n    Length: 0x{h['length']:X}\n    Format: {h['format']}\n"
          f"    Version: {h['version']}\n    CU count: {h['cu_count']}\n    Local TU count: {h['local_tu_count']}\n"
          f"    Foreign TU count: {h['foreign_tu_count']}\n    Bucket count: {h['bucket_count']}\n"
          f"    Name count: {h['name_count']}\n    Abbreviations table size: 0x{h['abbrev_table_size']:X}\n"
          f"    Augmentation: '{h['augmentation']}'\n  }}\n")
        w("  Compilation Unit offsets [\n" + "".join(f"    CU[{k}]: 0x{o:08x}\n" for k, o in enumerate(index.cus))
          + "  ]\n")
        if index.local_tus:
            w("  Local Type Unit offsets [\n" + "".join(f"    LocalTU[{k}]: 0x{o:08x}\n"
                                                      for k, o in enumerate(index.local_tus)) + "  ]\n")
        if index.foreign_tus:
            w("  Foreign Type Unit signatures [\n" + "".join(f"    ForeignTU[{k}]: 0x{o:016x}\n"
                                                           for k, o in enumerate(index.foreign_tus)) + "  ]\n")
        w("  Abbreviations [\n")
        for code in _dense_set_order(list(index.abbrevs)):
            ab = index.abbrevs[code]
            w(f"    Abbreviation 0x{code:x} {{\n      Tag: {names.tag_name(ab.tag)}\n")
            for idx, form in ab.attrs:
                w(f"      {IDX.get(idx, f'DW_IDX_unknown_{idx:x}')}: {forms.form_name(form)}\n")
            w("    }\n")
        w("  ]\n")
        if h["bucket_count"]:
            for b, first in enumerate(index.buckets):
                w(f"  Bucket {b} [\n")
                if first == 0:
                    w("    EMPTY\n")
                elif first > h["name_count"]:
                    w("    Name index is invalid\n")
                else:
                    for name in index.names[first - 1:]:
                        if name[1] % h["bucket_count"] != b:
                            break
                        _dump_name(index, name, out, "    ")
                w("  ]\n")
        else:
            w("  Hash table not present\n")
            for name in index.names:
                _dump_name(index, name, out, "  ")
        w("}\n")
    return problems


def _dump_name(index: NameIndex, name: tuple, out: TextIO, indent: str) -> None:
    i, h, s, text, entries = name
    w = out.write
    w(f"{indent}Name {i} {{\n")
    if h is not None:
        w(f"{indent}  Hash: 0x{h:X}\n")
    w(f'{indent}  String: 0x{s:08x} "{text}"\n')
    for at, ab, values in entries:
        w(f"{indent}  Entry @ 0x{at:x} {{\n{indent}    Abbrev: 0x{ab.code:X}\n"
          f"{indent}    Tag: {names.tag_name(ab.tag)}\n")
        for idx, form, v in values:
            w(f"{indent}    {IDX.get(idx, f'DW_IDX_unknown_{idx:x}')}: {form_value(form, v)}\n")
        w(f"{indent}  }}\n")
    w(f"{indent}}}\n")


def counts(indices: list[NameIndex]) -> tuple[int, int, int]:
    """(name indices, names, entries) for --summary."""
    return len(indices), sum(len(x.names) for x in indices), sum(len(n[4]) for x in indices for n in x.names)
