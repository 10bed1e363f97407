"""Ad-hoc code signature (``LC_CODE_SIGNATURE``), which macOS on arm64 demands of every executable and ld64.lld writes.

A SuperBlob holding one CodeDirectory: the SHA-256 of every 4 KiB page of the file before the signature. All fields
are big-endian. The signature's size depends only on the file size before it, so the load command can be written first
and the hashes computed last.
"""
from __future__ import annotations

import hashlib
import struct

CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CSSLOT_CODEDIRECTORY = 0
CS_ADHOC = 0x2
CS_LINKER_SIGNED = 0x20000
CS_EXECSEG_MAIN_BINARY = 0x1
CS_HASHTYPE_SHA256 = 2
CODE_DIRECTORY_VERSION = 0x20400
PAGE_SHIFT = 12
HASH_SIZE = 32

_SUPERBLOB = ">III"          # magic, length, count
_BLOB_INDEX = ">II"          # type, offset
_CODE_DIRECTORY = ">IIIIIIIIIBBBBIIIIQQQQ"
_HEADERS = struct.calcsize(_SUPERBLOB) + struct.calcsize(_BLOB_INDEX)
ALIGNMENT = 16
"""The signature starts at a 16-byte boundary of the file and its size is a multiple of 16."""


def signature_size(code_limit: int, identifier: str) -> int:
    pages = -(-code_limit // (1 << PAGE_SHIFT))
    size = _HEADERS + struct.calcsize(_CODE_DIRECTORY) + len(identifier.encode()) + 1 + pages * HASH_SIZE
    return -(-size // ALIGNMENT) * ALIGNMENT


def code_signature(data: bytes, identifier: str, text_offset: int, text_size: int) -> bytes:
    """The signature of ``data`` (the whole file before the signature)."""
    page = 1 << PAGE_SHIFT
    hashes = b"".join(hashlib.sha256(data[i:i + page]).digest() for i in range(0, len(data), page))
    ident = identifier.encode() + b"\0"
    header_size = struct.calcsize(_CODE_DIRECTORY)
    length = header_size + len(ident) + len(hashes)
    directory = struct.pack(_CODE_DIRECTORY, CSMAGIC_CODEDIRECTORY, length, CODE_DIRECTORY_VERSION,
                            CS_ADHOC | CS_LINKER_SIGNED, header_size + len(ident), header_size, 0,
                            len(hashes) // HASH_SIZE, len(data), HASH_SIZE, CS_HASHTYPE_SHA256, 0, PAGE_SHIFT,
                            0, 0, 0, 0, 0, text_offset, text_size, CS_EXECSEG_MAIN_BINARY)
    blob = struct.pack(_SUPERBLOB, CSMAGIC_EMBEDDED_SIGNATURE, _HEADERS + length, 1) + \
        struct.pack(_BLOB_INDEX, CSSLOT_CODEDIRECTORY, _HEADERS) + directory + ident + hashes
    return blob + bytes(signature_size(len(data), identifier) - len(blob))
