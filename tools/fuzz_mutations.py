"""The reader fuzzer's mutations: each takes a `Seed` and a `random.Random` and returns (new file bytes, what it
did). They aim at the structures a reader trusts: unit and line-program headers, abbreviation codes and forms,
attribute values by form, LEB128 runs, relocations, section headers, truncation, appended synthetic units and
compressed sections. A section that must grow is rewritten at the end of the file and its header re-pointed there.
"""
from __future__ import annotations

import random
import zlib
from typing import Callable

from fuzz_structs import Field, SectionRecord, Seed

from dwarfkit.encoding import sleb128, uleb128

INTERESTING = [0, 1, 2, 3, 4, 5, 7, 8, 0x10, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x10000, 0x7fffffff,
               0xfffffff0, 0xffffffff, 1 << 32, (1 << 63) - 1, 1 << 63, (1 << 64) - 1]


def _value(rng: random.Random, width: int, current: int | None = None) -> int:
    r = rng.random()
    if current is not None and r < 0.3:
        return current + rng.choice([-1, 1, 2, -8, 8, 0x1000, -0x1000])
    if r < 0.8:
        return rng.choice(INTERESTING)
    return rng.getrandbits(8 * width)


def _stomp(data: bytearray, rng: random.Random, f: Field) -> None:
    current = int.from_bytes(data[f.pos:f.pos + f.width], f.order)
    f.write(data, _value(rng, f.width, current))


def rewrite_section(seed: Seed, data: bytearray, rec: SectionRecord, content: bytes) -> None:
    """Put ``content`` at the end of the file and point the section's header at it."""
    while len(data) % 16:
        data.append(0)
    rec.offset_field.write(data, len(data))
    rec.size_field.write(data, len(content))
    if rec.virtual_size is not None:
        rec.virtual_size.write(data, len(content))
    data += content


def _current(seed: Seed, rec: SectionRecord) -> bytes:
    return seed.data[rec.offset:rec.offset + rec.size]


# --- mutations of fields in place ---------------------------------------------------------------------------------
def unit_header(seed: Seed, rng: random.Random) -> tuple[bytes, str]:
    data = bytearray(seed.data)
    if not seed.units:
        return flip_bytes(seed, rng)
    pos, osz, version, _asz = rng.choice(seed.units)
    lw = 12 if osz == 8 else 4
    fields = [("length", Field(pos + lw - osz, osz, seed.order)), ("version", Field(pos + lw, 2, seed.order))]
    if version >= 5:
        fields += [("unit_type", Field(pos + lw + 2, 1, seed.order)),
                   ("address_size", Field(pos + lw + 3, 1, seed.order)),
                   ("abbrev_offset", Field(pos + lw + 4, osz, seed.order))]
    else:
        fields += [("abbrev_offset", Field(pos + lw + 2, osz, seed.order)),
                   ("address_size", Field(pos + lw + 2 + osz, 1, seed.order))]
    name, f = rng.choice(fields)
    if name == "address_size" and rng.random() < 0.7:
        f.write(data, rng.choice([0, 1, 2, 3, 16, 255]))
    elif name == "version" and rng.random() < 0.7:
        f.write(data, rng.choice([0, 1, 2, 3, 4, 5, 6, 0xffff]))
    else:
        _stomp(data, rng, f)
    return bytes(data), f"unit header {name} at 0x{f.pos:x}"


def line_header(seed: Seed, rng: random.Random) -> tuple[bytes, str]:
    if not seed.lines:
        return flip_bytes(seed, rng)
    data = bytearray(seed.data)
    pos = rng.choice(seed.lines) + rng.randrange(48)
    width = rng.choice([1, 1, 1, 2, 4])
    Field(pos, width, seed.order).write(data, _value(rng, width))
    return bytes(data), f"line program header byte 0x{pos:x} ({width} bytes)"


def abbrev(seed: Seed, rng: random.Random) -> tuple[bytes, str]:
    data = bytearray(seed.data)
    choice = rng.random()
    if choice < 0.4 and seed.form_fields:
        pos = rng.choice(seed.form_fields)
        data[pos] = rng.choice([0x00, 0x01, 0x02, 0x0a, 0x0e, 0x16, 0x17, 0x18, 0x1e, 0x21, 0x2d, 0x2f, 0x30, 0x7f,
                                rng.randrange(0x80)])
        return bytes(data), f"abbreviation form at 0x{pos:x}"
    if choice < 0.55 and seed.children_fields:
        pos = rng.choice(seed.children_fields)
        data[pos] = rng.choice([0, 1, 2, 0xff])
        return bytes(data), f"abbreviation children flag at 0x{pos:x}"
    if not seed.abbrev_codes:
        return flip_bytes(seed, rng)
    pos = rng.choice(seed.abbrev_codes)
    data[pos] = rng.choice([0, 1, 2, 3, 0x7f, 0x80, rng.randrange(256)])
    return bytes(data), f"abbreviation code at 0x{pos:x}"


