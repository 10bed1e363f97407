"""Real machine code for tests and examples: assemble functions with keystone, find instruction starts with capstone.

keystone does not report where labels land. Sources are therefore written one instruction per line: the assembled
blob is swept linearly with capstone, which must find exactly as many instructions as there are source lines, and a
label's offset is the start of the instruction that follows it. Functions are laid out back to back at an alignment,
padded with trap (x86_64 ``int3``) or ``nop`` (aarch64) instructions; the layout is repeated until jump sizes settle.

keystone 0.9.2 never initialises its engine's default radix (``MCAsmInfo::Radix``; keystone issues #528, #608): when
the heap memory it lands in happens to hold 16, every decimal literal is read as hex, ``mov eax, 60`` becomes
``mov eax, 0x60``. Its one setter, ``ks_option``, sets 16. So every engine here is set to radix 16 and every decimal
literal of a source is rewritten in hex (:func:`radix_free`) before keystone sees it.

API: ``assemble(arch, [(name, text)])`` -> :class:`Assembly` (code, functions, labels, instruction starts);
``encode(arch, text)`` for label-free code (use it, never a bare ``Ks``); ``check_instruction_starts``,
``check_line_program``, ``check_call_frames`` test that rows and FDEs start at instructions. Imports the foundations,
``frame`` and ``line`` (for the checks), and keystone/capstone lazily.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from .address import Address
from .arch import Arch
from .errors import DescriptionError, DwarfkitError, ToolError
from .frame import CallFrames
from .line import LineProgram

# Default function alignment: what compilers use (x86_64 16 bytes, aarch64 instructions are 4-byte aligned).
_ALIGN = {Arch.X86_64: 16, Arch.AARCH64: 4}
_PAD = {Arch.X86_64: ("int3", 1), Arch.AARCH64: ("nop", 4)}
_COMMENT = {Arch.X86_64: r"#|//", Arch.AARCH64: r"//"}  # '#' starts an immediate on aarch64
_LABEL = re.compile(r"^\s*([A-Za-z_.$][\w.$]*)\s*:\s*(.*)$")


@dataclass
class Assembly:
    arch: Arch
    code: bytes
    functions: dict[str, tuple[int, int]]
    """Function name -> (start, end) offsets; the end excludes the alignment padding after it."""
    labels: dict[str, int]
    """Every label -> offset: functions by name, local labels as ``function.label`` and, when unique, bare."""
    instruction_starts: list[int]
    """Sorted offsets where instructions begin, from capstone's sweep of ``code``."""


# A decimal literal: not part of a name (x29, r8d, a label), a hex or float literal, or a quoted string.
_DECIMAL = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\w.$])[1-9][0-9]*(?![\w.$])')


def radix_free(source: str) -> str:
    """``source`` with every decimal literal in hex (``[rbp - 24]`` -> ``[rbp - 0x18]``): the same value whatever
    default radix a keystone engine has."""
    return _DECIMAL.sub(lambda m: m[0] if m[0].startswith('"') else hex(int(m[0])), source)


@functools.cache
def _engines(arch: Arch) -> tuple[Any, Any, type[Exception]]:
    """(keystone assembler, capstone disassembler, keystone's error class) for ``arch``, made once each."""
    try:
        import capstone
        import keystone
    except ImportError as e:  # pragma: no cover - both are dependencies
        raise ToolError(f"dwarfkit.asm needs keystone-engine and capstone: {e}") from None
    if arch is Arch.X86_64:
        ks, cs = (keystone.Ks(keystone.KS_ARCH_X86, keystone.KS_MODE_64),
                  capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64))
    else:
        ks, cs = (keystone.Ks(keystone.KS_ARCH_ARM64, keystone.KS_MODE_LITTLE_ENDIAN),
                  capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM))
    # Setting any option (here: no symbol resolver, as before) sets the radix to 16 instead of uninitialised memory,
    # so that a decimal literal radix_free missed is misread every time, not once in a while.
    ks.sym_resolver = 0
    return ks, cs, keystone.KsError


def encode(arch: Arch, source: str, address: int = 0) -> bytes:
    """keystone's machine code for ``source`` (Intel syntax on x86_64) at ``address``, decimal literals read as
    decimal. Raises keystone.KsError if keystone rejects it. :func:`assemble` also reports where labels land."""
    ks, _, _ = _engines(arch)
    return bytes(ks.asm(radix_free(source), address)[0] or b"")


def sweep(arch: Arch, code: bytes) -> list[int]:
    """Instruction starts of ``code``, decoded linearly from offset 0. Undecodable bytes are an error."""
    _, cs, _ = _engines(arch)
    starts = []
    end = 0
    for address, size, _, _ in cs.disasm_lite(code, 0):
        starts.append(address)
        end = address + size
    if end != len(code):
        raise DescriptionError(f"{arch.info.name} code: bytes at offset {end:#x} do not decode as an instruction")
    return starts


