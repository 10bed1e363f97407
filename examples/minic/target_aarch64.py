"""AArch64 instructions for the code generator.

Frame: ``stp x29, x30, [sp, #-16]!; mov x29, sp; sub sp, sp, #size``. The CFA is x29 + 16; variables sit at
negative x29 offsets. Arguments arrive in x0..x5; the result leaves in x0. A global's address is loaded from an
8-byte literal after the function (``ldr x0, label``), the one absolute 64-bit field AArch64 code can hold.
The stack pointer must stay 16-byte aligned, so push and pop move it by 16.
"""
from __future__ import annotations

import re

from dwarfkit import Arch

from .codegen import Target
from .errors import CompileError

CONDITIONS = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
MAX_FRAME = 4095
"""Largest frame an immediate ``sub`` can address."""


class AArch64(Target):
    arch = Arch.AARCH64
    reserved = re.compile(
        r"(?i)[xwbhsdqvrz]\d+|w?sp|[xw]zr|lr|fp|ip[01]|pc|nzcv|fpcr|fpsr"
        r"|eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al|nv")

    def __init__(self, fn) -> None:
        super().__init__(fn)
        self.literals: list[str] = []

    def start(self, platform: str) -> None:
        if platform == "windows":
            raise CompileError(self.fn.program.filename, 1, 1, "the windows platform is x86_64 only")
        self.emit("bl main")  # x0 = main's result, already the exit status argument
        if platform == "macos":
            self.emit("mov x16, #1")  # exit, in the macOS syscall convention
            self.emit("svc #0x80")
        else:
            self.emit("mov x8, #93")  # exit
            self.emit("svc #0")

    # -- frame

    def prologue(self, frame_size: int) -> None:
        if frame_size > MAX_FRAME:
            f = self.fn.function
            assert f is not None  # only functions have a prologue; _start has none
            raise self.fn.error(f, f"the frame of {f.name} needs {frame_size} bytes; at most {MAX_FRAME} fit")
        self.emit("stp x29, x30, [sp, #-16]!")
        self.fn.cfi_step("def_cfa_offset", 16)
        self.fn.cfi_step("offset", "x29", -16)
        self.fn.cfi_step("offset", "x30", -8)
        self.emit("mov x29, sp")
        self.fn.cfi_step("def_cfa_register", "x29")
        if frame_size:
            self.emit(f"sub sp, sp, #{frame_size}")

    def store_param(self, index: int, offset: int) -> None:
        self.emit(f"sub x9, x29, #{-offset}")
        self.emit(f"str x{index}, [x9]")

    def zero_slot(self, offset: int) -> None:
        self.emit(f"sub x9, x29, #{-offset}")
        self.emit("str xzr, [x9]")

    def epilogue(self) -> None:
        self.emit("mov sp, x29")
        self.emit("ldp x29, x30, [sp], #16")
        self.fn.cfi_step("def_cfa", "sp", 0)
        self.fn.cfi_step("restore", "x29")
        self.fn.cfi_step("restore", "x30")
        self.emit("ret")

    def finish(self) -> None:
        """The literal pool: one 8-byte word per global-address load, 8-byte aligned (functions start 16-byte
        aligned, every instruction is 4 bytes). Each word is written as two ``.word 0`` lines so that the source keeps
        one 4-byte unit per line, as dwarfkit.asm requires; capstone reads a zero word as ``udf #0``."""
        if not self.literals:
            return
        instructions = sum(1 for line in self.fn.lines if not line.endswith(":"))
        if instructions % 2:
            self.emit("nop")
        for label in self.literals:
            self.fn.lines.append(f"{label}:")
            self.emit(".word 0")
            self.emit(".word 0")

    # -- values

    def constant(self, value: int) -> None:
        bits = value & ((1 << 64) - 1)
        self.emit(f"movz x0, #{bits & 0xFFFF}")
        for shift in (16, 32, 48):
            if (bits >> shift) & 0xFFFF:
                self.emit(f"movk x0, #{(bits >> shift) & 0xFFFF}, lsl #{shift}")

    def slot_address(self, offset: int) -> None:
        self.emit(f"sub x0, x29, #{-offset}")

    def global_address(self, symbol: str) -> None:
        literal = self.fn.new_label("lit")
        self.literals.append(literal)
        self.emit(f"ldr x0, {literal}")
        self.fn.address_field(literal, 0, symbol)

    def add_offset(self, n: int) -> None:
        if n:
            self.emit(f"add x0, x0, #{n}")

    def load(self) -> None:
        self.emit("ldr x0, [x0]")

    def store(self) -> None:
        self.emit("str x0, [x1]")

    def push(self) -> None:
        self.emit("str x0, [sp, #-16]!")

    def pop_tmp(self) -> None:
        self.emit("ldr x1, [sp], #16")

    def pop_arg(self, index: int) -> None:
        self.emit(f"ldr x{index}, [sp], #16")

    # -- operators: left operand in x1, right in x0

    def binary(self, op: str) -> None:
        if op == "%":
            self.emit("sdiv x2, x1, x0")
            self.emit("msub x0, x2, x0, x1")  # x1 - (x1 / x0) * x0
        else:
            mnemonic = {"+": "add", "-": "sub", "*": "mul", "/": "sdiv"}[op]
            self.emit(f"{mnemonic} x0, x1, x0")

    def compare(self, op: str) -> None:
        self.emit("cmp x1, x0")
        self.emit(f"cset x0, {CONDITIONS[op]}")

    def negate(self) -> None:
        self.emit("neg x0, x0")

    def logical_not(self) -> None:
        self.emit("cmp x0, #0")
        self.emit("cset x0, eq")

    def branch_if_zero(self, label: str) -> None:
        self.emit(f"cbz x0, {label}")

    def jump(self, label: str) -> None:
        self.emit(f"b {label}")

    def call(self, name: str) -> None:
        self.emit(f"bl {name}")
