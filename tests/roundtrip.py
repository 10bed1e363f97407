"""The round-trip instrument of issue 15: does a converted file say the same as its original, in llvm-dwarfdump-14's
reading, and do the verifiers find nothing new?

>>> from roundtrip import assert_same_dwarf, compare, dwarf_view, new_findings
>>> compare(dwarf_view("a.o"), dwarf_view("b.o"))            # [] when the DWARF means the same
['cu "src/shapes.c" / subprogram "area" / DW_AT_frame_base: DW_OP_call_frame_cfa against DW_OP_reg7 RSP']
>>> assert_same_dwarf("orig.o", "converted.o", ignore_version=True)      # paths or views; AssertionError lists them
>>> new_findings("orig.o", "converted.o")                  # verify findings of the new file the original lacks

* :func:`dwarf_view` (from ``dwarfdump_view``; what is kept and what is dropped is written there): units with their
  DIE trees, line rows per unit, call-frame rows per FDE.
* :func:`compare` lists differences with a readable path (``cu "shapes.c" / subprogram "area" / DW_AT_frame_base``);
  ``ignore_version`` / ``ignore_format`` leave out the unit's version and DWARF32/64 (for conversions that change
  them); ``lines=False`` / ``frames=False`` compare the units only; ``limit`` caps the list.
* :func:`verify_findings` runs ``llvm-dwarfdump-14 --verify`` (under a timeout: it runs for many minutes on some gcc
  -O2 files, which is then one finding) and ``python3 -m dwarfkit verify``, with offsets masked so that findings of
  two layouts compare; :func:`new_findings` is what the second file has and the first has not.
"""
from __future__ import annotations

import difflib
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from dwarfdump_model import DieNode, DwarfView, FrameEntry, Row
from dwarfdump_view import LLVM_DWARFDUMP, dwarf_view

__all__ = ["DwarfView", "assert_same_dwarf", "compare", "dwarf_view", "new_findings", "verify_findings"]

REPO = Path(__file__).resolve().parent.parent


def compare(a: DwarfView | str | Path, b: DwarfView | str | Path, *, ignore_version: bool = False,
            ignore_format: bool = False, lines: bool = True, frames: bool = True, limit: int = 50,
            standard_names: bool = False) -> list[str]:
    """Every difference in meaning between two files' DWARF (views or paths), at most ``limit`` of them (then one
    line saying how many more). ``standard_names``: read the GNU names DWARF 5 standardised (call sites, entry
    values, typed operations: what gcc writes before DWARF 5) as the standard ones, for conversions across 5."""
    a = a if isinstance(a, DwarfView) else dwarf_view(a)
    b = b if isinstance(b, DwarfView) else dwarf_view(b)
    if standard_names:
        a, b = _standard_view(a), _standard_view(b)
    out: list[str] = []
    skip = {"version"} if ignore_version else set()
    skip |= {"format"} if ignore_format else set()
    left = {u.label: u for u in a.units}
    right = {u.label: u for u in b.units}
    _missing(out, "unit", [k for k in left if k not in right], [k for k in right if k not in left])
    for label, unit in left.items():
        other = right.get(label)
        if other is None:
            continue
        for key in sorted(set(unit.header) | set(other.header)):
            if key not in skip and unit.header.get(key) != other.header.get(key):
                out.append(f"{label}: unit {key} {unit.header.get(key)!r} against {other.header.get(key)!r}")
        if unit.die is not None and other.die is not None:
            _compare_die(out, label, unit.die, other.die)
        elif (unit.die is None) != (other.die is None):
            out.append(f"{label}: unit DIE {unit.die is not None} against {other.die is not None}")
    if lines:
        _compare_lines(out, a.lines, b.lines)
    if frames:
        _compare_frames(out, a.frames, b.frames)
    if len(out) > limit:
        return out[:limit] + [f"... and {len(out) - limit} more differences"]
    return out


def assert_same_dwarf(orig: DwarfView | str | Path, new: DwarfView | str | Path, **options: object) -> None:
    """AssertionError listing the differences (options as for :func:`compare`) unless there are none."""
    problems = compare(orig, new, **options)  # type: ignore[arg-type]
    if problems:
        raise AssertionError(f"DWARF of {_name(orig)} and {_name(new)} differ:\n  " + "\n  ".join(problems))


