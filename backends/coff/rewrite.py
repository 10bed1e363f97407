"""Replace the DWARF of an existing COFF object or PE32+ image (``dwarfkit convert``), keeping everything else.

>>> rewrite("shapes.obj", "out.obj", dwarf)          # dwarf: DwarfSections, ELF spellings (.debug_info ...)

Objects (MinGW gcc, clang; AMD64 and ARM64): the output is the input's file header, then its section table without
the ``.debug_*`` sections and with the new ones appended (long names through the string table, ``/NN``), then each
kept section's raw data, relocations and line numbers copied byte for byte, then the new sections with their
relocations, then the symbol table (``symbol_edit``: indices kept, section numbers moved) and the input's string
table with the new names appended. New relocations: SECTION/UNIT -> ``SECREL`` against the target debug section's
symbol, ADDRESS -> ``ADDR64``/``ADDR32``, PCREL -> ``REL32``, TLS_OFFSET -> ``SECREL`` (a thread-local's offset in
``.tls``) against the symbol of that name, else the section symbol of the section of that name.

Images (MinGW ld, lld-link): the debug sections must be the last ones of the section table, as both put them. The
file up to the end of the last other section is kept byte for byte (headers, code, data, ``.reloc``); the new debug
sections follow at the next ``FileAlignment``/``SectionAlignment`` boundaries, then the symbol and string tables.
Changed header fields: ``NumberOfSections``, ``PointerToSymbolTable``, ``SizeOfImage`` and ``CheckSum`` (when the
input had one). Symbolic relocations are resolved through the input's symbol table, a section's name to the
section (``load`` gives plain addresses for images).

Refused with a ContainerError: ``compress=True`` (COFF has no compressed sections), /bigobj and 32-bit files, images
with a certificate table or data after the symbol and string tables (it would be lost), a section table that
outgrows ``SizeOfHeaders``, and what would silently point elsewhere afterwards: a kept section's relocation against
a symbol in a replaced debug section, a data directory inside one, a relocation against an unknown or ambiguous name.
"""
from __future__ import annotations

import os
import struct

from dwarfkit.encoding import align_up
from dwarfkit.errors import ContainerError, RelocationError
from dwarfkit.output import write_atomically
from dwarfkit.sections import DwarfSections, Relocation, RelocKind, Section, encode_field

from . import constants as C
from . import input_file as opt
from . import records
from .contents import DEBUG_FLAGS
from .input_file import InputFile, InputSection, parse
from .machine import AMD64, ARM64, Machine
from .pe_headers import word_sum
from .symbol_edit import SymbolEditor

_MACHINES = {C.IMAGE_FILE_MACHINE_AMD64: AMD64, C.IMAGE_FILE_MACHINE_ARM64: ARM64}
_SECTION_HEADER = struct.Struct("<8sIIIIIIHHI")
_RELOCATION = struct.Struct("<IIH")


def rewrite(src: str | os.PathLike[str], out: str | os.PathLike[str], dwarf: DwarfSections, *,
            compress: bool | None = None) -> None:
    """Writes ``out``: the COFF object or PE image ``src`` with its DWARF replaced by ``dwarf``, atomically."""
    try:
        with open(src, "rb") as f:
            original = f.read()
    except OSError as e:
        raise ContainerError(f"cannot read {src}: {e.strerror or e}") from None
    data = rewrite_bytes(original, dwarf, compress=compress, path=os.fspath(src))
    write_atomically(out, data, executable=data[:2] == b"MZ")


