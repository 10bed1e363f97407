"""A line-number program (``.debug_line`` contribution of one compile unit): header, tables, sequences.

DWARF 5 tables as compilers write them: ``set_file(index, name, directory, md5, content)`` replaces an entry (gcc
12 puts file 0, the primary source, in its own directory: ``line.set_file(0, "a.c", line.add_directory("/src"))``),
``add_file(..., content={"LLVM_source": text, 0x2345: ("data4", 7)})`` and ``add_directory(path, content=...)`` add
further DW_LNCT_* fields (vendor ones by number), the same types in every entry of a table, as DWARF 5 has one entry
format per table. Rows take every field (``op_index`` with ``max_ops_per_instruction`` > 1 for VLIW); rows at one
address are kept as separate rows, the line table's (implicit) location views.
"""
from __future__ import annotations

from typing import Any, Callable, Protocol

from elftools.dwarf.enums import ENUM_DW_FORM, ENUM_DW_LNCT

from ..address import Address, as_address
from ..encoding import Encoding
from ..errors import DescriptionError, DwarfkitError
from ..raw import Label
from ..sections import Relocation, RelocKind
from ..strings import StringTable
from ..writer import SectionWriter
from .opcodes import MIN_OPCODE_BASE, STANDARD_OPCODE_LENGTHS, SequenceEncoder
from .raw import LineOverrides, raw_sequence
from .raw import emit as emit_raw
from .sequence import LineSequence

_DW_FORM_line_strp = ENUM_DW_FORM["DW_FORM_line_strp"]
_DW_FORM_string = ENUM_DW_FORM["DW_FORM_string"]
_DW_FORM_udata = ENUM_DW_FORM["DW_FORM_udata"]
_DW_FORM_data16 = ENUM_DW_FORM["DW_FORM_data16"]
_DW_LNCT_path = ENUM_DW_LNCT["DW_LNCT_path"]
_DW_LNCT_directory_index = ENUM_DW_LNCT["DW_LNCT_directory_index"]
_DW_LNCT_MD5 = ENUM_DW_LNCT["DW_LNCT_MD5"]


class _File:
    __slots__ = ("name", "directory", "md5", "content")

    def __init__(self, name: str, directory: int, md5: bytes | None,
                 content: dict[int, tuple[int, object]] | None = None) -> None:
        self.name = name
        self.directory = directory
        self.md5 = md5
        self.content = content   # further DW_LNCT_* (vendor) content: type -> (form, value)


_FORMS = {name[8:]: value for name, value in ENUM_DW_FORM.items()}
_LNCTS = {name[8:]: value for name, value in ENUM_DW_LNCT.items()}
_STANDARD_LNCT = {_DW_LNCT_path, _DW_LNCT_directory_index, _DW_LNCT_MD5}
# Forms a content entry may take (DWARF 5 6.2.4.1), by what they hold.
_CONTENT_FORMS = {"string", "line_strp", "strp", "strx", "strx1", "strx2", "strx3", "strx4", "udata", "data1",
                  "data2", "data4", "data8", "data16", "block"}


def _content(content: object, name: str, program: str | None) -> dict[int, tuple[int, object]]:
    """Vendor (or further standard) content of a file entry, checked: ``{type: value or (form, value)}``."""
    where = f"line program {program!r}: entry {name!r}"
    if not isinstance(content, dict):
        raise DescriptionError(f"{where}: content {content!r} is not a dict of DW_LNCT_* type -> value")
    out: dict[int, tuple[int, object]] = {}
    for key, value in content.items():
        code = _LNCTS.get(key[8:] if isinstance(key, str) and key.startswith("DW_LNCT_") else key) \
            if isinstance(key, str) else key
        if not isinstance(code, int) or isinstance(code, bool) or not 0 < code < 1 << 16 or code in _STANDARD_LNCT:
            raise DescriptionError(f"{where}: content type {key!r} is not a DW_LNCT_* other than path, "
                                   f"directory_index and MD5 (give those as arguments)")
        if isinstance(value, tuple):
            if len(value) != 2 or value[0] not in _CONTENT_FORMS - {"strx", "strx1", "strx2", "strx3", "strx4",
                                                                     "strp"}:
                raise DescriptionError(f"{where}: content {key!r}: {value!r} is not (form, value) with a form of "
                                       f"string, line_strp, udata, data1..8, data16 or block")
            form, value = _FORMS[value[0]], value[1]
        elif isinstance(value, str):
            form = _DW_FORM_line_strp
        elif isinstance(value, int) and not isinstance(value, bool):
            form = _DW_FORM_udata
        elif isinstance(value, (bytes, bytearray)):
            form = _DW_FORM_data16 if len(value) == 16 else _FORMS["block"]
        else:
            raise DescriptionError(f"{where}: content {key!r}: {value!r} is not a str, int or bytes")
        _check_content_value(form, value, f"{where}: content {key!r}")
        out[code] = (form, value)
    return out


