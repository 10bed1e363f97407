"""The compiler driver: source text in, a :class:`dwarfkit.Image` out (code, data, symbols and DWARF), ready for
any dwarfkit backend, e.g. ``dwarfkit.backends.elf.write_executable(image, "shapes")``."""
from __future__ import annotations

from dataclasses import dataclass

from dwarfkit import Arch, ContentSection, Image, Relocation, RelocKind, SectionKind, Symbol, SymbolKind
from dwarfkit.asm import Assembly, assemble

from . import syntax as s
from .check import check
from .codegen import FunctionCode, Target, generate
from .debuginfo import describe
from .parser import parse
from .target_aarch64 import AArch64
from .target_x86_64 import X86_64

TARGETS: dict[Arch, type[Target]] = {Arch.X86_64: X86_64, Arch.AARCH64: AArch64}
"""The code generator's instructions for each architecture."""

FUNCTION_ALIGNMENT = 16
"""Where each function starts; aarch64's literal pools rely on it to place their 8-byte words."""


@dataclass
class Compilation:
    """Everything the compiler produced, for tools and tests that look inside (the Image is ``image``)."""
    program: s.Program
    functions: list[FunctionCode]
    assembly: Assembly
    data_offsets: dict[str, int]
    """Offset of each global in ``.data``."""
    image: Image


WINDOWS_IMPORTS = {"kernel32.dll": ["ExitProcess"]}
"""What a ``platform="windows"`` image imports: pass it to ``dwarfkit.backends.coff.write_pe(..., imports=)``."""


def compile_program(source: str, arch: Arch | str, filename: str = "<input>", *, comp_dir: str = "/",
                    debug_info: bool = True, dwarf_version: int = 5, platform: str = "linux",
                    split_dwarf: bool = False) -> Image:
    """Compiles a minic program to an executable image whose entry point ``_start`` runs ``main`` and exits with
    its result. ``comp_dir`` is the directory ``filename`` is relative to (where a debugger finds the source).
    ``platform`` says how ``_start`` exits: "linux" (exit syscall), "windows" (kernel32's ExitProcess through the
    import slot ``__imp_ExitProcess``, an undefined symbol of the image; x86_64 only) or "macos" (exit syscall).
    ``split_dwarf``: the DIEs go into a ``.dwo`` (``image.dwarf.dwo``; the ELF backend writes it beside the output).
    Raises :class:`examples.minic.CompileError` on a bad program."""
    return compile_to(source, arch, filename, comp_dir=comp_dir, debug_info=debug_info,
                      dwarf_version=dwarf_version, platform=platform, split_dwarf=split_dwarf).image


def compile_to(source: str, arch: Arch | str, filename: str = "<input>", *, comp_dir: str = "/",
               debug_info: bool = True, dwarf_version: int = 5, platform: str = "linux",
               split_dwarf: bool = False) -> Compilation:
    """Like :func:`compile_program`, keeping the intermediate results."""
    arch = Arch.parse(arch) if isinstance(arch, str) else arch
    program = check(parse(source, filename))
    functions = generate(program, TARGETS[arch], platform)
    assembly = assemble(arch, [(f.name, f.text) for f in functions], align=FUNCTION_ALIGNMENT)

    text = ContentSection(".text", SectionKind.CODE, assembly.code, alignment=16)
    for f in functions:
        for field in f.addresses:
            text.relocations.append(Relocation(assembly.labels[field.label] + field.delta, 8, RelocKind.ADDRESS,
                                               field.symbol))
    symbols = [Symbol(name, ".text", start, end - start, SymbolKind.FUNCTION)
               for name, (start, end) in assembly.functions.items()]

    data, data_offsets = data_section(program)
    sections = [text]
    if data.byte_size:
        sections.append(data)
        symbols += [Symbol(g.name, ".data", data_offsets[g.name], s.size_of(g.type),  # type: ignore[arg-type]
                           SymbolKind.OBJECT) for g in program.globals]
    defined = {sym.name for sym in symbols}
    symbols += [Symbol(name, None, kind=SymbolKind.NOTYPE)  # e.g. an import slot, which the linker provides
                for name in sorted({r.target for r in text.relocations} - defined)]
    image = Image(arch, sections, symbols, entry="_start")
    result = Compilation(program, functions, assembly, data_offsets, image)
    if debug_info:
        # No .eh_frame on Windows: its unwinder reads .pdata/.xdata, and a COFF object's .eh_frame would need
        # pc-relative relocations that COFF DWARF readers (llvm-dwarfdump) do not apply.
        # No .debug_line_str for macOS: lldb-14 maps no Mach-O __debug_line_str (later lldb versions do).
        image.dwarf = describe(result, comp_dir=comp_dir, version=dwarf_version, eh_frame=platform != "windows",
                               line_strings=platform != "macos", split=split_dwarf)
    image.validate()
    return result


def data_section(program: s.Program) -> tuple[ContentSection, dict[str, int]]:
    """Every global's initial bytes, back to back (all are multiples of 8 bytes). An ``&global`` initializer is an
    ADDRESS relocation whose stored bytes hold the addend (the field offset), as dwarfkit.sections prescribes."""
    data = bytearray()
    relocations: list[Relocation] = []
    offsets: dict[str, int] = {}
    for g in program.globals:
        offsets[g.name] = len(data)
        assert g.type is not None
        items: list[s.Initializer | None] = [None] * (s.size_of(g.type) // s.WORD)
        if g.init is not None:
            items = list(g.init.items) if g.init.items is not None else [g.init]
        for item in items:
            value = 0
            if item is not None and item.number is not None:
                value = item.number
            elif item is not None:
                target = next(t for t in program.globals if t.name == item.address_of)
                field = target.type.field(item.field_name) if item.field_name else None  # type: ignore[union-attr]
                value = field.offset if field else 0
                relocations.append(Relocation(len(data), 8, RelocKind.ADDRESS, target.name, value))
            data += (value & ((1 << 64) - 1)).to_bytes(8, "little")
    return ContentSection(".data", SectionKind.DATA, bytes(data), alignment=8, relocations=relocations), offsets
