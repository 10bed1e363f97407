"""gdb and gdb-multiarch (natively, or attached to qemu-aarch64) in batch mode, with structured results.

The commands run as ``-ex`` arguments, each preceded by an ``echo`` of a marker line so the output splits by command.
A small Python hook inside gdb (``gdb.events.stop``) prints each stop as one JSON line: the frames with their
arguments, and frame 0's parameters and locals with their types, read through gdb's own symbol API. Markers and JSON
lines are removed from the transcript, which is then what gdb prints for the same commands by hand.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

from .process import SessionError, checked_args, find_tool, kill, run, start_qemu
from .session import CommandOutput, Frame, Session, Stop, Variable

COMMAND = "@@dwarfkit-command "
STOP = "@@dwarfkit-stop "
EXIT = "@@dwarfkit-exit "
SETTINGS = ["set pagination off", "set confirm off", "set width 0", "set height 0", "set debuginfod enabled off"]

# Runs inside gdb. Everything is caught: a probe must never change what the session does.
_HOOK = r'''
import gdb, json
def _dk_text(read):
    try:
        return str(read())
    except Exception as e:
        return "<error: %s>" % e
def _dk_variables(frame, arguments):
    found = []
    try:
        block = frame.block()
    except RuntimeError:
        return found
    while block is not None:
        for symbol in block:
            if symbol.is_argument if arguments else (symbol.is_variable and not symbol.is_argument):
                found.append([symbol.name, _dk_text(lambda: symbol.type),
                              _dk_text(lambda: frame.read_var(symbol, block))])
        if block.function is not None:
            break
        block = block.superblock
    return found
def _dk_frame(frame):
    sal = frame.find_sal()
    return {"function": frame.name(), "address": frame.pc(),
            "file": sal.symtab.filename if sal.symtab else None, "line": sal.line or None,
            "args": _dk_variables(frame, True)}
def _dk_stop(event):
    try:
        if isinstance(event, gdb.BreakpointEvent):
            reason = "breakpoint " + ",".join(str(b.number) for b in event.breakpoints)
        elif isinstance(event, gdb.SignalEvent):
            reason = "signal " + event.stop_signal
        else:
            reason = "stop"
        frames, frame = [], gdb.newest_frame()
        while frame is not None and len(frames) < 64:
            frames.append(_dk_frame(frame))
            frame = frame.older()
        frame0 = gdb.newest_frame()
        data = {"reason": reason, "frames": frames, "locals": _dk_variables(frame0, False)}
    except Exception as e:
        data = {"reason": "stop", "frames": [], "locals": [], "error": str(e)}
    print("@@dwarfkit-stop " + json.dumps(data))
def _dk_exit(event):
    print("@@dwarfkit-exit " + json.dumps(getattr(event, "exit_code", None)))
gdb.events.stop.connect(_dk_stop)
gdb.events.exited.connect(_dk_exit)
'''
RUNNING = re.compile(r"(run|r|start|starti|continue|c|next|n|step|s|nexti|ni|stepi|si|finish|fin|until|u|advance|"
                     r"jump|signal|kill)\b")


def gdb(program: str | os.PathLike[str], commands: Sequence[str] = (), *, breakpoints: Sequence[str] = (),
        commands_per_stop: Sequence[str] = (), max_stops: int = 20, tool: str | None = None, before: Sequence[str] = (),
        qemu: bool = False, complaints: int = 100, timeout: float = 60,
        cwd: str | os.PathLike[str] | None = None, program_args: Sequence[str] = ()) -> Session:
    """gdb on ``program`` in batch mode.

    Either ``commands`` (a whole script: ``break``, ``run``, ``next``, ``print`` ...), or ``breakpoints`` (gdb
    locations: ``file.c:12``, ``function``, ``*0x401000``, with ``if COND``), where at each of the first
    ``max_stops`` stops ``commands_per_stop`` run, then ``continue``. ``before`` are settings read before the program
    (``-iex``). ``complaints`` is gdb's ``set complaints`` (how many of each kind it prints; they land in
    ``Session.complaints``, and gdb writes them into the middle of other output). ``qemu=True`` runs the program
    under ``qemu-aarch64 -g`` and attaches ``tool`` (default gdb-multiarch there, gdb otherwise) to it; ``run``
    then means ``continue``. Raises :class:`ToolMissing` for a missing tool, :class:`DebuggerTimeout` after
    ``timeout`` seconds (the debugger, its inferior and qemu are killed), :class:`SessionError` for wrong
    arguments. ``program_args``: the program's command line arguments (``python3`` and a script, say)."""
    script = _script(commands, breakpoints, commands_per_stop, max_stops)
    program_args = checked_args(program_args)
    if qemu and program_args:
        raise SessionError("program_args are not passed to a program run under qemu")
    for c in [*script, *before]:
        if not isinstance(c, str) or "\n" in c and not c.startswith("python"):
            raise SessionError(f"a gdb command must be one line of text, not {c!r}")
    if not isinstance(complaints, int) or complaints < 0:
        raise SessionError(f"complaints must be an int >= 0, not {complaints!r}")
    tool = tool or ("gdb-multiarch" if qemu else "gdb")
    path = find_tool(tool)
    program = Path(program)
    args = [path, "-nx", "-batch"]
    for setting in [*SETTINGS, f"set complaints {complaints}", f"python exec({_HOOK!r})", *before]:
        args += ["-iex", setting]
    qemu_process = None
    if qemu:
        qemu_process, port = start_qemu(find_tool("qemu-aarch64"), program)
        args += ["-iex", "set architecture aarch64", "-iex", "set tcp auto-retry on",
                 "-iex", "set tcp connect-timeout 20", "-ex", f"target remote 127.0.0.1:{port}"]
        script = ["continue" if c == "run" else c for c in script]
    for n, command in enumerate(script):
        args += ["-ex", f"echo {COMMAND}{n}\\n", "-ex", command]
        if RUNNING.match(command) and not commands:  # quit once the program ended: no errors for later stops
            args += ["-ex", "python gdb.selected_inferior().pid == 0 and gdb.execute('quit')"]
    try:
        returncode, output = run([*args, "--args", str(program), *program_args], timeout, cwd)
    finally:
        if qemu_process is not None:
            kill(qemu_process)
    return parse(Path(tool).name, program, script, output, returncode)


