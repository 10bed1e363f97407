"""``.debug_frame`` and ``.eh_frame`` loaded as :class:`~dwarfkit.frame.CallFrames`: each CIE (with its "zPLR"
augmentation: personality, LSDA and FDE pointer encodings, signal frames) and FDE (with its LSDA) with its
instructions replayed through the model's own methods (``def_cfa``, ``offset``, ``advance_to``, ...). Addresses carry
their relocation's symbol in objects; PC-relative pointers of a linked file are resolved to addresses.
``.eh_frame`` is runtime data of the program: convert keeps the file's own and writes ``.debug_frame`` only.
"""
from __future__ import annotations

from typing import Any

from ..address import Address
from ..arch import Arch
from ..encoding import Encoding, decode_initial_length
from ..encoding import decode_uleb128 as uleb
from ..errors import DescriptionError, DwarfkitError, ReadError
from ..expr_decode import decode_expr
from ..frame import CallFrames, Cie
from ..program import DwarfBuilder
from ..reader.cfi import CfiError, FrameDumper, _pointer
from .state import LoadState

# Instruction name -> the model's method, and how its operands read: "r" register, "u"/"s" factored data offset,
# "o" plain offset, "e" expression.
_METHODS = {
    "DW_CFA_offset": ("offset", "ru"), "DW_CFA_offset_extended": ("offset_extended", "ru"),
    "DW_CFA_offset_extended_sf": ("offset_extended_sf", "rs"), "DW_CFA_restore": ("restore", "r"),
    "DW_CFA_restore_extended": ("restore_extended", "r"), "DW_CFA_undefined": ("undefined", "r"),
    "DW_CFA_same_value": ("same_value", "r"), "DW_CFA_register": ("register", "rr"),
    "DW_CFA_remember_state": ("remember_state", ""), "DW_CFA_restore_state": ("restore_state", ""),
    "DW_CFA_def_cfa": ("def_cfa", "ro"), "DW_CFA_def_cfa_sf": ("def_cfa_sf", "rs"),
    "DW_CFA_def_cfa_register": ("def_cfa_register", "r"), "DW_CFA_def_cfa_offset": ("def_cfa_offset", "o"),
    "DW_CFA_def_cfa_offset_sf": ("def_cfa_offset_sf", "s"), "DW_CFA_def_cfa_expression": ("def_cfa_expression", "e"),
    "DW_CFA_expression": ("expression", "re"), "DW_CFA_val_expression": ("val_expression", "re"),
    "DW_CFA_val_offset": ("val_offset", "ru"), "DW_CFA_val_offset_sf": ("val_offset_sf", "rs"),
    "DW_CFA_GNU_args_size": ("gnu_args_size", "o"),
    "DW_CFA_GNU_negative_offset_extended": ("gnu_negative_offset_extended", "rn"),
}
_ADVANCES = {"DW_CFA_advance_loc", "DW_CFA_advance_loc1", "DW_CFA_advance_loc2", "DW_CFA_advance_loc4"}


def load_debug_frame(loader: LoadState, dw: DwarfBuilder) -> CallFrames | None:
    """The file's ``.debug_frame`` (None when it has none)."""
    df = loader.df
    data = df.section("debug_frame")
    if not data:
        return None
    try:
        arch = Arch.parse(df.arch)
    except DwarfkitError:
        raise ReadError(f"{df.path}: .debug_frame of architecture {df.arch} cannot be loaded (x86_64, aarch64)")\
            from None
    frames = CallFrames(arch, dw.encoding)
    parser = FrameDumper(data, False, df.byteorder, df.address_size, df.arch, 0, ".debug_frame")
    relocs = df.relocations.get("debug_frame", {})
    cies: dict[int, Cie] = {}
    off = 0
    while off < len(data):
        start = off
        try:
            length, offset_size, off = decode_initial_length(data, off, df.byteorder)
            end = off + length
            if length == 0 or end > len(data):
                raise ReadError(f"{df.path}: .debug_frame[0x{start:x}]: entry length 0x{length:x} is invalid")
            cie_id = int.from_bytes(data[off:off + offset_size], df.byteorder)
            if cie_id == (1 << (8 * offset_size)) - 1:
                _cie(frames, parser, start, cies)
            else:
                cie = cies.get(cie_id) or _cie(frames, parser, cie_id, cies)
                raw = parser.parse_cie(cie_id)
                assert raw is not None
                size = raw["asz"]
                pc_at = off + offset_size
                pc = int.from_bytes(data[pc_at:pc_at + size], df.byteorder)
                ref = relocs.get(pc_at)
                address = Address(ref.symbol, ref.addend) if ref is not None and ref.kind == "address" \
                    else Address(None, pc)
                span = int.from_bytes(data[pc_at + size:pc_at + 2 * size], df.byteorder)
                fde = frames.fde(cie, address, span)
                _replay(fde, parser.instructions(pc_at + 2 * size, end, raw), raw, pc)
            off = end
        except (IndexError, CfiError, DescriptionError) as error:
            raise ReadError(f"{df.path}: .debug_frame[0x{start:x}]: entry cannot be loaded: {error}") from None
    return frames


def _cie(frames: CallFrames, parser: FrameDumper, at: int, cies: dict[int, Cie]) -> Cie:
    raw = parser.parse_cie(at)
    if raw is None:
        raise DescriptionError(f"no CIE at 0x{at:x}")
    cie = frames.cie(code_alignment=raw["code_align"], data_alignment=raw["data_align"],
                     return_address_register=raw["ra"], entry_rules=False)
    first, end = raw["instructions"]
    _replay(cie, parser.instructions(first, end, raw), raw, None)
    cies[at] = cie
    return cie


