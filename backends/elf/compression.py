"""``SHF_COMPRESSED`` debug sections: an ``Elf64_Chdr`` followed by a zlib stream of the section bytes."""
from __future__ import annotations

import struct
import zlib

from elftools.elf.constants import SH_FLAGS
from elftools.elf.enums import ENUM_ELFCOMPRESS_TYPE

from .elffile import ElfSection

_CHDR = struct.Struct("<IIQQ")


def compress(section: ElfSection) -> None:
    """Compresses a non-allocated section in place. Relocations keep referring to the uncompressed offsets."""
    header = _CHDR.pack(ENUM_ELFCOMPRESS_TYPE["ELFCOMPRESS_ZLIB"], 0, len(section.data), section.align)
    section.data = header + zlib.compress(section.data, 9)
    section.flags |= SH_FLAGS.SHF_COMPRESSED
    section.align = 8
