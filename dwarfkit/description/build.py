"""A description (see :mod:`dwarfkit.description`) -> the writer's model and an :class:`~dwarfkit.Image`, written
by the container's backend.

Everything goes through the ordinary API (``DwarfBuilder.compile_unit``, ``Die.die``/``set``, ``Expr.op``,
``LineSequence.row``), so a description gets the API's checks; each error is re-raised naming the description's file,
line and path. DIEs are made in two passes, every DIE first and then the attributes, so that a reference may name a
DIE labelled anywhere in the description, before or after it.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .. import names
from ..address import Address
from ..arch import Arch
from ..asm import Assembly, assemble, sweep
from ..errors import DescriptionError, DwarfkitError
from ..expr import Expr, operand_kinds
from ..image import ContentSection, Image, SectionKind, Symbol
from ..info import classes
from ..info.die import Die, pin
from ..info.unit import CompileUnit, TypeUnit, Unit
from ..program import DwarfBuilder
from . import described
from . import raw as raw_control
from .code import Code, CompiledFile, assembled
from .frames import debug_frame, function_frames
from .raw import RAW_VALUE_KEYS, is_raw_sequence, is_raw_value, raw_value
from .source import Path_, Source, read_description

OUTPUTS = ("elf-executable", "elf-object", "macho-object", "coff-object")
ARCHES = {"x86_64": Arch.X86_64, "aarch64": Arch.AARCH64, "arm64": Arch.AARCH64}
# A program needs an entry point: when the description has no _start, this one calls main and exits with its result.
START = {Arch.X86_64: "call main\nmov rdi, rax\nmov eax, 60\nsyscall",
         Arch.AARCH64: "bl main\nmov x8, #93\nsvc #0"}
TOP_KEYS = {"arch", "output", "dwarf", "entry", "functions", "units", "frames", "file", "debug_frame", "macro_units",
            "eh_frame",
            *raw_control.TOP_KEYS}
UNIT_KEYS = {"tag", "name", "comp_dir", "producer", "language", "version", "address_size", "dies", "lines", "label",
             "signature", "type", "line_program", "macros", *raw_control.UNIT_KEYS}
UNIT_TAGS = ("compile_unit", "partial_unit", "type_unit")
DIE_KEYS = {"tag", "label", "children", *raw_control.DIE_KEYS}
ARGUMENTS = ("name", "comp_dir", "producer", "language")   # a unit's attributes compile_unit() takes
# DIEs whose low_pc naming a function gets that function's length as high_pc when the description gives none.
SPANS_A_FUNCTION = {names.TAGS[t] for t in ("subprogram", "compile_unit", "partial_unit", "lexical_block",
                                             "inlined_subroutine")}
FILE_ATTRIBUTES = {names.ATTRIBUTES["decl_file"], names.ATTRIBUTES["call_file"]}


@dataclass
class Built:
    """What a description makes: the DWARF model, the image (code, symbols, emitted DWARF) and the output kind."""

    dwarf: DwarfBuilder
    image: Image
    output: str
    code: Code | None
    compiled: CompiledFile | None = None
    """The file compiled by someone else that the DWARF describes: written into a copy of it."""

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Writes the output file (atomically); returns its path."""
        out = Path(path)
        if self.compiled is not None:
            described.write_into(self.compiled, out, self.image.dwarf, self.dwarf)
        elif self.output == "elf-executable":
            from ..backends.elf import write_executable
            write_executable(self.image, out)
        elif self.output == "elf-object":
            from ..backends.elf import write_object
            write_object(self.image, out)
        elif self.output == "macho-object":
            from ..backends.macho_dsym import write_object as write_macho_object
            write_macho_object(self.image, out)
        else:
            from ..backends.coff import write_object as write_coff_object
            write_coff_object(self.image, out)
        return out


def build_file(path: str | os.PathLike[str]) -> Built:
    """The description in the YAML or JSON file at ``path``, built (not written yet)."""
    description, source = read_description(path)
    return build(description, source)


def build(description: Mapping[str, Any], source: Source | None = None) -> Built:
    """A description given as Python data (``dwarfkit.build({...})``), built; ``source`` names its file and lines."""
    return _Builder(source or Source()).build(description)


