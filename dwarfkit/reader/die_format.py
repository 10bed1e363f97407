"""Generated functions that format a whole DIE in one f-string: the hot path of the text dump (`text.InfoDumper`)."""
from __future__ import annotations

import re
from typing import Callable

_DIE_FORMATTERS: dict[tuple, Callable] = {}


def die_formatter(kinds: tuple) -> Callable:
    """A function formatting a whole DIE (offset, head line, all attributes) in one f-string: the hot path of the
    text dump.

    ``kinds`` says per attribute how its value is printed: an f-string body of v and base (inlined), "map" (a
    TextCache looked up by value) or "call" (a function of DIE index, value, depth). Generated once per distinct
    tuple of kinds, so all abbreviations of the same shape share one function."""
    fn = _DIE_FORMATTERS.get(kinds)
    if fn is None:
        n = len(kinds)
        body = []
        for k, kind in enumerate(kinds):
            if kind == "map":
                value = f"{{m{k}[v{k}]}}"
            elif kind == "call":
                value = f"{{m{k}(i, v{k}, depth)}}"
            else:
                value = re.sub(r"\bv\b", f"v{k}", kind)
            body.append(f"{{a{k}}}{value})\\n")
        unpack = ""
        if n:
            unpack = (f"    {', '.join(f'a{k}, m{k}' for k in range(n))}{',' if n == 1 else ''} = parts\n"
                      f"    {', '.join(f'v{k}' for k in range(n))}{',' if n == 1 else ''} = vals\n")
        src = (f"def die(head, parts, i, off, vals, depth, base):\n{unpack}"
               f"    return f{'0x{off:08x}{head}' + ''.join(body) + chr(92) + 'n'!r}\n")
        src = src.replace("\\\\n", "\\n")
        env: dict = {}
        exec(compile(src, f"<DIE formatter {kinds}>", "exec"), env)  # noqa: S102 - our own generated code
        fn = _DIE_FORMATTERS[kinds] = env["die"]
    return fn