def rewrite_bytes(original: bytes, dwarf: DwarfSections, *, compress: bool | None = None,
                  path: str = "<input>") -> bytes:
    """The bytes of ``original`` (a COFF object or PE32+ image) with its debug sections replaced by ``dwarf``'s."""
    if not isinstance(original, (bytes, bytearray, memoryview)):
        raise ContainerError(f"{path}: the input must be bytes, not {type(original).__name__}")
    if not isinstance(dwarf, DwarfSections):
        raise ContainerError(f"{path}: the DWARF to write must be DwarfSections, not {type(dwarf).__name__}")
    if compress:
        raise ContainerError(f"{path}: COFF and PE files have no compressed debug sections (drop --compress)")
    if dwarf.encoding.byteorder != "little" or dwarf.encoding.address_size != 8:
        raise ContainerError(f"{path}: COFF AMD64/ARM64 DWARF is little-endian with 8-byte addresses, not "
                             f"{dwarf.encoding.byteorder} with {dwarf.encoding.address_size}-byte addresses")
    f = parse(bytes(original), path)
    new = [s for s in dwarf if s.name != ".eh_frame"]  # the runtime's .eh_frame stays as the input has it
    for s in new:
        if not s.name.startswith(".debug_"):
            raise ContainerError(f"{path}: a rewrite replaces .debug_* sections only, not {s.name!r}")
    return _image(f, new, dwarf) if f.is_image else _object(f, new)


# -- objects ------------------------------------------------------------------------------------------------------
def _object(f: InputFile, new: list[Section]) -> bytes:
    machine = _MACHINES[f.machine]
    kept = [s for s in f.sections if not s.is_debug]
    numbers = {s.number: i for i, s in enumerate(kept, start=1)}
    new_numbers = {s.name: i for i, s in enumerate(new, start=len(kept) + 1)}
    if len(kept) + len(new) > C.MAX_OBJECT_SECTIONS:
        raise f.fail(f"{len(kept) + len(new)} sections, more than a COFF object's {C.MAX_OBJECT_SECTIONS}")
    strings = records.StringTable.extending(f.strings)
    symbols = SymbolEditor(f, numbers, new_numbers, strings)
    for s in new:  # one section symbol per debug section, in section order, as MinGW's as writes them
        symbols.section_symbol_for(new_numbers[s.name], s.name)
    _check_kept_relocations(f, kept, symbols.in_debug_sections)
    targets = _Targets(f, symbols, kept, numbers, new_numbers)
    blocks = [_relocations(s, targets, machine) for s in new]
    default_flags = _debug_flags(f)

    out = bytearray(f.data[:f.section_table])  # file header and (rare in objects) optional header
    table = len(out)
    out += bytes(C.SECTION_HEADER_SIZE * (len(kept) + len(new)))
    headers = bytearray()
    for old in kept:
        raw_at = _append(out, f.raw_data(old))
        reloc_at = _append(out, f.relocation_records(old))
        lines_at = _append(out, f.linenumber_records(old))
        count = min(old.relocation_count, C.MAX_RELOCATIONS_IN_HEADER)
        headers += _SECTION_HEADER.pack(old.raw_name, old.virtual_size, old.virtual_address, old.raw_size, raw_at,
                                        reloc_at, lines_at, count, old.linenumber_count, old.flags)
    for s, (data, relocs, count) in zip(new, blocks, strict=True):
        number = new_numbers[s.name]
        header = records.SectionHeader(s.name, _flags_for(f, s, default_flags), raw_size=len(data))
        header.raw_pointer = _append(out, data)
        header.relocation_pointer = _append(out, relocs)
        header.relocation_count = min(count, C.MAX_RELOCATIONS_IN_HEADER)
        if count > C.MAX_RELOCATIONS_IN_HEADER:
            header.characteristics |= C.IMAGE_SCN_LNK_NRELOC_OVFL
        headers += header.encode(strings)
        symbols.define_section(number, s.name, len(data), count)
    out[table:table + len(headers)] = headers
    symbol_table = len(out)
    out += symbols.encode()
    out += strings.encode()
    _patch_file_header(f, out, len(kept) + len(new), symbol_table, symbols.count)
    return bytes(out)


def _check_kept_relocations(f: InputFile, kept: list[InputSection], in_debug_sections: set[int]) -> None:
    """A kept section relocated against a symbol in a replaced debug section would silently point elsewhere."""
    if not in_debug_sections:
        return
    for s in kept:
        relocations = f.relocation_records(s)
        if s.flags & C.IMAGE_SCN_LNK_NRELOC_OVFL and s.relocation_count >= C.MAX_RELOCATIONS_IN_HEADER:
            relocations = relocations[C.RELOCATION_SIZE:]  # the count record
        for offset, index, _ in _RELOCATION.iter_unpack(relocations):
            if index in in_debug_sections:
                raise f.fail(f"{s.name}+{offset:#x}: relocation against symbol {index}, which is in a debug section "
                             f"that the rewrite replaces")