def _replay(target: Any, instructions: list, raw: dict, pc: int | None) -> None:
    """Calls the model's method for each decoded instruction (offsets unfactored: the methods factor them)."""
    code_align, data_align = raw["code_align"], raw["data_align"]
    location = 0
    enc = Encoding(4, 4, raw["asz"] or 8, target.byteorder)
    for name, _kinds, operands in instructions:
        if name in _ADVANCES:
            location += operands[0] * code_align
            target.advance_to(location)
            continue
        if name == "DW_CFA_set_loc":
            location = operands[0] - (pc or 0)
            target.advance_to(location)
            continue
        if name == "DW_CFA_nop":
            continue
        method, shapes = _METHODS[name]
        args: list[Any] = []
        for shape, value in zip(shapes, operands, strict=True):
            if shape in "us":
                args.append(value * data_align)
            elif shape == "n":
                args.append(-value * data_align)
            elif shape == "e":
                args.append(decode_expr(bytes(value), enc))
            else:
                args.append(value)
        getattr(target, method)(*args)


def load_eh_frame(loader: LoadState, dw: DwarfBuilder) -> CallFrames | None:
    """The file's ``.eh_frame`` (None when it has none or its architecture has no model)."""
    df = loader.df
    data = df.section("eh_frame")
    if not data:
        return None
    try:
        arch = Arch.parse(df.arch)
    except DwarfkitError:
        return None
    frames = CallFrames(arch, dw.encoding)
    base = df.addresses.get("eh_frame", 0)
    parser = FrameDumper(data, True, df.byteorder, df.address_size, df.arch, base, ".eh_frame")
    relocs = df.relocations.get("eh_frame", {})
    cies: dict[int, Cie] = {}
    off = 0
    while off + 4 <= len(data):
        start = off
        try:
            length, offset_size, off = decode_initial_length(data, off, df.byteorder)
            if length == 0:
                off = start + 4
                continue   # a terminator (a linker may leave one per input object)
            end = off + length
            if end > len(data):
                raise ReadError(f"{df.path}: .eh_frame[0x{start:x}]: entry length 0x{length:x} runs past the end")
            cie_id = int.from_bytes(data[off:off + 4], df.byteorder)
            if cie_id == 0:
                _eh_cie(frames, parser, start, cies, relocs)
            else:
                cie_at = off - cie_id
                cie = cies.get(cie_at) or _eh_cie(frames, parser, cie_at, cies, relocs)
                raw = parser.parse_cie(cie_at)
                assert raw is not None
                at = off + 4
                pc, p = _pointer(data, at, raw["fde_enc"], df.byteorder, df.address_size, base)
                span, p = _pointer(data, p, raw["fde_enc"] & 0x0F, df.byteorder, df.address_size, base)
                if pc is None or span is None:
                    raise CfiError("the FDE's address is omitted")
                lsda = None
                if raw["aug"].startswith("z"):
                    n, q = uleb(data, p)
                    if raw["lsda_enc"] != 0xFF and n:
                        value, _ = _pointer(data, q, raw["lsda_enc"], df.byteorder, df.address_size, base)
                        lsda = _symbolic(relocs, q, value)
                    p = q + n
                fde = frames.fde(cie, _symbolic(relocs, at, pc), span, lsda=lsda)
                _replay(fde, parser.instructions(p, end, raw), raw, pc)
            off = end
        except (IndexError, CfiError, DescriptionError) as error:
            raise ReadError(f"{df.path}: .eh_frame[0x{start:x}]: entry cannot be loaded: {error}") from None
    return frames


def _symbolic(relocs: dict, field: int, value: int | None) -> Address:
    """A pointer of ``.eh_frame``: its relocation's symbol in an object (PC-relative there), else the address."""
    ref = relocs.get(field)
    if ref is not None and ref.kind in ("pcrel", "address"):
        return Address(ref.symbol, ref.addend)
    return Address(None, value or 0)


def _eh_cie(frames: CallFrames, parser: FrameDumper, at: int, cies: dict[int, Cie], relocs: dict) -> Cie:
    raw = parser.parse_cie(at)
    if raw is None:
        raise DescriptionError(f"no CIE at 0x{at:x}")
    aug = raw["aug"]
    personality = None
    if raw["personality"] is not None:
        where = aug.index("P")   # the personality pointer's field: after the encodings before it
        field = raw["instructions"][0] - len(raw["aug_data"]) + 1 + sum(1 for c in aug[1:where] if c in "LR")
        personality = _symbolic(relocs, field, raw["personality"])
    cie = frames.cie(code_alignment=raw["code_align"], data_alignment=raw["data_align"],
                     return_address_register=raw["ra"], entry_rules=False, personality=personality,
                     **_encodings(raw))
    first, end = raw["instructions"]
    _replay(cie, parser.instructions(first, end, raw), raw, None)
    cies[at] = cie
    return cie


def _encodings(raw: dict) -> dict[str, Any]:
    aug = raw["aug"]
    out: dict[str, Any] = {"fde_encoding": raw["fde_enc"], "signal_frame": "S" in aug}
    if "L" in aug:
        out["lsda_encoding"] = raw["lsda_enc"]
    if "P" in aug:
        data = raw["aug_data"]
        out["personality_encoding"] = data[sum(1 for c in aug[1:aug.index("P")] if c in "LR")]
    return out
