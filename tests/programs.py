"""A small two-unit program with full DWARF, for the debugger round trips of every backend.

It is real machine code (assembled with dwarfkit.asm over keystone) for x86_64 and aarch64, described with the DWARF
core: compile units, a struct, a pointer, a global, parameters and locals on the stack and in registers, nested lexical
blocks, a loop, calls across the two units, line tables and call frame information (``.debug_frame`` and
``.eh_frame``). ``leaf`` keeps no frame pointer and moves the stack pointer, so unwinding through it needs the CFI.

The invented C sources (:data:`SOURCES`) are what the line table and DIEs describe; tests write them next to the
binary so debuggers can show them. The program exits with ``compute(3, 4)`` = (3 + 4) * 2 + (0 + 1 + 2 + 3) = 20.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dwarfkit import Address, Arch, ContentSection, DwarfSections, Encoding, Image, SectionKind, Symbol, SymbolKind
from dwarfkit.asm import assemble
from dwarfkit.expr import Expr
from dwarfkit.frame import CallFrames
from dwarfkit.program import DwarfBuilder

SOURCES = {
    "util.c": """struct point { long x; long y; };

long scale(struct point *p, long factor)
{
    long sum = p->x + p->y;
    return sum * factor;
}

long leaf(long n)
{
    long acc = 0;
    for (long i = 0; i < n; i++)
        acc += i;
    return acc;
}
""",
    "main.c": """struct point { long x; long y; };
long total = 7;
long scale(struct point *p, long factor);
long leaf(long n);

long compute(long a, long b)
{
    struct point pt;
    pt.x = a;
    pt.y = b;
    {
        long t = scale(&pt, 2);
        {
            long u = leaf(4);
            return t + u;
        }
    }
}