def _append(out: bytearray, piece: bytes) -> int:
    """Appends ``piece`` and returns where it starts, or 0 (the format's "none") for an empty piece."""
    if not piece:
        return 0
    at = len(out)
    out += piece
    return at


def _debug_flags(f: InputFile) -> int:
    """The input's own flags for debug sections (its assembler's or linker's choice), else dwarfkit's."""
    found = next((s.flags for s in f.sections if s.is_debug), None)
    return found if found is not None else DEBUG_FLAGS | records.alignment_flag(1, "debug")


def _flags_for(f: InputFile, s: Section, default: int) -> int:
    same = next((old.flags for old in f.sections if old.name == s.name), None)
    if same is not None:
        return same & ~C.IMAGE_SCN_LNK_NRELOC_OVFL
    if f.is_image:
        return default
    return (default & ~(0xF << C.IMAGE_SCN_ALIGN_SHIFT)) | records.alignment_flag(max(s.alignment, 1), s.name)


class _Targets:
    """The symbol-table index a new relocation names."""

    def __init__(self, f: InputFile, symbols: SymbolEditor, kept: list[InputSection], numbers: dict[int, int],
                 new_numbers: dict[str, int]) -> None:
        self.f, self.symbols, self.new_numbers = f, symbols, new_numbers
        self.kept_sections: dict[str, list[int]] = {}
        for s in kept:
            self.kept_sections.setdefault(s.name, []).append(numbers[s.number])

    def index(self, r: Relocation, where: str) -> int:
        if r.kind in (RelocKind.SECTION, RelocKind.UNIT):
            number = self.new_numbers.get(r.target)
            if number is None:
                raise RelocationError(f"{where}: offset into section {r.target!r}, which the new DWARF does not have")
            return self.symbols.section_symbol_for(number, r.target)
        found = self.symbols.lookup(r.target, where)
        if found is not None:
            return found
        sections = self.kept_sections.get(r.target, [])
        if len(sections) == 1:
            return self.symbols.section_symbol_for(sections[0], r.target)
        if sections:
            raise ContainerError(f"{where}: relocation against section {r.target!r}, of which {self.f.path} has "
                                 f"{len(sections)}")
        raise ContainerError(f"{where}: relocation against {r.target!r}, which is neither a symbol nor a section "
                             f"of {self.f.path}")


def _relocations(section: Section, targets: _Targets, machine: Machine) -> tuple[bytes, bytes, int]:
    """The section's bytes with the in-place addends, its relocation records and how many there are."""
    data = bytearray(section.data)
    wanted = sorted((r for r in section.relocations if r.kind.needs_container_relocation), key=lambda r: r.offset)
    out = bytearray()
    if len(wanted) > C.MAX_RELOCATIONS_IN_HEADER:
        # IMAGE_SCN_LNK_NRELOC_OVFL: the first record's VirtualAddress holds the real count, itself included.
        out += _RELOCATION.pack(len(wanted) + 1, 0, 0)
    records.pack(f"section {section.name}", "I", [("SizeOfRawData", len(data))])
    for r in wanted:
        where = f"{section.name}+{r.offset:#x}"
        if not 0 <= r.offset <= len(data) - r.size:
            raise RelocationError(f"{where}: {r.size}-byte relocated field lies outside the section "
                                  f"(size {len(data):#x})")
        if r.kind is RelocKind.TLS_OFFSET and r.size == 4:
            type_ = machine.secrel
        else:
            type_ = machine.relocation_type(r, section.name)
        index = targets.index(r, where)
        # COFF keeps the addend in the field. REL32 counts from the byte after the field, our PCREL from the field.
        addend = r.addend + r.size if r.kind is RelocKind.PCREL else r.addend
        data[r.offset:r.offset + r.size] = encode_field(addend, r.size, "little", section.name, r)
        out += _RELOCATION.pack(r.offset, index, type_)
    return bytes(data), bytes(out), len(out) // C.RELOCATION_SIZE


