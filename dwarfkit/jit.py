"""Debugging machine code generated at run time in this Python process, through the GDB JIT interface.

    from dwarfkit import jit
    loaded = jit.load_image(image)                       # its sections in memory, relocated, announced
    loaded.function("jit_add", ctypes.c_long, [ctypes.c_long, ctypes.c_long])(2, 3)
    loaded.unload()                                      # the debugger is told, then the memory goes

    memory = jit.ExecutableMemory(4096)                  # or by hand: read-write-execute pages of this process
    memory.write(0, code)                                # bytes assembled for memory.address (keystone, your own)
    handle = jit.register(image, {".text": memory.address})   # the DWARF and call frames of ``image``, there
    add = memory.function(0, ctypes.c_long, [ctypes.c_long, ctypes.c_long])
    add(2, 3)                                            # under gdb: `break jit_add` stops here, bt, info args...
    handle.unregister()                                  # before the code is freed or replaced (or handle.replace)

gdb and lldb (``settings set plugin.jitloader.gdb.enable on``) read code that a process announces through two
symbols: ``__jit_debug_register_code``, a function the debugger breaks on, and ``__jit_debug_descriptor``, a list of
in-memory object files. :func:`register` writes ``image`` as an ELF file whose sections sit at the code's real
addresses (every relocation resolved), links it into that list and calls the function; the debugger then reads it
as it reads a shared library. The two symbols come from a tiny shared object that dwarfkit's own ELF writer makes
(:mod:`dwarfkit.backends.elf.shared_object`): written once per user into ``$XDG_CACHE_HOME/dwarfkit`` (else
``~/.cache/dwarfkit``, else the temporary folder) and loaded with ctypes, so no C compiler is needed at install
time. The file stays on disk: a debugger reads the library's symbols from it.

A module on top: it imports the core, :mod:`dwarfkit.image` and the ELF backend.
"""
from __future__ import annotations

import ctypes
import hashlib
import mmap
import os
import platform
import struct
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .arch import Arch
from .errors import DescriptionError, DwarfkitError
from .image import Image, SymbolKind
from .output import write_atomically

JIT_NOACTION, JIT_REGISTER, JIT_UNREGISTER = 0, 1, 2
_RETURN = {Arch.X86_64: b"\xc3", Arch.AARCH64: b"\xc0\x03\x5f\xd6"}   # ret


class JitError(DwarfkitError):
    """The JIT interface cannot be set up or used here (another architecture, no executable memory ...)."""


class _CodeEntry(ctypes.Structure):
    pass


_CodeEntry._fields_ = [("next_entry", ctypes.POINTER(_CodeEntry)), ("prev_entry", ctypes.POINTER(_CodeEntry)),
                       ("symfile_addr", ctypes.c_void_p), ("symfile_size", ctypes.c_uint64)]


class _Descriptor(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("action_flag", ctypes.c_uint32),
                ("relevant_entry", ctypes.POINTER(_CodeEntry)), ("first_entry", ctypes.POINTER(_CodeEntry))]


