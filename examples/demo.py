"""The README's main job: ``python3 -m examples.demo [OUT]`` (default ``out``).

Compiles the bundled minic program (``examples/minic/programs/shapes.mc``) for every target dwarfkit writes and puts
the files into OUT, one folder per target:

=============  ===========================  =============================================
folder         files                        written by
=============  ===========================  =============================================
elf-x86_64     shapes.o, shapes             dwarfkit.backends.elf (write_object, write_executable)
elf-aarch64    shapes.o, shapes             the same, for aarch64
macho-x86_64   shapes, shapes.dSYM          dwarfkit.backends.macho_dsym (write_executable, write_dsym)
macho-arm64    shapes, shapes.dSYM          the same, for arm64
coff-x86_64    shapes.obj                   dwarfkit.backends.coff.write_object
pe-x86_64      shapes.exe                   dwarfkit.backends.coff.write_pe
=============  ===========================  =============================================

Each file is checked by ``dwarfkit verify`` (``dwarfkit.reader.verify``, when this dwarfkit has the reader) and by
``llvm-dwarfdump-14 --verify``; a table shows every file with its checks and the command that debugs it, and
``OUT/manifest.json`` lists every file with its target, container and architecture, plus the program's source,
functions (name, first line, address range in that file) and globals, so that other tools can check the outputs.
Addresses come from each file's symbol table as ``llvm-nm-14`` reads it: final addresses for executables and dSYMs,
section offsets for objects.

Everything is written into a temporary folder next to OUT, which replaces OUT only when every step succeeded (OUT
must be new, empty or an earlier demo output). A failure prints one ``dwarfkit: error: ...`` line and exits with
status 2.

``tests/test_demo.py`` judges every file: the executables run (natively, under qemu-aarch64 or wine) and exit with
the interpreter's result; gdb / gdb-multiarch (started with the manifest's command) and lldb-14 (with the dSYM) find
the manifest's function ranges, first lines and global addresses in the DWARF.

To add a target: a :class:`Target` in :data:`TARGETS` with a writer function that returns (kind, container, file
name) per file, and its debugger in :func:`debug_command` (and :func:`run_command` if something here runs it).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from dwarfkit import Arch, Image
from dwarfkit.backends import coff, elf, macho_dsym
from dwarfkit.errors import ContainerError, DwarfkitError, ToolError

from .minic import MinicError, compile_to, run
from .minic import syntax as s
from .minic.compiler import WINDOWS_IMPORTS, Compilation

SOURCE = Path(__file__).resolve().parent / "minic" / "programs" / "shapes.mc"
NAME = "shapes"
MANIFEST = "manifest.json"
QEMU_PORT = 1234


@dataclass(frozen=True)
class Target:
    folder: str
    arch: Arch
    platform: str
    dwarf_version: int
    write: Callable[[Image, Path], list[tuple[str, str, str]]]
    """Writes the files into a folder; returns (kind, container, file name) per file."""


@dataclass
class Output:
    """One written file (a dSYM bundle counts as one file)."""
    target: Target
    kind: str
    """``object``, ``executable`` or ``dSYM``."""
    container: str
    path: str
    """Relative to OUT."""


def _elf(image: Image, folder: Path) -> list[tuple[str, str, str]]:
    elf.write_object(image, folder / f"{NAME}.o")
    elf.write_executable(image, folder / NAME)
    return [("object", "ELF", f"{NAME}.o"), ("executable", "ELF", NAME)]


def _macho(image: Image, folder: Path) -> list[tuple[str, str, str]]:
    macho_dsym.write_executable(image, folder / NAME)
    assert image.dwarf is not None
    bundle = macho_dsym.write_dsym(folder / NAME, image.dwarf)
    return [("executable", "Mach-O", NAME), ("dSYM", "Mach-O dSYM", bundle.name)]


def _coff(image: Image, folder: Path) -> list[tuple[str, str, str]]:
    coff.write_object(image, folder / f"{NAME}.obj")
    return [("object", "COFF", f"{NAME}.obj")]


def _pe(image: Image, folder: Path) -> list[tuple[str, str, str]]:
    coff.write_pe(image, folder / f"{NAME}.exe", imports=WINDOWS_IMPORTS)
    return [("executable", "PE", f"{NAME}.exe")]


# DWARF 5 everywhere; for macOS without .debug_line_str, which lldb-14 does not read (see minic.compiler).
TARGETS = (
    Target("elf-x86_64", Arch.X86_64, "linux", 5, _elf),
    Target("elf-aarch64", Arch.AARCH64, "linux", 5, _elf),
    Target("macho-x86_64", Arch.X86_64, "macos", 5, _macho),
    Target("macho-arm64", Arch.AARCH64, "macos", 5, _macho),
    Target("coff-x86_64", Arch.X86_64, "windows", 5, _coff),
    Target("pe-x86_64", Arch.X86_64, "windows", 5, _pe),
)


def arch_name(target: Target) -> str:
    """The architecture as the container calls it (Mach-O says arm64)."""
    return "arm64" if target.arch is Arch.AARCH64 and target.platform == "macos" else target.arch.info.name


# ------------------------------------------------------------------------------------------------------ the commands

def debug_command(output: Output, out: str) -> str:
    """The one command that debugs ``output`` (paths as the user named OUT)."""
    path = str(Path(out) / output.path)
    if output.container.startswith("Mach-O"):
        folder = Path(out) / output.target.folder
        dwarf = folder / f"{NAME}.dSYM" / "Contents" / "Resources" / "DWARF" / NAME
        return shlex.join(["lldb-14", str(folder / NAME), "-o", f"target symbols add {shlex.quote(str(dwarf))}"])
    if output.target.arch is Arch.AARCH64 and output.kind == "executable":
        return (shlex.join(["qemu-aarch64", "-g", str(QEMU_PORT), path]) + " & " +
                shlex.join(["gdb-multiarch", "-ex", f"target remote :{QEMU_PORT}", path]))
    if output.target.arch is Arch.AARCH64 or output.container == "PE":
        return shlex.join(["gdb-multiarch", path])
    return shlex.join(["gdb", path])


def run_command(output: Output, out: str) -> str | None:
    """How to run an executable here (None: nothing runs it on this machine)."""
    if output.kind != "executable" or output.container == "Mach-O":
        return None
    path = str(Path(out) / output.path)
    if output.container == "PE":
        return shlex.join(["wine", path])
    return shlex.join(["qemu-aarch64", path] if output.target.arch is Arch.AARCH64 else [path])


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolError(f"{name} is not installed (scripts/setup.sh installs it)")
    return path


def _run(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


# ------------------------------------------------------------------------------------------------------ the checks

def dwarfkit_verify_available() -> bool:
    """``dwarfkit verify`` comes with the reader (``dwarfkit.reader``), which an older dwarfkit lacks."""
    try:
        import dwarfkit.reader.verify  # noqa: F401
    except ImportError:
        return False
    return True


def dwarfkit_verify(path: Path) -> str:
    """What ``dwarfkit verify PATH`` checks, called in-process (a dSYM finds its executable beside it)."""
    from dwarfkit.reader.verify import verify
    try:
        findings = verify(str(path))
    except DwarfkitError as e:
        findings = [str(e)]
    if not findings:
        return "ok"
    more = f" and {len(findings) - 1} more" if len(findings) > 1 else ""
    return f"FAILED ({findings[0]}{more})"


def llvm_verify(path: Path) -> str:
    """llvm-dwarfdump's verifier; a warning (e.g. a relocation it cannot apply) counts as a failure too."""
    result = _run([_tool("llvm-dwarfdump-14"), "--verify", str(path)])
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if line.lstrip().startswith(("error:", "warning:"))]
    if result.returncode == 0 and "No errors." in result.stdout and not problems:
        return "ok"
    return f"FAILED ({problems[0].strip() if problems else f'exit status {result.returncode}'})"


