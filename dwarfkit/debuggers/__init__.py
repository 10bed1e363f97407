"""Run gdb, lldb-14, or gdb-multiarch with qemu-aarch64 on a file, and get structured results back.

>>> from dwarfkit import debuggers
>>> session = debuggers.gdb("prog", breakpoints=["util.c:13", "scale"], commands_per_stop=["ptype p", "finish"])
>>> stop = session.stops[0]
>>> stop.function, stop.file, stop.line, [f.function for f in stop.frames]
>>> stop.variable("n")          # Variable(name='n', type='long', value='4')
>>> session.complaints, session.warnings, session.transcript

* :func:`gdb` -- gdb (or ``tool="gdb-multiarch"``) in batch mode; ``qemu=True`` attaches gdb-multiarch to the
  program running under ``qemu-aarch64 -g``. :func:`lldb` -- lldb-14 in batch mode. Both take either a whole script
  (``commands``) or ``breakpoints`` with ``commands_per_stop``, and return a :class:`Session`: each stop's location,
  backtrace and variables (with types), each command's output, ``finish``'s returned value, the exit code, the
  debugger's complaints, warnings and errors, and the transcript as a person would see it.
* :func:`normalize` / :meth:`Session.normalized` mask addresses, pids and paths; :func:`compare` lists what a user
  would see differ between two sessions (an original file and a converted one).
* A missing debugger is :class:`ToolMissing`, a session past its timeout (killed with everything it started)
  :class:`DebuggerTimeout`, a wrong argument :class:`SessionError`; all are :class:`dwarfkit.errors.ToolError`.
"""
from __future__ import annotations

from .gdb import gdb
from .lldb import lldb
from .process import DebuggerTimeout, SessionError, ToolMissing
from .session import CommandOutput, Frame, Session, Stop, Variable, compare, normalize

__all__ = ["CommandOutput", "DebuggerTimeout", "Frame", "Session", "SessionError", "Stop", "ToolMissing", "Variable",
           "compare", "gdb", "lldb", "normalize"]