def _name(x: DwarfView | str | Path) -> str:
    return str(x.path if isinstance(x, DwarfView) else x)


def _missing(out: list[str], what: str, only_left: list[str], only_right: list[str]) -> None:
    out += [f"{k}: {what} only in the first file" for k in only_left]
    out += [f"{k}: {what} only in the second file" for k in only_right]


def _compare_die(out: list[str], path: str, x: DieNode, y: DieNode) -> None:
    if x.tag != y.tag:
        out.append(f"{path}: tag {x.tag} against {y.tag}")
        return
    xa, ya = _by_name(x.attributes), _by_name(y.attributes)
    for name in list(dict.fromkeys([*xa, *ya])):
        if xa.get(name) != ya.get(name):
            left = _show(xa[name]) if name in xa else "(absent)"
            right = _show(ya[name]) if name in ya else "(absent)"
            out.append(f"{path} / {name}: {left} against {right}")
    # Children align by label; a run of equally tagged children replaced one for one (a renamed DIE) is
    # compared DIE by DIE, so a changed name shows as that attribute, not as a lost and a new DIE.
    xs, ys = [c.label for c in x.children], [c.label for c in y.children]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, xs, ys, autojunk=False).get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1 and
                             all(x.children[i].tag == y.children[j].tag
                                 for i, j in zip(range(i1, i2), range(j1, j2), strict=True))):
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                _compare_die(out, f"{path} / {x.children[i].label}", x.children[i], y.children[j])
            continue
        out += [f"{path} / {c.label}: DIE only in the first file" for c in x.children[i1:i2]]
        out += [f"{path} / {c.label}: DIE only in the second file" for c in y.children[j1:j2]]


def _by_name(attributes: tuple) -> dict[str, object]:
    """name -> value; an attribute given twice (allowed in no DWARF, seen in hostile files) -> [values]."""
    found: dict[str, list] = {}
    for name, value in attributes:
        found.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in found.items()}


def _show(value: object) -> str:
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    return repr(value) if not isinstance(value, str) else value


def _compare_lines(out: list[str], a: dict[str, list[tuple[Row, ...]]], b: dict[str, list[tuple[Row, ...]]]) -> None:
    _missing(out, "line table", [k for k in a if k not in b], [k for k in b if k not in a])
    for label, seqs in a.items():
        other = b.get(label)
        if other is None:
            continue
        if len(seqs) != len(other):
            out.append(f"line table of {label}: {len(seqs)} sequences against {len(other)}")
        for s, t in zip(seqs, other, strict=False):
            where = f"line table of {label} / sequence at 0x{s[0].address:x}" if s else f"line table of {label}"
            for n, (r, q) in enumerate(zip(s, t, strict=False)):
                if r != q:
                    out.append(f"{where} / row {n}: {r!r} against {q!r}")
            if len(s) != len(t):
                out.append(f"{where}: {len(s)} rows against {len(t)}")


def _compare_frames(out: list[str], a: list[FrameEntry], b: list[FrameEntry]) -> None:
    left = Counter(f.label for f in a)
    right = Counter(f.label for f in b)
    if left != right:
        _missing(out, "frame entry", sorted((left - right).elements()), sorted((right - left).elements()))
    others: dict[str, list[FrameEntry]] = {}
    for f in b:
        others.setdefault(f.label, []).append(f)
    for f in a:
        if not others.get(f.label):
            continue
        g = others[f.label].pop(0)
        if f.cie != g.cie:
            out.append(f"{f.label}: CIE {list(f.cie)} against {list(g.cie)}")
        for n, (r, q) in enumerate(zip(f.rows, g.rows, strict=False)):
            if r != q:
                out.append(f"{f.label} / row {n}: {r} against {q}")
        if len(f.rows) != len(g.rows):
            out.append(f"{f.label}: {len(f.rows)} rows against {len(g.rows)}")


# ---------------------------------------------------------------------------------------------- verifiers

_OFFSETS = re.compile(r"0x[0-9a-fA-F]+")