@dataclass
class _Function:
    name: str
    lines: list[str]                      # instructions, labels already renamed
    labels: dict[str, int]                # local label -> index into lines (len(lines): the end)
    mangled: dict[str, str]               # local label -> its name in the joined source


def _parse(arch: Arch, index: int, name: str, text: str) -> _Function:
    local: dict[str, int] = {}
    raw: list[str] = []
    for line in text.splitlines():
        line = re.split(_COMMENT[arch], line, maxsplit=1)[0].strip()
        while True:
            m = _LABEL.match(line)
            if not m:
                break
            if m.group(1) in local:
                raise DescriptionError(f"function {name!r}: label {m.group(1)!r} defined twice")
            local[m.group(1)] = len(raw)
            line = m.group(2).strip()
        if not line:
            continue
        if ";" in line:
            raise DescriptionError(f"function {name!r}: {line!r}: write one instruction per line")
        raw.append(line)
    if not raw:
        raise DescriptionError(f"function {name!r} has no instructions")
    # Local labels get names no other function uses; references inside this function follow.
    renames = {label: f"__dk_{index}_{i}" for i, label in enumerate(local)}
    if renames:
        pattern = re.compile(r"(?<![\w.$])(" + "|".join(re.escape(name) for name in renames) + r")(?![\w.$])")
        raw = [pattern.sub(lambda m: renames[m.group(1)], line) for line in raw]
    return _Function(name, raw, local, renames)