def _patch_file_header(f: InputFile, out: bytearray, sections: int, symbol_table: int, symbols: int) -> None:
    at = f.header
    out[at + 2:at + 4] = records.pack("COFF file header", "H", [("NumberOfSections", sections)])
    out[at + 8:at + 16] = records.pack("COFF file header", "II", [("PointerToSymbolTable", symbol_table),
                                                                   ("NumberOfSymbols", symbols)])


# -- images ---------------------------------------------------------------------------------------------------------
def _image(f: InputFile, new: list[Section], dwarf: DwarfSections) -> bytes:
    kept = [s for s in f.sections if not s.is_debug]
    if kept != f.sections[:len(kept)]:
        raise f.fail("the debug sections are not the last ones of the section table (as MinGW ld puts them), so "
                     "they cannot be replaced without moving loaded sections")
    if _directory(f, opt.IMAGE_DIRECTORY_ENTRY_SECURITY) != (0, 0):
        raise f.fail("the image is signed (certificate table): a rewrite would invalidate the signature")
    for index in range(C.IMAGE_NUMBEROF_DIRECTORY_ENTRIES):
        rva, size = _directory(f, index)
        for old in f.sections[len(kept):]:
            if size and old.virtual_address <= rva < old.virtual_address + max(old.virtual_size, 1):
                raise f.fail(f"data directory {index} points into {old.name}, which the rewrite replaces")
    file_alignment = f.optional_field(opt.OPT_FILE_ALIGNMENT)
    section_alignment = f.optional_field(opt.OPT_SECTION_ALIGNMENT)
    for name, value in (("FileAlignment", file_alignment), ("SectionAlignment", section_alignment)):
        if value < 1 or value & (value - 1):
            raise f.fail(f"{name} {value:#x} in the optional header is not a power of two")
    headers_size = f.optional_field(opt.OPT_SIZE_OF_HEADERS)
    kept_end = max([headers_size] + [s.raw_pointer + s.raw_size for s in kept if s.raw_pointer])
    _check_nothing_after(f, kept_end)
    new = [s for s in new if len(s.data)]  # ld leaves empty sections out
    if f.section_table + C.SECTION_HEADER_SIZE * (len(kept) + len(new)) > headers_size:
        raise f.fail(f"{len(kept) + len(new)} section headers do not fit SizeOfHeaders ({headers_size:#x})")

    image_base = f.optional_field(opt.OPT_IMAGE_BASE, "Q")
    next_va = align_up(max([headers_size] + [s.virtual_address + (s.virtual_size or s.raw_size) for s in kept]),
                       section_alignment)
    addresses = {}
    for s in new:
        addresses[s.name] = next_va
        next_va = align_up(next_va + len(s.data), section_alignment)
    contents = _resolve(f, dwarf, new, image_base, {n: image_base + va for n, va in addresses.items()})

    default_flags = _debug_flags(f)
    strings = records.StringTable.extending(f.strings)
    out = bytearray(f.data[:kept_end])
    headers = bytearray()
    for s in new:
        data = contents[s.name]
        raw_at = align_up(len(out), file_alignment)
        raw_size = align_up(len(data), file_alignment)
        out += bytes(raw_at - len(out)) + data + bytes(raw_size - len(data))
        headers += records.SectionHeader(s.name, _flags_for(f, s, default_flags), len(data), addresses[s.name],
                                         raw_size, raw_at).encode(strings)
    table = f.section_table + C.SECTION_HEADER_SIZE * len(kept)
    old_end = f.section_table + C.SECTION_HEADER_SIZE * len(f.sections)
    out[table:max(old_end, table + len(headers))] = headers.ljust(old_end - table, b"\0")

    symbol_table, symbol_count = 0, 0
    if f.symbol_pointer:
        symbols = SymbolEditor(f, {s.number: s.number for s in kept},
                               {s.name: number for number, s in enumerate(new, start=len(kept) + 1)}, strings)
        for number, s in enumerate(new, start=len(kept) + 1):
            symbols.define_section(number, s.name, len(s.data), 0)
        symbol_table, symbol_count = len(out), symbols.count
        out += symbols.encode()
    string_table = strings.encode()
    if len(string_table) > 4 or f.strings:
        symbol_table = symbol_table or len(out)  # readers find the strings after the (here empty) symbol table
        out += string_table
    _patch_file_header(f, out, len(kept) + len(new), symbol_table, symbol_count)
    optional = f.optional
    out[optional + opt.OPT_SIZE_OF_IMAGE:optional + opt.OPT_SIZE_OF_IMAGE + 4] = records.pack(
        "optional header", "I", [("SizeOfImage", next_va)])
    if f.optional_field(opt.OPT_CHECKSUM):
        _store_checksum(out, optional + opt.OPT_CHECKSUM)
    return bytes(out)


