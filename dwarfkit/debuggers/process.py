"""Starting debuggers (and qemu-aarch64 for gdb-multiarch) with timeouts, and killing them and what they started.

Every process runs in a session of its own, so a timeout kills the whole group (gdb's inferior, lldb's debug server)
rather than only the debugger. A tool that is not installed is a :class:`ToolMissing`, a session that outlives its
timeout a :class:`DebuggerTimeout` carrying what the debugger printed until then.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from dwarfkit.errors import ToolError


class ToolMissing(ToolError):
    """A debugger (or qemu-aarch64) is not installed: ``tool`` names it."""

    def __init__(self, tool: str) -> None:
        super().__init__(f"{tool} is not installed (scripts/setup.sh installs it)")
        self.tool = tool


class SessionError(ToolError, ValueError):
    """A session asked for wrongly: a command that is not one line of text, both a script and breakpoints, a
    timeout that is not positive."""


class DebuggerTimeout(ToolError):
    """A debugger session ran longer than its timeout and was killed; ``transcript`` is what it printed so far."""

    def __init__(self, tool: str, timeout: float, transcript: str) -> None:
        super().__init__(f"{tool} timed out after {timeout}s and was killed; output so far:\n{transcript}")
        self.tool, self.timeout, self.transcript = tool, timeout, transcript


def checked_args(args: Sequence[str]) -> list[str]:
    """Command line arguments for the program or settings for the debugger: a list of strings."""
    if isinstance(args, str) or not all(isinstance(a, str) for a in args):
        raise SessionError(f"arguments must be a list of strings, not {args!r}")
    return list(args)


def find_tool(name: str) -> str:
    """The path of an installed tool; :class:`ToolMissing` otherwise."""
    if not isinstance(name, str) or not name:
        raise SessionError(f"a tool name must be a non-empty string, not {name!r}")
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(name)
    return path


def run(args: Sequence[str], timeout: float, cwd: str | os.PathLike[str] | None = None) -> tuple[int, str]:
    """(exit status, stdout and stderr interleaved) of ``args``; killed with its process group after ``timeout``."""
    if not timeout > 0:
        raise SessionError(f"the timeout must be a positive number of seconds, not {timeout!r}")
    try:
        process = subprocess.Popen(list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace", cwd=cwd,
                                   start_new_session=True, env={**os.environ, "LC_ALL": "C"})
    except OSError as e:
        raise ToolError(f"cannot start {args[0]}: {e.strerror}") from None
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(process)
        output, _ = process.communicate()
        raise DebuggerTimeout(Path(args[0]).name, timeout, output) from None
    finally:
        kill(process)
    return process.returncode, output


def kill(process: subprocess.Popen) -> None:
    """Kills the process and everything it started (it leads a session of its own)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def start_qemu(qemu_tool: str, program: str | os.PathLike[str]) -> tuple[subprocess.Popen, int]:
    """qemu-aarch64 waiting for a debugger on a free port. Another process may take the port between our probe and
    qemu's bind (qemu then exits): try again with a new one."""
    for _ in range(5):
        port = _free_port()
        qemu = subprocess.Popen([qemu_tool, "-g", str(port), str(program)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while qemu.poll() is None and not _listening(port) and time.monotonic() < deadline:
            time.sleep(0.02)
        if qemu.poll() is None and _listening(port):
            return qemu, port
        kill(qemu)
    raise ToolError(f"qemu-aarch64 -g did not start listening for {program}")


def _listening(port: int) -> bool:
    """Whether some socket listens on ``port`` (Linux /proc; connecting would take qemu's one debugger slot)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                return True
    return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
