"""A program for the JIT tests: compiles `jit_add` at run time, announces its DWARF through dwarfkit.jit, calls it,
then replaces its code (new body and lines, in new memory) and calls it again. Prints each result."""
import ctypes

import dwarfkit
from dwarfkit import jit


def describe(extra: int, first_line: int) -> dict:
    """`long jit_add(long a, long b)` returning a + b + extra; its rows start at `first_line` of jit.c."""
    return {
        "output": "elf-object",
        "functions": {"jit_add": f"""
            push rbp
            mov rbp, rsp
            framed:
            mov qword ptr [rbp-8], rdi
            mov qword ptr [rbp-16], rsi
            body:
            mov rax, qword ptr [rbp-8]
            add rax, qword ptr [rbp-16]
            add rax, {extra}
            pop rbp
            done:
            ret
        """},
        "frames": {"jit_add": [["advance_to", "framed"], ["def_cfa_offset", 16], ["offset", "rbp", -16],
                               ["def_cfa_register", "rbp"], ["advance_to", "done"], ["def_cfa", "rsp", 8]]},
        "units": [{"name": "jit.c", "comp_dir": "/jit", "language": "C11", "dies": [
            {"tag": "base_type", "label": "long", "name": "long", "byte_size": 8, "encoding": "signed"},
            {"tag": "subprogram", "name": "jit_add", "type": "long", "external": True, "decl_line": first_line,
             "low_pc": "jit_add", "frame_base": [["breg6", 0]], "children": [
                 {"tag": "formal_parameter", "name": "a", "type": "long", "location": [["fbreg", -8]]},
                 {"tag": "formal_parameter", "name": "b", "type": "long", "location": [["fbreg", -16]]}]}],
            "lines": [{"function": "jit_add", "rows": [[0, first_line],
                                                       {"at": "body", "line": first_line + 1, "prologue_end": True},
                                                       ["done", first_line + 2]]}]}],
    }


def load(memory: jit.ExecutableMemory, description: dict) -> tuple[jit.Registration, object]:
    image = dwarfkit.build(description).image
    memory.write(0, bytes(image.section(".text").data))
    handle = jit.register(image, {".text": memory.address})
    function = memory.function(image.symbol("jit_add").value, ctypes.c_long, [ctypes.c_long, ctypes.c_long])
    return handle, function


# New code goes to new memory, as JITs do: a debugger may have planted breakpoints in the old code.
old, add_first = load(jit.ExecutableMemory(4096), describe(0, 1))
print("first", add_first(2, 3), flush=True)
new, add = load(jit.ExecutableMemory(4096), describe(100, 10))
old.unregister()   # (or: new = old.replace(...), which registers the new code first too)
del add_first      # its memory goes only once the debugger knows the code is gone
print("second", add(2, 3), flush=True)
new.unregister()