def attribute_value(seed: Seed, rng: random.Random) -> tuple[bytes, str]:
    if not seed.values:
        return flip_bytes(seed, rng)
    data = bytearray(seed.data)
    pos, n, form = rng.choice(seed.values)
    how = rng.choice(["ff", "00", "80", "random", "max"])
    for k in range(max(n, 1)):
        data[pos + k] = {"ff": 0xff, "00": 0, "80": 0x80, "max": 0xff if k < n - 1 else 0x7f}.get(
            how, rng.randrange(256))
    return bytes(data), f"value of form 0x{form:x} at 0x{pos:x} ({n} bytes) set to {how}"


def relocation(seed: Seed, rng: random.Random) -> tuple[bytes, str]:
    if not seed.relocs:
        return section_header(seed, rng)
    data = bytearray(seed.data)
    table = rng.choice(seed.relocs)
    if not table.count:
        return section_header(seed, rng)
    entry = table.offset + rng.randrange(table.count) * table.entry_size
    width = rng.choice([w for w in (1, 2, 4, 8) if w <= table.entry_size])
    pos = entry + rng.randrange(table.entry_size - width + 1)
    Field(pos, width, table.order).write(data, _value(rng, width))
    return bytes(data), f"relocation entry at 0x{entry:x}, {width} bytes at +{pos - entry}"


def section_header(seed: Seed, rng: random.Random) -> tuple[bytes, str]:
    data = bytearray(seed.data)
    r = rng.random()
    if r < 0.15 and seed.counts:
        f = rng.choice(seed.counts)
        _stomp(data, rng, f)
        return bytes(data), f"container header count/pointer at 0x{f.pos:x}"
    dwarf = [s for s in seed.sections if s.dwarf] or seed.sections
    rec = rng.choice(dwarf if rng.random() < 0.7 else seed.sections)
    fields = [rec.offset_field, rec.size_field] * 2 + rec.extra_fields
    f = rng.choice(fields)
    if f is rec.size_field and rng.random() < 0.3:
        f.write(data, rec.size + rng.choice([1, 16, 1 << 20]))
    else:
        _stomp(data, rng, f)
    return bytes(data), f"section header of {rec.name}: field at 0x{f.pos:x}"


def truncate(seed: Seed, rng: random.Random) -> tuple[bytes, str]:
    points = [s.offset + s.size for s in seed.sections if s.size] + [s.header for s in seed.sections]
    cut = rng.choice(points) + rng.randrange(-8, 8) if points and rng.random() < 0.6 else \
        rng.randrange(len(seed.data))
    cut = max(0, min(cut, len(seed.data) - 1))
    return seed.data[:cut], f"truncated at 0x{cut:x}"


def flip_bytes(seed: Seed, rng: random.Random) -> tuple[bytes, str]:
    data = bytearray(seed.data)
    spans = [(s.offset, s.size) for s in seed.sections if s.dwarf and s.size and s.offset + s.size <= len(data)]
    if not spans:
        return truncate(seed, rng)
    for _ in range(rng.choice([1, 2, 4, 16])):
        start, size = rng.choice(spans)
        pos = start + rng.randrange(size)
        data[pos] = rng.choice([0x00, 0xff, 0x7f, 0x80, rng.randrange(256), data[pos] ^ (1 << rng.randrange(8))])
    return bytes(data), "bytes flipped in DWARF sections"


# --- mutations that grow a section ---------------------------------------------------------------------------------
def leb_run(seed: Seed, rng: random.Random) -> tuple[bytes, str]:
    """A long LEB128 run spliced into a LEB128 field (the section is rewritten at the end of the file)."""
    if not seed.lebs:
        return flip_bytes(seed, rng)
    pos = rng.choice(seed.lebs)
    rec = next((s for s in seed.sections if s.dwarf and s.offset <= pos < s.offset + s.size), None)
    if rec is None:
        return flip_bytes(seed, rng)
    n = rng.choice([10, 11, 19, 100, 2000, 5000, 100_000, 1_000_000])
    byte = rng.choice([0x80, 0xff])
    run = bytes([byte]) * n + (b"\x7f" if rng.random() < 0.7 else b"")
    old = _current(seed, rec)
    k = pos - rec.offset
    data = bytearray(seed.data)
    rewrite_section(seed, data, rec, old[:k] + run + old[k + 1:])
    return bytes(data), f"{n}-byte LEB128 run of 0x{byte:x} at {rec.name}+0x{k:x}"


