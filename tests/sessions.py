"""The debugger-session instrument of issue 15: build a program of our own from objects (optionally transformed, e.g.
by ``dwarfkit convert``), link it, and record what gdb and lldb-14 show a user, as a transcript two builds can be
compared by.

>>> exe = build(program("c"), "gcc", "ld", tmp / "orig")                          # -O2 -g, GNU ld
>>> new = build(program("c"), "gcc", "lld", tmp / "conv", transform=convert_object)  # each .o through the transform
>>> compare_transcripts(transcript(exe, "gdb", program("c")), transcript(new, "gdb", program("c")))   # [] if same

* :func:`program` -- ``"c"`` (tests/programs/features.c), ``"cpp"`` (features.cpp), ``"multi"`` (a generated
  program of 9 files and about 3000 lines, tests/programs/multifile.py, written into ``folder``): sources, the
  functions to break at (every function), the types to ``ptype``, the language.
* :func:`build` -- each source to an object with ``COMPILER -O2 -g -c`` (gcc, g++, clang-14, clang++-14; run in the
  source folder, so two builds have the same DWARF paths), ``transform(obj) -> new obj`` on each, then a link
  through the same compiler driver with GNU ld (``"ld"``) or ld.lld-14 (``"lld"``). The executable is named after
  the program, so two builds differ only in their folder.
* :func:`program_from_dwarf` -- the same for any executable, from its DWARF.
* :func:`transcript` -- with gdb: ``ptype`` of every type and ``info line`` of every function, then a run with a
  breakpoint at every function and at each stop ``bt``, ``info args``, ``info locals``, ``finish``; with lldb-14 the
  same as ``type lookup``, ``source info -n``, ``bt``, ``frame variable``, ``finish``. Normalised: the program's path
  and folder, process ids, stack addresses (which move with the environment and the path's length, also as the low
  half in glibc's unwind buffer's ``canceltype``), glibc's pointer-guarded jmp_buf and stack-protector canaries
  (random per process, low byte zero; g++'s main shows one in a not yet written local) are masked; code and data
  addresses are kept (a DWARF-only conversion does not move them). gdb runs on one thread (``maint set worker-threads
  0``: its indexing threads make answers' order vary) and the places ``info line`` of a function with inlined copies
  answers are sorted (gdb orders them by where its symbols sit in its memory, which moves when only the DWARF's layout
  changes).
* :func:`convert_transform` -- ``transform=convert_transform(**options)`` runs ``dwarfkit.convert`` on each object.
* :func:`compare_transcripts` -- the differing lines, as a unified diff (empty if the same).
"""
from __future__ import annotations

import difflib
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from debuggers import session as run_session

from dwarfkit import debuggers

PROGRAMS = Path(__file__).resolve().parent / "programs"
COMPILERS = {"gcc": "c", "clang-14": "c", "g++": "c++", "clang++-14": "c++"}
LINKERS = ("ld", "lld")
Transform = Callable[[Path], Path]


@dataclass(frozen=True)
class Program:
    """A program of ours: its sources, every function (to break at) and the named types (to ptype)."""
    name: str
    language: str
    sources: tuple[Path, ...]
    functions: tuple[str, ...]
    types: tuple[str, ...]
    lldb_types: tuple[str, ...]
    max_stops: int

    @property
    def folder(self) -> Path:
        return self.sources[0].parent


