"""Runs real debuggers in batch mode on files we wrote and returns what they print.

Shared by every backend's round-trip tests:

* :func:`gdb` -- gdb (or gdb-multiarch) on a native x86_64 program, ``-nx -batch -ex ...``.
* :func:`lldb` -- lldb-14 on a native program, ``-b -x -o ...`` (lldb-14 on Debian prints harmless Python
  ``run_one_line`` errors; they are dropped).
* :func:`gdb_qemu` -- an aarch64 program under ``qemu-aarch64 -g PORT``, debugged by gdb-multiarch over
  ``target remote 127.0.0.1:PORT``. The program is already started, so a ``run`` command becomes ``continue``.
* :func:`debug` picks gdb natively or under qemu by architecture.

Every process runs with a timeout and is killed when the call returns. A tool that is missing skips the test (fails
under CI), through ``conftest.require_tool``.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from conftest import require_tool

from dwarfkit import Arch

TIMEOUT = 60


def gdb(program: str | Path, commands: Sequence[str], *, tool: str = "gdb", before: Sequence[str] = (),
        timeout: float = TIMEOUT, cwd: str | Path | None = None) -> str:
    """stdout and stderr of ``gdb -nx -batch`` with ``before`` (``-iex``) and ``commands`` (``-ex``)."""
    args = [require_tool(tool), "-nx", "-batch", "-iex", "set pagination off", "-iex", "set confirm off",
            "-iex", "set width 0", "-iex", "set debuginfod enabled off"]
    for command in before:
        args += ["-iex", command]
    for command in commands:
        args += ["-ex", command]
    return _run([*args, str(program)], timeout, cwd)


def lldb(program: str | Path, commands: Sequence[str], *, timeout: float = TIMEOUT) -> str:
    """stdout and stderr of ``lldb-14 -b -x`` with ``commands`` (``-o``), minus lldb-14's Python noise."""
    args = [require_tool("lldb-14"), "-b", "-x"]
    for command in commands:
        args += ["-o", command]
    output = _run([*args, str(program)], timeout, None)
    return "\n".join(line for line in output.splitlines()
                     if "run_one_line" not in line and not re.match(r"(Traceback|  File |\w+Error:)", line))


def gdb_qemu(program: str | Path, commands: Sequence[str], *, before: Sequence[str] = (),
             timeout: float = TIMEOUT) -> str:
    """gdb-multiarch attached to ``qemu-aarch64 -g PORT program``; ``run`` in ``commands`` becomes ``continue``."""
    qemu_tool = require_tool("qemu-aarch64")
    gdb_tool = require_tool("gdb-multiarch")
    qemu, port = _start_qemu(qemu_tool, program)
    try:
        commands = [f"target remote 127.0.0.1:{port}", *("continue" if c == "run" else c for c in commands)]
        return gdb(program, commands, tool=gdb_tool,
                   before=["set architecture aarch64", "set tcp auto-retry on", "set tcp connect-timeout 20",
                           *before],
                   timeout=timeout)
    finally:
        _kill(qemu)


def debug(arch: Arch, program: str | Path, commands: Sequence[str], *, before: Sequence[str] = (),
          timeout: float = TIMEOUT) -> str:
    """gdb on ``program`` natively (x86_64) or under qemu-aarch64 (aarch64)."""
    if arch is Arch.AARCH64:
        return gdb_qemu(program, commands, before=before, timeout=timeout)
    return gdb(program, commands, before=before, timeout=timeout)


def _run(args: list[str], timeout: float, cwd: str | Path | None) -> str:
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, cwd=cwd, start_new_session=True, env={**os.environ, "LC_ALL": "C"})
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        output, _ = process.communicate()
        raise AssertionError(f"{Path(args[0]).name} timed out after {timeout}s; output so far:\n{output}") from None
    finally:
        _kill(process)
    return output


def _kill(process: subprocess.Popen) -> None:
    """Kills the process and everything it started (each debugger runs in a session of its own)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def _start_qemu(qemu_tool: str, program: str | Path) -> tuple[subprocess.Popen, int]:
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
        _kill(qemu)
    raise AssertionError(f"qemu-aarch64 -g did not start listening for {program}")


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


def frames(output: str) -> list[str]:
    """The ``#N ...`` lines of a gdb backtrace, without the frame numbers."""
    return [re.sub(r"^#\d+\s+", "", line) for line in output.splitlines() if re.match(r"^#\d+\s", line)]
