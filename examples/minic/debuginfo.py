"""The debug information of a compiled minic program, described through dwarfkit.

This is the part of the example a compiler writer reads first. Everything comes from three sources the compiler
already has: the checked syntax tree (names, types, declaration lines), the frame layout (where each variable lives)
and the assembled labels (which address starts which statement, block and function). dwarfkit does the encoding:

* one compile unit with the language C99 (minic reads like C, so debuggers use their C expression parser);
* types: ``int`` (8-byte signed), pointers, each struct with its members;
* each global with ``DW_OP_addr`` of its symbol (a relocation the backend resolves);
* each function as a subprogram with low/high pc and the frame base ``DW_OP_call_frame_cfa``; parameters and
  locals with ``DW_OP_fbreg`` (slot offset from the frame pointer minus 16, the distance from the frame pointer to
  the CFA); inner blocks as lexical blocks with their own locals;
* line rows at every statement (``is_stmt``), ``prologue_end`` at the first statement, ``epilogue_begin`` at the
  epilogue, loop-back jumps as non-statement rows;
* call frames (``.eh_frame`` and ``.debug_frame``) from the CFI steps the targets recorded in their prologues and
  epilogues.
"""
from __future__ import annotations

from typing import Any, Protocol

from dwarfkit import Address, Encoding, Image
from dwarfkit.asm import Assembly, check_call_frames, check_line_program
from dwarfkit.expr import Expr
from dwarfkit.frame import CallFrames
from dwarfkit.program import DwarfBuilder
from dwarfkit.sections import DwarfSections

from . import syntax as s
from .codegen import Frame, FunctionCode, Scope

PRODUCER = "minic (dwarfkit example compiler)"


class Compiled(Protocol):
    """What the description needs from the compiler (:class:`.compiler.Compilation` has it)."""
    program: s.Program
    functions: list[FunctionCode]
    assembly: Assembly
    image: Image


def describe(result: Compiled, *, comp_dir: str = "/", version: int = 5, eh_frame: bool = True,
             line_strings: bool = True, split: bool = False) -> DwarfSections:
    """All debug sections of a compiled program; ``eh_frame=False`` leaves out the runtime unwind table (Windows
    unwinds with .pdata, and debuggers read .debug_frame); ``line_strings=False`` keeps DWARF 5 paths out of
    .debug_line_str; ``split`` writes split DWARF (the unit's DIEs in a ``.dwo``: ``sections.dwo``)."""
    return _Describer(result, comp_dir, version, eh_frame, line_strings, split).run()


class _Describer:
    def __init__(self, result: Compiled, comp_dir: str, version: int, eh_frame: bool, line_strings: bool,
                 split: bool = False, language: str = "C99") -> None:
        self.result = result
        self.eh_frame = eh_frame
        self.program = result.program
        self.labels = result.assembly.labels
        self.dw = DwarfBuilder(Encoding(version=version, address_size=result.image.arch.info.address_size),
                               line_strings=line_strings, arch=result.image.arch, split=split)
        self.types: dict[s.Type, Any] = {}
        code = result.assembly
        first = min(code.functions.items(), key=lambda item: item[1][0])
        self.cu = self.dw.compile_unit(self.program.filename, comp_dir=comp_dir, producer=PRODUCER,
                                       language=language, low_pc=Address(first[0]),
                                       high_pc=max(end for _, end in code.functions.values()) - first[1][0])

    def run(self) -> DwarfSections:
        for g in self.program.globals:
            self.cu.die("variable", name=g.name, type=self.type(g.type), external=True, **self.decl(g),
                        location=Expr().addr(Address(g.name)))
        for f in self.result.functions:
            if f.function is not None:
                self.subprogram(f)
        frames = self.call_frames()
        # Cheap insurance: every row and every rule change must start an instruction of the code we describe.
        check_line_program(self.cu.line, self.result.assembly)
        check_call_frames(frames, self.result.assembly)
        sections = self.dw.emit()
        if self.eh_frame:
            sections.add(frames.eh_frame())
        sections.add(frames.debug_frame())
        return sections

    # -- types and declarations

    def type(self, t: s.Type | None) -> Any:
        """The DIE of a minic type, made once."""
        assert t is not None
        die = self.types.get(t)
        if die is None:
            if isinstance(t, s.IntType):
                die = self.cu.base_type("int", s.WORD, "signed")
            elif isinstance(t, s.PointerType):
                die = self.cu.pointer_type(self.type(t.target))
            else:
                die = self.cu.struct_type(t.name, t.size, [(f.name, self.type(f.type), f.offset) for f in t.fields])
            self.types[t] = die
        return die

    def decl(self, node: Any) -> dict[str, int]:
        return {"decl_file": self.cu.line.primary_file, "decl_line": node.line, "decl_column": node.column}

    # -- functions

    def address(self, label: str, function: FunctionCode) -> tuple[Address, int]:
        """A label as (function symbol + offset) and as its plain offset from the function's start."""
        offset = self.labels[label] - self.result.assembly.functions[function.name][0]
        return Address(function.name, offset), offset

    def subprogram(self, code: FunctionCode) -> None:
        f = code.function
        assert f is not None
        start, end = self.result.assembly.functions[code.name]
        die = self.cu.die("subprogram", name=f.name, type=self.type(f.return_type), external=True, prototyped=True,
                          **self.decl(f), low_pc=Address(f.name), high_pc=end - start,
                          frame_base=Expr().call_frame_cfa())
        for p in f.params:
            die.die("formal_parameter", name=p.name, type=self.type(p.type), **self.decl(p),
                    location=self.slot(code.frame, p))
        assert code.scope is not None
        self.scope(die, code.scope, code, root=True)
        self.lines(code, end - start)

    def slot(self, frame: Frame, var: s.Variable) -> Expr:
        return Expr().fbreg(frame.offsets[var] - Frame.CFA_FROM_FP)

    def scope(self, parent: Any, scope: Scope, code: FunctionCode, root: bool = False) -> None:
        """The function body's locals go straight under the subprogram (as C compilers do); an inner block with
        code becomes a lexical block. A block without code has no addresses, so nothing in it can be observed."""
        if not root:
            low, low_offset = self.address(scope.start, code)
            _, high_offset = self.address(scope.end, code)
            if high_offset == low_offset:
                return
            parent = parent.die("lexical_block", low_pc=low, high_pc=high_offset - low_offset)
        for var in scope.variables:
            parent.die("variable", name=var.name, type=self.type(var.type), **self.decl(var),
                       location=self.slot(code.frame, var))
        for child in scope.children:
            self.scope(parent, child, code)

    def lines(self, code: FunctionCode, size: int) -> None:
        sequence = self.cu.line.sequence(Address(code.name))
        for mark in code.lines:
            _, offset = self.address(mark.label, code)
            sequence.row(offset, mark.line, column=mark.column, is_stmt=mark.is_stmt,
                         prologue_end=mark.prologue_end, epilogue_begin=mark.epilogue_begin)
        sequence.end(size)

    # -- call frames

    def call_frames(self) -> CallFrames:
        arch = self.result.image.arch
        frames = CallFrames(arch, self.dw.encoding)
        for code in self.result.functions:
            start, end = self.result.assembly.functions[code.name]
            fde = frames.fde(None, Address(code.name), end - start)  # None: the arch's usual CIE
            if code.function is None:
                fde.undefined(arch.info.return_address_register)  # _start: nothing to unwind to, stop here
            for step in code.cfi:
                _, offset = self.address(step.label, code)
                fde.advance_to(offset)
                getattr(fde, step.op)(*step.args)
        return frames