def _unit(version: int, address_size: int, abbrev_offset: int, body: bytes, order: str) -> bytes:
    if version >= 5:
        head = version.to_bytes(2, order) + bytes((1, address_size)) + abbrev_offset.to_bytes(4, order)
    else:
        head = version.to_bytes(2, order) + abbrev_offset.to_bytes(4, order) + bytes((address_size,))
    return (len(head) + len(body)).to_bytes(4, order) + head + body


def _abbrev_decl(code: int, tag: int, children: bool, attrs: list[tuple[int, int]], implicit: bytes = b"") -> bytes:
    out = uleb128(code) + uleb128(tag) + bytes((1 if children else 0,))
    for at, form in attrs:
        out += uleb128(at) + uleb128(form) + (implicit if form == 0x21 else b"")
    return out + b"\0\0"


def synthetic_unit(kind: str, order: str, abbrev_offset: int, rng: random.Random) -> tuple[bytes, bytes]:
    """(abbreviation table, unit) of one hostile shape; the unit's offsets are relative to the unit start."""
    cu = _abbrev_decl(1, 0x11, True, [(0x03, 0x08)])  # compile_unit, DW_AT_name string
    if kind == "nest":
        n = rng.choice([1000, 20_000, 100_000])
        table = cu + _abbrev_decl(2, 0x0b, True, []) + b"\0"
        body = b"\x01x\0" + b"\x02" * n + b"\0" * (n + 1) * (rng.random() < 0.8)
        return table, _unit(4, 8, abbrev_offset, body, order)
    if kind == "type_chain":
        n = rng.choice([100, 5000])
        table = cu + _abbrev_decl(2, 0x15, False, [(0x49, 0x13)]) + _abbrev_decl(3, 0x0f, False, [(0x49, 0x13)]) + \
            _abbrev_decl(4, 0x34, False, [(0x03, 0x08), (0x49, 0x13)]) + b"\0"
        first = 11 + 3 + 7  # header, CU DIE, variable DIE
        body = bytearray(b"\x01x\0" + b"\x04v\0" + first.to_bytes(4, order))
        end = rng.choice(["cycle", "self", "zero", "far"])
        for k in range(n):
            nxt = first + 5 * (k + 1)
            if k == n - 1:
                nxt = {"cycle": first, "self": first + 5 * k, "zero": 0, "far": 0x7fffffff}[end]
            body += bytes((2 + k % 2,)) + nxt.to_bytes(4, order)
        return table, _unit(4, 8, abbrev_offset, bytes(body + b"\0"), order)
    if kind == "bigint":
        big = rng.choice([300, 2100, 5000])
        value = uleb128(rng.getrandbits(7 * big) | (1 << (7 * big - 1)))
        table = cu + _abbrev_decl(2, 0x34, False, [(0x03, 0x08), (0x1c, 0x0f), (0x0b, 0x0d), (0x3b, 0x0f),
                                                   (0x88, 0x21)], implicit=sleb128(-(1 << (7 * big)))) + b"\0"
        body = b"\x01x\0" + b"\x02v\0" + value + sleb128(1 << (7 * big)) + value + b"\0"
        return table, _unit(rng.choice([4, 5]), 8, abbrev_offset, body, order)
    if kind == "addr16":
        table = cu[:-2] + bytes((0x11, 0x01, 0x12, 0x01, 0x55, 0x17, 0x10, 0x17, 0, 0)) + \
            _abbrev_decl(2, 0x2e, False, [(0x03, 0x08), (0x11, 0x01), (0x12, 0x1e)]) + b"\0"
        body = b"\x01x\0" + bytes(range(16)) + bytes(range(16, 32)) + bytes(8) + b"\x02f\0" + \
            bytes(range(16)) + bytes(range(32, 48)) + b"\0"
        return table, _unit(4, 16, abbrev_offset, body, order)
    # pc_blocks: low_pc/high_pc given as data16, exprloc and block1
    table = cu[:-2] + bytes((0x11, 0x18, 0x12, 0x1e, 0, 0)) + \
        _abbrev_decl(2, 0x2e, False, [(0x03, 0x08), (0x11, 0x0a), (0x12, 0x18)]) + b"\0"
    body = b"\x01x\0\x03\x01\x02\x03" + bytes(16) + b"\x02f\0\x02\xaa\xbb\x01\x00" + b"\0"
    return table, _unit(4, 8, abbrev_offset, body, order)


SYNTHETIC = ["nest", "type_chain", "bigint", "addr16", "pc_blocks"]


