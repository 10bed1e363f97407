"""x86_64 instructions for the code generator (Intel syntax, as keystone reads it).

Frame: ``push rbp; mov rbp, rsp; sub rsp, size``. The CFA is rbp + 16; variables sit at negative rbp offsets.
Arguments arrive in rdi, rsi, rdx, rcx, r8, r9 (System V); the result leaves in rax.
"""
from __future__ import annotations

import re

from dwarfkit import Arch

from .codegen import Target

ARGUMENT_REGISTERS = ("rdi", "rsi", "rdx", "rcx", "r8", "r9")
CONDITIONS = {"==": "e", "!=": "ne", "<": "l", "<=": "le", ">": "g", ">=": "ge"}


class X86_64(Target):
    arch = Arch.X86_64
    reserved = re.compile(
        r"(?i)[re]?[abcd]x|[abcd][lh]|[re]?(si|di|bp|sp|ip)|(si|di|bp|sp)l|r\d+[bwd]?|[cdefgs]s"
        r"|(cr|dr|st|mm|xmm|ymm|zmm|k)\d*|byte|word|dword|qword|tbyte|xmmword|ptr|offset|rel|short|near|far")

    def start(self, platform: str) -> None:
        if platform == "windows":
            # Windows x64: 32 bytes of shadow space for the callee, rsp 16-aligned at each call (on entry it is
            # 8 off, the return address); the exit code goes in rcx; ExitProcess is called through its IAT slot.
            self.emit("sub rsp, 40")
            self.emit("call main")
            self.emit("mov rcx, rax")
            self.global_address("__imp_ExitProcess")
            self.emit("call qword ptr [rax]")
            return
        self.emit("call main")
        self.emit("mov rdi, rax")
        # exit(status): Linux's syscall number, or macOS's (class 2, BSD, number 1); both keep status & 0xff
        self.emit("mov eax, 0x2000001" if platform == "macos" else "mov eax, 60")
        self.emit("syscall")

    # -- frame

    def prologue(self, frame_size: int) -> None:
        self.emit("push rbp")
        self.fn.cfi_step("def_cfa_offset", 16)
        self.fn.cfi_step("offset", "rbp", -16)
        self.emit("mov rbp, rsp")
        self.fn.cfi_step("def_cfa_register", "rbp")
        if frame_size:
            self.emit(f"sub rsp, {frame_size}")

    def store_param(self, index: int, offset: int) -> None:
        self.emit(f"mov qword ptr [rbp - {-offset}], {ARGUMENT_REGISTERS[index]}")

    def zero_slot(self, offset: int) -> None:
        self.emit(f"mov qword ptr [rbp - {-offset}], 0")

    def epilogue(self) -> None:
        self.emit("mov rsp, rbp")
        self.emit("pop rbp")
        self.fn.cfi_step("def_cfa", "rsp", 8)
        self.emit("ret")

    def finish(self) -> None:
        pass

    # -- values

    def constant(self, value: int) -> None:
        self.emit(f"mov rax, {value}")

    def slot_address(self, offset: int) -> None:
        self.emit(f"lea rax, [rbp - {-offset}]")

    def global_address(self, symbol: str) -> None:
        label = self.fn.place_label("addr")
        self.emit("movabs rax, 0")  # REX.W B8 imm64: the address field starts 2 bytes in
        self.fn.address_field(label, 2, symbol)

    def add_offset(self, n: int) -> None:
        if n:
            self.emit(f"add rax, {n}")

    def load(self) -> None:
        self.emit("mov rax, qword ptr [rax]")

    def store(self) -> None:
        self.emit("mov qword ptr [rcx], rax")

    def push(self) -> None:
        self.emit("push rax")

    def pop_tmp(self) -> None:
        self.emit("pop rcx")

    def pop_arg(self, index: int) -> None:
        self.emit(f"pop {ARGUMENT_REGISTERS[index]}")

    # -- operators: left operand in rcx, right in rax

    def binary(self, op: str) -> None:
        if op == "+":
            self.emit("add rax, rcx")
        elif op == "*":
            self.emit("imul rax, rcx")
        elif op == "-":
            self.emit("sub rcx, rax")
            self.emit("mov rax, rcx")
        else:  # / and %: idiv divides rdx:rax by its operand
            self.emit("xchg rax, rcx")
            self.emit("cqo")
            self.emit("idiv rcx")
            if op == "%":
                self.emit("mov rax, rdx")

    def compare(self, op: str) -> None:
        self.emit("cmp rcx, rax")
        self.emit(f"set{CONDITIONS[op]} al")
        self.emit("movzx eax, al")

    def negate(self) -> None:
        self.emit("neg rax")

    def logical_not(self) -> None:
        self.emit("cmp rax, 0")
        self.emit("sete al")
        self.emit("movzx eax, al")

    def branch_if_zero(self, label: str) -> None:
        self.emit("cmp rax, 0")
        self.emit(f"je {label}")

    def jump(self, label: str) -> None:
        self.emit(f"jmp {label}")

    def call(self, name: str) -> None:
        self.emit(f"call {name}")