def assemble(arch: Arch | str, functions: Sequence[tuple[str, str]], *, align: int | None = None) -> Assembly:
    """Assembles ``(name, text)`` functions (Intel syntax on x86_64), laid out from offset 0 at ``align``;
    ``arch`` an :class:`Arch` or its name."""
    if isinstance(arch, str):
        arch = Arch.parse(arch)
    elif not isinstance(arch, Arch):
        raise DescriptionError(f"assemble: {arch!r} is not an Arch or an architecture name")
    align = align or _ALIGN[arch]
    _, _, ks_error = _engines(arch)
    names = [name for name, _ in functions]
    if len(set(names)) != len(names):
        raise DescriptionError(f"function names are not unique: {names}")
    parsed = [_parse(arch, i, name, text) for i, (name, text) in enumerate(functions)]
    pad_text, pad_size = _PAD[arch]
    pads = [0] * len(parsed)  # padding instructions after each function
    for _ in range(8):
        source = []
        first = []  # index of each function's first instruction
        count = 0
        for f, pad in zip(parsed, pads, strict=True):
            first.append(count)
            source.append(f"{f.name}:")
            for i, line in enumerate(f.lines + [None]):
                source.extend(f"{f.mangled[label]}:" for label, at in f.labels.items() if at == i)
                if line is not None:
                    source.append(line)
            source.extend([pad_text] * pad)
            count += len(f.lines) + pad
        try:
            code = encode(arch, "\n".join(source) + "\n")
        except ks_error as e:
            raise _locate_error(arch, ks_error, parsed, e) from None
        try:
            starts = sweep(arch, code)
        except DescriptionError:
            raise _miscounted(arch, ks_error, parsed, -1, count) from None
        if len(starts) != count:
            raise _miscounted(arch, ks_error, parsed, len(starts), count)
        bounds = starts + [len(code)]
        ends = [bounds[i + len(f.lines)] for i, f in zip(first, parsed, strict=True)]
        # Each function's end moves by the change of the padding before it: count that in, so that one round
        # places every function (one function per round otherwise, and more than 8 never settle).
        wanted = []
        shift = 0
        for end, pad in zip(ends[:-1], pads, strict=False):
            wanted.append((-(end + shift) % align) // pad_size)
            shift += (wanted[-1] - pad) * pad_size
        wanted.append(0)
        if wanted == pads:
            break
        pads = wanted
    else:
        raise ToolError("function layout did not settle after 8 rounds")

    labels: dict[str, int] = {}
    bare: dict[str, list[int]] = {}
    layout = {}
    for f, i, end in zip(parsed, first, ends, strict=True):
        layout[f.name] = (bounds[i], end)
        labels[f.name] = bounds[i]
        for label, index in f.labels.items():
            offset = bounds[i + index] if index < len(f.lines) else end
            labels[f"{f.name}.{label}"] = offset
            bare.setdefault(label, []).append(offset)
    for label, offsets in bare.items():
        if len(offsets) == 1 and label not in labels:
            labels[label] = offsets[0]
    return Assembly(arch, code, layout, labels, starts)


def _prelude(parsed: list[_Function]) -> tuple[str, dict[str, str]]:
    """Every label defined at 0, so that one line assembles alone; and mangled -> readable label names."""
    labels = [f.name for f in parsed] + [m for f in parsed for m in f.mangled.values()]
    readable = {m: label for f in parsed for label, m in f.mangled.items()}
    return "".join(f"{label}:\n" for label in labels), readable


def _shown(line: str, readable: dict[str, str]) -> str:
    return re.sub(r"__dk_\d+_\d+", lambda m: readable[m.group(0)], line)


def _miscounted(arch: Arch, ks_error: type[Exception], parsed: list[_Function], found: int,
                count: int) -> DwarfkitError:
    """keystone accepts some malformed lines silently (emitting nothing, or a prefix that merges with the next
    line): find the first line that is not exactly one instruction on its own."""
    prelude, readable = _prelude(parsed)
    for f in parsed:
        for line in f.lines:
            try:
                n = len(sweep(arch, encode(arch, prelude + line + "\n")))
                problem = "" if n == 1 else f"assembles to {n} instructions"
            except ks_error as e:
                problem = f"does not assemble: {e}"
            except DescriptionError:
                problem = "is not a whole instruction"
            if problem:
                return DescriptionError(f"function {f.name!r}: {_shown(line, readable)!r} {problem} "
                                        f"({arch.info.name}; write one instruction per line)")
    return ToolError(f"capstone found {found} instructions where the source has {count}")


def _locate_error(arch: Arch, ks_error: type[Exception], parsed: list[_Function], error: Exception) -> DescriptionError:
    """keystone names no line: assemble each line alone, every label defined, to find the first bad one."""
    prelude, readable = _prelude(parsed)
    for f in parsed:
        for line in f.lines:
            try:
                encode(arch, prelude + line + "\n")
            except ks_error as e:
                return DescriptionError(f"function {f.name!r}: {_shown(line, readable)!r} does not assemble for "
                                        f"{arch.info.name}: {e}")
    return DescriptionError(f"{arch.info.name} assembly failed: {error}")


def check_instruction_starts(arch: Arch, code: bytes, addresses: Iterable[int], base: int = 0) -> None:
    """Raises DescriptionError listing every address (code loaded at ``base``) that is not an instruction start.

    The address just past the code counts as a boundary (a function or sequence may end there).
    """
    valid = set(sweep(arch, code))
    valid.add(len(code))
    bad = sorted({a for a in addresses if a - base not in valid})
    if bad:
        raise DescriptionError(f"{len(bad)} address(es) are not instruction starts in the {arch.info.name} code at "
                               f"{base:#x}: " + ", ".join(f"{a:#x}" for a in bad))


def _origin(start: Address, assembly: Assembly, base: int) -> int | None:
    """Code offset of a sequence or FDE start: a label of the assembly, or a plain address with the code at base."""
    if start.symbol is None:
        return start.offset - base
    if start.symbol not in assembly.labels:
        return None
    return assembly.labels[start.symbol] + start.offset


def check_call_frames(frames: CallFrames, assembly: Assembly, base: int = 0) -> None:
    """Every FDE's start, end and rule change (``advance_to``) must fall on an instruction start of ``assembly``."""
    valid = set(assembly.instruction_starts)
    valid.add(len(assembly.code))
    problems = []
    for fde in frames.fdes:
        origin = _origin(fde.start, assembly, base)
        if origin is None:
            problems.append(f"FDE at {fde.start}: no label {fde.start.symbol!r} in the assembly")
            continue
        points = [("start", 0), ("end", fde.length)] + [(f"location {o:#x}", o) for o in fde.locations]
        problems += [f"FDE at {fde.start}, {where}: code offset {origin + o:#x} is not an instruction start"
                     for where, o in points if origin + o not in valid]
    if problems:
        raise DescriptionError("call frames: " + "; ".join(problems))


def check_line_program(program: LineProgram, assembly: Assembly, base: int = 0) -> None:
    """Every row and sequence end of ``program`` must fall on an instruction start of ``assembly``.

    Symbolic sequence starts are looked up in ``assembly.labels``; plain ones are addresses with the code at ``base``.
    """
    valid = set(assembly.instruction_starts)
    valid.add(len(assembly.code))
    problems = []
    for seq in program.sequences:
        origin = _origin(seq.start, assembly, base)
        if origin is None:
            problems.append(f"sequence at {seq.start}: no label {seq.start.symbol!r} in the assembly")
            continue
        points = [(f"row {i}", row[0]) for i, row in enumerate(seq.rows)]
        if seq.end_address is not None:
            points.append(("end", seq.end_address))
        for where, offset in points:
            if origin + offset not in valid:
                problems.append(f"sequence at {seq.start}, {where}: offset {offset:#x} (code offset "
                                f"{origin + offset:#x}) is not an instruction start")
    if problems:
        raise DescriptionError(f"line program {program.name!r}: " + "; ".join(problems))