def program(name: str, folder: str | Path | None = None) -> Program:
    """``"c"``, ``"cpp"`` or ``"multi"`` (generated into ``folder``, which it needs)."""
    functions: tuple[str, ...]
    if name == "c":
        functions = ("main", "build", "apply", "perimeter2", "weight_of", "fib", "dist2", "square", "color_name")
        return Program("features-c", "c", (PROGRAMS / "features.c",), functions,
                       ("struct point", "union number", "enum color", "struct shape", "measure_fn"),
                       ("point", "number", "color", "shape", "measure_fn"), 400)
    if name == "cpp":
        functions = ("main", "total_area", "count_if_big", "util::largest", "util::twice", "util::Ring::push",
                     "util::Ring::sum", "geo::Vec::dot", "geo::Rect::area", "geo::Rect::Rect", "geo::Circle::Circle",
                     "geo::Circle::area", "geo::Rect::kind", "geo::Shape::kind")
        types = ("geo::Vec", "geo::Shape", "geo::Rect", "geo::Circle", "util::Ring<int, 4>")
        return Program("features-cpp", "c++", (PROGRAMS / "features.cpp",), functions, types, types, 400)
    if name == "multi":
        if folder is None:
            raise ValueError("the multi-file program is generated: give the folder to write it into")
        sources, functions = _multifile().generate(folder)
        return Program("multi", "c", tuple(sources), tuple(functions), ("struct record", "enum level", "combine_fn"),
                       ("record", "level", "combine_fn"), 3000)
    raise ValueError(f"no program {name!r}: 'c', 'cpp' or 'multi'")


_KINDS = {"structure_type": "struct", "union_type": "union", "enumeration_type": "enum", "class_type": "class"}
_SCOPES = ("namespace", "structure_type", "class_type", "union_type")


def program_from_dwarf(exe: str | Path, *, max_stops: int = 1000) -> Program:
    """A :class:`Program` for an executable that is not one of ours: every function with code or inlined (its
    qualified name, through DW_AT_specification / abstract_origin) and every named type at file or namespace
    scope, read from its DWARF by llvm-dwarfdump-14 (tests/roundtrip.py)."""
    from roundtrip import dwarf_view

    view = dwarf_view(exe)
    functions: dict[str, None] = {}
    types: dict[tuple[str, str], None] = {}

    def qualified(path: str) -> str | None:
        steps = path.split(" / ")[1:]
        names = [m[1] for step in steps if (m := re.fullmatch(r'\w+ "([^"]+)"(?: #\d+)?', step))]
        return "::".join(names) if len(names) == len(steps) and not names[-1].startswith("<") else None  # lambdas

    by_path: dict[str, object] = {}

    def index(die, path: str) -> None:
        by_path[path] = die
        for child in die.children:
            index(child, f"{path} / {child.label}")

    def declaration(path: str) -> str:
        """The path of the DIE a concrete or out-of-line one stands for (specification, abstract origin)."""
        for _ in range(4):
            attributes = dict(getattr(by_path.get(path), "attributes", ()))
            origin = attributes.get("DW_AT_specification") or attributes.get("DW_AT_abstract_origin")
            if origin is None or getattr(origin, "path", None) not in by_path:
                break
            path = origin.path
        return path

    def walk(die, path: str, language: str) -> None:
        attributes = dict(die.attributes)
        if die.tag == "subprogram" and ({"DW_AT_low_pc", "DW_AT_ranges", "DW_AT_inline"} & set(attributes)):
            name = qualified(declaration(path))
            if name:
                functions[name] = None
        if die.tag in (*_KINDS, "typedef") and "DW_AT_name" in attributes and \
                "DW_AT_declaration" not in attributes and (name := qualified(path)):
            prefix = _KINDS.get(die.tag) if language == "c" and die.tag != "class_type" else None
            types[(f"{prefix} {name}" if prefix else name, name)] = None
        if die.tag in ("compile_unit", *_SCOPES):
            for child in die.children:
                walk(child, f"{path} / {child.label}", language)
    for unit in view.units:
        if unit.die is not None:
            index(unit.die, unit.label)
    for unit in view.units:
        if unit.die is not None and unit.die.tag == "compile_unit":
            language = "c++" if "C_plus_plus" in str(dict(unit.die.attributes).get("DW_AT_language")) else "c"
            walk(unit.die, unit.label, language)
    return Program(Path(exe).name, "c", (Path(exe),), tuple(functions), tuple(t for t, _ in types),
                   tuple(n for _, n in types), max_stops)