def _check_content_value(form: int, value: object, where: str) -> None:
    sizes = {_FORMS["data1"]: 1, _FORMS["data2"]: 2, _FORMS["data4"]: 4, _FORMS["data8"]: 8}
    if form in (_DW_FORM_line_strp, _DW_FORM_string):
        if not isinstance(value, str) or "\0" in value:
            raise DescriptionError(f"{where}: {value!r} is not a str without NUL")
    elif form in sizes or form == _DW_FORM_udata:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0 or \
                value >= 1 << (8 * sizes.get(form, 8)):
            raise DescriptionError(f"{where}: {value!r} does not fit {form_label(form)}")
    elif not isinstance(value, (bytes, bytearray)) or form == _DW_FORM_data16 and len(value) != 16:
        raise DescriptionError(f"{where}: {value!r} is not {'16 bytes' if form == _DW_FORM_data16 else 'bytes'}")


def form_label(form: int) -> str:
    return next((f"DW_FORM_{name}" for name, value in _FORMS.items() if value == form), f"form {form:#x}")


def _check_text(text: object, what: str, program: str | None) -> str:
    """``text`` as a path for the tables: a str without NUL that UTF-8 can encode (no lone surrogate)."""
    where = f"line program {program!r}" if program is not None else "line program"
    if not isinstance(text, str):
        raise DescriptionError(f"{where}: {what} {text!r} is not a str")
    if "\0" in text:
        raise DescriptionError(f"{where}: {what} {text!r} contains a NUL character")
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError as error:
            raise DescriptionError(f"{where}: {what} {text!r} is not valid text ({error.reason} at index "
                                   f"{error.start})") from None
    return text


def _check_md5(md5: bytes | None, name: str, program: str | None) -> bytes | None:
    if md5 is not None and len(md5) != 16:
        raise DescriptionError(f"line program {program!r}: MD5 of {name!r} has {len(md5)} bytes, not 16")
    return md5


class RowSource(Protocol):
    """The rows of a loaded line program, not yet decoded (``LineProgram.source``)."""

    def as_bytes(self, program: "LineProgram") -> bytes | None:
        """The program's opcodes as read, if they mean the same after ``program``'s header as it is now (its
        version, address size, parameters and file count as read; no relocation in them), else None."""

    def load_rows(self, program: "LineProgram") -> None:
        """Decodes the rows into ``program``'s sequences."""


