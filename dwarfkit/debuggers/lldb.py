"""lldb-14 in batch mode (``lldb-14 -b -x -o ...``), with structured results.

lldb echoes every command as ``(lldb) COMMAND``, which splits its output by command. After each command that runs
the program (``run``, ``process continue``, ``next``, ``finish`` ...) dwarfkit adds three probes of its own, ``thread
backtrace`` and ``frame variable --no-locals`` / ``--no-args`` (they change nothing), reads the stop from them and
removes them from the transcript. lldb-14 on Debian prints harmless Python ``run_one_line`` errors (its embedded
interpreter is missing); they are dropped.
"""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .process import SessionError, checked_args, find_tool, run
from .session import CommandOutput, Frame, Session, Stop, Variable

PROBES = ["thread backtrace", "frame variable --no-locals", "frame variable --no-args"]
RUNNING = re.compile(r"(run|r|process launch|process continue|continue|c|thread continue|next|n|step|s|nexti|ni|"
                     r"stepi|si|finish|thread step-\S+|thread until|thread jump)\b")
# An inlined frame reads "module`caller [inlined] callee at file:line": the frame's function is the callee.
_FRAME = re.compile(r"^\s*\*?\s*frame #\d+: (0x[0-9a-f]+) (?:[^`\s]*`)?(?:\S+(?: \+ \d+)? \[inlined\] )?"
                    r"(\S+?)(?:\((.*)\))?(?: \+ \d+)?(?: at ([^:\s]+):(\d+)(?::\d+)?)?$", re.M)
_VARIABLE = re.compile(r"^\((.+?)\) ([\w.$]+) = (\{\n.*?^\}|[^\n]*)$", re.M | re.S)
_NOISE = re.compile(r"run_one_line|Traceback \(most recent call last\)|  File \"|\w+Error: ")


def lldb(program: str | os.PathLike[str], commands: Sequence[str] = (), *, breakpoints: Sequence[str] = (),
         commands_per_stop: Sequence[str] = (), max_stops: int = 20, tool: str = "lldb-14", timeout: float = 60,
         stop_on_error: bool | None = None, cwd: str | os.PathLike[str] | None = None,
         program_args: Sequence[str] = (), before: Sequence[str] = ()) -> Session:
    """lldb on ``program`` in batch mode: ``commands`` (a whole script), or ``breakpoints`` (``file.c:12``,
    ``function``, ``*0x401000``, with ``if COND``) where at each of the first ``max_stops`` stops
    ``commands_per_stop`` run, then ``process continue``. ``stop_on_error`` (default: for a script, as ``lldb -b``
    does) ends the session at the first command that fails; with breakpoints the session goes on (a command that
    fails at one stop may work at the next) and ends when the program does. ``program_args``: the program's command
    line arguments; ``before``: settings read before the program is loaded (``-O``, e.g. ``settings set
    plugin.jit-loader.gdb.enable on``). Errors as for :func:`dwarfkit.debuggers.gdb`."""
    program_args = checked_args(program_args)
    before = checked_args(before)
    if isinstance(commands, str) or isinstance(breakpoints, str) or isinstance(commands_per_stop, str):
        raise SessionError("commands, breakpoints and commands_per_stop are lists of strings, not one string")
    if commands and (breakpoints or commands_per_stop):
        raise SessionError("give either a whole script (commands) or breakpoints with commands_per_stop, not both")
    commands_given = bool(commands)
    if not commands:
        if not isinstance(max_stops, int) or max_stops < 1:
            raise SessionError(f"max_stops must be a positive int, not {max_stops!r}")
        commands = [*map(breakpoint_command, breakpoints), "run"]
        for n in range(max_stops):
            commands += [*commands_per_stop, *(["process continue"] if n + 1 < max_stops else [])]
    for c in commands:
        if not isinstance(c, str) or "\n" in c:
            raise SessionError(f"an lldb command must be one line of text, not {c!r}")
    structured = not commands_given
    stop_on_error = not structured if stop_on_error is None else stop_on_error
    path = find_tool(tool)
    program = Path(program)
    script: list[tuple[str, bool]] = []  # (command, added by us)
    for command in commands:
        script.append((command, False))
        if RUNNING.match(command):
            script += [(probe, True) for probe in PROBES]
    with tempfile.TemporaryDirectory(prefix="dwarfkit-lldb-") as folder:
        args = [path, "-b", "-x"]
        for setting in before:
            args += ["-O", setting]
        if stop_on_error:  # lldb -b stops its -o commands at the first error
            for command, _ in script:
                args += ["-o", command]
        else:
            source = Path(folder) / "commands"
            source.write_text("".join(f"{command}\n" for command, _ in script))
            args += ["-o", f"command source -e false {source}"]
        returncode, output = run([*args, "--", str(program), *program_args], timeout, cwd)
    output = "".join(line for line in output.splitlines(keepends=True) if not _NOISE.search(line))
    return parse(Path(tool).name, program, list(commands), script, output, returncode, ended=structured)