def _multifile() -> ModuleType:
    """tests/programs/multifile.py, loaded by path: tests/programs is a folder of sources, and the name
    ``programs`` is tests/programs.py's."""
    spec = importlib.util.spec_from_file_location("multifile", PROGRAMS / "multifile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(args: list[str], cwd: Path | None = None) -> None:
    done = subprocess.run(args, capture_output=True, text=True, cwd=cwd)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")


def build(prog: Program, compiler: str, linker: str, workdir: str | Path, transform: Transform | None = None,
          extra_flags: tuple[str, ...] = ()) -> Path:
    """The linked executable ``workdir/<program name>`` (see the module docstring)."""
    if compiler not in COMPILERS:
        raise ValueError(f"compiler {compiler!r}: one of {sorted(COMPILERS)}")
    if linker not in LINKERS:
        raise ValueError(f"linker {linker!r}: 'ld' (GNU) or 'lld'")
    workdir = Path(workdir)
    (workdir / "obj").mkdir(parents=True, exist_ok=True)
    compiled = [workdir / "obj" / (source.stem + ".o") for source in prog.sources]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # the multi-file program has 9 sources
        list(pool.map(lambda job: _run([compiler, "-O2", "-g", *extra_flags, "-c", job[0].name, "-o", str(job[1])],
                                       cwd=job[0].parent), zip(prog.sources, compiled, strict=True)))
    objects: list[Path] = []
    for obj in compiled:
        if transform is not None:
            new = Path(transform(obj))
            if not new.is_file():
                raise RuntimeError(f"the transform of {obj} returned {new}, which is no file")
            obj = new
        objects.append(obj)
    exe = workdir / prog.name
    link = [compiler, "-O2", *[str(o) for o in objects], "-o", str(exe)]
    if linker == "lld":  # gcc's -fuse-ld=lld runs `ld.lld`, which Debian only installs as ld.lld-14
        tools = workdir / "bin"
        tools.mkdir(exist_ok=True)
        if not (tools / "ld.lld").exists():
            os.symlink(shutil.which("ld.lld-14") or "/usr/bin/ld.lld-14", tools / "ld.lld")
        link[1:1] = ["-B", f"{tools}/", "-fuse-ld=lld"]
    _run(link)
    return exe


def convert_transform(**options: object) -> Transform:
    """A transform for :func:`build` that runs ``dwarfkit.convert(obj, obj-converted.o, **options)`` on each object
    (``dwarf_version=4``, ...: whatever convert takes)."""
    def transform(obj: Path) -> Path:
        import dwarfkit  # convert is the lead's part of issue 15; looked up when a build uses it
        out = obj.with_name(obj.stem + "-converted.o")
        dwarfkit.convert(obj, out, **options)
        return out
    return transform


_STACK = re.compile(r"\b0x0*7ff[0-9a-f]{9}\b")
# A stack-protector canary in an uninitialised local (g++'s main at its first stop): glibc zeroes its low byte.
_BIG_NUMBER = re.compile(r"(?<![\w.])-?\d{15,20}\b")
# gdb 13 indexes DWARF on worker threads; on one its answers come in a fixed order.
_GDB_SETTINGS = ["maint set worker-threads 0"]


# gdb's first stop in main of a program whose main has uninitialised locals there (the C++ program's): they hold
# whatever the C library's start code left (the canary in one run, 0 in another, of one binary): names compared only.
_MAIN_FIRST_STOP = re.compile(r"^(Breakpoint \d+, main \(\) at [^\n]*\n(?:[^\n]*\n)*?)(?=\n|Breakpoint )", re.M)
_LOCAL = re.compile(r"^(\w+) = (?!<optimized out>).*$", re.M)


def _mask_main_locals(found: re.Match[str]) -> str:
    return _LOCAL.sub(r"\1 = <uninitialised>", found[1])


def _mask_canary(found: re.Match[str]) -> str:
    value = int(found[0]) & (1 << 64) - 1
    return "<canary>" if value >> 40 and value & 0xFF == 0 else found[0]


def _sorted_info_lines(session: debuggers.Session) -> str:
    """The session's transcript (gdb's is its commands' outputs one after the other) with the lines of each
    ``info line`` answer sorted (see the module docstring)."""
    def answer(output: debuggers.CommandOutput) -> str:
        if not output.command.startswith("info line "):
            return output.output
        body = output.output.rstrip("\n")
        return "\n".join(sorted(body.split("\n"))) + output.output[len(body):]
    return "".join(answer(o) for o in session.outputs)
# lldb's `finish` out of main lands in glibc, whose start frame holds a jmp_buf mangled with a per-process random
# pointer guard.
_JMP_BUF = re.compile(r"jmp_buf = \(.*\)")
# Its pthread_unwind_buf's `canceltype` shares its bytes with a stack pointer (`pad[2]`): it moves as the stack does.
_CANCELTYPE = re.compile(r"\bcanceltype = -?\d+")


def transcript(exe: str | Path, debugger: str, prog: Program | None = None, *, timeout: float = 300,
               uninitialised_main: bool = False) -> str:
    """What ``debugger`` (``"gdb"`` or ``"lldb"``) shows for ``prog`` built as ``exe`` (module docstring); without
    ``prog``, the functions and types are read from ``exe``'s DWARF (:func:`program_from_dwarf`).
    ``uninitialised_main``: main's locals at gdb's first stop are garbage, compared by name only."""
    exe = Path(exe)
    prog = prog or program_from_dwarf(exe)
    # Run every build from one path: the loader copies the program's path onto the stack, so builds in folders of
    # other name lengths start with other garbage in their uninitialised locals (g++'s main shows one).
    # The folder is this process's (zero-padded, so every run's path has one length): two test runs at once (CI and a
    # developer's) must not replace each other's programs under a running debugger.
    stable = Path(tempfile.gettempdir()) / f"dwarfkit-session-{os.getuid()}-{os.getpid():010d}" / exe.name
    shutil.rmtree(stable.parent, ignore_errors=True)
    stable.parent.mkdir()
    for companion in [exe, *exe.parent.glob(exe.name + ".*")]:   # with a separate debug file (prog.debug)
        if companion.is_file():
            shutil.copy2(companion, stable.parent / companion.name)
    exe = stable
    try:
        if debugger == "gdb":
            static = run_session(debuggers.gdb, exe, [*(f"ptype {t}" for t in prog.types),
                                                      *(f"info line {f}" for f in prog.functions)], complaints=0,
                                 before=_GDB_SETTINGS, timeout=timeout)
            static.transcript = _sorted_info_lines(static)
            running = run_session(debuggers.gdb, exe, breakpoints=list(prog.functions),
                                  commands_per_stop=["bt", "info args", "info locals", "finish"],
                                  max_stops=prog.max_stops, complaints=0, before=_GDB_SETTINGS, timeout=timeout)
        elif debugger == "lldb":
            static = run_session(debuggers.lldb, exe, [*(f"type lookup {t}" for t in prog.lldb_types),
                                                       *(f"source info -n {f}" for f in prog.functions)],
                                 stop_on_error=False, timeout=timeout)
            running = run_session(debuggers.lldb, exe, breakpoints=list(prog.functions),
                                  commands_per_stop=["bt", "frame variable", "finish"], max_stops=prog.max_stops,
                                  timeout=timeout)
        else:
            raise ValueError(f"debugger {debugger!r}: 'gdb' or 'lldb'")
    finally:
        shutil.rmtree(stable.parent, ignore_errors=True)
    if running.exit_code != 0:
        raise RuntimeError(f"{debugger} on {exe}: the program did not end with exit code 0 "
                           f"({running.exit_code}); raise max_stops?\n{running.transcript[-2000:]}")
    text = (f"=== {debugger}: types and lines\n{static.normalized(addresses=False)}\n"
            f"=== {debugger}: {len(running.stops)} stops\n{running.normalized(addresses=False)}\n")
    text = _CANCELTYPE.sub("canceltype = <stack>", _JMP_BUF.sub("jmp_buf = (<mangled>)", _STACK.sub("0xSTACK", text)))
    if debugger == "gdb" and uninitialised_main:
        text = _MAIN_FIRST_STOP.sub(_mask_main_locals, text, count=1)
    return _BIG_NUMBER.sub(_mask_canary, text)


def compare_transcripts(a: str, b: str, *, context: int = 2) -> list[str]:
    """The unified diff of two transcripts (empty when they are the same)."""
    return list(difflib.unified_diff(a.splitlines(), b.splitlines(), "first", "second", lineterm="", n=context))
