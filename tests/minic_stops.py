"""Test-only: what gdb or lldb shows at breakpoints in a compiled minic program, next to what the reference
interpreter says a debugger must show there (``examples.minic.run(program, stop_at=lines).stops``).

:func:`observe` runs one debugger over the whole program through :mod:`dwarfkit.debuggers`: a breakpoint on each
chosen line, and at each expected stop the session's own stop (location, backtrace, every parameter and local with
its value) plus the commands that show every global (``print ::g`` or ``target variable g``) and the address of each
variable a pointer is expected to point to (``print &x`` or ``frame variable -L x`` in the owning frame).
:func:`compare` lists every difference. Pointers are judged by address: a global's from the ELF symbol table, a stack
variable's from the debugger in the frame that owns it; a dangling pointer (its target's scope ended) is not compared.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from debuggers import session
from elftools.elf.elffile import ELFFile

from dwarfkit import debuggers as dk
from examples.minic import Pointer, Program, Stop, Target
from examples.minic import syntax as s


@dataclass
class Observed:
    """One debugger stop: where, the call chain, and the values it printed (pointers as addresses)."""
    function: str = ""
    line: int = 0
    frames: list[str] = field(default_factory=list)
    variables: dict[str, object] = field(default_factory=dict)
    globals: dict[str, object] = field(default_factory=dict)
    addresses: dict[tuple[int, str], int] = field(default_factory=dict)
    """(frame level, lvalue) -> the address the debugger gives for ``&lvalue`` in that frame."""


def stack_targets(stop: Stop) -> list[Target]:
    """The live stack variables that pointers at this stop point to."""
    found: list[Target] = []

    def visit(value: object) -> None:
        if isinstance(value, dict):
            for v in value.values():
                visit(v)
        elif isinstance(value, Pointer) and value.target and value.target.frame_level is not None:
            if value.target not in found:
                found.append(value.target)

    for v in [*stop.parameters.values(), *stop.locals.values(), *stop.globals.values()]:
        visit(v)
    return found


# ------------------------------------------------------------------------------------------------------ the runs

def observe(debugger: str, exe: Path, filename: str, lines: list[int], stops: list[Stop],
            global_names: list[str]) -> list[Observed]:
    """Runs ``debugger`` ("gdb", "lldb" or "gdb-qemu") on ``exe`` and returns what it showed at the first
    ``len(stops)`` breakpoint hits."""
    if debugger == "lldb":
        return _observe_lldb(exe, filename, lines, stops, global_names)
    return _observe_gdb(debugger, exe, filename, lines, stops, global_names)


def _observe_gdb(debugger: str, exe: Path, filename: str, lines: list[int], stops: list[Stop],
                 global_names: list[str]) -> list[Observed]:
    commands = [f"break {filename}:{line}" for line in lines] + ["run"]
    for i, stop in enumerate(stops):
        for g in global_names:  # ::g is the global even where a local hides it
            commands.append(f"print ::{g}")
        for target in stack_targets(stop):
            commands += [f"frame {target.frame_level}", f"print &{target.lvalue}", "frame 0"]
        if i + 1 < len(stops):
            commands.append("continue")
    s = session(dk.gdb, exe, commands, qemu=debugger == "gdb-qemu", complaints=0)
    return [_gdb_stop(stop) for stop in s.stops]


def _gdb_stop(stop: dk.Stop) -> Observed:
    """What gdb showed at a stop: the location, frames and variables from the session's stop, the globals and the
    addresses from the commands run there."""
    seen = Observed(stop.function or "", stop.line or 0, [f.function or "" for f in stop.frames])
    # Locals list the innermost block first: the first of equal names is the visible one, and it hides a parameter
    # of that name.
    for v in [*stop.locals, *stop.args]:
        seen.variables.setdefault(v.name, parse_gdb_value(v.value))
    level = 0
    for command, text in ((o.command, o.output) for o in stop.outputs):
        if command.startswith("frame "):
            level = int(command.split()[1])
        elif command.startswith("print ::"):
            found = re.search(r"^\$\d+ = (.*)$", text, re.M)
            if found:
                seen.globals[command.removeprefix("print ::")] = parse_gdb_value(found[1])
        elif command.startswith("print &"):
            found = re.search(r"^\$\d+ = \([^)]*\) (0x[0-9a-f]+)", text, re.M)
            if found:
                seen.addresses[(level, command.removeprefix("print &"))] = int(found[1], 16)
    return seen


def parse_gdb_value(text: str) -> object:
    """``-5``, ``0x404010 <g0>``, ``(long *) 0x7ffe...``, ``{a = 1, b = 2, p = 0x0}``; None if unreadable."""
    text = re.sub(r"^\([^)]*\)\s*", "", text.strip())
    if text.startswith("{"):
        return {name: parse_gdb_value(value) for name, value in re.findall(r"(\w+) = ([^,}]+)", text)}
    return _number(text.split(" <")[0])


def _observe_lldb(exe: Path, filename: str, lines: list[int], stops: list[Stop],
                  global_names: list[str]) -> list[Observed]:
    commands = [f"breakpoint set -f {filename} -l {line}" for line in lines] + ["run"]
    for i, stop in enumerate(stops):
        if global_names:
            commands.append("target variable " + " ".join(global_names))
        for target in stack_targets(stop):
            commands += [f"frame select {target.frame_level}", f"frame variable -L {target.lvalue}",
                         "frame select 0"]
        if i + 1 < len(stops):
            commands.append("process continue")
    return [_lldb_stop(stop) for stop in session(dk.lldb, exe, commands).stops]


def _lldb_stop(stop: dk.Stop) -> Observed:
    seen = Observed(stop.function or "", stop.line or 0, [f.function or "" for f in stop.frames])
    # lldb's own "(type) name = value" lines, parameters first, then the locals outermost block first.
    seen.variables = parse_lldb_variables("".join(f"({v.type}) {v.name} = {v.value}\n"
                                                  for v in [*stop.args, *stop.locals]))
    selected = 0
    for command, text in ((o.command, o.output) for o in stop.outputs):
        if command.startswith("target variable"):
            seen.globals.update(parse_lldb_variables(text))
        elif command.startswith("frame select"):
            selected = int(command.split()[-1])
        elif command.startswith("frame variable -L"):
            found = re.match(r"(0x[0-9a-f]+): ", text)
            if found:
                seen.addresses[(selected, command.split()[-1])] = int(found[1], 16)
    return seen


def parse_lldb_variables(text: str) -> dict[str, object]:
    """``(long) x = 5``, ``(long *) p = 0x...``, small structs on one line (``(Vec) v = (x = 3, y = -4)``) and
    others over several lines (``(Pair) s = {`` ... ``}``)."""
    values: dict[str, object] = {}
    pattern = r"^\([^)]*\) ([\w.]+) = (?:\{\n(?P<body>.*?)^\}|(?P<scalar>[^\n]*))$"
    for found in re.finditer(pattern, text, re.M | re.S):  # outermost first: a later equal name hides the earlier
        if found["body"] is not None:
            values[found[1]] = {n: _number(v) for n, v in re.findall(r"^\s+(\w+) = (\S+)", found["body"], re.M)}
        elif found["scalar"].startswith("("):  # a small struct on one line: (x = 3, y = -4)
            values[found[1]] = {n: _number(v) for n, v in re.findall(r"(\w+) = ([^,)]+)", found["scalar"])}
        else:
            values[found[1]] = _number(found["scalar"].split(" ")[0])
    return values


def _number(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return None


# ------------------------------------------------------------------------------------------------- the judgement

def global_addresses(exe: Path, program: Program) -> dict[str, int]:
    """Each global's address, from the executable's ELF symbol table (not from a debugger)."""
    with open(exe, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        return {g.name: symtab.get_symbol_by_name(g.name)[0]["st_value"] for g in program.globals}


def pending_declarations(program: Program, function: str, line: int) -> set[str]:
    """Names declared in a block around ``line`` at or after it: declarations that have not run yet.

    A language corner the two sides model differently: in C (and the interpreter) a local's scope starts at its
    declaration, but a DWARF lexical block gives its variables the whole block's range, so before ``int a = ...;``
    runs a debugger already shows the inner ``a`` where the interpreter shows the outer one it will hide."""
    names: set[str] = set()

    def blocks(stmt: s.Stmt) -> list[s.Block]:
        if isinstance(stmt, s.Block):
            return [stmt]
        if isinstance(stmt, s.If):
            return blocks(stmt.then) + (blocks(stmt.orelse) if stmt.orelse is not None else [])
        if isinstance(stmt, s.While):
            return blocks(stmt.body)
        return []

    def visit(block: s.Block) -> None:
        if not block.line <= line <= block.end_line:
            return
        for stmt in block.body:
            if isinstance(stmt, s.Local) and stmt.line >= line:
                names.add(stmt.name)
            for inner in blocks(stmt):
                visit(inner)

    f = program.function(function)
    if f is not None:
        visit(f.body)
    return names


def compare(expected: Stop, seen: Observed, program: Program, globals_at: dict[str, int]) -> list[str]:
    """Every way ``seen`` differs from the interpreter's ``expected`` stop (a name that a pending declaration will
    hide is not compared, see :func:`pending_declarations`)."""
    problems: list[str] = []
    where = f"stop at {expected.function}:{expected.line}"
    if (seen.function, seen.line) != (expected.function, expected.line):
        return [f"{where}: the debugger stopped at {seen.function}:{seen.line}"]
    if seen.frames[:len(expected.frames)] != list(expected.frames):
        problems.append(f"{where}: backtrace {seen.frames}, expected {list(expected.frames)} (then _start)")

    def address_of(target: Target) -> int | None:
        if target.function is None:
            g = next(g for g in program.globals if g.name == target.variable)
            offset = g.type.field(target.field).offset if target.field else 0  # type: ignore[union-attr]
            return globals_at[target.variable] + offset
        return seen.addresses.get((target.frame_level, target.lvalue))  # type: ignore[arg-type]

    def check(name: str, want: object, got: object) -> None:
        if isinstance(want, dict):
            if not isinstance(got, dict) or set(got) != set(want):
                problems.append(f"{where}: {name} = {got!r}, expected fields {sorted(want)}")
                return
            for fname, fwant in want.items():
                check(f"{name}.{fname}", fwant, got[fname])
        elif isinstance(want, Pointer):
            if want.target is None:
                if got != 0:
                    problems.append(f"{where}: {name} = {got!r}, expected the null pointer")
            elif want.target.function is None or want.target.frame_level is not None:
                address = address_of(want.target)
                if address is None or got != address:
                    problems.append(f"{where}: {name} = {got!r}, expected {want} at {address!r}")
        elif got != want:
            problems.append(f"{where}: {name} = {got!r}, expected {want!r}")

    pending = pending_declarations(program, expected.function, expected.line)
    for name, want in {**expected.parameters, **expected.locals}.items():
        if name in pending:
            continue
        if name not in seen.variables:
            problems.append(f"{where}: the debugger shows no {name}")
        else:
            check(name, want, seen.variables[name])
    for name, want in expected.globals.items():
        check(name, want, seen.globals.get(name))
    return problems