def verify_findings(path: str | Path, *, timeout: float = 30) -> list[str]:
    """What ``llvm-dwarfdump-14 --verify`` (``llvm: ...``) and ``dwarfkit verify`` (``dwarfkit: ...``) find in
    ``path``, one line per finding with hex numbers masked as ``0x?`` (two layouts of the same DWARF put the same
    problem at other offsets). A verifier past ``timeout`` seconds is one finding saying so."""
    found: list[str] = []
    for tag, command, cwd in (("llvm", [LLVM_DWARFDUMP, "--verify", str(path)], None),
                              ("dwarfkit", [sys.executable, "-m", "dwarfkit", "verify", str(Path(path).resolve())],
                               REPO)):
        try:
            done = subprocess.run(command, capture_output=True, text=True, errors="surrogateescape",
                                  timeout=timeout, cwd=cwd)
        except subprocess.TimeoutExpired:
            found.append(f"{tag}: no answer within {timeout:g} s")
            continue
        text = (done.stdout + done.stderr).replace(str(path), "<file>").replace(str(Path(path).resolve()), "<file>")
        lines = _llvm_findings(text) if tag == "llvm" else \
            [x for x in text.splitlines() if x.strip() and not x.endswith(": no problems found")]
        found += [f"{tag}: {_OFFSETS.sub('0x?', ' '.join(x.split()))}" for x in lines]
    return found


def _llvm_findings(text: str) -> list[str]:
    """The error and warning lines of llvm-dwarfdump --verify (each with the tag of the DIE it prints after it,
    if any), without its progress lines."""
    found: list[str] = []
    lines = text.splitlines()
    for n, x in enumerate(lines):
        if re.match(r"\s*(error|warning):", x):
            die = next((y for y in lines[n + 1:n + 4] if re.match(r"^0x[0-9a-f]+: +DW_TAG", y)), "")
            found.append(x + (f" at {die.split()[1]}" if die else ""))
    return found


def new_findings(orig: str | Path, new: str | Path, *, timeout: float = 30) -> list[str]:
    """The findings of :func:`verify_findings` on ``new`` that ``orig`` does not have (as many times)."""
    return sorted((Counter(verify_findings(new, timeout=timeout)) -
                   Counter(verify_findings(orig, timeout=timeout))).elements())


# GNU name -> the DWARF 5 name (tags, attributes, operations); on call sites also low_pc and abstract_origin.
_STANDARD = {"GNU_call_site": "call_site", "GNU_call_site_parameter": "call_site_parameter",
             "GNU_call_site_value": "call_value", "GNU_call_site_data_value": "call_data_value",
             "GNU_call_site_target": "call_target", "GNU_call_site_target_clobbered": "call_target_clobbered",
             "GNU_tail_call": "call_tail_call", "GNU_all_call_sites": "call_all_calls",
             "GNU_all_tail_call_sites": "call_all_tail_calls", "GNU_all_source_call_sites": "call_all_source_calls",
             "GNU_entry_value": "entry_value", "GNU_implicit_pointer": "implicit_pointer",
             "GNU_regval_type": "regval_type", "GNU_deref_type": "deref_type", "GNU_convert": "convert",
             "GNU_const_type": "const_type"}
_GNU_NAME = re.compile(r"\b(DW_(?:TAG|AT|OP)_)(" + "|".join(_STANDARD) + r")\b")


def _standard_text(value: object) -> object:
    if isinstance(value, str):
        return _GNU_NAME.sub(lambda m: m[1] + _STANDARD[m[2]], value).replace("GNU_call_site", "call_site")
    if isinstance(value, tuple):
        return tuple(_standard_text(v) for v in value)
    if isinstance(value, list):
        return [_standard_text(v) for v in value]
    return value


def _standard_die(die: DieNode) -> DieNode:
    tag = _STANDARD.get(die.tag, die.tag)   # tags as the view spells them: without DW_TAG_
    call_site = tag == "call_site"
    attributes = []
    for name, value in die.attributes:
        name = str(_standard_text(name))
        if call_site:
            name = {"DW_AT_low_pc": "DW_AT_call_return_pc", "DW_AT_abstract_origin": "DW_AT_call_origin"}.get(name,
                                                                                                           name)
        attributes.append((name, _standard_text(value)))
    return DieNode(tag, tuple(attributes), tuple(_standard_die(c) for c in die.children),
                   str(_standard_text(die.label)))


def _standard_view(view: DwarfView) -> DwarfView:
    units = [type(u)(u.label, u.header, None if u.die is None else _standard_die(u.die)) for u in view.units]
    return DwarfView(view.path, units, view.lines, view.frames, view.warnings)