# ------------------------------------------------------------------------------------------------------ the manifest

def symbol_values(path: Path, container: str) -> dict[str, int]:
    """Defined symbols as llvm-nm-14 reads them, by source-level name (Mach-O's leading ``_`` removed)."""
    if container == "Mach-O dSYM":
        path = path / "Contents" / "Resources" / "DWARF" / NAME
    result = _run([_tool("llvm-nm-14"), "--defined-only", str(path)])
    if result.returncode != 0:
        raise ToolError(f"llvm-nm-14 cannot read {path}: {result.stderr.strip()}")
    values = {}
    for line in result.stdout.splitlines():
        value, _kind, name = line.split(maxsplit=2)
        if container.startswith("Mach-O"):
            name = name.removeprefix("_")
        values[name] = int(value, 16)
    return values


def program_facts(program: s.Program, exit_code: int) -> dict:
    return {"source": str(SOURCE), "file": program.filename, "comp_dir": str(SOURCE.parent), "exit_code": exit_code,
            "functions": [{"name": f.name, "line": f.line} for f in program.functions],
            "globals": [{"name": g.name, "type": str(g.type), "line": g.line} for g in program.globals]}


def file_facts(output: Output, folder: Path, out: str, compilation: Compilation, checks: dict[str, str]) -> dict:
    """A manifest entry. Ranges are [start, end) of each function; ``section`` null means final addresses, else
    offsets in that section (an object file)."""
    program = compilation.program
    path = folder / output.path
    values = symbol_values(path, output.container)
    relative = output.kind == "object"
    functions = []
    for f in program.functions:
        start, end = compilation.assembly.functions[f.name]
        functions.append({"name": f.name, "line": f.line, "section": ".text" if relative else None,
                          "start": values[f.name], "end": values[f.name] + end - start})
    globals_ = [{"name": g.name, "type": str(g.type), "line": g.line, "section": ".data" if relative else None,
                 "address": values[g.name], "size": s.size_of(g.type)} for g in program.globals]  # type: ignore
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size
    return {"path": output.path, "target": output.target.folder, "container": output.container,
            "kind": output.kind, "arch": arch_name(output.target), "platform": output.target.platform,
            "dwarf_version": output.target.dwarf_version, "size": size, "verify": checks,
            "debug": debug_command(output, out), "run": run_command(output, out),
            "functions": functions, "globals": globals_}


