"""COFF and PE constants (Microsoft PE/COFF specification). No Python library we depend on provides them.

Every number the COFF backend writes is named here, once.
"""
from __future__ import annotations

# -- machines (file header Machine) ------------------------------------------------------------------------------
IMAGE_FILE_MACHINE_AMD64 = 0x8664
IMAGE_FILE_MACHINE_ARM64 = 0xAA64

# -- file header Characteristics ----------------------------------------------------------------------------------
IMAGE_FILE_EXECUTABLE_IMAGE = 0x0002
IMAGE_FILE_LINE_NUMS_STRIPPED = 0x0004
IMAGE_FILE_LARGE_ADDRESS_AWARE = 0x0020

# -- section Characteristics ----------------------------------------------------------------------------------------
IMAGE_SCN_CNT_CODE = 0x00000020
IMAGE_SCN_CNT_INITIALIZED_DATA = 0x00000040
IMAGE_SCN_CNT_UNINITIALIZED_DATA = 0x00000080
IMAGE_SCN_ALIGN_SHIFT = 20
"""IMAGE_SCN_ALIGN_<n>BYTES is (log2(n) + 1) << 20, from 1 byte (0x00100000) to 8192 bytes (0x00E00000)."""
IMAGE_SCN_MAX_ALIGNMENT = 8192
IMAGE_SCN_LNK_NRELOC_OVFL = 0x01000000
IMAGE_SCN_MEM_DISCARDABLE = 0x02000000
IMAGE_SCN_MEM_EXECUTE = 0x20000000
IMAGE_SCN_MEM_READ = 0x40000000
IMAGE_SCN_MEM_WRITE = 0x80000000

# -- symbol table ---------------------------------------------------------------------------------------------------
IMAGE_SYM_UNDEFINED = 0
IMAGE_SYM_ABSOLUTE = -1
IMAGE_SYM_DEBUG = -2
IMAGE_SYM_TYPE_NULL = 0
IMAGE_SYM_DTYPE_FUNCTION = 0x20
"""Complex type "function" in the high nibble of the symbol Type."""
IMAGE_SYM_CLASS_EXTERNAL = 2
IMAGE_SYM_CLASS_STATIC = 3
IMAGE_SYM_CLASS_FILE = 0x67

# -- relocation types -------------------------------------------------------------------------------------------------
IMAGE_REL_AMD64_ADDR64 = 0x0001
IMAGE_REL_AMD64_ADDR32 = 0x0002
IMAGE_REL_AMD64_REL32 = 0x0004
IMAGE_REL_AMD64_SECREL = 0x000B

IMAGE_REL_ARM64_ADDR32 = 0x0001
IMAGE_REL_ARM64_SECREL = 0x0008
IMAGE_REL_ARM64_ADDR64 = 0x000E
IMAGE_REL_ARM64_REL32 = 0x0011

# -- base relocation types (.reloc) ---------------------------------------------------------------------------------
IMAGE_REL_BASED_ABSOLUTE = 0
"""Padding entry that keeps a block a multiple of 4 bytes."""
IMAGE_REL_BASED_HIGHLOW = 3
IMAGE_REL_BASED_DIR64 = 10

# -- PE optional header -----------------------------------------------------------------------------------------------
IMAGE_NT_OPTIONAL_HDR64_MAGIC = 0x20B
IMAGE_SUBSYSTEM_WINDOWS_GUI = 2
IMAGE_SUBSYSTEM_WINDOWS_CUI = 3
IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA = 0x0020
IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE = 0x0040
IMAGE_DLLCHARACTERISTICS_NX_COMPAT = 0x0100
IMAGE_NUMBEROF_DIRECTORY_ENTRIES = 16
IMAGE_DIRECTORY_ENTRY_IMPORT = 1
IMAGE_DIRECTORY_ENTRY_BASERELOC = 5
IMAGE_DIRECTORY_ENTRY_IAT = 12

# -- record sizes -----------------------------------------------------------------------------------------------------
FILE_HEADER_SIZE = 20
SECTION_HEADER_SIZE = 40
SYMBOL_SIZE = 18
RELOCATION_SIZE = 10
OPTIONAL_HEADER64_SIZE = 240
IMPORT_DESCRIPTOR_SIZE = 20
SHORT_NAME_SIZE = 8
"""Section and symbol names longer than this go to the string table."""

# -- limits ------------------------------------------------------------------------------------------------------------
MAX_OBJECT_SECTIONS = 0xFEFF
"""Section numbers are 16-bit signed with reserved negative values; more needs the /bigobj format."""
MAX_IMAGE_SECTIONS = 96
"""The Windows loader refuses images with more sections."""
MAX_RELOCATIONS_IN_HEADER = 0xFFFF
"""More relocations than this need IMAGE_SCN_LNK_NRELOC_OVFL."""

# -- only read (32-bit x86 and ARM objects and PE32 images written by other toolchains) ------------------------------
IMAGE_FILE_MACHINE_I386 = 0x014C
IMAGE_FILE_MACHINE_ARMNT = 0x01C4
IMAGE_REL_I386_DIR32 = 0x0006
IMAGE_REL_I386_SECREL = 0x000B
IMAGE_REL_ARM_ADDR32 = 0x0001
IMAGE_REL_ARM_SECREL = 0x000F
IMAGE_NT_OPTIONAL_HDR32_MAGIC = 0x10B
