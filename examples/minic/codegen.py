"""Code generation: from a checked program to assembly text per function, plus everything the debug information
needs to describe that code -- the frame layout, a label per line-table row, the lexical blocks' label ranges, the
call-frame steps and the places that hold a global's address.

The code is a plain stack machine, the same on both targets: an expression leaves its value in the accumulator
(rax / x0); a binary operator pushes its left operand and pops it into a scratch register. No register allocation,
no optimisation: every variable lives in its stack slot at all times, so the debug information can give each one a
single frame-base-relative location for its whole scope.

The architecture-specific instructions live in :mod:`.target_x86_64` and :mod:`.target_aarch64` behind
:class:`Target`; this module walks the syntax tree and calls them (the compiler picks the target).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from dwarfkit import Arch

from . import syntax as s
from .errors import CompileError

# ------------------------------------------------------------------------------------------------- what comes out

@dataclass
class Frame:
    """Where every parameter and local lives: at ``fp + offsets[decl]`` (negative offsets, below the saved frame
    pointer). The CFA is ``fp + 16`` on both targets, so a variable's DW_OP_fbreg offset is ``offset - 16`` when the
    frame base is DW_OP_call_frame_cfa."""
    offsets: dict[s.Variable, int] = field(default_factory=dict)
    size: int = 0
    """Bytes below the frame pointer, a multiple of 16 to keep the stack aligned."""

    CFA_FROM_FP = 16
    """Both prologues push the frame pointer and the return address (x86_64: call + push rbp; aarch64: stp)."""


@dataclass
class LineMark:
    """A line-table row: the instruction at ``label`` starts code of ``line``."""
    label: str
    line: int
    column: int
    is_stmt: bool = True
    prologue_end: bool = False
    epilogue_begin: bool = False


@dataclass
class Scope:
    """A block with its code range [start, end) as labels; the function body is the root (its range is the whole
    function). ``variables`` are the locals declared directly in it."""
    block: s.Block
    start: str
    end: str
    variables: list[s.Local] = field(default_factory=list)
    children: list["Scope"] = field(default_factory=list)


@dataclass
class CfiStep:
    """After the instruction that ends at ``label``, the call-frame rules change: ``op`` names a
    :class:`dwarfkit.frame.Fde` method (``def_cfa_offset``, ``offset``, ...), ``args`` its arguments with registers as
    assembler names."""
    label: str
    op: str
    args: tuple


@dataclass
class AddressField:
    """An 8-byte field at ``label + delta`` that must hold the absolute address of ``symbol``."""
    label: str
    delta: int
    symbol: str


@dataclass
class FunctionCode:
    function: s.Function | None
    """None for ``_start``, which has no source."""
    name: str
    text: str
    """Assembly, one instruction or label per line; the function's own label is not included."""
    frame: Frame
    lines: list[LineMark]
    scope: Scope | None
    cfi: list[CfiStep]
    addresses: list[AddressField]


# ------------------------------------------------------------------------------------------------ the target interface