def append_unit(seed: Seed, rng: random.Random) -> tuple[bytes, str]:
    info, abbrev_rec = seed.record("debug_info"), seed.record("debug_abbrev")
    if info is None or abbrev_rec is None:
        return flip_bytes(seed, rng)
    kind = rng.choice(SYNTHETIC)
    old_abbrev = _current(seed, abbrev_rec)
    table, unit = synthetic_unit(kind, seed.order, len(old_abbrev), rng)
    data = bytearray(seed.data)
    rewrite_section(seed, data, abbrev_rec, old_abbrev + table)
    old_info = _current(seed, info)
    rewrite_section(seed, data, info, unit + old_info if rng.random() < 0.3 else old_info + unit)
    return bytes(data), f"synthetic {kind} unit ({len(unit)} bytes)"


_BOMB: bytes | None = None


def _bomb() -> bytes:
    """256 MiB of zeros as a zlib stream (about 260 KB), made once: past every default limit for the corpus."""
    global _BOMB
    if _BOMB is None:
        c = zlib.compressobj(9)
        chunk = bytes(64 << 20)
        _BOMB = b"".join(c.compress(chunk) for _ in range(4)) + c.flush()
    return _BOMB


def compress(seed: Seed, rng: random.Random) -> tuple[bytes, str]:
    dwarf = [s for s in seed.sections if s.dwarf and s.size]
    if seed.fmt == "macho":
        dwarf = [s for s in dwarf if len(s.name) <= 15 and s.name.startswith("__debug")]
    if seed.fmt == "coff" or not dwarf:
        return leb_run(seed, rng)
    rec = rng.choice(dwarf)
    content = _current(seed, rec)
    how = rng.choice(["ok", "short", "long", "garbage", "bomb", "bomb", "huge-claim"])
    size = len(content)
    stream = zlib.compress(content)
    if how == "short":
        size = max(0, size - rng.randrange(1, 64))
    elif how == "long":
        size += rng.choice([1, 100, 1 << 20])
    elif how == "garbage":
        stream = bytes(rng.getrandbits(8) for _ in range(64))
    elif how == "bomb":
        stream = _bomb()
        size = rng.choice([3 << 29, 1 << 20, 0x7fffffff])
    elif how == "huge-claim":
        size = rng.choice([1 << 40, (1 << 64) - 1])
    data = bytearray(seed.data)
    if seed.fmt == "macho":
        pos, width = rec.name_field  # type: ignore[misc]
        data[pos:pos + width] = ("__z" + rec.name[2:]).encode().ljust(width, b"\0")
        rewrite_section(seed, data, rec, b"ZLIB" + (size % (1 << 64)).to_bytes(8, "big") + stream)
        return bytes(data), f"{rec.name} as __zdebug ({how}, claims {size})"
    e = seed.order
    if seed.is64:
        chdr = (1).to_bytes(4, e) + bytes(4) + (size % (1 << 64)).to_bytes(8, e) + (1).to_bytes(8, e)
    else:
        chdr = (1).to_bytes(4, e) + (size % (1 << 32)).to_bytes(4, e) + (1).to_bytes(4, e)
    rewrite_section(seed, data, rec, chdr + stream)
    flags = rec.flags_field
    assert flags is not None
    flags.write(data, int.from_bytes(data[flags.pos:flags.pos + flags.width], e) | 0x800)  # SHF_COMPRESSED
    return bytes(data), f"{rec.name} compressed ({how}, claims {size})"


MUTATIONS: dict[str, tuple[float, Callable[[Seed, random.Random], tuple[bytes, str]]]] = {
    "unit-header": (2, unit_header), "line-header": (1.5, line_header), "abbrev": (1.5, abbrev),
    "attribute-value": (2, attribute_value), "leb-run": (1, leb_run), "relocation": (1, relocation),
    "section-header": (1.5, section_header), "truncate": (0.7, truncate), "append-unit": (1.2, append_unit),
    "compress": (0.8, compress), "flip-bytes": (1.5, flip_bytes),
}


def mutate(seed: Seed, rng: random.Random) -> tuple[bytes, str]:
    names = list(MUTATIONS)
    name = rng.choices(names, weights=[MUTATIONS[n][0] for n in names])[0]
    data, what = MUTATIONS[name][1](seed, rng)
    if rng.random() < 0.15 and len(data) >= len(seed.data):  # a second, cheap mutation on top
        second = Seed(seed.path, data, seed.fmt, seed.order, seed.is64, seed.sections, seed.relocs, seed.counts,
                      seed.units, seed.lines, seed.abbrev_codes, seed.form_fields, seed.children_fields,
                      seed.values, seed.lebs, seed.addresses)
        data, more = rng.choice([attribute_value, unit_header, abbrev])(second, rng)
        what += "; " + more
    return data, f"{name}: {what}"
