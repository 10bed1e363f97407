"""The reference interpreter: the meaning of a minic program, and the oracle the compiled code is tested against.

:func:`run` executes ``main`` and records a :class:`Stop` each time execution reaches a chosen source line, before
the statement there runs -- what a debugger shows at a breakpoint on that line. The lines where a stop can happen are
:func:`stop_lines`; the code generator gives exactly those lines an ``is_stmt`` row:
* every statement but a block: a declaration (it stores the initial value, 0 without an initializer), an
  assignment, a call, ``if``, ``return``;
* a ``while`` each time its condition is evaluated;
* the closing brace of a function each time the function returns.
With one such statement per line, the stops here and a debugger's stops correspond one to one.

Storage is a graph of :class:`Cell` objects (one per int or pointer, a struct is one cell per field), so pointers are
references to cells and never raw addresses; a report names what a pointer points to (:class:`Target`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Union

from . import syntax as s
from .errors import RunError

MASK = (1 << 64) - 1


def wrap(value: int) -> int:
    """Two's complement 64-bit wrap-around, as the machine does it."""
    value &= MASK
    return value - (1 << 64) if value >> 63 else value


#---------------------------------------------------------------------------------------------------- what a stop shows

@dataclass(frozen=True)
class Target:
    """What a non-null pointer points to: a variable, or one field of a struct variable."""
    variable: str
    field: str | None
    function: str | None
    """The function that owns the variable; None for a global."""
    frame_level: int | None
    """The owning frame as a debugger numbers it from the stop (0 = the stopped frame, 1 its caller, ...); None for a
    global, or for a variable whose block or frame has ended (a dangling pointer)."""

    @property
    def lvalue(self) -> str:
        """The pointee as a source expression (``g``, ``here.y``), valid in the owning frame."""
        return self.variable + (f".{self.field}" if self.field else "")

    def __str__(self) -> str:
        return f"&{self.lvalue}" if self.function is None else f"&{self.lvalue} in {self.function}#{self.frame_level}"


@dataclass(frozen=True)
class Pointer:
    target: Target | None
    """None for the null pointer."""

    def __str__(self) -> str:
        return str(self.target) if self.target else "null"


Value = Union[int, Pointer, dict[str, Union[int, Pointer]]]
"""An int, a pointer, or a struct as {field: value} in declaration order."""


@dataclass
class Stop:
    line: int
    function: str
    frames: tuple[str, ...]
    """Function names from the stopped frame outwards (``frames[0] == function``, ``frames[-1] == "main"``)."""
    parameters: dict[str, Value]
    """Parameters not shadowed by a local."""
    locals: dict[str, Value]
    """Locals declared so far in the enclosing blocks; an inner declaration hides an outer one of the same name."""
    globals: dict[str, Value]
    """Every global, even one a local hides (a debugger names it ``::name``)."""

    @property
    def variables(self) -> dict[str, Value]:
        """What ``print name`` shows for each visible name: locals, then parameters, then globals."""
        return {**self.globals, **self.parameters, **self.locals}


@dataclass
class Execution:
    exit_code: int
    """main's return value & 0xff, as the Linux exit syscall reports it."""
    return_value: int
    stops: list[Stop]


# ----------------------------------------------------------------------------------------------------------- storage

@dataclass(eq=False)
class Cell:
    """One 64-bit slot: an int (a Python int) or a pointer (a Cell, a list of field cells, or None)."""
    value: object
    owner: "Storage"
    field: str | None = None


@dataclass(eq=False)
class Storage:
    """The memory of one variable: one cell, or one per struct field."""
    decl: s.Variable
    frame: "Frame | None"
    cells: list[Cell] = field(default_factory=list)
    alive: bool = True


def cell_types(t: s.Type | None) -> list[s.Type]:
    return [f.type for f in t.fields] if isinstance(t, s.StructType) else [t]  # type: ignore[list-item]


def new_storage(decl: s.Variable, frame: "Frame | None") -> Storage:
    """Fresh storage, zeroed: a global without an initializer, or a local each time its declaration runs."""
    storage = Storage(decl, frame)
    fields = decl.type.fields if isinstance(decl.type, s.StructType) else [None]
    storage.cells = [Cell(0 if t == s.INT else None, storage, f.name if f else None)
                     for f, t in zip(fields, cell_types(decl.type), strict=True)]
    return storage


@dataclass(eq=False)
class Frame:
    function: s.Function
    scopes: list[list[Storage]] = field(default_factory=list)
    """The parameters and the body's own locals first, then one list per open inner block, innermost last."""
    storage: dict[s.Variable, Storage] = field(default_factory=dict)


class _Return(Exception):
    def __init__(self, value: object) -> None:
        self.value = value


# ------------------------------------------------------------------------------------------------------- the machine