def _directory(f: InputFile, index: int) -> tuple[int, int]:
    at = opt.OPT_DIRECTORIES + 8 * index
    if at + 8 > f.optional_size:
        return 0, 0
    return f.optional_field(at), f.optional_field(at + 4)


def _check_nothing_after(f: InputFile, kept_end: int) -> None:
    """Refuses an image whose file holds bytes that no rewrite would carry over (an overlay, an installer's
    payload): everything after the kept sections must be debug sections, the symbol table or the strings."""
    ends = [kept_end] + [s.raw_pointer + s.raw_size for s in f.sections if s.raw_pointer]
    if f.symbol_pointer:
        ends.append(f.symbol_pointer + C.SYMBOL_SIZE * f.symbol_count + len(f.strings))
    end = max(ends)
    if any(f.data[end:]):
        raise f.fail(f"0x{len(f.data) - end:x} bytes after the last section and the symbol table (an overlay?) "
                     f"would be lost by a rewrite")


def _resolve(f: InputFile, dwarf: DwarfSections, new: list[Section], image_base: int,
             section_addresses: dict[str, int]) -> dict[str, bytes]:
    """The final bytes of the new sections; symbolic relocations (none from ``load``) resolved through the input's
    symbol table."""
    wanted = {r.target for s in new for r in s.relocations if r.kind.needs_container_relocation
              and r.kind not in (RelocKind.SECTION, RelocKind.UNIT)}
    if not wanted:
        return {s.name: bytes(s.data) for s in new}
    symbols: dict[str, int] = {}
    for name in wanted:
        symbols[name] = _address(f, name, image_base)
    resolved = DwarfSections(dwarf.encoding)
    for s in new:
        resolved.add(s)
    return resolved.resolve(symbols, section_addresses)


def _address(f: InputFile, name: str, image_base: int) -> int:
    # A section's name first: in an image the static symbols named after a section (".text") are the input
    # objects' pieces of it, one per object, while the name means the whole section.
    found = {image_base + s.virtual_address for s in f.sections if s.name == name and not s.is_debug}
    if not found:
        found = {image_base + f.sections[s.section - 1].virtual_address + s.value if s.section > 0 else s.value
                 for s in f.symbols if s.name == name and s.storage != C.IMAGE_SYM_CLASS_FILE
                 and (s.section == C.IMAGE_SYM_ABSOLUTE or (s.section > 0 and not f.sections[s.section - 1].is_debug))}
    if len(found) == 1:
        return found.pop()
    if found:
        raise f.fail(f"relocation against {name!r}, which names {len(found)} different addresses in the image")
    raise f.fail(f"relocation against {name!r}, which is neither a symbol nor a section of the image")


def _store_checksum(image: bytearray, at: int) -> None:
    """The PE checksum (folded 16-bit word sum plus the file length), computed with its own field zeroed."""
    image[at:at + 4] = bytes(4)
    total = word_sum(image)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    image[at:at + 4] = (total + len(image)).to_bytes(4, "little")