class LineProgram:
    """The line table of one compile unit.

    Directory and file indices are the same in every version: directory 0 is ``comp_dir``; file 1 is ``name``
    (:attr:`primary_file`), and in DWARF 5 file 0 is ``name`` too, as gcc writes it. ``add_file`` returns the index
    to use in rows and in ``DW_AT_decl_file``. A unit without a name (``name`` None, which DWARF allows) has no
    primary file: its first :meth:`add_file` gets index 0 in DWARF 5, 1 before.
    """

    def __init__(self, encoding: Encoding, *, comp_dir: str, name: str | None, min_instruction_length: int = 1,
                 line_base: int = -5, line_range: int = 14, opcode_base: int = 13,
                 default_is_stmt: bool = True, md5: bytes | None = None, max_ops_per_instruction: int = 1) -> None:
        if not 1 <= min_instruction_length <= 255:
            raise DescriptionError(f"line program {name!r}: minimum instruction length {min_instruction_length} "
                                   f"is not in 1..255")
        if not 1 <= line_range <= 255 or not -128 <= line_base <= 127:
            raise DescriptionError(f"line program {name!r}: line_base {line_base} / line_range {line_range} do not "
                                   f"fit a byte")
        if not MIN_OPCODE_BASE <= opcode_base <= 255 or opcode_base + line_range > 256:
            raise DescriptionError(f"line program {name!r}: opcode_base {opcode_base} must be in "
                                   f"{MIN_OPCODE_BASE}..{256 - line_range} (line_range {line_range} special "
                                   f"opcodes must fit below 256)")
        if not isinstance(max_ops_per_instruction, int) or not 1 <= max_ops_per_instruction <= 255 or \
                max_ops_per_instruction > 1 and encoding.version < 4:
            raise DescriptionError(f"line program {name!r}: maximum operations per instruction "
                                   f"{max_ops_per_instruction!r} is not in 1..255 (more than 1 needs DWARF 4)")
        if name is not None:
            _check_text(name, "file name", name)
        _check_text(comp_dir, "compilation directory", name)
        self.encoding = encoding
        self.comp_dir = comp_dir
        self.name = name
        self.min_instruction_length = min_instruction_length
        self.line_base = line_base
        self.line_range = line_range
        self.opcode_base = opcode_base
        self.default_is_stmt = default_is_stmt
        self.max_ops_per_instruction = max_ops_per_instruction
        self.directories: list[str] = [comp_dir]
        self._directory_index: dict[str, int] = {comp_dir: 0}
        self._directory_content: dict[str, dict[int, tuple[int, object]]] = {}
        self.files: list[_File]
        self._file_index: dict[tuple[str, int], int]
        if name is None:
            # No primary file: DWARF 5 starts at index 0; before, index 0 is a placeholder never written.
            self.files = [] if encoding.version >= 5 else [_File("", 0, None)]
            self._file_index = {}
        else:
            primary = _File(name, 0, _check_md5(md5, name, name))
            self.files = [primary, primary]  # index 0 is emitted only by DWARF 5
            self._file_index = {(name, 0): 1}
        self._sequences: list[LineSequence] = []
        self.source: RowSource | None = None   # a loaded program's rows, not yet decoded
        self._encoder: SequenceEncoder | None = None

    @property
    def sequences(self) -> list[LineSequence]:
        """The sequences of rows. A loaded program whose rows are kept undecoded (:attr:`source`) decodes them on
        this first look, and is encoded from them from then on: whatever the caller does with them is written."""
        if self.source is not None:
            source, self.source = self.source, None
            source.load_rows(self)
        return self._sequences

    @sequences.setter
    def sequences(self, sequences: list[LineSequence]) -> None:
        self.source = None
        self._sequences = sequences

    @property
    def primary_file(self) -> int:
        """Index of ``name`` for rows and ``DW_AT_decl_file``."""
        if self.name is None:
            raise DescriptionError("line program of a unit without a name: there is no primary file (add_file)")
        return 1

    @property
    def first_file(self) -> int:
        """The lowest valid file index: 0 in DWARF 5, 1 before."""
        return 0 if self.encoding.version >= 5 else 1

    # -- tables ---------------------------------------------------------------------------------------------------
    def add_directory(self, path: str, content: dict[int | str, object] | None = None) -> int:
        """The index of directory ``path``, added when new; DWARF 5 ``content`` as for :meth:`add_file`."""
        checked = self._check_content(path, content)
        if checked is not None:
            self._directory_content[path] = checked
        index = self._directory_index.get(path)
        if index is None:
            _check_text(path, "directory", self.name)
            index = self._directory_index[path] = len(self.directories)
            self.directories.append(path)
        return index

    def add_file(self, name: str, directory: int = 0, md5: bytes | None = None,
                 content: dict[int | str, object] | None = None) -> int:
        """The index of file ``name`` in directory ``directory``, added when new. DWARF 5: ``md5`` (16 bytes) and
        ``content``, further entry fields by type: ``{"LLVM_source": "int f();"}`` or ``{0x2001: ("string", ...)}``
        (a str goes to ``.debug_line_str``, an int is udata, 16 bytes data16, other bytes a block)."""
        self._check_directory(name, directory)
        md5 = _check_md5(md5, name, self.name)
        checked = self._check_content(name, content)
        index = self._file_index.get((name, directory))
        if index is None:
            _check_text(name, "file name", self.name)
            index = self._file_index[(name, directory)] = len(self.files)
            self.files.append(_File(name, directory, md5, checked))
        elif checked is not None:
            self.files[index].content = checked
        elif md5 is not None:
            entry = self.files[index]
            if entry.md5 is not None and entry.md5 != md5:
                raise DescriptionError(f"line program {self.name!r}: file {name!r} added twice with different MD5")
            entry.md5 = md5
        return index

    def set_file(self, index: int, name: str, directory: int = 0, md5: bytes | None = None,
                 content: dict[int | str, object] | None = None) -> None:
        """Replaces entry ``index`` of the file table, e.g. DWARF 5 file 0 in its own directory as gcc 12 writes it:
        ``d = line.add_directory("/src"); line.set_file(0, "a.c", d)``. Rows and ``decl_file`` keep their index."""
        if not isinstance(index, int) or isinstance(index, bool) or not self.first_file <= index < len(self.files):
            raise DescriptionError(f"line program {self.name!r}: there is no file {index!r} to replace (valid: "
                                   f"{self.first_file}..{len(self.files) - 1})")
        self._check_directory(name, directory)
        _check_text(name, "file name", self.name)
        entry = _File(name, directory, _check_md5(md5, name, self.name), self._check_content(name, content))
        old = self.files[index]
        if self._file_index.get((old.name, old.directory)) == index:
            del self._file_index[(old.name, old.directory)]
        self._file_index.setdefault((name, directory), index)
        self.files[index] = entry

    def replace_tables(self, directories: list[str], files: list[tuple[str, int, bytes | None]]) -> None:
        """Replaces the directory and file tables as a whole, indices as given (the loader keeps a file's own
        tables so that rows and ``DW_AT_decl_file`` keep their numbers). ``files``: ``(name, directory, md5)`` from
        index 0 in DWARF 5, from index 1 before (index 0 is then a placeholder)."""
        if not directories:
            raise DescriptionError(f"line program {self.name!r}: a directory table needs directory 0")
        for path in directories:
            _check_text(path, "directory", self.name)
        self.directories = list(directories)
        self._directory_index = {}
        for i, path in enumerate(directories):
            self._directory_index.setdefault(path, i)
        self.files = [] if self.encoding.version >= 5 else [_File("", 0, None)]
        self._file_index = {}
        for name, directory, md5 in files:
            self._check_directory(name, directory)
            _check_text(name, "file name", self.name)
            self._file_index.setdefault((name, directory), len(self.files))
            self.files.append(_File(name, directory, _check_md5(md5, name, self.name)))

    def _check_directory(self, name: str, directory: object) -> None:
        if not isinstance(directory, int) or isinstance(directory, bool) or \
                not 0 <= directory < len(self.directories):
            raise DescriptionError(f"line program {self.name!r}: file {name!r} refers to directory {directory}, "
                                   f"which does not exist (valid: 0..{len(self.directories) - 1})")

    def _check_content(self, name: str, content: object) -> dict[int, tuple[int, object]] | None:
        if content is None:
            return None
        if self.encoding.version < 5:
            raise DescriptionError(f"line program {self.name!r}: entry {name!r}: content types need DWARF 5")
        return _content(content, name, self.name)

    # -- sequences ------------------------------------------------------------------------------------------------
    def sequence(self, start: Address | int | str) -> LineSequence:
        """A new sequence for the contiguous code starting at ``start`` (one per function, usually)."""
        seq = LineSequence(as_address(start), self.default_is_stmt)
        self.sequences.append(seq)
        return seq

    def _sequence_encoder(self) -> SequenceEncoder:
        """The sequence encoder for this header (files added later are still seen: the range is rebuilt)."""
        enc = self.encoding
        file_range = range(self.first_file, len(self.files))
        if self._encoder is None or self._encoder.file_range != file_range:
            self._encoder = SequenceEncoder(
                program=str(self.name), version=enc.version, address_size=enc.address_size, byteorder=enc.byteorder,
                file_range=file_range, min_instruction_length=self.min_instruction_length,
                line_base=self.line_base, line_range=self.line_range, opcode_base=self.opcode_base,
                default_is_stmt=self.default_is_stmt, max_ops_per_instruction=self.max_ops_per_instruction)
        return self._encoder

    def encode_sequence(self, seq: LineSequence, size: int | None = None) -> tuple[bytes, list[Relocation]]:
        """One sequence on its own: its bytes and relocations with offsets relative to the sequence's first byte.

        With ``size``, the sequence is padded with no-op opcodes to exactly ``size`` bytes (for in-place updates).
        """
        out = bytearray()
        try:
            pos = self._sequence_encoder().encode(seq, out)
        except (TypeError, IndexError, OverflowError):
            raise self._sequence_encoder().bad_rows(seq) from None
        if size is not None and size != len(out):
            if size < len(out):
                raise DescriptionError(f"line program {self.name!r}, sequence at {seq.start}: needs {len(out)} bytes, "
                                       f"more than the {size} given")
            padding = size - len(out)
            out = bytearray()
            pos = self._sequence_encoder().encode(seq, out, padding)
        relocations = []
        if seq.start.symbol is not None:
            relocations.append(Relocation(pos, self.encoding.address_size, RelocKind.ADDRESS, seq.start.symbol,
                                          seq.start.offset))
        return bytes(out), relocations

    # -- raw control (dwarfkit.raw) ---------------------------------------------------------------------------------
    overrides: LineOverrides | None = None
    offset: int | None = None   # where the program starts in .debug_line, once emitted

    def override(self, **fields: Any) -> "LineProgram":
        """Header fields written as given, whatever the rows were encoded with: ``unit_length``, ``version``,
        ``address_size`` and ``segment_selector_size`` (DWARF 5), ``header_length``, ``minimum_instruction_length``,
        ``maximum_operations_per_instruction`` (DWARF 4+), ``default_is_stmt``, ``line_base``, ``line_range``,
        ``opcode_base``, ``standard_opcode_lengths`` (a list: the bytes after it move, header_length follows)."""
        self.overrides = self.overrides or LineOverrides()
        self.overrides.set(self, fields)
        return self

    def raw_sequence(self, data: bytes | str, before: int | None = None, label: Label | None = None) -> "LineProgram":
        """Opcodes given as raw bytes, written after the sequences made so far (or before sequence ``before``);
        ``label`` (a :class:`dwarfkit.raw.Label`) is bound to where they start."""
        self.overrides = self.overrides or LineOverrides()
        raw_sequence(self, self.overrides, data, before, label)
        return self

    def label_position(self) -> tuple[str, int | None]:
        """Where the program starts in ``.debug_line`` (for a :class:`dwarfkit.raw.Label`), once it is emitted."""
        return ".debug_line", self.offset

    # -- emission -------------------------------------------------------------------------------------------------
    def emit(self, writer: SectionWriter, line_str: StringTable | None, debug_str: StringTable | None = None) -> int:
        """Appends the whole program to the ``.debug_line`` writer; returns its offset (``DW_AT_stmt_list``).
        DWARF 5 paths go to ``line_str`` (``DW_FORM_line_strp``), or inline (``DW_FORM_string``) when it is None."""
        if self.overrides is not None:
            self.offset = emit_raw(self, self.overrides, writer, line_str)
            return self.offset
        data = writer.data
        relocations = writer.section.relocations
        undo = len(data), len(relocations)
        try:
            start = self.emit_header(writer, line_str)
            encoder = self._sequence_encoder()
            size = self.encoding.address_size
            kept = self.source.as_bytes(self) if self.source is not None else None
            if kept is not None:
                data += kept
            for seq in self.sequences if kept is None else ():
                try:
                    pos = encoder.encode(seq, data)
                except (TypeError, IndexError, OverflowError):
                    raise encoder.bad_rows(seq) from None
                if seq.start.symbol is not None:
                    relocations.append(Relocation(pos, size, RelocKind.ADDRESS, seq.start.symbol, seq.start.offset))
            writer.end_length(start)
        except DwarfkitError:
            del data[undo[0]:], relocations[undo[1]:]  # leave the section as it was, not half-written
            raise
        self.offset = start
        return start

    def emit_header(self, writer: SectionWriter, line_str: StringTable | None) -> int:
        """Writes the unit length placeholder and the header; :meth:`emit` adds sequences and closes the length."""
        enc = self.encoding
        version = enc.version
        start = writer.begin_length()
        writer.u16(version)
        if version >= 5:
            writer.u8(enc.address_size)
            writer.u8(0)  # segment_selector_size
        header_length_pos = writer.pos
        writer.uint(0, enc.offset_size)
        header_start = writer.pos
        writer.u8(self.min_instruction_length)
        if version >= 4:
            writer.u8(self.max_ops_per_instruction)   # 1 unless VLIW
        writer.u8(1 if self.default_is_stmt else 0)
        writer.sint(self.line_base, 1)
        writer.u8(self.line_range)
        writer.u8(self.opcode_base)
        lengths = STANDARD_OPCODE_LENGTHS + (0,) * 255
        writer.raw(bytes(lengths[:self.opcode_base - 1]))
        if version >= 5:
            self._v5_tables(writer, line_str)
        else:
            self._v2_tables(writer)
        writer.patch_uint(header_length_pos, writer.pos - header_start, enc.offset_size)
        return start

    def _v2_tables(self, writer: SectionWriter) -> None:
        for path in self.directories[1:]:
            writer.cstr(path)
        writer.u8(0)
        for f in self.files[1:]:
            writer.cstr(f.name)
            writer.uleb(f.directory)
            writer.u8(0)  # modification time: unknown
            writer.u8(0)  # length: unknown
        writer.u8(0)

    def _v5_tables(self, writer: SectionWriter, line_str: StringTable | None) -> None:
        def path(text: str) -> None:
            if line_str is None:
                writer.cstr(text)
            else:
                writer.offset_field(line_str.add(text), RelocKind.SECTION, line_str.name)

        path_form = _DW_FORM_string if line_str is None else _DW_FORM_line_strp
        directory_extra = self._extra_formats([self._directory_content.get(d) for d in self.directories], line_str,
                                              "directories")
        writer.u8(1 + len(directory_extra))
        writer.uleb(_DW_LNCT_path)
        writer.uleb(path_form)
        for content, form in directory_extra:
            writer.uleb(content)
            writer.uleb(form)
        writer.uleb(len(self.directories))
        for d in self.directories:
            path(d)
            for code, form in directory_extra:
                self._content_value(writer, form, self._directory_content[d][code][1], path)
        with_md5 = [f.md5 is not None for f in self.files]
        if any(with_md5) and not all(with_md5):
            missing = next(f.name for f in self.files if f.md5 is None)
            raise DescriptionError(f"line program {self.name!r}: file {missing!r} has no MD5 but others have one; "
                                   f"DWARF 5 needs it for all files or none")
        formats = [(_DW_LNCT_path, path_form), (_DW_LNCT_directory_index, _DW_FORM_udata)]
        if with_md5 and all(with_md5):
            formats.append((_DW_LNCT_MD5, _DW_FORM_data16))
        extra = self._extra_formats([f.content for f in self.files], line_str, "files")
        formats += extra
        writer.u8(len(formats))
        for content, form in formats:
            writer.uleb(content)
            writer.uleb(form)
        writer.uleb(len(self.files))
        for f in self.files:
            path(f.name)
            writer.uleb(f.directory)
            if f.md5 is not None:
                writer.raw(f.md5)
            for code, form in extra:
                assert f.content is not None
                self._content_value(writer, form, f.content[code][1], path)

    @staticmethod
    def _content_value(writer: SectionWriter, form: int, value: Any, path: Callable[[str], None]) -> None:
        if form == _DW_FORM_line_strp:
            path(value)
        elif form == _DW_FORM_string:
            writer.cstr(value)
        elif form == _DW_FORM_udata:
            writer.uleb(value)
        elif form == _FORMS["block"]:
            writer.uleb(len(value))
            writer.raw(bytes(value))
        elif form == _DW_FORM_data16:
            writer.raw(bytes(value))
        else:
            writer.uint(value, {_FORMS["data1"]: 1, _FORMS["data2"]: 2, _FORMS["data4"]: 4}.get(form, 8))

    def _extra_formats(self, contents: list[dict[int, tuple[int, object]] | None], line_str: StringTable | None,
                       what: str) -> list[tuple[int, int]]:
        """The further content types of a table's entries: every entry must have the same ones, one form each."""
        shapes = {tuple((code, form) for code, (form, _) in sorted((c or {}).items())) for c in contents}
        if len(shapes) > 1:
            raise DescriptionError(f"line program {self.name!r}: {what} give different content types or forms "
                                   f"({sorted(shapes)}); DWARF 5 has one format for every file entry")
        formats = list(next(iter(shapes), ()))
        # A string goes inline when the program has no .debug_line_str, as the paths do.
        return [(code, _DW_FORM_string if form == _DW_FORM_line_strp and line_str is None else form)
                for code, form in formats]