def stop_lines(program: s.Program) -> set[int]:
    """Every line where :func:`run` can stop (see the module docstring)."""
    lines: set[int] = set()

    def visit(stmt: s.Stmt) -> None:
        if isinstance(stmt, s.Block):
            for inner in stmt.body:
                visit(inner)
        else:
            lines.add(stmt.line)
            if isinstance(stmt, s.If):
                visit(stmt.then)
                if stmt.orelse is not None:
                    visit(stmt.orelse)
            elif isinstance(stmt, s.While):
                visit(stmt.body)

    for f in program.functions:
        visit(f.body)
        lines.add(f.body.end_line)
    return lines


def run(program: s.Program, stop_at: Iterable[int] = (), *, max_steps: int = 1_000_000,
        max_depth: int = 200) -> Execution:
    """Runs a checked program from ``main``. Raises RunError on undefined behaviour or when a limit is exceeded."""
    main = program.function("main")
    if main is None:
        raise RunError(program.filename, 1, 1, "the program has no function main (was it checked?)")
    machine = _Machine(program, set(stop_at), max_steps, max_depth)
    value = machine.call(main, [], main)
    assert isinstance(value, int)
    return Execution(value & 0xFF, value, machine.stops)


class _Machine:
    def __init__(self, program: s.Program, stop_at: set[int], max_steps: int, max_depth: int) -> None:
        self.program = program
        self.stop_at = stop_at
        self.steps_left = max_steps
        self.max_depth = max_depth
        self.stops: list[Stop] = []
        self.stack: list[Frame] = []
        self.globals = {g: new_storage(g, None) for g in program.globals}
        for g in program.globals:
            self.init_global(g)

    def error(self, node, message: str) -> RunError:
        return RunError(self.program.filename, node.line, node.column, message)

    def init_global(self, g: s.Global) -> None:
        storage = self.globals[g]
        if g.init is None:
            return
        items = g.init.items if g.init.items is not None else [g.init]
        for cell, t, item in zip(storage.cells, cell_types(g.type), items, strict=True):
            if item.number is not None:
                cell.value = item.number if t == s.INT else None
            else:
                target = self.globals[next(t for t in self.program.globals if t.name == item.address_of)]
                cell.value = self.pointer_to(target, item.field_name)

    @staticmethod
    def pointer_to(storage: Storage, field_name: str | None) -> object:
        """A pointer value: the cell of an int (or of a field), or the cell list of a whole struct."""
        if field_name is not None:
            return next(c for c in storage.cells if c.field == field_name)
        return storage.cells if isinstance(storage.decl.type, s.StructType) else storage.cells[0]

    # -- stops

    def reach(self, line: int) -> None:
        self.steps_left -= 1
        if self.steps_left < 0:
            raise RunError(self.program.filename, line, 1, "step limit exceeded (endless loop?)")
        if line in self.stop_at:
            self.stops.append(self.snapshot(line))

    def snapshot(self, line: int) -> Stop:
        frame = self.stack[-1]
        parameters: dict[str, Value] = {}
        locals_: dict[str, Value] = {}
        for scope in frame.scopes:  # outermost first, so that inner declarations win
            for storage in scope:
                name = storage.decl.name
                if isinstance(storage.decl, s.Param):
                    parameters[name] = self.report(storage)
                else:
                    parameters.pop(name, None)
                    locals_[name] = self.report(storage)
        return Stop(line, frame.function.name, tuple(f.function.name for f in reversed(self.stack)), parameters,
                    locals_, {g.name: self.report(st) for g, st in self.globals.items()})

    def report(self, storage: Storage) -> Value:
        if isinstance(storage.decl.type, s.StructType):
            return {c.field: self.report_cell(c) for c in storage.cells}  # type: ignore[misc]
        return self.report_cell(storage.cells[0])

    def report_cell(self, cell: Cell) -> int | Pointer:
        if isinstance(cell.value, int):
            return cell.value
        if cell.value is None:
            return Pointer(None)
        target = cell.value[0] if isinstance(cell.value, list) else cell.value
        assert isinstance(target, Cell)
        owner = target.owner
        field_name = target.field if isinstance(cell.value, Cell) else None
        if owner.frame is None:
            return Pointer(Target(owner.decl.name, field_name, None, None))
        level = None
        if owner.alive:
            level = next(i for i, f in enumerate(reversed(self.stack)) if f is owner.frame)
        return Pointer(Target(owner.decl.name, field_name, owner.frame.function.name, level))

    # -- calls and statements

    def call(self, function: s.Function, args: list[object], site) -> object:
        if len(self.stack) >= self.max_depth:
            raise self.error(site, f"call depth exceeds {self.max_depth} (endless recursion?)")
        frame = Frame(function)
        self.stack.append(frame)
        frame.scopes.append([])
        for param, value in zip(function.params, args, strict=True):
            self.declare(frame, param).cells[0].value = value
        try:
            self.block_body(function.body.body, frame)
            result: object = 0  # falling off the end returns 0
        except _Return as r:
            result = r.value
        self.reach(function.body.end_line)
        for scope in frame.scopes:
            for storage in scope:
                storage.alive = False
        self.stack.pop()
        return result

    def declare(self, frame: Frame, decl: s.Variable) -> Storage:
        storage = new_storage(decl, frame)
        frame.storage[decl] = storage
        frame.scopes[-1].append(storage)
        return storage

    def block_body(self, body: list[s.Stmt], frame: Frame) -> None:
        for stmt in body:
            self.statement(stmt, frame)

    def statement(self, stmt: s.Stmt, frame: Frame) -> None:
        if isinstance(stmt, s.Block):
            frame.scopes.append([])
            try:
                self.block_body(stmt.body, frame)
            finally:
                for storage in frame.scopes.pop():
                    storage.alive = False
            return
        if isinstance(stmt, s.Local):
            self.reach(stmt.line)
            value = None if stmt.init is None else self.value(stmt.init, frame)
            storage = self.declare(frame, stmt)
            if stmt.init is not None:
                storage.cells[0].value = value
            return
        if isinstance(stmt, s.While):
            while True:
                self.reach(stmt.line)
                if not self.truth(stmt.cond, frame):
                    return
                self.statement(stmt.body, frame)
        self.reach(stmt.line)
        if isinstance(stmt, s.Assign):
            cell = self.lvalue(stmt.target, frame)
            assert isinstance(cell, Cell)
            cell.value = self.value(stmt.value, frame)
        elif isinstance(stmt, s.ExprStmt):
            self.value(stmt.expr, frame)
        elif isinstance(stmt, s.If):
            if self.truth(stmt.cond, frame):
                self.statement(stmt.then, frame)
            elif stmt.orelse is not None:
                self.statement(stmt.orelse, frame)
        elif isinstance(stmt, s.Return):
            raise _Return(self.value(stmt.value, frame))
        else:
            raise AssertionError(stmt)

    def truth(self, expr: s.Expr, frame: Frame) -> bool:
        value = self.value(expr, frame)
        return value != 0 if isinstance(value, int) else value is not None

    # -- expressions

    def lvalue(self, e: s.Expr, frame: Frame) -> Cell | list[Cell]:
        """The cell an lvalue designates; a list of field cells for a struct."""
        if isinstance(e, s.Name):
            assert e.decl is not None
            storage = self.globals[e.decl] if isinstance(e.decl, s.Global) else frame.storage[e.decl]
            return storage.cells if isinstance(e.decl.type, s.StructType) else storage.cells[0]
        if isinstance(e, s.Unary) and e.op == "*":
            return self.deref(self.value(e.operand, frame), e)
        if isinstance(e, s.Member):
            cells = self.deref(self.value(e.base, frame), e) if e.arrow else self.lvalue(e.base, frame)
            assert isinstance(cells, list) and e.field_info is not None
            return cells[e.field_info.offset // s.WORD]
        raise AssertionError(e)

    def deref(self, pointer: object, node) -> Cell | list[Cell]:
        if pointer is None:
            raise self.error(node, "null pointer dereference")
        if not isinstance(pointer, (Cell, list)):  # the checker lets only pointers be dereferenced
            raise AssertionError(pointer)
        cells = pointer if isinstance(pointer, list) else [pointer]
        if not cells[0].owner.alive:
            raise self.error(node, f"dereference of a pointer to {cells[0].owner.decl.name}, which no longer exists")
        return pointer

    def value(self, e: s.Expr, frame: Frame) -> object:
        if isinstance(e, s.Number):
            return None if isinstance(e.type, s.PointerType) else e.value  # the checker typed null pointers
        if isinstance(e, s.Unary):
            if e.op == "&":
                return self.lvalue(e.operand, frame)
            v = self.value(e.operand, frame)
            if e.op == "-":
                return wrap(-v)  # type: ignore[operator]
            if e.op == "!":
                return int(v == 0)
        if isinstance(e, (s.Name, s.Member, s.Unary)):
            cell = self.lvalue(e, frame)
            assert isinstance(cell, Cell), "struct values are used only through fields, & and *"
            return cell.value
        if isinstance(e, s.Binary):
            return self.binary(e, self.value(e.left, frame), self.value(e.right, frame))
        if isinstance(e, s.Call):
            args = [self.value(a, frame) for a in e.args]
            assert e.function is not None
            return self.call(e.function, args, e)
        raise AssertionError(e)

    def binary(self, e: s.Binary, a, b) -> int:
        if e.op in ("==", "!="):
            same = a is b if isinstance(e.left.type, s.PointerType) else a == b
            return int(same == (e.op == "=="))
        if e.op in ("<", "<=", ">", ">="):
            return int({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[e.op])
        if e.op == "+":
            return wrap(a + b)
        if e.op == "-":
            return wrap(a - b)
        if e.op == "*":
            return wrap(a * b)
        if b == 0:
            raise self.error(e, "division by zero")
        if a == -(1 << 63) and b == -1:
            raise self.error(e, "division overflow")
        quotient = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)  # C truncates toward zero
        return quotient if e.op == "/" else a - quotient * b
