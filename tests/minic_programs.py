"""Test-only: a hypothesis strategy for random minic programs that always terminate and have no undefined behaviour.

Every statement sits on a line of its own (so that debugger stops and the interpreter's stops correspond one to one).
Safety by construction:
* loops run a fixed number of times: a counter no other statement assigns;
* a function calls only functions defined before it (no recursion);
* division and remainder only by literals 2..9 (no division by zero, no INT_MIN / -1);
* pointers always point at something alive: locals take addresses of variables already in scope, callees get
  addresses from their caller, globals point only at globals; ``struct Pair*`` locals point at struct variables in
  scope.
Language corners on purpose: an inner block's local may hide an outer local, parameter or global of the same name
(its initializer still reads the outer one).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

STRUCT = "struct Pair {\n    int a;\n    int b;\n    int* p;\n};"


@dataclass
class Scope:
    ints: list[str] = field(default_factory=list)
    """Assignable int lvalues (variables and struct fields)."""
    readonly: list[str] = field(default_factory=list)
    """Readable ints that must not be assigned (loop counters)."""
    pointers: list[str] = field(default_factory=list)
    """int* values that are always valid."""
    declared: set[str] = field(default_factory=set)
    """Names declared in this very block (an inner block may hide any other int variable)."""
    structs: list[str] = field(default_factory=list)
    """struct Pair variables whose address may be taken."""


class _Writer:
    def __init__(self, draw, functions: list[tuple[str, int, int]]) -> None:
        self.draw = draw
        self.functions = functions  # (name, int params, pointer params) of the functions callable from here
        self.lines: list[str] = []
        self.counter = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)

    # -- expressions

    def expr(self, scope: Scope, depth: int = 0) -> str:
        draw = self.draw
        atoms = scope.ints + scope.readonly + [f"*{p}" for p in scope.pointers]
        choice = draw(st.integers(0, 7 if depth < 2 else 1))
        if choice == 0 or not atoms:
            return str(draw(st.integers(-1000, 1000)))
        if choice == 1:
            return draw(st.sampled_from(atoms))
        if choice <= 4:
            op = draw(st.sampled_from(["+", "-", "*", "<", "<=", ">", ">=", "==", "!="]))
            return f"({self.expr(scope, depth + 1)} {op} {self.expr(scope, depth + 1)})"
        if choice == 5:
            op = draw(st.sampled_from(["/", "%"]))
            return f"({self.expr(scope, depth + 1)} {op} {draw(st.integers(2, 9))})"
        if choice == 6:
            return f"{draw(st.sampled_from(['-', '!']))}{self.expr(scope, depth + 1)}"
        if not self.functions:
            return draw(st.sampled_from(atoms))
        name, ints, pointers = draw(st.sampled_from(self.functions))
        if pointers and not scope.pointers and not scope.ints:
            return draw(st.sampled_from(atoms))
        args = [self.expr(scope, depth + 1) for _ in range(ints)]
        args += [self.address(scope) for _ in range(pointers)]
        return f"{name}({', '.join(args)})"

    def address(self, scope: Scope) -> str:
        options = [f"&{v}" for v in scope.ints] + scope.pointers
        return self.draw(st.sampled_from(options))

    # -- statements

    def block(self, scope: Scope, depth: int, budget: int) -> None:
        inner = Scope(list(scope.ints), list(scope.readonly), list(scope.pointers), structs=list(scope.structs))
        for _ in range(self.draw(st.integers(1, budget))):
            self.statement(inner, depth)

    def statement(self, scope: Scope, depth: int) -> None:
        draw = self.draw
        kind = draw(st.sampled_from(["local", "assign", "assign", "pointer", "struct", "struct pointer", "if",
                                     "while", "call"]))
        if kind == "local" or not scope.ints:
            # In an inner block, sometimes hide an int variable of an outer scope (a local, a parameter, a global);
            # its initializer still sees the outer one, as in the interpreter and the compiler.
            hideable = [n for n in scope.ints if n.isidentifier() and n not in scope.declared] if depth > 1 else []
            name = draw(st.sampled_from(hideable)) if hideable and draw(st.integers(0, 3)) == 0 else self.fresh("v")
            scope.declared.add(name)
            if draw(st.booleans()):
                self.emit(depth, f"int {name} = {self.expr(scope)};")
            else:
                self.emit(depth, f"int {name};")
            if name not in scope.ints:
                scope.ints.append(name)
        elif kind == "assign":
            self.emit(depth, f"{draw(st.sampled_from(scope.ints + [f'*{p}' for p in scope.pointers]))} = "
                             f"{self.expr(scope)};")
        elif kind == "pointer":
            name = self.fresh("p")
            self.emit(depth, f"int* {name} = {self.address(scope)};")
            scope.pointers.append(name)
        elif kind == "struct":
            name = self.fresh("s")
            self.emit(depth, f"struct Pair {name};")
            self.emit(depth, f"{name}.a = {self.expr(scope)};")
            self.emit(depth, f"{name}.p = {self.address(scope)};")
            scope.ints += [f"{name}.a", f"{name}.b"]
            scope.pointers.append(f"{name}.p")
            scope.structs.append(name)
        elif kind == "struct pointer":
            name = self.fresh("r")
            self.emit(depth, f"struct Pair* {name} = &{draw(st.sampled_from(scope.structs))};")
            scope.ints += [f"{name}->a", f"{name}->b"]
            scope.pointers.append(f"{name}->p")
        elif kind == "if" and depth < 3:
            self.emit(depth, f"if ({self.expr(scope)}) {{")
            self.block(scope, depth + 1, 3)
            if draw(st.booleans()):
                self.emit(depth, "} else {")
                self.block(scope, depth + 1, 3)
            self.emit(depth, "}")
        elif kind == "while" and depth < 3:
            counter = self.fresh("i")
            self.emit(depth, f"int {counter} = 0;")
            self.emit(depth, f"while ({counter} < {draw(st.integers(0, 3))}) {{")
            self.block(Scope(scope.ints, scope.readonly + [counter], scope.pointers, structs=scope.structs),
                       depth + 1, 3)
            self.emit(depth + 1, f"{counter} = {counter} + 1;")
            self.emit(depth, "}")
            scope.readonly.append(counter)
        elif kind == "call" and self.functions:
            self.emit(depth, f"{self.call(scope)};")
        else:
            self.emit(depth, f"{draw(st.sampled_from(scope.ints))} = {self.expr(scope)};")

    def call(self, scope: Scope) -> str:
        name, ints, pointers = self.draw(st.sampled_from(self.functions))
        args = [self.expr(scope, 1) for _ in range(ints)] + [self.address(scope) for _ in range(pointers)]
        return f"{name}({', '.join(args)})"


@st.composite
def programs(draw) -> str:
    """The source of a random, well-defined minic program."""
    globals_ = [f"g{i}" for i in range(draw(st.integers(1, 3)))]
    lines = [STRUCT]
    for g in globals_:
        lines.append(f"int {g} = {draw(st.integers(-50, 50))};")
    lines.append(f"int* gp = &{draw(st.sampled_from(globals_))};")
    lines.append(f"struct Pair pair = {{{draw(st.integers(-9, 9))}, {draw(st.integers(-9, 9))}, &{globals_[0]}}};")
    global_scope = Scope(globals_ + ["pair.a", "pair.b"], [], ["gp", "pair.p"])
    functions: list[tuple[str, int, int]] = []
    for index in range(draw(st.integers(0, 3))):
        name, ints, pointers = f"f{index}", draw(st.integers(0, 3)), draw(st.integers(0, 2))
        params = [f"a{i}" for i in range(ints)]
        pointer_params = [f"q{i}" for i in range(pointers)]
        writer = _Writer(draw, list(functions))
        scope = Scope(global_scope.ints + params, [], global_scope.pointers + pointer_params, structs=["pair"])
        writer.block(scope, 1, 5)
        writer.emit(1, f"return {writer.expr(scope)};")
        signature = ", ".join([f"int {p}" for p in params] + [f"int* {q}" for q in pointer_params])
        lines += [f"int {name}({signature}) {{", *writer.lines, "}"]
        functions.append((name, ints, pointers))
    writer = _Writer(draw, functions)
    scope = Scope(list(global_scope.ints), [], list(global_scope.pointers), structs=["pair"])
    writer.block(scope, 1, 8)
    writer.emit(1, f"return {writer.expr(scope)};")
    lines += ["int main() {", *writer.lines, "}"]
    return "\n".join(lines) + "\n"