def host_arch() -> Arch:
    """The architecture of this process (the JIT interface works for the code this process runs)."""
    machine = platform.machine().lower()
    try:
        return Arch.parse({"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine))
    except DescriptionError:
        raise JitError(f"the JIT interface supports x86_64 and aarch64 processes, not {machine}") from None


class _Interface:
    """The loaded interface library: its descriptor and its registration function, one per process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.library = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
        self.descriptor = _Descriptor.in_dll(self.library, "__jit_debug_descriptor")
        self.notify = getattr(self.library, "__jit_debug_register_code")   # (not mangled as a dunder name)
        self.notify.restype = None
        self.notify.argtypes = []
        self.lock = threading.Lock()


_interface: _Interface | None = None
_interface_lock = threading.Lock()


def interface() -> _Interface:
    """The interface library of this process, written and loaded on first use."""
    global _interface
    with _interface_lock:
        if _interface is None:
            _interface = _Interface(_library_file(host_arch()))
        return _interface


def interface_library_bytes(arch: Arch) -> bytes:
    """The shared object exporting ``__jit_debug_register_code`` and ``__jit_debug_descriptor`` (version 1)."""
    from .backends.elf.shared_object import shared_object_bytes
    return shared_object_bytes(arch, "libdwarfkit-jit.so", {"__jit_debug_register_code": _RETURN[arch]},
                               {"__jit_debug_descriptor": struct.pack("<IIQQ", 1, JIT_NOACTION, 0, 0)})


def _library_file(arch: Arch) -> Path:
    data = interface_library_bytes(arch)
    name = f"libdwarfkit-jit-{arch.value.name}-{hashlib.sha256(data).hexdigest()[:12]}.so"
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for folder in (Path(cache) / "dwarfkit", Path(tempfile.gettempdir()) / f"dwarfkit-{os.getuid()}"):
        path = folder / name
        try:
            if not path.is_file() or path.read_bytes() != data:
                folder.mkdir(parents=True, exist_ok=True)
                write_atomically(path, data)
            return path
        except (OSError, DwarfkitError):
            continue
    raise JitError(f"cannot write the JIT interface library {name} into {cache}/dwarfkit or the temporary folder")


class Registration:
    """One in-memory object file announced to the debugger; :meth:`unregister` before its code goes away."""

    def __init__(self, symfile: bytes) -> None:
        self.symfile = ctypes.create_string_buffer(symfile, len(symfile))   # kept alive while registered
        self.entry = _CodeEntry(None, None, ctypes.addressof(self.symfile), len(symfile))
        self.registered = False

    def unregister(self) -> None:
        """Tells the debugger this code is gone (a second call does nothing). Put new code in new memory, not over
        the old: the debugger's breakpoints in the old code are bytes in it, which new code would not have."""
        if not self.registered:
            return
        lib = interface()
        with lib.lock:
            entry, descriptor = self.entry, lib.descriptor
            if entry.prev_entry:
                entry.prev_entry.contents.next_entry = entry.next_entry
            else:
                descriptor.first_entry = entry.next_entry
            if entry.next_entry:
                entry.next_entry.contents.prev_entry = entry.prev_entry
            descriptor.relevant_entry = ctypes.pointer(entry)
            descriptor.action_flag = JIT_UNREGISTER
            lib.notify()
            descriptor.action_flag = JIT_NOACTION
            self.registered = False

    def replace(self, image: Image, addresses: Mapping[str, int]) -> "Registration":
        """Registers ``image`` (new code, in new memory), then unregisters this one: a breakpoint on a function
        of both moves to the new code."""
        made = register(image, addresses)
        self.unregister()
        return made

    def __enter__(self) -> "Registration":
        return self

    def __exit__(self, *_: Any) -> None:
        self.unregister()


def register_symfile(symfile: bytes) -> Registration:
    """Announces an in-memory ELF file (addresses final: where its code runs in this process) to the debugger."""
    if not isinstance(symfile, (bytes, bytearray)) or symfile[:4] != b"\x7fELF":
        raise JitError("a JIT symbol file must be the bytes of an ELF file")
    made = Registration(bytes(symfile))
    lib = interface()
    with lib.lock:
        entry, descriptor = made.entry, lib.descriptor
        entry.prev_entry = None
        entry.next_entry = descriptor.first_entry
        if descriptor.first_entry:
            descriptor.first_entry.contents.prev_entry = ctypes.pointer(entry)
        descriptor.first_entry = ctypes.pointer(entry)
        descriptor.relevant_entry = ctypes.pointer(entry)
        descriptor.action_flag = JIT_REGISTER
        lib.notify()
        descriptor.action_flag = JIT_NOACTION
        made.registered = True
    return made


def register(image: Image, addresses: Mapping[str, int]) -> Registration:
    """Announces ``image``'s debug info (DWARF, ``.debug_frame``/``.eh_frame``, symbols) for its code at
    ``addresses`` (section name -> the address its bytes were copied to, every section of the image named)."""
    if not isinstance(image, Image):
        raise DescriptionError(f"jit.register: {image!r} is not an Image")
    if image.arch is not host_arch():
        raise JitError(f"jit.register: the image is {image.arch.value.name} code; this process runs "
                       f"{host_arch().value.name}")
    missing = sorted({s.name for s in image.sections} - set(addresses))
    if missing:
        raise DescriptionError(f"jit.register: no address given for section(s) {', '.join(missing)}")
    from .backends.elf.executable import executable_bytes
    entry = image.entry or next((s.name for s in image.symbols if s.kind is SymbolKind.FUNCTION), None)
    if entry is None:
        raise DescriptionError("jit.register: the image has no function")
    # What has no address in the process (.eh_frame) goes after the code: the debugger reads it from the file.
    page = mmap.PAGESIZE
    highest = max((addresses[s.name] + max(s.byte_size, 1) for s in image.sections), default=0)
    symfile = executable_bytes(replace(image, entry=entry), base=-(-highest // page) * page, addresses=addresses)
    return register_symfile(symfile)


class ExecutableMemory:
    """Pages of this process that can hold code: written with :meth:`write`, called with :meth:`function`."""

    def __init__(self, size: int) -> None:
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise DescriptionError(f"executable memory of {size!r} bytes: the size must be a positive integer")
        self.size = size
        try:
            self.map = mmap.mmap(-1, size, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        except OSError as error:
            raise JitError(f"cannot map {size} bytes of executable memory: {error.strerror}") from None
        self._anchor = ctypes.c_char.from_buffer(self.map)
        self.address = ctypes.addressof(self._anchor)

    def write(self, offset: int, code: bytes) -> None:
        if not 0 <= offset <= self.size - len(code):
            raise DescriptionError(f"{len(code)} bytes at offset {offset} do not fit executable memory of "
                                   f"{self.size} bytes")
        self.map[offset:offset + len(code)] = code

    def function(self, offset: int, restype: Any, argtypes: Sequence[Any]) -> Any:
        """A ctypes function for the code at ``offset`` (C calling convention); it keeps this memory mapped."""
        if not 0 <= offset < self.size:
            raise DescriptionError(f"offset {offset} is outside executable memory of {self.size} bytes")
        function = ctypes.CFUNCTYPE(restype, *argtypes)(self.address + offset)
        function.memory = self  # type: ignore[attr-defined]
        return function


class LoadedImage:
    """An :class:`Image` placed in this process's memory by :func:`load_image`, announced to the debugger."""

    def __init__(self, image: Image, memory: ExecutableMemory, addresses: dict[str, int],
                 symbols: dict[str, int]) -> None:
        self.image, self.memory, self.addresses, self.symbols = image, memory, addresses, symbols
        self.registration: Registration | None = None

    def address(self, symbol: str) -> int:
        if symbol not in self.symbols:
            raise DescriptionError(f"the loaded image has no symbol {symbol!r}")
        return self.symbols[symbol]

    def function(self, symbol: str, restype: Any, argtypes: Sequence[Any]) -> Any:
        """A ctypes function for the function ``symbol`` (C calling convention); it keeps the memory mapped."""
        return self.memory.function(self.address(symbol) - self.memory.address, restype, argtypes)

    def unload(self) -> None:
        """Tells the debugger the code is gone; the memory goes when no function of it is left."""
        if self.registration is not None:
            self.registration.unregister()
            self.registration = None


def load_image(image: Image, symbols: Mapping[str, int] | None = None) -> LoadedImage:
    """Places ``image``'s sections in executable memory (each on pages of its own, BSS zeroed), resolves its
    relocations (``symbols``: addresses of what it uses from outside, e.g. C functions) and registers its debug info.
    Code that replaces a loaded image is loaded anew (then the old one unloaded): see :meth:`Registration.replace`."""
    from .sections import apply_relocations
    if not isinstance(image, Image):
        raise DescriptionError(f"jit.load_image: {image!r} is not an Image")
    image.validate()
    page = mmap.PAGESIZE
    offsets: dict[str, int] = {}
    size = 0
    for section in image.sections:
        offsets[section.name] = size
        size += -(-max(section.byte_size, 1) // page) * page
    memory = ExecutableMemory(size)
    addresses = {name: memory.address + offset for name, offset in offsets.items()}
    resolved = dict(symbols or {})
    for sym in image.symbols:
        if sym.section is not None:
            resolved[sym.name] = addresses[sym.section] + sym.value
        elif sym.name not in resolved:
            raise DescriptionError(f"jit.load_image: symbol {sym.name!r} is undefined; give its address in symbols")
    for section in image.sections:
        data = bytearray(section.data)
        apply_relocations(data, section.name, section.relocations, resolved, addresses, "little")
        memory.write(offsets[section.name], bytes(data))
    loaded = LoadedImage(image, memory, addresses, resolved)
    if image.dwarf is not None:
        loaded.registration = register(image, addresses)
    return loaded
