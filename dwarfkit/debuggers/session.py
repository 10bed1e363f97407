"""What a debugger session returns: stops with frames and variables, each command's output, the complaints; and the
normalised text form that compares two sessions (an original file against a converted one).

The same classes serve gdb and lldb. Values and types are the debugger's own text (``{x = 3, y = 4}``,
``struct point *``): comparing two sessions of one debugger compares exactly what a user would see.
"""
from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Variable:
    """A parameter or local: its name, type and value as the debugger prints them (``type`` is "" when unknown)."""
    name: str
    type: str
    value: str


@dataclass(frozen=True)
class Frame:
    """One frame of a backtrace, innermost first. ``file`` is the source file name as the line table gives it;
    ``function``, ``file`` and ``line`` are None where the debugger knows none."""
    function: str | None
    file: str | None
    line: int | None
    address: int | None
    args: tuple[Variable, ...] = ()


@dataclass(frozen=True)
class CommandOutput:
    """One command of the session and what the debugger printed for it."""
    command: str
    output: str


@dataclass
class Stop:
    """The program stopped (a breakpoint, a step, a finish, a signal): where, the backtrace, frame 0's parameters and
    locals (in the debugger's order: gdb lists the innermost block first, lldb the outermost), the commands run while
    stopped there and, after ``finish``, the returned value."""
    reason: str
    frames: list[Frame]
    args: list[Variable] = field(default_factory=list)
    locals: list[Variable] = field(default_factory=list)
    command: str = ""
    """The command that ran the program to this stop (``run``, ``continue``, ``next``, ``finish`` ...)."""
    outputs: list[CommandOutput] = field(default_factory=list)
    return_value: str | None = None
    inner_first: bool = True
    """Whether ``locals`` lists inner blocks first (gdb) or last (lldb)."""

    @property
    def function(self) -> str | None:
        return self.frames[0].function if self.frames else None

    @property
    def file(self) -> str | None:
        return self.frames[0].file if self.frames else None

    @property
    def line(self) -> int | None:
        return self.frames[0].line if self.frames else None

    @property
    def address(self) -> int | None:
        return self.frames[0].address if self.frames else None

    def variable(self, name: str) -> Variable | None:
        """The visible parameter or local called ``name`` (an inner block's local hides an outer one and a
        parameter)."""
        ordered = self.locals if self.inner_first else self.locals[::-1]
        return next((v for v in [*ordered, *self.args] if v.name == name), None)

    def output(self, command: str) -> str:
        """What the first run of ``command`` at this stop printed ("" if it did not run here)."""
        return next((o.output for o in self.outputs if o.command == command), "")

    def ptype(self, expression: str) -> str | None:
        """The type from ``ptype EXPRESSION`` (gdb) run at this stop: the text after ``type = ``."""
        found = re.search(r"^type = (.*)", self.output(f"ptype {expression}"), re.M | re.S)
        return found[1].rstrip("\n") if found else None


@dataclass
class Session:
    """A whole debugger run. ``transcript`` is what the debugger printed, as if run by hand with the same commands
    (dwarfkit's own probes removed); ``outputs`` splits it by command; ``complaints`` are gdb's "During symbol
    reading" messages, ``warnings`` and ``errors`` the debugger's ``warning:`` and ``error:`` lines."""
    tool: str
    program: Path
    commands: list[str]
    transcript: str
    outputs: list[CommandOutput]
    stops: list[Stop]
    exit_code: int | None
    complaints: list[str]
    warnings: list[str]
    errors: list[str]
    returncode: int

    def output(self, command: str) -> str:
        """What the first run of ``command`` printed ("" if it never ran)."""
        return next((o.output for o in self.outputs if o.command == command), "")

    def normalized(self, *, addresses: bool = True, pids: bool = True, paths: Iterable[str | os.PathLike[str]] = ()
                   ) -> str:
        """:func:`normalize` of the transcript, with the program's own path masked too."""
        return normalize(self.transcript, addresses=addresses, pids=pids, paths=[self.program, *paths])


def normalize(text: str, *, addresses: bool = True, pids: bool = True,
              paths: Iterable[str | os.PathLike[str]] = ()) -> str:
    """A transcript with what differs between two runs of equal programs masked: each path of ``paths`` (as given
    and absolute) as ``<PATH>``, its folder as ``<DIR>`` and its file name before lldb's module separator
    (``prog`main``) as ``<NAME>``; hex numbers of 4+ digits as ``0xADDR``; process ids as ``PID``.

    A path is masked only as a whole word (``demo`` is not masked inside ``demo.c``), longest first."""
    given = [Path(p) for p in paths]
    masks = [(str(p), "<PATH>") for p in given] + [(str(p.absolute()), "<PATH>") for p in given]
    masks += [(str(p.absolute().parent), "<DIR>") for p in given if p.absolute().parent != Path("/")]
    for path, mask in sorted(set(masks), key=lambda m: len(m[0]), reverse=True):
        text = re.sub(rf"(?<![\w./-]){re.escape(path)}(?![\w-]|\.\w)", mask, text)
    for name in {p.name for p in given if p.name}:
        text = re.sub(rf"(?<![\w.-]){re.escape(name)}`", "<NAME>`", text)
    if pids:
        text = re.sub(r"\b(Process|process|pid|LWP) \d+", r"\1 PID", text)
    if addresses:
        text = re.sub(r"\b0x[0-9a-fA-F]{4,}\b", "0xADDR", text)
    return text


def compare(a: Session, b: Session, *, addresses: bool = True, transcript: bool = True) -> list[str]:
    """Every difference a user would see between two sessions (e.g. of a file and of its converted copy): each
    stop's location, frames and variables, the complaints and warnings, and (``transcript=True``) a unified diff of
    the normalised transcripts. Empty when they agree. ``addresses=True`` masks addresses (two layouts of one
    program differ there); ``False`` compares them too."""
    problems: list[str] = []
    if len(a.stops) != len(b.stops):
        problems.append(f"{len(a.stops)} stops against {len(b.stops)}")
    for n, (x, y) in enumerate(zip(a.stops, b.stops, strict=False)):
        where = f"stop {n + 1} ({x.function}:{x.line})"
        for name, left, right in (("frames", _frames(x, addresses), _frames(y, addresses)),
                                  ("args", x.args, y.args), ("locals", x.locals, y.locals),
                                  ("return value", x.return_value, y.return_value)):
            if addresses:
                left, right = _mask(left), _mask(right)
            if left != right:
                problems.append(f"{where}: {name} {left!r} against {right!r}")
    for name in ("complaints", "warnings", "errors", "exit_code"):
        left, right = getattr(a, name), getattr(b, name)
        if name != "exit_code":
            left, right = normalize("\n".join(left), paths=[a.program]), normalize("\n".join(right), paths=[b.program])
        if left != right:
            problems.append(f"{name}: {left!r} against {right!r}")
    if transcript:
        problems += list(difflib.unified_diff(a.normalized(addresses=addresses).splitlines(),
                                              b.normalized(addresses=addresses).splitlines(),
                                              str(a.program), str(b.program), lineterm="", n=1))
    return problems


def _frames(stop: Stop, addresses: bool) -> list[tuple]:
    return [(f.function, f.file, f.line, None if addresses else f.address, f.args) for f in stop.frames]


def _mask(value: object) -> str:
    return normalize(repr(value))
