"""What the reader fuzzer knows about a seed file: its container's section headers and relocation tables, and the
DWARF structures inside (unit and line-program headers, abbreviation declarations, DIE attribute values).

Everything here is found once per seed, by parsing the container headers directly (so that a mutation can rewrite
them) and by walking the valid DWARF with dwarfkit's reader. Positions are file offsets.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from dwarfkit.encoding import decode_uleb128
from dwarfkit.reader import forms
from dwarfkit.reader.container import DebugFile, normalise_section_name, open_debug_file
from dwarfkit.reader.dump import line_tables
from dwarfkit.reader.forms import F
from dwarfkit.reader.units import DwarfContext


@dataclass
class Field:
    """A header field: where it is in the file, its width and byte order."""
    pos: int
    width: int
    order: str

    def write(self, data: bytearray, value: int) -> None:
        data[self.pos:self.pos + self.width] = (value % (1 << (8 * self.width))).to_bytes(self.width, self.order)


@dataclass
class SectionRecord:
    name: str
    """The section name as the container spells it (``.debug_info``, ``__debug_info``)."""
    dwarf: str | None
    """Normalised DWARF name (``debug_info``) or None."""
    offset: int
    size: int
    offset_field: Field
    size_field: Field
    header: int
    """File offset of the section header itself, and the size of that header."""
    header_size: int
    extra_fields: list[Field] = field(default_factory=list)
    """Other fields worth corrupting: type, flags, link, alignment, relocation pointers and counts."""
    name_field: tuple[int, int] | None = None
    """(position, width) of an inline name (Mach-O ``sectname``), for renaming to ``__zdebug_``."""
    virtual_size: Field | None = None
    """COFF: VirtualSize, set together with the raw size when a section is rewritten."""
    flags_field: Field | None = None


@dataclass
class RelocTable:
    offset: int
    count: int
    entry_size: int
    order: str


@dataclass
class Seed:
    path: str
    data: bytes
    fmt: str  # elf, macho, coff
    order: str
    is64: bool
    sections: list[SectionRecord]
    relocs: list[RelocTable]
    counts: list[Field]
    """Header counts and table pointers (e_shnum, ncmds, NumberOfSections, e_shoff ...)."""
    units: list[tuple[int, int, int, int]] = field(default_factory=list)
    """(file offset, offset size, version, address size) of each unit header."""
    lines: list[int] = field(default_factory=list)
    abbrev_codes: list[int] = field(default_factory=list)
    """File offsets of ULEB128 fields in .debug_abbrev (codes, tags, attributes, forms)."""
    form_fields: list[int] = field(default_factory=list)
    children_fields: list[int] = field(default_factory=list)
    values: list[tuple[int, int, int]] = field(default_factory=list)
    """(file offset, length, form) of attribute values."""
    lebs: list[int] = field(default_factory=list)
    """File offsets of LEB128 values in .debug_info/.debug_abbrev/.debug_line."""
    addresses: list[int] = field(default_factory=list)
    """low_pc values of the seed's DIEs, for --lookup."""

    def record(self, dwarf: str) -> SectionRecord | None:
        return next((s for s in self.sections if s.dwarf == dwarf and s.size), None)