class Target:
    """Emits the instructions of one architecture. ``acc`` holds expression values, ``tmp`` the left operand of a
    binary operator; ``push``/``pop`` use the machine stack. Subclasses fill in the instructions."""

    arch: Arch
    reserved: re.Pattern[str]
    """Names the assembler would read as registers; minic functions and globals may not use them."""

    def __init__(self, fn: "FunctionGenerator") -> None:
        self.fn = fn

    def emit(self, instruction: str) -> None:
        self.fn.lines.append("    " + instruction)

    def start(self, platform: str) -> None:
        """Emits the whole ``_start``: call main, exit with its result the way ``platform`` (see
        :data:`PLATFORMS`) ends a process."""
        raise NotImplementedError

    # What each target implements. Offsets are frame-pointer relative (negative); CFI steps go to fn.cfi_step.

    def prologue(self, frame_size: int) -> None:
        """Saves the caller's frame, sets the frame pointer, reserves ``frame_size`` bytes (with CFI steps)."""
        raise NotImplementedError

    def store_param(self, index: int, offset: int) -> None:
        """Stores argument register ``index`` into the slot at ``offset``."""
        raise NotImplementedError

    def zero_slot(self, offset: int) -> None:
        """Stores 0 into the 8-byte slot at ``offset``."""
        raise NotImplementedError

    def epilogue(self) -> None:
        """Restores the caller's frame and returns acc (with CFI steps)."""
        raise NotImplementedError

    def finish(self) -> None:
        """Ends the function: emits what must follow its code (aarch64's literal pool)."""
        raise NotImplementedError

    def constant(self, value: int) -> None:
        """acc = value."""
        raise NotImplementedError

    def slot_address(self, offset: int) -> None:
        """acc = fp + offset."""
        raise NotImplementedError

    def global_address(self, symbol: str) -> None:
        """acc = the address of ``symbol`` (an absolute field, recorded with fn.address_field)."""
        raise NotImplementedError

    def add_offset(self, n: int) -> None:
        """acc += n."""
        raise NotImplementedError

    def load(self) -> None:
        """acc = the 8 bytes at acc."""
        raise NotImplementedError

    def store(self) -> None:
        """Stores acc into the 8 bytes at address tmp."""
        raise NotImplementedError

    def push(self) -> None:
        """Pushes acc."""
        raise NotImplementedError

    def pop_tmp(self) -> None:
        """Pops into tmp."""
        raise NotImplementedError

    def pop_arg(self, index: int) -> None:
        """Pops into argument register ``index``."""
        raise NotImplementedError

    def binary(self, op: str) -> None:
        """acc = tmp op acc for ``+ - * / %``."""
        raise NotImplementedError

    def compare(self, op: str) -> None:
        """acc = 1 if tmp op acc else 0, for ``== != < <= > >=``."""
        raise NotImplementedError

    def negate(self) -> None:
        """acc = -acc."""
        raise NotImplementedError

    def logical_not(self) -> None:
        """acc = 1 if acc == 0 else 0."""
        raise NotImplementedError

    def branch_if_zero(self, label: str) -> None:
        """Jumps to ``label`` when acc is 0."""
        raise NotImplementedError

    def jump(self, label: str) -> None:
        """Jumps to ``label``."""
        raise NotImplementedError

    def call(self, name: str) -> None:
        """Calls function ``name`` (arguments already in their registers); its result lands in acc."""
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------------------- the walk

PLATFORMS = ("linux", "windows", "macos")
"""How ``_start`` ends the process: Linux's exit syscall, kernel32's ExitProcess (through its import address table
slot ``__imp_ExitProcess``, x86_64 only), or the macOS exit syscall."""

def generate(program: s.Program, target_class: type[Target], platform: str = "linux") -> list[FunctionCode]:
    """One FunctionCode per function in source order, then ``_start``, in ``target_class``'s instructions."""
    if platform not in PLATFORMS:
        raise CompileError(program.filename, 1, 1, f"unknown platform {platform!r}; choose one of "
                                                   f"{', '.join(PLATFORMS)}")
    named: list[s.Function | s.Global] = [*program.functions, *program.globals]
    for decl in named:
        if target_class.reserved.fullmatch(decl.name) or decl.name == "_start":
            raise CompileError(program.filename, decl.line, decl.column,
                               f"{decl.name!r} is reserved on {target_class.arch.info.name}; choose another name")
    functions = [FunctionGenerator(program, f, target_class).generate() for f in program.functions]
    start = FunctionGenerator(program, None, target_class)
    start.target.start(platform)
    start.target.finish()
    functions.append(FunctionCode(None, "_start", "\n".join(start.lines), Frame(), [], None, [], start.addresses))
    return functions


