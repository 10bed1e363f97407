"""The tests' way into :mod:`dwarfkit.debuggers`: the same runs, the transcript as text, and a missing debugger
turned into a skip (a failure under CI) as ``conftest.require_tool`` does.

* :func:`session` -- any :mod:`dwarfkit.debuggers` call, its ``ToolMissing`` turned into that skip or failure.
* :func:`gdb`, :func:`lldb`, :func:`gdb_qemu`, :func:`debug` -- the transcript of a whole script, for tests that
  check gdb's or lldb's text. gdb runs with ``set complaints 0`` unless a test asks for complaints (``before``):
  gdb writes complaints into the middle of other lines.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from conftest import tool_missing

from dwarfkit import Arch, debuggers

TIMEOUT = 60


def session(run: Callable[..., debuggers.Session], *args: Any, **kwargs: Any) -> debuggers.Session:
    """``run(*args, **kwargs)`` (``debuggers.gdb`` or ``debuggers.lldb``); a missing tool skips (fails under CI)."""
    try:
        return run(*args, **kwargs)
    except debuggers.ToolMissing as e:
        tool_missing(str(e))


def gdb(program: str | Path, commands: Sequence[str], *, tool: str = "gdb", before: Sequence[str] = (),
        timeout: float = TIMEOUT, cwd: str | Path | None = None) -> str:
    """What ``gdb -nx -batch`` prints with ``before`` (``-iex``) and ``commands`` (``-ex``)."""
    return session(debuggers.gdb, program, commands, tool=tool, before=before, complaints=0, timeout=timeout,
                   cwd=cwd).transcript


def lldb(program: str | Path, commands: Sequence[str], *, timeout: float = TIMEOUT) -> str:
    """What ``lldb-14 -b -x`` prints with ``commands`` (``-o``), minus lldb-14's Python noise."""
    return session(debuggers.lldb, program, commands, timeout=timeout).transcript


def gdb_qemu(program: str | Path, commands: Sequence[str], *, before: Sequence[str] = (),
             timeout: float = TIMEOUT) -> str:
    """gdb-multiarch attached to ``qemu-aarch64 -g PORT program``; ``run`` in ``commands`` becomes ``continue``."""
    return session(debuggers.gdb, program, commands, qemu=True, before=before, complaints=0,
                   timeout=timeout).transcript


def debug(arch: Arch, program: str | Path, commands: Sequence[str], *, before: Sequence[str] = (),
          timeout: float = TIMEOUT) -> str:
    """gdb on ``program`` natively (x86_64) or under qemu-aarch64 (aarch64)."""
    if arch is Arch.AARCH64:
        return gdb_qemu(program, commands, before=before, timeout=timeout)
    return gdb(program, commands, before=before, timeout=timeout)


def frames(output: str) -> list[str]:
    """The ``#N ...`` lines of a gdb backtrace, without the frame numbers."""
    return [re.sub(r"^#\d+\s+", "", line) for line in output.splitlines() if re.match(r"^#\d+\s", line)]
