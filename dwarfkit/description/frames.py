"""Call frames of a description: ``frames`` (per function of the description an FDE under the arch's standard CIE,
the instructions by name: ``[advance_to, body]``, ``[def_cfa_offset, 16]``) and ``debug_frame`` (``.debug_frame``
CIE by CIE and FDE by FDE, as :mod:`.describe_tables` writes a file's).

Each function takes the :class:`~.build._Builder` (``b``) for its error reporting and state (``code``, ``arch``,
``address``, ``expression``); ``function_frames`` is build's own ``_frames`` as it was, moved here to keep
``build.py`` small. Imports the core's call frames only.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..errors import DwarfkitError
from ..frame import CallFrames
from ..program import DwarfBuilder

# The CFI instructions a description may give (CallFrames' FDE methods), and advance_to (an offset or a label).
FRAME_OPS = {"advance_to", "def_cfa", "def_cfa_sf", "def_cfa_offset", "def_cfa_offset_sf", "def_cfa_register",
             "def_cfa_expression", "offset", "offset_extended", "offset_extended_sf", "gnu_negative_offset_extended",
             "val_offset", "val_offset_sf", "expression", "val_expression", "restore", "restore_extended",
             "same_value", "undefined", "register", "remember_state", "restore_state", "gnu_args_size",
             "negate_ra_state", "nop"}


def function_frames(b: Any, dw: DwarfBuilder, frames: Any) -> Any:
    """``.debug_frame``: per function an FDE (the arch's standard CIE) with the instructions given."""
    if not isinstance(frames, Mapping):
        raise b.fail(("frames",), "is a mapping of function -> CFI instructions: [[def_cfa_offset, 16], ...]")
    code = b.code
    call_frames = CallFrames(b.arch, dw.encoding)
    for function, instructions in frames.items():
        path: tuple = ("frames", function)
        if code is None or function not in code.functions:
            raise b.fail(path, f"{function!r} is not a function of the description")
        start, end = code.functions[function]
        fde = call_frames.fde(None, b._start(function), end - start)
        if not isinstance(instructions, list):
            raise b.fail(path, "is a list of CFI instructions: [advance_to, body], [offset, rbp, -16], ...")
        for n, instruction in enumerate(instructions):
            here = (*path, n)
            name, *operands = instruction if isinstance(instruction, list) and instruction else [instruction]
            if name not in FRAME_OPS:
                raise b.fail(here, f"{name!r} is not a CFI instruction (one of {', '.join(sorted(FRAME_OPS))})")
            if name == "advance_to":
                operands = [b._offset(function, operands[0], (*here, 1))] if operands else []
            operands = [b.expression(o, (*here, k + 1)) if isinstance(o, list) else o
                        for k, o in enumerate(operands)]
            try:
                getattr(fde, name)(*operands)
            except DwarfkitError as error:
                raise b.fail(here, str(error)) from None
            except TypeError:
                raise b.fail(here, f"{name}: wrong number of operands ({len(operands)})") from None
    try:
        return call_frames.debug_frame()
    except DwarfkitError as error:
        raise b.fail(("frames",), str(error)) from None


# The .eh_frame augmentation of a CIE (CallFrames.cie's keywords) and an FDE's LSDA: eh_frame only.
EH_CIE_KEYS = {"personality", "personality_encoding", "lsda_encoding", "fde_encoding", "signal_frame"}


def debug_frame(b: Any, spec: Any, key: str = "debug_frame") -> CallFrames:
    """``debug_frame: {cies: [...], fdes: [...]}``: each CIE's alignment factors, return address register and
    instructions, each FDE's CIE (by index), start, length and instructions: the calls that make them
    (``[advance_to, 4]``, ``[def_cfa_offset, 16]``, ``[offset, 6, -16]``: the methods of
    :class:`~dwarfkit.cfa.CfaInstructions` by name, as in ``frames``), or their bytes (``{hex: ...}``).
    ``key`` ``eh_frame``: the same for ``.eh_frame``, whose CIEs may also give their augmentation
    (``personality``, ``personality_encoding``, ``lsda_encoding``, ``fde_encoding``, ``signal_frame``) and FDEs an
    ``lsda``."""
    path: tuple = (key,)
    eh = key == "eh_frame"
    if not isinstance(spec, Mapping):
        raise b.fail(path, "is a mapping: cies, fdes")
    b._known(spec, {"cies", "fdes"}, path)
    frames = CallFrames(b.arch, b.dw.encoding)
    cies = []
    for n, cie_spec in enumerate(spec.get("cies", [])):
        here = (*path, "cies", n)
        b._known(cie_spec, {"code_alignment", "data_alignment", "return_address_register", "instructions",
                            *(EH_CIE_KEYS if eh else ())}, here)
        augmentation = {k: cie_spec[k] for k in EH_CIE_KEYS if k in cie_spec}
        if "personality" in augmentation:
            augmentation["personality"] = b.address(augmentation["personality"], (*here, "personality"))
        try:
            cie = frames.cie(code_alignment=cie_spec.get("code_alignment"),
                             data_alignment=cie_spec.get("data_alignment"),
                             return_address_register=cie_spec.get("return_address_register"), entry_rules=False,
                             **augmentation)
        except DwarfkitError as error:
            raise b.fail(here, str(error)) from None
        _instructions(b, cie, cie_spec.get("instructions"), (*here, "instructions"))
        cies.append(cie)
    for n, fde_spec in enumerate(spec.get("fdes", [])):
        here = (*path, "fdes", n)
        b._known(fde_spec, {"cie", "start", "length", "instructions", *(("lsda",) if eh else ())}, here)
        index = fde_spec.get("cie", 0)
        if not isinstance(index, int) or not 0 <= index < len(cies):
            raise b.fail((*here, "cie"), f"{index!r} is not the index of a CIE (0..{len(cies) - 1})")
        lsda = b.address(fde_spec["lsda"], (*here, "lsda")) if "lsda" in fde_spec else None
        try:
            fde = frames.fde(cies[index], b.address(fde_spec.get("start"), (*here, "start")), fde_spec.get("length"),
                             lsda=lsda)
        except DwarfkitError as error:
            raise b.fail(here, str(error)) from None
        _instructions(b, fde, fde_spec.get("instructions"), (*here, "instructions"))
    return frames


def _instructions(b: Any, entry: Any, spec: Any, path: tuple) -> None:
    if spec is None:
        return
    if isinstance(spec, Mapping) and set(spec) == {"hex"}:
        try:
            entry.instructions = bytearray.fromhex(str(spec["hex"]))
        except ValueError:
            raise b.fail(path, "is not hex bytes") from None
        return
    if not isinstance(spec, list):
        raise b.fail(path, "is a list of CFI instructions ([def_cfa, 7, 8], [advance_to, 4], ...) or {hex: BYTES}")
    for n, instruction in enumerate(spec):
        here = (*path, n)
        name, *operands = instruction if isinstance(instruction, list) and instruction else [instruction]
        if name not in FRAME_OPS or name == "advance_to" and not hasattr(entry, "advance_to"):
            raise b.fail(here, f"{name!r} is not a CFI instruction here (one of {', '.join(sorted(FRAME_OPS))}; "
                               f"advance_to in an FDE)")
        operands = [b.expression(o, (*here, k + 1)) if isinstance(o, list) else o for k, o in enumerate(operands)]
        try:
            getattr(entry, name)(*operands)
        except DwarfkitError as error:
            raise b.fail(here, str(error)) from None
        except TypeError:
            raise b.fail(here, f"{name}: wrong number of operands ({len(operands)})") from None