# -------------------------------------------------------------------------------------------------------- the driver

def build(out: str) -> dict:
    """Writes everything into OUT (replacing a previous demo output there) and returns the manifest."""
    out_path = Path(out)
    _check_replaceable(out_path)
    out_path.absolute().parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_path.absolute().name}.", dir=out_path.absolute().parent))
    work.chmod(0o777 & ~_umask())  # mkdtemp makes it private; OUT is an ordinary folder
    try:
        manifest = _build_into(work, out)
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        _replace(work, out_path)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return manifest


def _build_into(work: Path, out: str) -> dict:
    source = SOURCE.read_text()
    verify_available = dwarfkit_verify_available()
    files = []
    program = None
    for target in TARGETS:
        compilation = compile_to(source, target.arch, SOURCE.name, comp_dir=str(SOURCE.parent),
                                 dwarf_version=target.dwarf_version, platform=target.platform)
        program = compilation.program
        assert compilation.image.dwarf is not None
        folder = work / target.folder
        folder.mkdir()
        for kind, container, name in target.write(compilation.image, folder):
            output = Output(target, kind, container, f"{target.folder}/{name}")
            checks = {"dwarfkit verify": dwarfkit_verify(work / output.path) if verify_available
                      else "not available",
                      "llvm-dwarfdump --verify": llvm_verify(work / output.path)}
            failed = [f"{tool}: {result}" for tool, result in checks.items() if result.startswith("FAILED")]
            if failed:
                raise ContainerError(f"{output.path} does not verify: {'; '.join(failed)}")
            files.append(file_facts(output, work, out, compilation, checks))
    assert program is not None
    return {"program": program_facts(program, run(program).exit_code), "files": files}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_replaceable(out: Path) -> None:
    """OUT may be new, empty, or a previous demo output; anything else is left alone."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ContainerError(f"{out} exists and is not a folder; choose another output folder")
    if any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise ContainerError(f"{out} is not empty and holds no {MANIFEST} from an earlier demo; not replacing it")


def _replace(work: Path, out: Path) -> None:
    if out.exists():
        old = work.with_name(work.name + ".old")
        out.rename(old)
        work.rename(out)
        shutil.rmtree(old)
    else:
        work.rename(out)


def table(manifest: dict, out: str) -> str:
    header = ("target", "container", "arch", "path", "size", "verify (dwarfkit / llvm-dwarfdump)", "debug with")
    rows = [header]
    for f in manifest["files"]:
        checks = " / ".join(f["verify"].values())
        rows.append((f["target"], f["container"], f["arch"], str(Path(out) / f["path"]), str(f["size"]), checks,
                     f["debug"]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    # every column but the last (the debug command) is padded to its width
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * len(header[-1]))
    return "\n".join(line.rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m examples.demo", description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="out", help="output folder (default: out)")
    args = parser.parse_args(argv)
    try:
        manifest = build(args.out)
    except (DwarfkitError, MinicError) as e:
        print(f"dwarfkit: error: {e}", file=sys.stderr)
        return 2
    program = manifest["program"]
    print(f"{program['file']}: {len(program['functions'])} functions, {len(program['globals'])} globals; "
          f"the interpreter says it exits with {program['exit_code']}\n")
    print(table(manifest, args.out))
    print("\nrun:")
    for f in manifest["files"]:
        if f["run"]:
            print(f"  {f['run']}; echo $?    # {program['exit_code']}")
    if any(f["verify"]["dwarfkit verify"] == "not available" for f in manifest["files"]):
        print("\nverify: not available (this dwarfkit has no `dwarfkit verify` yet); llvm-dwarfdump checked every file")
    print(f"\nmanifest: {Path(args.out) / MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
