"""dwarfkit's writer of the synthetic program in ../shared/bench/SPEC.md.

    python3 benchmarks/synth.py [FUNCTIONS] [OUT_DIR]
    python3 benchmarks/synth.py obj FUNCTIONS OUT_DIR

Writes each section's raw bytes to OUT_DIR/<section name>, as the gimli peer does; ``obj`` writes OUT_DIR/synth.o
instead, SPEC.md's relocatable object (``.text`` of N*64 ``ret`` bytes, a global ``fn_i`` per function, every
address relocated against its function's symbol: the peer's ``symbol`` style). Units are finished one at a time,
the way a compiler that emits unit by unit would use dwarfkit.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's dwarfkit, not an installed one

from dwarfkit import Address, Encoding  # noqa: E402
from dwarfkit.expr import Expr  # noqa: E402
from dwarfkit.program import DwarfBuilder  # noqa: E402

PER_UNIT = 1000


def build(n: int, symbolic: bool = False, names: str | None = None) -> DwarfBuilder:
    """The program; ``symbolic``: addresses as ``fn_i + offset`` (relocations in an object), else constants;
    ``names``: the accelerator table to collect names for (``DwarfBuilder(names=...)``)."""
    dw = DwarfBuilder(Encoding(version=5, offset_size=4, address_size=8), names=names)

    def at(i: int, offset: int) -> Address:
        return Address(f"fn_{i}", offset) if symbolic else Address(None, 0x10000 + 64 * i + offset)

    frame_base = Expr().op("call_frame_cfa")
    locations = {off: Expr().fbreg(off) for off in (-24, -32, -40, -48, -56)}
    for k in range((n + PER_UNIT - 1) // PER_UNIT):
        first, last = k * PER_UNIT, min(n, (k + 1) * PER_UNIT)
        cu = dw.compile_unit(f"cu{k}.c", comp_dir="/synth", producer="synth 1.0", language="C11",
                             low_pc=at(first, 0), high_pc=64 * (last - first))
        long_t = cu.base_type("long", 8, "signed")
        ptr_t = cu.pointer_type(long_t, 8)
        file = cu.line.primary_file
        for i in range(first, last):
            line = (i % 1000) * 20 + 1
            fn = cu.die("subprogram", external=True, name=f"fn_{i}", decl_file=file, decl_line=line, type=long_t,
                        low_pc=at(i, 0), high_pc=64, frame_base=frame_base)
            fn.die("formal_parameter", name="a", decl_file=file, decl_line=line, type=long_t, location=locations[-24])
            fn.die("formal_parameter", name="b", decl_file=file, decl_line=line, type=long_t, location=locations[-32])
            fn.die("variable", name="x", decl_file=file, decl_line=line + 1, type=long_t, location=locations[-40])
            fn.die("variable", name="y", decl_file=file, decl_line=line + 2, type=long_t, location=locations[-48])
            block = fn.die("lexical_block", low_pc=at(i, 16), high_pc=32)
            block.die("variable", name="t", decl_file=file, decl_line=line + 3, type=ptr_t, location=locations[-56])
            seq = cu.line.sequence(at(i, 0))
            seq.add_rows([(4 * j, line + j // 2) for j in range(16)], file=file)
            seq.end(64)
        dw.finish(cu)
    return dw


def write_object(n: int, out: Path) -> None:
    """SPEC.md's obj mode: the program as a relocatable x86_64 ELF object, OUT/synth.o."""
    from dwarfkit import ContentSection, Image, SectionKind, Symbol, SymbolKind
    from dwarfkit.backends.elf import write_object as write_elf_object
    sections = build(n, symbolic=True).emit()
    text = ContentSection(".text", SectionKind.CODE, b"\xc3" * (64 * n), alignment=16)
    symbols = [Symbol(f"fn_{i}", ".text", 64 * i, 64, SymbolKind.FUNCTION) for i in range(n)]
    out.mkdir(parents=True, exist_ok=True)
    write_elf_object(Image("x86_64", [text], symbols, sections), out / "synth.o")


def main() -> None:
    if sys.argv[1:2] == ["obj"]:
        write_object(int(sys.argv[2]), Path(sys.argv[3]))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "synth-out")
    sections = build(n).emit(aranges=False)
    out.mkdir(parents=True, exist_ok=True)
    total = 0
    for section in sections:
        (out / section.name).write_bytes(section.data)
        total += len(section.data)
    print(f"dwarfkit synth: {n} functions, {total} bytes of DWARF")


if __name__ == "__main__":
    main()
