"""The fixed headers of a PE32+ image: the MS-DOS header and stub, the optional header, and the file checksum."""
from __future__ import annotations

import sys
from array import array
from dataclasses import dataclass

from . import constants as C
from .records import pack

PE_HEADER_OFFSET = 0x80
"""Where ``PE\\0\\0`` starts: right after the 64-byte DOS header and the 64-byte stub, as MinGW ld and lld put it."""
PE_SIGNATURE = b"PE\0\0"
CHECKSUM_OFFSET = PE_HEADER_OFFSET + len(PE_SIGNATURE) + C.FILE_HEADER_SIZE + 64

# 16-bit code run when the file is started under MS-DOS: print the message (at offset 0x0E of the stub) and exit 1.
_STUB_CODE = bytes((0x0E, 0x1F, 0xBA, 0x0E, 0x00, 0xB4, 0x09, 0xCD, 0x21, 0xB8, 0x01, 0x4C, 0xCD, 0x21))
_STUB_MESSAGE = b"This program cannot be run in DOS mode.\r\r\n$"


def dos_header() -> bytes:
    """The 64-byte MS-DOS header pointing at the PE header, then the stub, up to PE_HEADER_OFFSET."""
    header = pack("DOS header", "HHHHHHHHHHHHHH", [
        ("e_magic", 0x5A4D), ("e_cblp", 0x90), ("e_cp", 3), ("e_crlc", 0), ("e_cparhdr", 4), ("e_minalloc", 0),
        ("e_maxalloc", 0xFFFF), ("e_ss", 0), ("e_sp", 0xB8), ("e_csum", 0), ("e_ip", 0), ("e_cs", 0),
        ("e_lfarlc", 0x40), ("e_ovno", 0)])
    header += bytes(8 + 4 + 20)  # e_res, e_oemid, e_oeminfo, e_res2
    header += PE_HEADER_OFFSET.to_bytes(4, "little")  # e_lfanew
    stub = (_STUB_CODE + _STUB_MESSAGE).ljust(PE_HEADER_OFFSET - len(header), b"\0")
    return header + stub


@dataclass
class OptionalHeader:
    """The PE32+ optional header fields that depend on the image; the rest are fixed below."""

    entry: int
    image_base: int
    section_alignment: int
    file_alignment: int
    size_of_code: int
    size_of_initialized_data: int
    size_of_uninitialized_data: int
    base_of_code: int
    size_of_image: int
    size_of_headers: int
    directories: dict[int, tuple[int, int]]
    """Data directory index -> (RVA, size)."""
    subsystem: int = C.IMAGE_SUBSYSTEM_WINDOWS_CUI

    def encode(self) -> bytes:
        fields = pack("optional header", "HBBIIIIIQIIHHHHHHIIIIHHQQQQII", [
            ("Magic", C.IMAGE_NT_OPTIONAL_HDR64_MAGIC), ("MajorLinkerVersion", 0), ("MinorLinkerVersion", 0),
            ("SizeOfCode", self.size_of_code), ("SizeOfInitializedData", self.size_of_initialized_data),
            ("SizeOfUninitializedData", self.size_of_uninitialized_data), ("AddressOfEntryPoint", self.entry),
            ("BaseOfCode", self.base_of_code), ("ImageBase", self.image_base),
            ("SectionAlignment", self.section_alignment), ("FileAlignment", self.file_alignment),
            # Windows versions as MinGW ld writes them.
            ("MajorOperatingSystemVersion", 4), ("MinorOperatingSystemVersion", 0),
            ("MajorImageVersion", 0), ("MinorImageVersion", 0),
            ("MajorSubsystemVersion", 5), ("MinorSubsystemVersion", 2),
            ("Win32VersionValue", 0), ("SizeOfImage", self.size_of_image), ("SizeOfHeaders", self.size_of_headers),
            ("CheckSum", 0), ("Subsystem", self.subsystem),
            ("DllCharacteristics", C.IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA
             | C.IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE | C.IMAGE_DLLCHARACTERISTICS_NX_COMPAT),
            ("SizeOfStackReserve", 0x200000), ("SizeOfStackCommit", 0x1000),
            ("SizeOfHeapReserve", 0x100000), ("SizeOfHeapCommit", 0x1000),
            ("LoaderFlags", 0), ("NumberOfRvaAndSizes", C.IMAGE_NUMBEROF_DIRECTORY_ENTRIES)])
        directories = b"".join(
            pack(f"data directory {i}", "II", [("VirtualAddress", rva), ("Size", size)])
            for i in range(C.IMAGE_NUMBEROF_DIRECTORY_ENTRIES)
            for rva, size in [self.directories.get(i, (0, 0))])
        out = fields + directories
        assert len(out) == C.OPTIONAL_HEADER64_SIZE
        return out


def with_checksum(image: bytearray) -> bytes:
    """Stores the PE checksum (16-bit one's-complement-style sum of the file plus its length) in the header."""
    image[CHECKSUM_OFFSET:CHECKSUM_OFFSET + 4] = bytes(4)
    total = word_sum(image)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    image[CHECKSUM_OFFSET:CHECKSUM_OFFSET + 4] = (total + len(image)).to_bytes(4, "little")
    return bytes(image)


def word_sum(data: bytes | bytearray) -> int:
    """The sum of ``data`` read as little-endian 16-bit words (an odd last byte is the low half of a word); the
    checksum folds it. Incremental updates add and subtract it for the bytes they replace."""
    words = array("H", data + b"\0" * (len(data) & 1))
    if sys.byteorder == "big":
        words.byteswap()
    return sum(words)
