"""Encoding primitives, the section writer and relocation resolution."""
from __future__ import annotations

import io

import pytest
from elftools.common.utils import struct_parse
from elftools.dwarf.structs import DWARFStructs
from hypothesis import given
from hypothesis import strategies as st

from dwarfkit import DwarfSections, Encoding, EncodingError, LayoutError, RelocationError, RelocKind, Section
from dwarfkit.encoding import (
    decode_sleb128,
    decode_uleb128,
    sleb128,
    sleb128_size,
    uleb128,
    uleb128_padded,
    uleb128_size,
)
from dwarfkit.writer import SectionWriter

_STRUCTS = DWARFStructs(little_endian=True, dwarf_format=32, address_size=8)


@given(st.integers(min_value=0, max_value=2**64 - 1))  # LEB128 values are at most 64 bits (10 bytes)
def test_uleb128_matches_pyelftools(value):
    encoded = uleb128(value)
    assert struct_parse(_STRUCTS.the_Dwarf_uleb128, io.BytesIO(encoded)) == value
    assert decode_uleb128(encoded, 0) == (value, len(encoded))
    assert uleb128_size(value) == len(encoded)


@given(st.integers(min_value=-2**63, max_value=2**63 - 1))
def test_sleb128_matches_pyelftools(value):
    encoded = sleb128(value)
    assert struct_parse(_STRUCTS.the_Dwarf_sleb128, io.BytesIO(encoded)) == value
    assert decode_sleb128(encoded, 0) == (value, len(encoded))
    assert sleb128_size(value) == len(encoded)


@given(st.integers(min_value=0, max_value=2**28 - 1))
def test_padded_uleb128_decodes_to_the_same_value(value):
    encoded = uleb128_padded(value, 4)
    assert len(encoded) == 4
    assert struct_parse(_STRUCTS.the_Dwarf_uleb128, io.BytesIO(encoded)) == value


def test_padded_uleb128_refuses_values_too_wide():
    with pytest.raises(ValueError):
        uleb128_padded(1 << 28, 4)


@pytest.mark.parametrize("kwargs", [dict(version=1), dict(offset_size=2), dict(address_size=2),
                                    dict(byteorder="middle"), dict(version=2, offset_size=8)])
def test_bad_encodings_are_refused(kwargs):
    with pytest.raises(EncodingError):
        Encoding(**kwargs)


def test_initial_length_of_dwarf64_has_escape():
    assert Encoding(offset_size=8).initial_length(5) == b"\xff\xff\xff\xff" + (5).to_bytes(8, "little")
    assert Encoding(byteorder="big").initial_length(5) == b"\0\0\0\5"


def test_writer_records_relocations_and_resolve_fills_addresses():
    enc = Encoding(version=5, address_size=8)
    w = SectionWriter(".debug_info", enc)
    w.u8(1)
    w.offset_field(0x10, RelocKind.SECTION, ".debug_str")
    w.address_field("main", 4)
    sections = DwarfSections(enc)
    sections.add(w.section)
    assert sections.symbols() == {"main"}
    reloc = w.section.relocations
    assert [(r.offset, r.size, r.kind, r.target, r.addend) for r in reloc] == [
        (1, 4, RelocKind.SECTION, ".debug_str", 0x10), (5, 8, RelocKind.ADDRESS, "main", 4)]
    # The stored bytes hold the addends; resolution adds the symbol's address.
    assert bytes(w.data[1:5]) == (0x10).to_bytes(4, "little")
    resolved = sections.resolve({"main": 0x401000})
    assert resolved[".debug_info"][5:13] == (0x401004).to_bytes(8, "little")


def test_pcrel_needs_section_address_and_resolves():
    enc = Encoding()
    sections = DwarfSections(enc)
    w = SectionWriter(sections.add(Section(".eh_frame")), enc)
    w.u32(0)
    w.pcrel_field("f", 0)
    with pytest.raises(RelocationError, match="PC-relative"):
        sections.resolve({"f": 0x1000})
    out = sections.resolve({"f": 0x1000}, {".eh_frame": 0x2000})
    assert int.from_bytes(out[".eh_frame"][4:8], "little", signed=True) == 0x1000 - 0x2004


def test_unknown_symbol_is_named():
    enc = Encoding()
    sections = DwarfSections(enc)
    w = SectionWriter(sections.add(Section(".debug_info")), enc)
    w.address_field("nowhere")
    with pytest.raises(RelocationError, match="'nowhere'"):
        sections.resolve({})


def test_offset_overflow_asks_for_dwarf64():
    w = SectionWriter(".debug_info", Encoding())
    with pytest.raises(LayoutError, match="DWARF64"):
        w.offset_field(1 << 32, RelocKind.SECTION, ".debug_str")


def test_plain_addresses_need_no_relocation():
    from dwarfkit import Address
    w = SectionWriter(".debug_info", Encoding(address_size=4))
    w.address(Address(None, 0x1234))
    w.address(Address("f", 8))
    assert bytes(w.data[:4]) == (0x1234).to_bytes(4, "little")
    assert [(r.target, r.addend, r.size) for r in w.section.relocations] == [("f", 8, 4)]
    assert Address("f", 8) - Address("f", 2) == 6


@pytest.mark.parametrize("offset_size", [4, 8])
@pytest.mark.parametrize("byteorder", ["little", "big"])
def test_initial_length_decodes_what_is_encoded(offset_size, byteorder):
    from dwarfkit.encoding import decode_initial_length
    data = b"\x00\x00" + Encoding(offset_size=offset_size, byteorder=byteorder).initial_length(0x1234) + b"rest"
    assert decode_initial_length(data, 2, byteorder) == (0x1234, offset_size, 2 + (12 if offset_size == 8 else 4))