def breakpoint_command(location: str) -> str:
    """``breakpoint set`` for a gdb-style location: ``file:line``, ``*address`` or a function, ``if COND``."""
    if not isinstance(location, str) or not location.strip():
        raise SessionError(f"a breakpoint location must be a non-empty string, not {location!r}")
    where, _, condition = location.partition(" if ")
    where = where.strip()
    if re.fullmatch(r"\S+:\d+", where):
        file, line = where.rsplit(":", 1)
        command = f"breakpoint set -f {file} -l {line}"
    elif where.startswith("*"):
        command = f"breakpoint set -a {where[1:]}"
    else:
        command = f"breakpoint set -n {where}"
    return f"{command} -c '{condition.strip()}'" if condition else command


def parse(tool: str, program: Path, commands: list[str], script: list[tuple[str, bool]], output: str,
          returncode: int, ended: bool = False) -> Session:
    """The session from lldb's output, the probes' blocks taken out (``ended``: and what follows the program's
    exit)."""
    blocks = re.split(r"^\(lldb\) (.*)\n", output, flags=re.M)
    transcript = [blocks[0]]
    outputs: list[CommandOutput] = []
    stops: list[Stop] = []
    exit_code = None
    current: Stop | None = None
    pending_return, pending_command = None, ""
    index = 0  # lldb echoes the script's commands in order (fewer if it stopped at an error)
    for echoed, text in zip(blocks[1::2], blocks[2::2], strict=True):
        if echoed.startswith("command source -e false ") and text.startswith("Executing commands in"):
            continue  # how we ran the script
        if ended and exit_code is not None:
            break
        if index == 0 and echoed.startswith(("target create ", "settings set ")) and \
                not (script and script[0][0] == echoed):
            ours = False  # lldb's own first commands (the target, its arguments) and the settings read before
        elif index < len(script):
            ours = script[index][1]
            index += 1
        else:
            ours = False
        if not ours:
            transcript.append(f"(lldb) {echoed}\n{text}")
            outputs.append(CommandOutput(echoed, text))
            exited = re.search(r"^Process \d+ exited with status = (-?\d+)", text, re.M)
            if exited:
                exit_code, current = int(exited[1]), None
            if RUNNING.match(echoed):
                current = None
                found = re.search(r"^Return value: \([^)]*\) \$\d+ = (.*)$", text, re.M)
                pending_return, pending_command = (found[1] if found else None), echoed
            elif current is not None:
                current.outputs.append(CommandOutput(echoed, text))
        elif echoed == PROBES[0]:
            frames = [_frame(m) for m in _FRAME.finditer(text)]
            if frames:
                reason = re.search(r"stop reason = (.*)$", text, re.M)
                current = Stop(reason[1] if reason else "stop", frames, list(frames[0].args), [],
                               pending_command, return_value=pending_return if "finish" in pending_command
                               or "step-out" in pending_command else None, inner_first=False)
                stops.append(current)
        elif current is not None and echoed == PROBES[1]:
            current.args = _variables(text)
        elif current is not None and echoed == PROBES[2]:
            current.locals = _variables(text)
    text = "".join(transcript)
    return Session(tool, program, commands, text, outputs, stops, exit_code, complaints=[],
                   warnings=re.findall(r"^warning: (.*)$", text, re.M),
                   errors=re.findall(r"^error: (.*)$", text, re.M), returncode=returncode)


def _frame(found: re.Match) -> Frame:
    address, function, args, file, line = found.groups()
    arguments = [argument.partition("=") for argument in _split(args or "")]
    return Frame(function, file, int(line) if line else None, int(address, 16),
                 tuple(Variable(name, "", value) for name, _, value in arguments))  # no types in a backtrace


def _split(args: str) -> list[str]:
    """``p=0x10, s=(a = 1, b = 2)`` at its top-level commas."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(args):
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            parts.append(args[start:i].strip())
            start = i + 1
    if args.strip():
        parts.append(args[start:].strip())
    return parts


def _variables(text: str) -> list[Variable]:
    return [Variable(name, type_, value) for type_, name, value in _VARIABLE.findall(text)]