def load_seed(path: str) -> Seed:
    data = open(path, "rb").read()
    if data[:4] == b"\x7fELF":
        seed = _elf(path, data)
    elif data[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xfe\xed\xfa\xce"):
        seed = _macho(path, data)
    else:
        seed = _coff(path, data)
    _dwarf_structures(seed, open_debug_file(path))
    return seed


def _elf(path: str, data: bytes) -> Seed:
    is64 = data[4] == 2
    order = "little" if data[5] == 1 else "big"
    e = "<" if order == "little" else ">"
    if is64:
        shoff, = struct.unpack_from(e + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", data, 0x3a)
        counts = [Field(0x28, 8, order), Field(0x3c, 2, order), Field(0x3e, 2, order), Field(0x3a, 2, order)]
    else:
        shoff, = struct.unpack_from(e + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", data, 0x2e)
        counts = [Field(0x20, 4, order), Field(0x30, 2, order), Field(0x32, 2, order), Field(0x2e, 2, order)]
    w = 8 if is64 else 4
    # (name, type, flags, offset, size, link, info, align, entsize) positions inside a header
    layout = (0, 4, 8, 24, 32, 40, 44, 48, 56) if is64 else (0, 4, 8, 16, 20, 24, 28, 32, 36)
    widths = (4, 4, w, w, w, 4, 4, w, w)
    raw = []
    for i in range(shnum):
        h = shoff + i * shentsize
        raw.append((h, [int.from_bytes(data[h + p:h + p + n], order) for p, n in zip(layout, widths, strict=True)]))
    strtab = raw[shstrndx][1][3] if shstrndx < len(raw) else 0
    sections, relocs = [], []
    for h, (name_off, kind, _flags, offset, size, _link, _info, _align, entsize) in raw:
        end = data.find(b"\0", strtab + name_off)
        name = data[strtab + name_off:end].decode("latin-1")
        extra = [Field(h + p, n, order) for p, n in zip(layout, widths, strict=True) if p not in (layout[3], layout[4])]
        sections.append(SectionRecord(name, normalise_section_name(name), offset, size, Field(h + layout[3], w, order),
                                      Field(h + layout[4], w, order), h, shentsize, extra,
                                      flags_field=Field(h + 8, w, order)))
        if kind in (4, 9) and entsize:  # SHT_RELA, SHT_REL
            relocs.append(RelocTable(offset, size // entsize, entsize, order))
    return Seed(path, data, "elf", order, is64, sections, relocs, counts)


def _macho(path: str, data: bytes) -> Seed:
    order = "little" if data[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe") else "big"
    is64 = data[:4] in (b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf")
    u32 = lambda p: int.from_bytes(data[p:p + 4], order)  # noqa: E731
    ncmds = u32(16)
    off = 32 if is64 else 28
    counts = [Field(16, 4, order), Field(20, 4, order)]
    sections, relocs = [], []
    for _ in range(ncmds):
        cmd, cmdsize = u32(off), u32(off + 4)
        counts.append(Field(off + 4, 4, order))
        if cmd in (0x19, 0x1):
            seg64 = cmd == 0x19
            nsects_at = off + (64 if seg64 else 48)
            counts += [Field(nsects_at, 4, order), Field(off + (48 if seg64 else 36), 8 if seg64 else 4, order)]
            s = off + (72 if seg64 else 56)
            for _k in range(u32(nsects_at)):
                sect = data[s:s + 16].rstrip(b"\0").decode("latin-1")
                aw = 8 if seg64 else 4
                size_at, off_at = s + 32 + aw, s + 32 + 2 * aw
                reloff_at = off_at + 8
                size = int.from_bytes(data[size_at:size_at + aw], order)
                extra = [Field(reloff_at, 4, order), Field(reloff_at + 4, 4, order), Field(off_at + 4, 4, order),
                         Field(reloff_at + 8, 4, order)]
                sections.append(SectionRecord(sect, normalise_section_name(sect), u32(off_at), size,
                                              Field(off_at, 4, order), Field(size_at, aw, order), s,
                                              80 if seg64 else 68, extra, name_field=(s, 16)))
                if u32(reloff_at + 4):
                    relocs.append(RelocTable(u32(reloff_at), u32(reloff_at + 4), 8, order))
                s += 80 if seg64 else 68
        off += cmdsize
    return Seed(path, data, "macho", order, is64, sections, relocs, counts)


def _coff(path: str, data: bytes) -> Seed:
    order = "little"
    hdr = 0
    if data[:2] == b"MZ":
        hdr = int.from_bytes(data[0x3c:0x40], order) + 4
    u16 = lambda p: int.from_bytes(data[p:p + 2], order)  # noqa: E731
    u32 = lambda p: int.from_bytes(data[p:p + 4], order)  # noqa: E731
    nsects, symptr, nsyms, optsize = u16(hdr + 2), u32(hdr + 8), u32(hdr + 12), u16(hdr + 16)
    counts = [Field(hdr + 2, 2, order), Field(hdr + 8, 4, order), Field(hdr + 12, 4, order), Field(hdr + 16, 2, order)]
    strtab = symptr + 18 * nsyms
    sections, relocs = [], []
    s = hdr + 20 + optsize
    for _ in range(nsects):
        name = data[s:s + 8].rstrip(b"\0").decode("latin-1")
        if name.startswith("/") and name[1:].isdigit():
            at = strtab + int(name[1:])
            name = data[at:data.find(b"\0", at)].decode("latin-1")
        extra = [Field(s + 24, 4, order), Field(s + 32, 2, order), Field(s + 36, 4, order), Field(s + 12, 4, order)]
        vsize = u32(s + 8)
        sections.append(SectionRecord(name, normalise_section_name(name), u32(s + 20), u32(s + 16),
                                      Field(s + 20, 4, order), Field(s + 16, 4, order), s, 40, extra,
                                      virtual_size=Field(s + 8, 4, order) if vsize else None))
        if u16(s + 32):
            relocs.append(RelocTable(u32(s + 24), u16(s + 32), 10, order))
        s += 40
    return Seed(path, data, "coff", order, hdr > 0, sections, relocs, counts)


def _dwarf_structures(seed: Seed, df: DebugFile) -> None:
    """Find units, line tables, abbreviation fields and attribute values of the (valid) seed."""
    ctx = DwarfContext(df)
    base = {name: off for name, off in df.section_offsets.items() if off}
    abbrev_base = base.get("debug_abbrev")
    if abbrev_base is not None:
        _abbrev_fields(seed, df.section("debug_abbrev"), abbrev_base)
    for section in ("debug_info", "debug_types"):
        if section not in base:
            continue
        data = df.section(section)
        for unit in ctx.units(section):
            seed.units.append((base[section] + unit.offset, unit.offset_size, unit.version, unit.address_size))
            ctx.load(unit)
            for i, ab in enumerate(unit.abbs[:400]):
                if ab is None:
                    continue
                off = unit.offs[i]
                _, off = decode_uleb128(data, off)
                for at, form, _c in ab.attrs:
                    n = _value_size(data, off, form, unit, seed.order)
                    if n is None:
                        break
                    seed.values.append((base[section] + off, n, form))
                    if form in forms.ULEB or form == F["sdata"]:
                        seed.lebs.append(base[section] + off)
                    if at == 0x11 and form == F["addr"]:
                        seed.addresses.append(unit.vals[i][ab.attrs.index((at, form, _c))])
                    off += n
    if "debug_line" in base:
        seed.lines = [base["debug_line"] + t.offset for t in line_tables(ctx)]


def _abbrev_fields(seed: Seed, data: bytes, base: int) -> None:
    off = 0
    while off < len(data):
        seed.abbrev_codes.append(base + off)
        code, off = decode_uleb128(data, off)
        if code == 0:
            continue
        seed.lebs.append(base + off)
        _, off = decode_uleb128(data, off)  # tag
        seed.children_fields.append(base + off)
        off += 1
        while off < len(data):
            seed.lebs.append(base + off)
            at, off = decode_uleb128(data, off)
            seed.form_fields.append(base + off)
            form, off = decode_uleb128(data, off)
            if form == F["implicit_const"]:
                seed.lebs.append(base + off)
                _, off = decode_uleb128(data, off)
            if at == 0 and form == 0:
                break


def _value_size(data: bytes, off: int, form: int, unit, order: str) -> int | None:
    size = forms.fixed_size(form, unit.address_size, unit.offset_size, unit.version)
    if size is not None:
        return size
    if form in forms.ULEB or form == F["sdata"]:
        return decode_uleb128(data, off)[1] - off
    if form == F["string"]:
        return data.index(b"\0", off) + 1 - off
    if form in forms.BLOCKS:
        w = forms.BLOCKS[form]
        return w + int.from_bytes(data[off:off + w], order)
    if form in (F["exprloc"], F["block"]):
        n, p = decode_uleb128(data, off)
        return p - off + n
    return None
