"""Mach-O constants (from Apple's <mach-o/loader.h>, <mach-o/nlist.h>, <mach-o/reloc.h>, <mach-o/arm64/reloc.h>,
<mach-o/x86_64/reloc.h>, <mach-o/fat.h>). No Python library we depend on provides them; they live here once."""
from __future__ import annotations

from dwarfkit.arch import Arch

MH_MAGIC_64 = 0xFEEDFACF
MH_CIGAM_64 = 0xCFFAEDFE
MH_MAGIC = 0xFEEDFACE
MH_CIGAM = 0xCEFAEDFE
FAT_MAGIC = 0xCAFEBABE
FAT_MAGIC_64 = 0xCAFEBABF

# File types
MH_OBJECT = 0x1
MH_EXECUTE = 0x2
MH_DSYM = 0xA

# Header flags
MH_NOUNDEFS = 0x1
MH_DYLDLINK = 0x4
MH_TWOLEVEL = 0x80
MH_SUBSECTIONS_VIA_SYMBOLS = 0x2000
MH_PIE = 0x200000

# CPU types
CPU_ARCH_ABI64 = 0x01000000
CPU_TYPE_X86_64 = 7 | CPU_ARCH_ABI64
CPU_TYPE_ARM64 = 12 | CPU_ARCH_ABI64
CPU_SUBTYPE_X86_64_ALL = 3
CPU_SUBTYPE_ARM64_ALL = 0

CPU_TYPES: dict[Arch, tuple[int, int]] = {
    Arch.X86_64: (CPU_TYPE_X86_64, CPU_SUBTYPE_X86_64_ALL),
    Arch.AARCH64: (CPU_TYPE_ARM64, CPU_SUBTYPE_ARM64_ALL),
}
CPU_NAMES: dict[int, str] = {CPU_TYPE_X86_64: "x86_64", CPU_TYPE_ARM64: "arm64"}

# Load commands
LC_REQ_DYLD = 0x80000000
LC_SYMTAB = 0x2
LC_DYSYMTAB = 0xB
LC_LOAD_DYLINKER = 0xE
LC_SEGMENT_64 = 0x19
LC_UUID = 0x1B
LC_CODE_SIGNATURE = 0x1D
LC_DYLD_INFO_ONLY = 0x22 | LC_REQ_DYLD
LC_FUNCTION_STARTS = 0x26
LC_MAIN = 0x28 | LC_REQ_DYLD
LC_DATA_IN_CODE = 0x29
LC_BUILD_VERSION = 0x32

# Virtual memory protections
VM_PROT_READ = 0x1
VM_PROT_WRITE = 0x2
VM_PROT_EXECUTE = 0x4

# Section types and attributes
S_REGULAR = 0x0
S_ZEROFILL = 0x1
S_CSTRING_LITERALS = 0x2
S_COALESCED = 0xB
S_ATTR_NO_TOC = 0x40000000
S_ATTR_STRIP_STATIC_SYMS = 0x20000000
S_ATTR_LIVE_SUPPORT = 0x08000000
S_ATTR_PURE_INSTRUCTIONS = 0x80000000
S_ATTR_DEBUG = 0x02000000
S_ATTR_SOME_INSTRUCTIONS = 0x00000400
SECTION_TYPE_MASK = 0xFF

# Symbol table (nlist_64.n_type)
N_STAB = 0xE0
N_PEXT = 0x10
N_TYPE = 0x0E
N_EXT = 0x01
N_UNDF = 0x0
N_ABS = 0x2
N_SECT = 0xE
NO_SECT = 0
REFERENCED_DYNAMICALLY = 0x0010  # n_desc of __mh_execute_header

# Relocations (relocation_info.r_type)
X86_64_RELOC_UNSIGNED = 0
X86_64_RELOC_SIGNED = 1
X86_64_RELOC_BRANCH = 2
ARM64_RELOC_UNSIGNED = 0

# Build version
PLATFORM_MACOS = 1
TOOL_LD = 3

# Sizes of fixed structures
MACH_HEADER_64_SIZE = 32
SEGMENT_COMMAND_64_SIZE = 72
SECTION_64_SIZE = 80
NLIST_64_SIZE = 16
RELOCATION_INFO_SIZE = 8

PAGE_SIZES: dict[Arch, int] = {Arch.X86_64: 0x1000, Arch.AARCH64: 0x4000}
PAGEZERO_SIZE = 0x1_0000_0000
"""Executables reserve the low 4 GiB; code starts at 0x1_0000_0000, as ld64 and ld64.lld place it."""

NAME_LENGTH = 16
"""Segment and section names are fixed 16-byte fields (no terminating NUL when full)."""

# -- only read (files written by other toolchains: 32-bit, GB/TLS zero-fill, SUBTRACTOR pairs in objects) ------------
LC_SEGMENT = 0x1
LC_DYLD_INFO = 0x22
LINKEDIT_DATA_COMMANDS: dict[int, str] = {
    LC_CODE_SIGNATURE: "LC_CODE_SIGNATURE", 0x1E: "LC_SEGMENT_SPLIT_INFO", LC_FUNCTION_STARTS: "LC_FUNCTION_STARTS",
    LC_DATA_IN_CODE: "LC_DATA_IN_CODE", 0x2B: "LC_DYLIB_CODE_SIGN_DRS", 0x2E: "LC_LINKER_OPTIMIZATION_HINT",
    0x33 | LC_REQ_DYLD: "LC_DYLD_EXPORTS_TRIE", 0x34 | LC_REQ_DYLD: "LC_DYLD_CHAINED_FIXUPS"}
"""The ``linkedit_data_command``s (a ``dataoff``/``datasize`` blob in ``__LINKEDIT``), by their names."""
DYLD_INFO_COMMANDS: dict[int, str] = {LC_DYLD_INFO: "LC_DYLD_INFO", LC_DYLD_INFO_ONLY: "LC_DYLD_INFO_ONLY"}
S_GB_ZEROFILL = 0xC
S_THREAD_LOCAL_ZEROFILL = 0x12
CPU_TYPE_I386 = 7
CPU_TYPE_ARM = 12
X86_64_RELOC_SUBTRACTOR = 5
ARM64_RELOC_SUBTRACTOR = 1