void _start(void)
{
    exit_program(compute(3, 4));
}
""",
}
EXIT_STATUS = 20
TOTAL = 7

# A variable's location: ("cfa", offset) is on the stack at CFA + offset (frame base DW_OP_call_frame_cfa);
# ("reg", name) is in a register for the whole function; ("reg", name, label) only up to that label.
Location = tuple


@dataclass
class Variable:
    name: str
    type: str  # "long", "struct point", "struct point *"
    location: Location
    line: int


@dataclass
class Block:
    start: str  # labels delimiting the lexical block
    end: str
    variables: list[Variable]
    blocks: list["Block"] = field(default_factory=list)
    """Blocks nested in this one."""


@dataclass
class Function:
    name: str
    unit: str
    line: int
    body: list[tuple]
    """Instructions ``(text, line)``, labels ``(label,)``, and CFI rules ``("cfi", op, *args)`` that take effect at
    the next instruction (like the assembler's .cfi_* directives)."""
    params: list[Variable] = field(default_factory=list)
    locals: list[Variable] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    returns: str | None = "long"


def _functions(arch: Arch) -> list[Function]:
    x86 = arch is Arch.X86_64
    fp, ra = ("rbp", "rip") if x86 else ("x29", "x30")
    start = Function("_start", "main.c", 20, returns=None, body=[("cfi", "undefined", ra)] + ([
        ("mov edi, 3", 22), ("mov esi, 4", 22), ("call compute", 22), ("mov rdi, rax", 22), ("mov eax, 60", 22),
        ("syscall", 22)] if x86 else [
        ("mov x0, #3", 22), ("mov x1, #4", 22), ("bl compute", 22), ("mov x8, #93", 22), ("svc #0", 22)]))
    if x86:
        compute_body = [
            ("push rbp", 7), ("cfi", "def_cfa_offset", 16), ("cfi", "offset", fp, -16),
            ("mov rbp, rsp", 7), ("cfi", "def_cfa_register", fp),
            ("sub rsp, 48", 7), ("mov qword ptr [rbp - 40], rdi", 7), ("mov qword ptr [rbp - 48], rsi", 7),
            ("mov rax, qword ptr [rbp - 40]", 9), ("mov qword ptr [rbp - 16], rax", 9),
            ("mov rax, qword ptr [rbp - 48]", 10), ("mov qword ptr [rbp - 8], rax", 10),
            ("compute_block",), ("lea rdi, [rbp - 16]", 12), ("mov esi, 2", 12), ("call scale", 12),
            ("mov qword ptr [rbp - 24], rax", 12),
            ("compute_inner",), ("mov edi, 4", 14), ("call leaf", 14), ("mov qword ptr [rbp - 32], rax", 14),
            ("mov rax, qword ptr [rbp - 32]", 15), ("add rax, qword ptr [rbp - 24]", 15), ("compute_block_end",),
            ("leave", 18), ("cfi", "def_cfa", "rsp", 8), ("cfi", "restore", fp), ("ret", 18)]
        compute_vars = {"a": -56, "b": -64, "pt": -32, "t": -40, "u": -48}
        scale_body = [
            ("push rbp", 4), ("cfi", "def_cfa_offset", 16), ("cfi", "offset", fp, -16),
            ("mov rbp, rsp", 4), ("cfi", "def_cfa_register", fp),
            ("mov qword ptr [rbp - 24], rdi", 4), ("mov qword ptr [rbp - 32], rsi", 4),
            ("mov rax, qword ptr [rbp - 24]", 5), ("mov rdx, qword ptr [rax]", 5), ("mov rax, qword ptr [rax + 8]", 5),
            ("add rax, rdx", 5), ("mov qword ptr [rbp - 8], rax", 5),
            ("mov rax, qword ptr [rbp - 8]", 6), ("imul rax, qword ptr [rbp - 32]", 6),
            ("pop rbp", 7), ("cfi", "def_cfa", "rsp", 8), ("cfi", "restore", fp), ("ret", 7)]
        scale_vars = {"p": -40, "factor": -48, "sum": -24}
        leaf_body = [
            ("sub rsp, 16", 10), ("cfi", "def_cfa_offset", 24),
            ("xor eax, eax", 11), ("leaf_block",), ("xor ecx, ecx", 12), ("jmp leaf_cond", 12),
            ("leaf_body",), ("add rax, rcx", 13), ("inc rcx", 12),
            ("leaf_cond",), ("cmp rcx, rdi", 12), ("jl leaf_body", 12), ("leaf_block_end",),
            ("add rsp, 16", 14), ("cfi", "def_cfa_offset", 8), ("ret", 15)]
        leaf_regs = {"n": ("reg", "rdi"), "acc": ("reg", "rax"), "i": ("reg", "rcx")}
    else:
        compute_body = [
            ("stp x29, x30, [sp, #-64]!", 7), ("cfi", "def_cfa_offset", 64), ("cfi", "offset", fp, -64),
            ("cfi", "offset", ra, -56),
            ("mov x29, sp", 7), ("cfi", "def_cfa_register", fp),
            ("str x0, [x29, #56]", 7), ("str x1, [x29, #48]", 7),
            ("ldr x0, [x29, #56]", 9), ("str x0, [x29, #32]", 9), ("ldr x0, [x29, #48]", 10),
            ("str x0, [x29, #40]", 10),
            ("compute_block",), ("add x0, x29, #32", 12), ("mov x1, #2", 12), ("bl scale", 12),
            ("str x0, [x29, #24]", 12),
            ("compute_inner",), ("mov x0, #4", 14), ("bl leaf", 14), ("str x0, [x29, #16]", 14),
            ("ldr x0, [x29, #16]", 15), ("ldr x1, [x29, #24]", 15), ("add x0, x0, x1", 15), ("compute_block_end",),
            ("ldp x29, x30, [sp], #64", 18), ("cfi", "def_cfa", "sp", 0), ("cfi", "restore", fp),
            ("cfi", "restore", ra), ("ret", 18)]
        compute_vars = {"a": -8, "b": -16, "pt": -32, "t": -40, "u": -48}
        scale_body = [
            ("stp x29, x30, [sp, #-48]!", 4), ("cfi", "def_cfa_offset", 48), ("cfi", "offset", fp, -48),
            ("cfi", "offset", ra, -40),
            ("mov x29, sp", 4), ("cfi", "def_cfa_register", fp),
            ("str x0, [x29, #24]", 4), ("str x1, [x29, #16]", 4),
            ("ldr x0, [x29, #24]", 5), ("ldr x1, [x0]", 5), ("ldr x0, [x0, #8]", 5), ("add x0, x0, x1", 5),
            ("str x0, [x29, #40]", 5), ("ldr x0, [x29, #40]", 6), ("ldr x1, [x29, #16]", 6), ("mul x0, x0, x1", 6),
            ("ldp x29, x30, [sp], #48", 7), ("cfi", "def_cfa", "sp", 0), ("cfi", "restore", fp),
            ("cfi", "restore", ra), ("ret", 7)]
        scale_vars = {"p": -24, "factor": -32, "sum": -8}
        leaf_body = [
            ("sub sp, sp, #16", 10), ("cfi", "def_cfa_offset", 16),
            ("mov x9, #0", 11), ("leaf_block",), ("mov x10, #0", 12), ("b leaf_cond", 12),
            ("leaf_body",), ("add x9, x9, x10", 13), ("add x10, x10, #1", 12),
            ("leaf_cond",), ("cmp x10, x0", 12), ("b.lt leaf_body", 12), ("leaf_block_end",),
            ("leaf_result",), ("mov x0, x9", 14), ("add sp, sp, #16", 15), ("cfi", "def_cfa_offset", 0), ("ret", 15)]
        leaf_regs = {"n": ("reg", "x0", "leaf_result"), "acc": ("reg", "x9"), "i": ("reg", "x10")}

    compute = Function("compute", "main.c", 6, compute_body,
                       params=[Variable("a", "long", ("cfa", compute_vars["a"]), 6),
                               Variable("b", "long", ("cfa", compute_vars["b"]), 6)],
                       locals=[Variable("pt", "struct point", ("cfa", compute_vars["pt"]), 8)],
                       blocks=[Block("compute_block", "compute_block_end",
                                     [Variable("t", "long", ("cfa", compute_vars["t"]), 12)],
                                     [Block("compute_inner", "compute_block_end",
                                            [Variable("u", "long", ("cfa", compute_vars["u"]), 14)])])])
    scale = Function("scale", "util.c", 3, scale_body,
                     params=[Variable("p", "struct point *", ("cfa", scale_vars["p"]), 3),
                             Variable("factor", "long", ("cfa", scale_vars["factor"]), 3)],
                     locals=[Variable("sum", "long", ("cfa", scale_vars["sum"]), 5)])
    leaf = Function("leaf", "util.c", 9, leaf_body,
                    params=[Variable("n", "long", leaf_regs["n"], 9)],
                    locals=[Variable("acc", "long", leaf_regs["acc"], 11)],
                    blocks=[Block("leaf_block", "leaf_block_end", [Variable("i", "long", leaf_regs["i"], 12)])])
    # One contiguous range per unit: main.c's functions first, then util.c's.
    return [start, compute, scale, leaf]


@dataclass
class Program:
    arch: Arch
    image: Image
    functions: dict[str, Function]
    ranges: dict[str, tuple[int, int]]
    """Function -> [start, end) offsets in .text."""
    labels: dict[str, int]
    """Label -> offset in .text."""
    rows: dict[str, list[tuple[int, int]]]
    """Function -> (offset in .text, line) of every line-table row."""

    def line_address(self, unit: str, line: int, base: int) -> int:
        """Address of the first row for ``unit:line`` when .text starts at ``base``."""
        return base + min(offset for name, rows in self.rows.items() if self.functions[name].unit == unit
                          for offset, row_line in rows if row_line == line)


def build(arch: Arch, *, comp_dir: str = "/src", version: int = 5, offset_size: int = 4,
          indexed: bool = False, names: object = None) -> Program:
    """The program for ``arch`` as an :class:`Image` with DWARF ``version`` (``offset_size`` 8: DWARF64;
    ``indexed``: DWARF 5 strx/addrx/loclistx forms with .debug_str_offsets and .debug_addr; ``names``: the
    accelerator tables, as ``DwarfBuilder(names=...)``)."""
    functions = _functions(arch)
    asm = assemble(arch, [(f.name, "\n".join(f"{item[0]}:" if len(item) == 1 else item[0]
                                             for item in f.body if item[0] != "cfi")) for f in functions])
    ranges = {f.name: asm.functions[f.name] for f in functions}
    labels, rows, cfi = _place_body(functions, ranges, sorted(asm.instruction_starts))

    image = Image(arch, entry="_start", sections=[
        ContentSection(".text", SectionKind.CODE, asm.code),
        ContentSection(".data", SectionKind.DATA, TOTAL.to_bytes(8, "little"), alignment=8)])
    image.symbols = [Symbol(f.name, ".text", ranges[f.name][0], ranges[f.name][1] - ranges[f.name][0])
                     for f in functions]
    image.symbols.append(Symbol("total", ".data", 0, 8, SymbolKind.OBJECT))
    encoding = Encoding(version=version, offset_size=offset_size)
    image.dwarf = _describe(DwarfBuilder(encoding, indexed=indexed, names=names), arch, functions, ranges, labels,
                            rows, comp_dir)
    for table, section in ((CallFrames(arch, encoding), CallFrames.debug_frame),
                           (CallFrames(arch, Encoding(version=version)), CallFrames.eh_frame)):
        _describe_frames(table, arch, functions, ranges, cfi)
        image.dwarf.add(section(table))
    return Program(arch, image, {f.name: f for f in functions}, ranges, labels, rows)


def _place_body(functions: list[Function], ranges: dict[str, tuple[int, int]], starts: list[int]):
    """Offsets of labels, line rows (a row where the line changes) and CFI rules, from the assembled code."""
    labels: dict[str, int] = {}
    rows: dict[str, list[tuple[int, int]]] = {}
    cfi: dict[str, list[tuple[int, tuple]]] = {}
    for f in functions:
        begin, end = ranges[f.name]
        offsets = iter(o for o in starts if begin <= o < end)
        rows[f.name], cfi[f.name] = [], []
        pending_rules: list[tuple] = []
        pending_labels: list[str] = []
        for item in f.body:
            if item[0] == "cfi":
                pending_rules.append(item[1:])
            elif len(item) == 1:
                pending_labels.append(item[0])
            else:
                offset = next(offsets)
                if not rows[f.name] or rows[f.name][-1][1] != item[1]:
                    rows[f.name].append((offset, item[1]))
                cfi[f.name] += [(offset, rule) for rule in pending_rules]
                labels.update((label, offset) for label in pending_labels)
                pending_rules, pending_labels = [], []
        labels.update((label, end) for label in pending_labels)
        assert next(offsets, None) is None, f"{f.name}: instruction count differs from the assembly"
    return labels, rows, cfi


def _describe_frames(table: CallFrames, arch: Arch, functions: list[Function], ranges: dict[str, tuple[int, int]],
                     cfi: dict[str, list[tuple[int, tuple]]]) -> None:
    cie = table.cie()
    for f in functions:
        begin, end = ranges[f.name]
        fde = table.fde(cie, Address(f.name), end - begin)
        for offset, (op, *args) in cfi[f.name]:
            fde.advance_to(offset - begin)
            getattr(fde, op)(*(arch.register(a) if isinstance(a, str) else a for a in args))


def _describe(dw: DwarfBuilder, arch: Arch, functions: list[Function], ranges: dict[str, tuple[int, int]],
              labels: dict[str, int], rows: dict[str, list[tuple[int, int]]], comp_dir: str) -> DwarfSections:
    units = {}
    for unit_name in ("main.c", "util.c"):
        members = [f for f in functions if f.unit == unit_name]
        first, last = ranges[members[0].name], ranges[members[-1].name]
        cu = dw.compile_unit(unit_name, comp_dir=comp_dir, producer="dwarfkit tests", language="C99",
                             low_pc=Address(members[0].name), high_pc=last[1] - first[0])
        long_t = cu.base_type("long", 8, "signed")
        point = cu.struct_type("point", 16, [("x", long_t, 0), ("y", long_t, 8)])
        types = {"long": long_t, "struct point": point, "struct point *": cu.pointer_type(point)}
        units[unit_name] = (cu, types)
        if unit_name == "main.c":
            cu.die("variable", name="total", type=long_t, external=True, decl_file=cu.file("main.c"), decl_line=2,
                   location=Expr().addr(Address("total")))

    for f in functions:
        cu, types = units[f.unit]
        begin, end = ranges[f.name]
        fn = cu.die("subprogram", name=f.name, external=True, decl_file=cu.file(f.unit), decl_line=f.line,
                    low_pc=Address(f.name), high_pc=end - begin, frame_base=Expr().call_frame_cfa(),
                    prototyped=True, **({"type": types[f.returns]} if f.returns else {}))
        for v in f.params:
            fn.die("formal_parameter", **_variable(dw, cu, arch, f, v, types, labels, ranges))
        for v in f.locals:
            fn.die("variable", **_variable(dw, cu, arch, f, v, types, labels, ranges))
        blocks = [(fn, block) for block in f.blocks]
        while blocks:
            parent, block = blocks.pop(0)
            lexical = parent.die("lexical_block", low_pc=Address(f.name, labels[block.start] - begin),
                                 high_pc=labels[block.end] - labels[block.start])
            for v in block.variables:
                lexical.die("variable", **_variable(dw, cu, arch, f, v, types, labels, ranges))
            blocks += [(lexical, inner) for inner in block.blocks]
        sequence = cu.line.sequence(Address(f.name))
        for offset, line in rows[f.name]:
            sequence.row(offset - begin, line)
        sequence.end(end - begin)
    return dw.emit()


def _variable(dw: DwarfBuilder, cu, arch: Arch, f: Function, v: Variable, types, labels, ranges) -> dict:
    kind, *where = v.location
    if kind == "cfa":
        location = Expr().fbreg(where[0])
    elif len(where) == 1:
        location = Expr().op(f"reg{arch.register(where[0])}")
    else:  # in a register only up to a label: a location list
        begin = ranges[f.name][0]
        location = dw.location_list([(Address(f.name), labels[where[1]] - begin,
                                      Expr().op(f"reg{arch.register(where[0])}"))])
    return {"name": v.name, "type": types[v.type], "decl_file": cu.file(f.unit), "decl_line": v.line,
            "location": location}