class _Builder:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.labels: dict[str, Die] = {}
        self.section_labels: dict[str, Any] = {}   # labels of positions in any section (description.raw)
        self.code: Code | None = None
        self.compiled: CompiledFile | None = None
        self._assembly: Assembly | None = None
        self._unit_now: Unit | None = None   # the unit whose attributes are being read
        self._with_lists: set[int] = set()   # id() of the units with range or location lists
        self.arch = Arch.X86_64
        self.views: dict[int, Any] = {}   # id(location list) -> its LocationViews (described.with_views)
        self._die_now: Die | None = None
        self.macro_units: dict[str, Any] = {}   # label -> an imported macro unit (described.macro_units)

    def fail(self, path: Path_, message: str) -> DescriptionError:
        return self.source.error(path, message)

    def build(self, top: Any) -> Built:
        if not isinstance(top, Mapping):
            raise self.fail((), f"a description is a mapping of {', '.join(sorted(TOP_KEYS))}, not "
                                f"{type(top).__name__}")
        self._known(top, TOP_KEYS, ())
        arch_name = top.get("arch", "x86_64")
        if arch_name not in ARCHES:
            raise self.fail(("arch",), f"{arch_name!r} is not one of {', '.join(ARCHES)}")
        self.arch = ARCHES[arch_name]
        output = top.get("output", "elf-executable")
        if output not in OUTPUTS:
            raise self.fail(("output",), f"{output!r} is not one of {', '.join(OUTPUTS)}")
        executable = output == "elf-executable"
        if "file" in top:
            self._compiled(top, output)
        else:
            self._assembly = self._code(top.get("functions", {}), executable)
            self.code = assembled(self._assembly) if self._assembly is not None else None
        dw = self.dw = self._builder(top.get("dwarf", {}))
        units = top.get("units", [])
        if not isinstance(units, list):
            raise self.fail(("units",), "is a list of units")
        if "debug_frame" in top:
            dw.frames = debug_frame(self, top["debug_frame"])
        eh_frame = self._eh_frame(top, output)
        described.macro_units(self, top.get("macro_units"))
        made = [self._unit(dw, unit, ("units", n)) for n, unit in enumerate(units)]
        compile_units = sum(1 for unit, _ in made if isinstance(unit, CompileUnit))
        for (unit, shells), n in zip(made, range(len(units)), strict=True):
            self._fill_unit(unit, units[n], shells, ("units", n), single=compile_units == 1)
        raw_control.apply(self, top, made, units)
        try:
            sections = dw.emit()
        except DwarfkitError as error:
            raise DescriptionError(f"{self.source.where(())}: {error}") from None
        if top.get("frames"):
            sections.add(function_frames(self, dw, top["frames"]))
        if eh_frame is not None:
            try:
                sections.add(eh_frame.eh_frame())
            except DwarfkitError as error:
                raise self.fail(("eh_frame",), str(error)) from None
        image = self._image(sections, top, executable)
        return Built(dw, image, output, self.code, self.compiled)

    # -- code -------------------------------------------------------------------------------------------------------
    def _code(self, functions: Any, executable: bool) -> Assembly | None:
        if not isinstance(functions, Mapping):
            raise self.fail(("functions",), "is a mapping of function name -> assembly text (or {hex: ...})")
        texts: list[tuple[str, str]] = []
        for name, body in functions.items():
            path: Path_ = ("functions", name)
            if isinstance(body, Mapping) and set(body) == {"hex"}:
                try:
                    data = bytes.fromhex(str(body["hex"]))
                except ValueError:
                    raise self.fail((*path, "hex"), "is not hex bytes") from None
                try:   # one .byte line per instruction: the assembler finds labels by counting instructions
                    starts = sweep(self.arch, data) + [len(data)]
                except DescriptionError as error:
                    raise self.fail((*path, "hex"), str(error)) from None
                texts.append((str(name), "\n".join(".byte " + ", ".join(f"0x{b:02x}" for b in data[a:b])
                                                   for a, b in zip(starts, starts[1:], strict=False))))
            elif isinstance(body, str):
                texts.append((str(name), body))
            else:
                raise self.fail(path, "is assembly text, or {hex: BYTES}")
        if executable and texts and "_start" not in functions:
            if "main" not in functions:
                raise self.fail(("functions",), "an executable needs _start (or a main that a default _start calls)")
            texts.append(("_start", START[self.arch]))
        if not texts:
            return None
        try:
            return assemble(self.arch, texts)
        except DwarfkitError as error:   # it names the function: point at it
            named = re.search(r"function '([^']*)'", str(error))
            where: Path_ = ("functions", named[1]) if named and named[1] in functions else ("functions",)
            raise self.fail(where, str(error)) from None

    def _compiled(self, top: Mapping[str, Any], output: str) -> None:
        """``file``: the DWARF describes that ELF file's code and goes into a copy of it."""
        if "functions" in top:
            raise self.fail(("functions",), "a description of a compiled file (file:) takes its code from it")
        name = top["file"]
        if not isinstance(name, str):
            raise self.fail(("file",), "is the path of an ELF object or executable")
        path = Path(name)
        if not path.is_absolute() and self.source.name is not None:
            path = Path(self.source.name).parent / path   # relative to the description
        try:
            compiled = described.read_file(path)
        except DescriptionError as error:
            raise self.fail(("file",), str(error)) from None
        if "arch" in top and compiled.arch is not self.arch:
            raise self.fail(("arch",), f"the file is {compiled.arch.value.name}")
        self.arch = compiled.arch
        wanted = "elf-object" if compiled.relocatable else "elf-executable"
        if output != wanted and "output" in top and compiled.elf:
            raise self.fail(("output",), f"the DWARF goes into a copy of the file: {wanted}")
        self.compiled, self.code = compiled, compiled.code

    def _eh_frame(self, top: Mapping[str, Any], output: str) -> Any:
        """``eh_frame``: CIEs and FDEs (as ``debug_frame``) written as ``.eh_frame``, in an ELF file dwarfkit
        writes whole (a copy of a compiled file keeps the file's own)."""
        if "eh_frame" not in top:
            return None
        if self.compiled is not None or not output.startswith("elf-"):
            raise self.fail(("eh_frame",), "is written into an ELF file the description makes whole (a copy of a "
                                           "compiled file keeps its own .eh_frame)")
        return debug_frame(self, top["eh_frame"], "eh_frame")

    def _image(self, sections: Any, top: Mapping[str, Any], executable: bool) -> Image:
        code = self._assembly
        if self.compiled is not None or code is None:
            return Image(self.arch, [], [], dwarf=sections)
        content = [ContentSection(".text", SectionKind.CODE, code.code)]
        symbols = [Symbol(name, ".text", start, end - start) for name, (start, end) in code.functions.items()]
        entry = top.get("entry", "_start" if executable else None)
        try:
            return Image(self.arch, content, symbols, dwarf=sections, entry=entry)
        except DwarfkitError as error:
            raise self.fail(("entry",), str(error)) from None

    def address(self, value: Any, path: Path_) -> Address:
        """``name``, ``name+N`` or ``function.label``: a function's or a label's address, symbolic."""
        if isinstance(value, int) and not isinstance(value, bool):
            return Address(None, value)
        if not isinstance(value, str):
            raise self.fail(path, f"{value!r} is not an address (a function, function.label, or a number)")
        text, _, addend_text = value.partition("+")
        addend = 0
        if addend_text:
            try:
                addend = int(addend_text, 0)
            except ValueError:
                raise self.fail(path, f"{value!r}: {addend_text!r} is not a number") from None
        address = self.code.address(text, addend) if self.code is not None else None
        if address is None:
            address = described.symbol_address(self.compiled, text, addend)
        if address is None:
            known = _some(self.code.labels) if self.code is not None else "none: the description has no functions"
            raise self.fail(path, f"{text!r} names no function or label (known: {known})")
        return address

    # -- units and DIEs ---------------------------------------------------------------------------------------------
    def _builder(self, options: Any) -> DwarfBuilder:
        if not isinstance(options, Mapping):
            raise self.fail(("dwarf",), "is a mapping: version, offset_size, indexed")
        self._known(options, {"version", "offset_size", "indexed"}, ("dwarf",))
        try:
            return DwarfBuilder(version=options.get("version", 5), offset_size=options.get("offset_size", 4),
                                address_size=self.arch.value.address_size, indexed=bool(options.get("indexed")),
                                arch=self.arch)
        except DwarfkitError as error:
            raise self.fail(("dwarf",), str(error)) from None

    def _unit(self, dw: DwarfBuilder, unit: Any, path: Path_) -> tuple[Unit, list]:
        """The unit and every DIE of it, without attributes: ``[(die, description, path), ...]``."""
        if not isinstance(unit, Mapping):
            raise self.fail(path, "a unit is a mapping (name, comp_dir, producer, language, dies, lines, ...)")
        tag = unit.get("tag", "compile_unit")
        if tag not in UNIT_TAGS:
            raise self.fail((*path, "tag"), f"{tag!r} is not one of {', '.join(UNIT_TAGS)}")
        made: Unit
        try:
            if tag == "compile_unit":
                given = {k: None if isinstance(unit.get(k), Mapping) else unit.get(k) for k in ARGUMENTS}
                made = dw.compile_unit(given["name"], comp_dir=given["comp_dir"], producer=given["producer"],
                                       language=given["language"], version=unit.get("version"),
                                       address_size=unit.get("address_size"))
            elif tag == "partial_unit":
                made = dw.partial_unit(version=unit.get("version"), address_size=unit.get("address_size"))
            else:
                signature = unit.get("signature")
                if not isinstance(signature, int) or isinstance(signature, bool) or not 0 <= signature < 1 << 64:
                    raise self.fail((*path, "signature"), "a type unit has an 8-byte signature (a number)")
                made = dw.type_unit(signature, version=unit.get("version"), address_size=unit.get("address_size"))
        except DwarfkitError as error:
            raise self.fail(path, str(error)) from None
        if tag != "compile_unit" and "lines" in unit:
            raise self.fail((*path, "lines"), "only a compile unit has line rows")
        if "label" in unit:
            self._label(unit["label"], made.root, (*path, "label"))
        shells: list[tuple[Die, Mapping[str, Any], Path_]] = []
        self._shells(made.root, unit.get("dies", []), (*path, "dies"), shells)
        if isinstance(made, TypeUnit):
            label = unit.get("type")
            type_die = self.labels.get(label) if isinstance(label, str) else None
            if type_die is None or type_die.unit is not made:
                raise self.fail((*path, "type"), "a type unit names the label of the type it holds, one of its DIEs")
            made.type_die = type_die
        return made, shells

    def _shells(self, parent: Die, dies: Any, path: Path_, out: list) -> None:
        if not isinstance(dies, list):
            raise self.fail(path, "is a list of DIEs")
        for n, die in enumerate(dies):
            here = (*path, n)
            if not isinstance(die, Mapping) or "tag" not in die:
                raise self.fail(here, "a DIE is a mapping with a tag (and attributes, label, children)")
            try:
                made = parent.die(die["tag"])
            except DwarfkitError as error:
                raise self.fail((*here, "tag"), str(error)) from None
            if "label" in die:
                self._label(die["label"], made, (*here, "label"))
            out.append((made, die, here))
            self._shells(made, die.get("children", []), (*here, "children"), out)

    def _label(self, label: Any, die: Die, path: Path_) -> None:
        if not isinstance(label, str) or not label:
            raise self.fail(path, f"a label is a name, not {label!r}")
        if label in self.labels:
            raise self.fail(path, f"label {label!r} is given to two DIEs")
        self.labels[label] = die

    def _fill_unit(self, cu: Unit, unit: Mapping[str, Any], shells: list, path: Path_, single: bool) -> None:
        described.unit_tables(self, cu, unit, path)
        root_attributes = {k: v for k, v in unit.items() if k not in UNIT_KEYS}
        # what compile_unit() takes as arguments, as attributes here (in a compile unit: those with a form)
        root_attributes.update({k: unit[k] for k in ARGUMENTS if k in unit and
                                (not isinstance(cu, CompileUnit) or isinstance(unit[k], Mapping))})
        if single and isinstance(cu, CompileUnit) and self._assembly is not None and \
                "low_pc" not in root_attributes and "ranges" not in root_attributes:   # one compile unit: all the code
            first = next(iter(self._assembly.functions))
            root_attributes["low_pc"] = first
            root_attributes["high_pc"] = len(self._assembly.code)
        self._attributes(cu.root, root_attributes, path, cu)
        for die, description, here in shells:
            attributes = {k: v for k, v in description.items() if k not in DIE_KEYS}
            self._attributes(die, attributes, here, cu)
        if id(cu) in self._with_lists and cu.encoding.version < 5 and cu.root.get("low_pc") is None:
            cu.root.set("low_pc", 0)   # the base its DWARF 2-4 lists are relative to: gdb drops unit ranges without one
        if isinstance(cu, CompileUnit):
            self._lines(cu, unit.get("lines", []), (*path, "lines"))

    def _attributes(self, die: Die, attributes: Mapping[Any, Any], path: Path_, cu: Unit) -> None:
        version = cu.encoding.version
        self._unit_now, self._die_now = cu, die
        for key, raw in sorted(attributes.items(), key=described.views_last):
            here = (*path, key)
            at = self._attribute_code(key, here)
            value = self._value(at, raw, here, version)
            if isinstance(raw, Mapping) and "form" in raw and not is_raw_value(raw):   # a raw value has its form
                value = pin(value, raw["form"])
            try:
                die.set(at, value)
            except DwarfkitError as error:
                raise self.fail(here, str(error)) from None
        low = attributes.get("low_pc")
        if die.tag in SPANS_A_FUNCTION and isinstance(low, str) and "high_pc" not in attributes and \
                "ranges" not in attributes and self.code is not None and low in self.code.functions:
            start, end = self.code.functions[low]
            die.set("high_pc", end - start)   # a function's DIE spans the function

    def _attribute_code(self, key: Any, path: Path_) -> int:
        if isinstance(key, int):
            return key
        if re.fullmatch(r"0[xX][0-9a-fA-F]+|[0-9]+", key):
            return int(key, 0)   # a number as JSON writes every key: as text
        name = key[len("DW_AT_"):] if key.startswith("DW_AT_") else key
        code = names.ATTRIBUTES.get(name)
        if code is None:
            raise self.fail(path, f"unknown attribute {key!r} (DW_AT_ names, short or in full, or a number)")
        return code

    def _value(self, at: int, raw: Any, path: Path_, version: int) -> Any:
        """The API's value for attribute ``at`` from the description's ``raw``, read by the attribute's classes."""
        kinds = classes.CLASSES[version].get(at, 0)
        if isinstance(raw, Mapping):
            self._known(raw, {"ref", "address", "hex", "expr", "form", "value", "locations", "ranges", "views",
                              "views_of", "label", *RAW_VALUE_KEYS}, path)
            if is_raw_value(raw):
                return raw_value(self, raw, path)
            if "views_of" in raw:
                return described.views_of(self, self._die_now, raw["views_of"], (*path, "views_of"))
            if "locations" in raw or "ranges" in raw:
                kind = "locations" if "locations" in raw else "ranges"
                made = self._list(self.dw, kind, raw[kind], (*path, kind))
                if "label" in raw:   # a label of the list's position (description.raw)
                    raw_control.define_label(self, raw["label"], made, (*path, "label"))
                return described.with_views(self, made, raw["views"], (*path, "views")) if "views" in raw else made
            if "ref" in raw:
                return self._reference(raw["ref"], (*path, "ref"))
            if "address" in raw:
                return self.address(raw["address"], (*path, "address"))
            if "hex" in raw:
                try:
                    return bytes.fromhex(str(raw["hex"]))
                except ValueError:
                    raise self.fail((*path, "hex"), "is not hex bytes") from None
            if "expr" in raw:
                return self.expression(raw["expr"], (*path, "expr"))
            if "value" in raw:
                return self._value(at, raw["value"], (*path, "value"), version)
            raise self.fail(path, "a value given as a mapping has ref, address, hex, expr or value")
        if isinstance(raw, str):
            if at in FILE_ATTRIBUTES and isinstance(self._unit_now, CompileUnit):
                try:
                    return self._unit_now.file(raw)   # a file name: its number in the unit's line table
                except DwarfkitError as error:
                    raise self.fail(path, str(error)) from None
            if kinds & classes.REFERENCE and not kinds & classes.STRING:
                return self._reference(raw, path)
            if kinds & classes.ADDRESS and not kinds & classes.STRING:
                return self.address(raw, path)
            return raw
        if isinstance(raw, list) and kinds & (classes.EXPRLOC | classes.LOCLIST):
            return self.expression(raw, path)
        if isinstance(raw, list) and kinds & classes.RNGLIST:
            return self._list(self.dw, "ranges", raw, path)
        if raw is None or isinstance(raw, (list, float)):
            raise self.fail(path, f"{raw!r} is not a value of this attribute")
        if isinstance(raw, int) and not isinstance(raw, bool) and kinds == classes.ADDRESS:
            return Address(None, raw)   # an address of a linked file
        return raw

    def _reference(self, label: Any, path: Path_) -> Die:
        die = self.labels.get(label) if isinstance(label, str) else None
        if die is None:
            known = ", ".join(sorted(self.labels)) or "none"
            raise self.fail(path, f"no DIE is labelled {label!r} (labels: {known})")
        return die

    def expression(self, ops: Any, path: Path_) -> Expr:
        """``[op, [op, operand, ...], ...]``: DW_OP names (short or in full), operands by the operation's kinds
        (a function or label for an address, a DIE's label for a DIE, a nested list for an expression)."""
        if not isinstance(ops, list):
            raise self.fail(path, "an expression is a list of operations: [deref, [fbreg, -8], ...]")
        expr = Expr()
        for n, op in enumerate(ops):
            here = (*path, n)
            name, *operands = op if isinstance(op, list) and op else [op]
            if described.tls(self, expr, name, operands, here):
                continue
            if isinstance(name, str) and name.startswith("DW_OP_"):
                name = name[len("DW_OP_"):]
            kinds = operand_kinds(name) if isinstance(name, (str, int)) and not isinstance(name, bool) else None
            if kinds is None:
                raise self.fail(here, f"{name!r} is not a DWARF expression operation")
            converted = [self._operand(kind, value, (*here, k + 1)) for k, (kind, value) in
                         enumerate(zip(kinds, operands, strict=False))] + operands[len(kinds):]
            try:
                expr.op(name, *converted)
            except DescriptionError as error:
                raise self.fail(here, str(error)) from None
        return expr

    def _operand(self, kind: str, value: Any, path: Path_) -> Any:
        if kind == "addr" and isinstance(value, str):
            return self.address(value, path)
        if kind in ("ref", "type", "ref2", "ref4") and isinstance(value, str):
            return self._reference(value, path)
        if kind == "expr" and isinstance(value, list):
            return self.expression(value, path)
        if kind == "u" and isinstance(value, Mapping) and "address" in value:
            return described.address_operand(self, value, path)
        if kind in ("block", "block1") and isinstance(value, str):
            try:
                return bytes.fromhex(value)
            except ValueError:
                raise self.fail(path, "is not hex bytes") from None
        return value

    # -- lists --------------------------------------------------------------------------------------------------------
    def _list(self, dw: DwarfBuilder, kind: str, entries: Any, path: Path_) -> Any:
        """``{locations: [[start, end, expression], ...]}`` or ``{ranges: [[start, end], ...]}``: start and end are
        addresses in one function (a function, ``function.label`` or ``name+N``); a range may be a function's name
        (all of it)."""
        if described.is_explicit(entries):
            return described.explicit_list(self, kind, entries, path)
        if not isinstance(entries, list):
            raise self.fail(path, f"is a list of [start, end{', expression' if kind == 'locations' else ''}]")
        made: list[tuple] = []
        for n, entry in enumerate(entries):
            here = (*path, n)
            if kind == "ranges" and isinstance(entry, str) and self.code is not None and entry in self.code.functions:
                start_at, end_at = self.code.functions[entry]   # a function's name: all of it
                made.append((self._start(entry), end_at - start_at))
                continue
            if kind == "locations" and isinstance(entry, list) and len(entry) == 2 and self.code is not None and \
                    entry[0] in self.code.functions:   # [function, expression]: all of the function
                start_at, end_at = self.code.functions[entry[0]]
                made.append((self._start(entry[0]), end_at - start_at, self.expression(entry[1], (*here, 1))))
                continue
            width = 3 if kind == "locations" else 2
            if not isinstance(entry, list) or len(entry) != width:
                raise self.fail(here, f"an entry is [start, end{', expression' if width == 3 else ''}]")
            start, end = self.address(entry[0], (*here, 0)), self.address(entry[1], (*here, 1))
            if start.symbol != end.symbol or end.offset < start.offset:
                raise self.fail(here, f"{entry[1]!r} does not follow {entry[0]!r} in the same function")
            item: tuple = (start, end.offset - start.offset)
            if width == 3:
                item += (self.expression(entry[2], (*here, 2)),)
            made.append(item)
        self._with_lists.add(id(self._unit_now))
        try:
            unit = self._unit_now
            return dw.location_list(made, unit) if kind == "locations" else dw.range_list(made, unit)
        except DwarfkitError as error:
            raise self.fail(path, str(error)) from None

    # -- line rows --------------------------------------------------------------------------------------------------
    def _lines(self, cu: CompileUnit, sequences: Any, path: Path_) -> None:
        if not isinstance(sequences, list):
            raise self.fail(path, "is a list of sequences: {function: NAME, rows: [[where, line], ...]}")
        code = self.code
        for n, sequence in enumerate(sequences):
            here = (*path, n)
            if is_raw_sequence(sequence):
                continue   # raw opcodes: description.raw
            if isinstance(sequence, Mapping) and "start" in sequence:
                described.sequence(self, cu, sequence, here)
                continue
            if not isinstance(sequence, Mapping) or "function" not in sequence:
                raise self.fail(here, "a sequence is a mapping with function and rows")
            self._known(sequence, {"function", "rows", "end"}, here)
            function = sequence["function"]
            if code is None or function not in code.functions:
                raise self.fail((*here, "function"), f"{function!r} is not a function of the description")
            start, end = code.functions[function]
            seq = cu.line.sequence(self._start(function))
            rows = sequence.get("rows", [])
            if not isinstance(rows, list):
                raise self.fail((*here, "rows"), "is a list of rows: [where, line] or {at, line, ...}")
            for k, row in enumerate(rows):
                self._row(cu, seq, function, row, (*here, "rows", k))
            seq.end(self._offset(function, sequence.get("end", end - start), (*here, "end")))

    def _row(self, cu: CompileUnit, seq: Any, function: str, row: Any, path: Path_) -> None:
        if isinstance(row, list) and len(row) == 2:
            row = {"at": row[0], "line": row[1]}
        if not isinstance(row, Mapping) or "at" not in row or "line" not in row:
            raise self.fail(path, "a row is [where, line] or a mapping with at, line and flags")
        flags = {k: v for k, v in row.items() if k not in ("at", "line")}
        self._known(flags, {"column", "file", "is_stmt", "basic_block", "prologue_end", "epilogue_begin", "isa",
                            "discriminator", "op_index"}, path)
        offset = self._offset(function, row["at"], (*path, "at"))
        try:
            if isinstance(flags.get("file"), str):
                flags["file"] = cu.file(flags["file"])
            seq.row(offset, row["line"], **flags)
        except DwarfkitError as error:
            raise self.fail(path, str(error)) from None

    def _offset(self, function: str, where: Any, path: Path_) -> int:
        """An offset in ``function``: a number, or one of its labels."""
        if isinstance(where, int) and not isinstance(where, bool):
            return where
        assert self.code is not None
        offset = self.code.offset(function, str(where))
        if offset is None:
            raise self.fail(path, f"{where!r} is no label of {function} (labels are written 'name:' in its code)")
        return offset

    def _start(self, function: str) -> Address:
        address = self.code.address(function) if self.code is not None else None
        assert address is not None
        return address

    # -- checks -----------------------------------------------------------------------------------------------------
    def _known(self, mapping: Mapping[Any, Any], allowed: set[str], path: Path_) -> None:
        for key in mapping:
            if key not in allowed:
                raise self.fail((*path, key), f"unknown key {key!r} (known here: {', '.join(sorted(allowed))})")



def _some(names: Mapping[str, Any], count: int = 12) -> str:
    """A few of ``names`` for a message."""
    listed = sorted(names)
    return ", ".join(listed[:count]) + (f", ... ({len(listed)} in all)" if len(listed) > count else "")