def _script(commands: Sequence[str], breakpoints: Sequence[str], per_stop: Sequence[str], max_stops: int
            ) -> list[str]:
    if isinstance(commands, str) or isinstance(breakpoints, str) or isinstance(per_stop, str):
        raise SessionError("commands, breakpoints and commands_per_stop are lists of strings, not one string")
    if commands and (breakpoints or per_stop):
        raise SessionError("give either a whole script (commands) or breakpoints with commands_per_stop, not both")
    if commands:
        return list(commands)
    if not isinstance(max_stops, int) or max_stops < 1:
        raise SessionError(f"max_stops must be a positive int, not {max_stops!r}")
    script = [f"break {b}" for b in breakpoints] + ["run"]
    for n in range(max_stops):
        script += [*per_stop, "continue"] if n + 1 < max_stops else list(per_stop)
    return script


def parse(tool: str, program: Path, script: list[str], output: str, returncode: int) -> Session:
    """The session from gdb's output with markers (see the module docstring)."""
    stops: list[Stop] = []
    exit_code = None
    outputs: list[CommandOutput] = []
    pieces = re.split(rf"{re.escape(COMMAND)}(\d+)\n", output)
    transcript = [_strip(pieces[0])]
    for number, text in zip(pieces[1::2], pieces[2::2], strict=True):
        command = script[int(number)]
        current = stops[-1] if stops else None
        # The program's own output may leave a line unfinished before ours: look anywhere in a line.
        for kind, data in re.findall(rf"({re.escape(STOP)}|{re.escape(EXIT)})(.*)\n", text):
            if kind == STOP:
                stops.append(_stop(json.loads(data), command))
            else:
                exit_code = json.loads(data)
        shown = _strip(text)
        transcript.append(shown)
        outputs.append(CommandOutput(command, shown))
        if stops and stops[-1] is not current:  # this command ran the program to a new stop
            if re.match(r"fin(ish)?\b", command):
                found = re.search(r"^Value returned is \$\d+ = (.*)$", shown, re.M)
                stops[-1].return_value = found[1] if found else None
        elif stops and exit_code is None:
            stops[-1].outputs.append(CommandOutput(command, shown))
    text = "".join(transcript)
    return Session(tool, program, script, text, outputs, stops, exit_code,
                   complaints=re.findall(r"^During symbol reading[:,] (.*)$", text, re.M),
                   warnings=re.findall(r"^warning: (.*)$", text, re.M),
                   errors=re.findall(r"^error: (.*)$", text, re.M), returncode=returncode)


def _strip(text: str) -> str:
    """The text without our JSON lines."""
    return re.sub(rf"(?:{re.escape(STOP)}|{re.escape(EXIT)}).*\n", "", text)


def _stop(data: dict, command: str) -> Stop:
    frames = [Frame(f["function"], f["file"], f["line"], f["address"], tuple(Variable(*v) for v in f["args"]))
              for f in data["frames"]]
    return Stop(data["reason"], frames, list(frames[0].args) if frames else [],
                [Variable(*v) for v in data["locals"]], command)