def layout_frame(function: s.Function) -> Frame:
    """Gives every parameter and local its own slot, in declaration order (no slot is shared)."""
    frame = Frame()
    depth = 0

    def place(var: s.Variable) -> None:
        nonlocal depth
        depth += s.size_of(var.type)  # type: ignore[arg-type]
        frame.offsets[var] = -depth

    def visit(stmt: s.Stmt) -> None:
        if isinstance(stmt, s.Local):
            place(stmt)
        elif isinstance(stmt, s.Block):
            for inner in stmt.body:
                visit(inner)
        elif isinstance(stmt, s.If):
            visit(stmt.then)
            if stmt.orelse is not None:
                visit(stmt.orelse)
        elif isinstance(stmt, s.While):
            visit(stmt.body)

    for p in function.params:
        place(p)
    visit(function.body)
    frame.size = (depth + 15) // 16 * 16
    return frame


class FunctionGenerator:
    def __init__(self, program: s.Program, function: s.Function | None, target_class: type[Target]) -> None:
        self.program = program
        self.function = function
        self.name = function.name if function else "_start"
        self.lines: list[str] = []
        self.marks: list[LineMark] = []
        self.cfi: list[CfiStep] = []
        self.addresses: list[AddressField] = []
        self.counter = 0
        self.prologue_pending = False
        self.scopes: list[Scope] = []
        self.target = target_class(self)
        self.frame = layout_frame(function) if function else Frame()

    def error(self, node, message: str) -> CompileError:
        return CompileError(self.program.filename, node.line, node.column, message)

    # -- labels and rows

    def new_label(self, kind: str) -> str:
        """Function-local labels are ``<function>.<kind><n>``: a dot cannot occur in a minic name, so they never
        collide with a function or global."""
        self.counter += 1
        return f"{self.name}.{kind}{self.counter}"

    def place_label(self, kind: str) -> str:
        label = self.new_label(kind)
        self.lines.append(f"{label}:")
        return label

    def mark(self, line: int, column: int, *, is_stmt: bool = True, epilogue_begin: bool = False) -> None:
        """Starts a line-table row here. The first statement row after the prologue carries prologue_end."""
        prologue_end = is_stmt and self.prologue_pending
        if prologue_end:
            self.prologue_pending = False
        self.marks.append(LineMark(self.place_label("L"), line, column, is_stmt, prologue_end, epilogue_begin))

    def cfi_step(self, op: str, *args) -> None:
        self.cfi.append(CfiStep(self.place_label("cfi"), op, args))

    def address_field(self, label: str, delta: int, symbol: str) -> None:
        self.addresses.append(AddressField(label, delta, symbol))

    # -- functions

    def generate(self) -> FunctionCode:
        f = self.function
        assert f is not None
        t = self.target
        self.mark(f.line, f.column)  # the prologue belongs to the line that declares the function
        self.prologue_pending = True  # the next statement row ends the prologue
        t.prologue(self.frame.size)
        for i, p in enumerate(f.params):
            t.store_param(i, self.frame.offsets[p])
        self.epilogue = self.new_label("epilogue")
        scope = self.block(f.body, root=True)
        # Falling off the end returns 0: compiler-made code of no source line (line 0, as clang marks such code),
        # so that a debugger that ignores is_stmt (lldb) still breaks on the closing brace at the epilogue.
        self.mark(0, 0, is_stmt=False)
        t.constant(0)
        self.lines.append(f"{self.epilogue}:")
        self.mark(f.body.end_line, f.body.end_column, epilogue_begin=True)
        t.epilogue()
        t.finish()
        return FunctionCode(f, f.name, "\n".join(self.lines), self.frame, self.marks, scope, self.cfi,
                            self.addresses)

    # -- statements

    def block(self, block: s.Block, root: bool = False) -> Scope:
        scope = Scope(block, self.place_label("block"), "")
        if self.scopes:
            self.scopes[-1].children.append(scope)
        self.scopes.append(scope)
        for stmt in block.body:
            self.statement(stmt)
        self.scopes.pop()
        scope.end = self.place_label("blockend")
        return scope

    def statement(self, stmt: s.Stmt) -> None:
        t = self.target
        if isinstance(stmt, s.Block):
            self.block(stmt)
        elif isinstance(stmt, s.Local):
            self.scopes[-1].variables.append(stmt)
            self.mark(stmt.line, stmt.column)
            offset = self.frame.offsets[stmt]
            if stmt.init is None:  # zeroed each time the declaration runs, as the interpreter does
                for word in range(0, s.size_of(stmt.type), s.WORD):  # type: ignore[arg-type]
                    t.zero_slot(offset + word)
            else:
                t.slot_address(offset)
                t.push()
                self.expr(stmt.init)
                t.pop_tmp()
                t.store()
        elif isinstance(stmt, s.Assign):
            self.mark(stmt.line, stmt.column)
            self.address(stmt.target)
            t.push()
            self.expr(stmt.value)
            t.pop_tmp()
            t.store()
        elif isinstance(stmt, s.ExprStmt):
            self.mark(stmt.line, stmt.column)
            self.expr(stmt.expr)
        elif isinstance(stmt, s.If):
            self.mark(stmt.line, stmt.column)
            orelse, end = self.new_label("else"), self.new_label("endif")
            self.expr(stmt.cond)
            t.branch_if_zero(orelse)
            self.statement(stmt.then)
            if stmt.orelse is not None:
                t.jump(end)
            self.lines.append(f"{orelse}:")
            if stmt.orelse is not None:
                self.statement(stmt.orelse)
                self.lines.append(f"{end}:")
        elif isinstance(stmt, s.While):
            top, end = self.new_label("while"), self.new_label("endwhile")
            self.lines.append(f"{top}:")
            self.mark(stmt.line, stmt.column)  # the condition: reached once per iteration
            self.expr(stmt.cond)
            t.branch_if_zero(end)
            self.statement(stmt.body)
            self.mark(stmt.line, stmt.column, is_stmt=False)  # the jump back is part of the loop, not a new stop
            t.jump(top)
            self.lines.append(f"{end}:")
        elif isinstance(stmt, s.Return):
            self.mark(stmt.line, stmt.column)
            self.expr(stmt.value)
            t.jump(self.epilogue)
        else:
            raise AssertionError(stmt)

    # -- expressions

    def address(self, e: s.Expr) -> None:
        """acc = the address of an lvalue."""
        t = self.target
        if isinstance(e, s.Name):
            decl = e.decl
            if isinstance(decl, s.Global):
                t.global_address(decl.name)
            else:
                t.slot_address(self.frame.offsets[decl])  # type: ignore[index]
        elif isinstance(e, s.Unary) and e.op == "*":
            self.expr(e.operand)
        elif isinstance(e, s.Member):
            if e.arrow:
                self.expr(e.base)
            else:
                self.address(e.base)
            assert e.field_info is not None
            t.add_offset(e.field_info.offset)
        else:
            raise AssertionError(e)

    def expr(self, e: s.Expr) -> None:
        """acc = the value of an expression."""
        t = self.target
        if isinstance(e, s.Number):
            t.constant(e.value)
        elif isinstance(e, s.Unary) and e.op == "&":
            self.address(e.operand)
        elif isinstance(e, s.Unary) and e.op == "-":
            self.expr(e.operand)
            t.negate()
        elif isinstance(e, s.Unary) and e.op == "!":
            self.expr(e.operand)
            t.logical_not()
        elif isinstance(e, (s.Name, s.Member, s.Unary)):
            self.address(e)
            t.load()
        elif isinstance(e, s.Binary):
            self.expr(e.left)
            t.push()
            self.expr(e.right)
            t.pop_tmp()
            if e.op in ("==", "!=", "<", "<=", ">", ">="):
                t.compare(e.op)
            else:
                t.binary(e.op)
        elif isinstance(e, s.Call):
            for arg in e.args:
                self.expr(arg)
                t.push()
            for i in reversed(range(len(e.args))):
                t.pop_arg(i)
            t.call(e.name)
        else:
            raise AssertionError(e)
