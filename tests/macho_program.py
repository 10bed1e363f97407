"""A small real program for the Mach-O tests: two functions (one calling the other on x86_64), data and bss.

``build_image(arch)`` gives the container-neutral Image without DWARF; ``helper`` is local, ``main`` and ``counter``
global, ``scratch`` a local in bss.
"""
from __future__ import annotations

from dwarfkit import Arch, ContentSection, Image, Relocation, RelocKind, SectionKind, Symbol, SymbolKind

# Machine code, written once per architecture. x86_64: main calls helper through a PC-relative field.
CODE = {
    Arch.X86_64: {
        "helper": "push rbp; mov rbp, rsp; mov dword ptr [rbp - 4], edi; mov eax, dword ptr [rbp - 4]; "
                  "add eax, 1; pop rbp; ret",
        "main": "push rbp; mov rbp, rsp; sub rsp, 16; mov edi, 41; call 0; mov dword ptr [rbp - 4], eax; "
                "mov eax, dword ptr [rbp - 4]; add rsp, 16; pop rbp; ret",
    },
    Arch.AARCH64: {
        "helper": "sub sp, sp, #16; str w0, [sp, #12]; ldr w8, [sp, #12]; add w0, w8, #1; add sp, sp, #16; ret",
        "main": "sub sp, sp, #16; mov w8, #42; str w8, [sp, #12]; ldr w0, [sp, #12]; add sp, sp, #16; ret",
    },
}


def assemble(arch: Arch, text: str) -> bytes:
    from keystone import KS_ARCH_ARM64, KS_ARCH_X86, KS_MODE_64, KS_MODE_LITTLE_ENDIAN, Ks
    ks = Ks(KS_ARCH_X86, KS_MODE_64) if arch is Arch.X86_64 else Ks(KS_ARCH_ARM64, KS_MODE_LITTLE_ENDIAN)
    encoding, _ = ks.asm(text, 0)
    return bytes(encoding)


def build_image(arch: Arch) -> tuple[Image, dict[str, tuple[int, int]]]:
    """The Image, and each function's (start, end) offset in .text."""
    code = bytearray()
    functions: dict[str, tuple[int, int]] = {}
    for name, text in CODE[arch].items():
        code += bytes(-len(code) % 16)
        start = len(code)
        code += assemble(arch, text)
        functions[name] = (start, len(code))
    relocations = []
    if arch is Arch.X86_64:  # `call 0` in main: a rel32 to helper, 4 bytes back from the end of the field
        call = code.index(b"\xe8", functions["main"][0])
        code[call + 1:call + 5] = bytes(4)
        relocations.append(Relocation(call + 1, 4, RelocKind.PCREL, "helper", -4))
    image = Image(arch, entry="main", sections=[
        ContentSection(".text", SectionKind.CODE, bytes(code), 16, relocations=relocations),
        ContentSection(".data", SectionKind.DATA, (7).to_bytes(4, "little") + bytes(4), 8),
        ContentSection(".bss", SectionKind.BSS, alignment=4, size=8),
    ], symbols=[
        Symbol("helper", ".text", functions["helper"][0], functions["helper"][1] - functions["helper"][0],
               is_global=False),
        Symbol("main", ".text", functions["main"][0], functions["main"][1] - functions["main"][0]),
        Symbol("counter", ".data", 0, 4, SymbolKind.OBJECT),
        Symbol("scratch", ".bss", 0, 8, SymbolKind.OBJECT, is_global=False),
    ])
    return image, functions
