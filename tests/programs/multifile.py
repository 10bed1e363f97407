"""Writes a multi-file C program of a few thousand lines for the debugger round trips (tests/sessions.py):
``FILES`` files ``part_N.c`` of ``FUNCTIONS_PER_FILE`` functions each, varied deterministically (loops, switches,
small recursion, structs by pointer and by value, arrays, function pointers, bit operations, static helpers that
-O2 inlines), a shared header and ``main.c``. Every function runs once per call of its part's ``run_N``; main calls
each ``run_N`` once and ends with exit code 0.

``python3 tests/programs/multifile.py FOLDER`` writes it; :func:`generate` does the same and returns the sources and
the names of all functions (for ``break`` at each).
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

FILES = 8
FUNCTIONS_PER_FILE = 32

HEADER = """#ifndef MULTI_H
#define MULTI_H
struct record { int id; long value; char tag[8]; struct record *next; };
enum level { LOW, MIDDLE = 10, HIGH = 20 };
typedef long (*combine_fn)(long, long);
extern volatile int multi_seed;
extern long multi_total;
%s
#endif
"""

# Function bodies; {n} is a unique suffix, {k} / {m} small constants, {helper} this file's inlined helper.
TEMPLATES = [
    """long loop_sum_{n}(int count)
{{
    long sum = 0;
    for (int i = 0; i < count; i++) {{
        long step = i * {k} + {m};
        sum += step;
    }}
    return sum;
}}""",
    """int classify_{n}(int value)
{{
    int result;
    switch (value % 5) {{
    case 0: result = {k}; break;
    case 1: result = value * 2; break;
    case 2: result = {helper}(value); break;
    case 3: result = -value; break;
    default: result = {m};
    }}
    return result;
}}""",
    """int depth_{n}(int n)
{{
    if (n <= 0)
        return {m};
    return n + depth_{n}(n - 1);
}}""",
    """void update_{n}(struct record *r, int delta)
{{
    r->value += delta * {k};
    r->id ^= {m};
    for (int i = 0; i < 7; i++)
        r->tag[i] = (char)('a' + (r->id + i) % 26);
    r->tag[7] = 0;
}}""",
    """long by_value_{n}(struct record r)
{{
    long weight = r.value * {k};
    int bonus = r.id > {m} ? r.id : {m};
    return weight + bonus + r.tag[0];
}}""",
    """long array_{n}(int seed)
{{
    int values[{k}];
    long total = 0;
    for (int i = 0; i < {k}; i++)
        values[i] = (seed * (i + 1)) % {m1};
    for (int i = {k} - 1; i >= 0; i--)
        total = total * 3 + values[i];
    return total;
}}""",
    """static long add_{n}(long a, long b) {{ return a + b + {m}; }}
static long mul_{n}(long a, long b) {{ return a * b - {k}; }}

long dispatch_{n}(int which, long a, long b)
{{
    combine_fn fns[2] = {{ add_{n}, mul_{n} }};
    combine_fn fn = fns[which & 1];
    long r = fn(a, b);
    return r;
}}""",
    """unsigned bits_{n}(unsigned x)
{{
    unsigned count = 0;
    unsigned mask = {k}u;
    while (x) {{
        count += x & 1u;
        x >>= 1;
    }}
    return (count << 4) ^ mask;
}}""",
    """enum level level_{n}(long amount)
{{
    enum level l = LOW;
    if (amount > {m} * 10)
        l = HIGH;
    else if (amount > {m})
        l = MIDDLE;
    return l;
}}""",
    """long chain_{n}(struct record *head)
{{
    long sum = 0;
    int hops = 0;
    for (struct record *r = head; r; r = r->next) {{
        sum += r->value + {helper}(r->id);
        hops++;
    }}
    return sum * {k} + hops;
}}""",
]


def _function(rng: random.Random, part: int, index: int) -> tuple[str, list[str]]:
    """One function's text and the names it defines."""
    template = TEMPLATES[(index + part) % len(TEMPLATES)] if index < len(TEMPLATES) else rng.choice(TEMPLATES)
    n = f"{part}_{index}"
    text = template.format(n=n, k=rng.randint(2, 9), m=rng.randint(3, 40), m1=rng.randint(50, 99),
                           helper=f"helper_{part}")
    names = [line.split("(")[0].split()[-1].lstrip("*") for line in text.splitlines()
             if line and not line[0].isspace() and "(" in line and not line.startswith(("{", "}"))]
    return text, names


def _call(name: str, part: int) -> str:
    """A statement of run_N that calls ``name`` once with arguments for its shape."""
    kind = name.split("_")[0]
    return {
        "loop": f"    total += {name}(seed % 7 + 3);",
        "classify": f"    total += {name}(seed + {part});",
        "depth": f"    total += {name}(seed % 4 + 1);",
        "update": f"    {name}(&records[0], seed);",
        "by": f"    total += {name}(records[1]);",
        "array": f"    total += {name}(seed);",
        "dispatch": f"    total += {name}(seed, total % 100, {part} + 2);",
        "bits": f"    total += (long){name}((unsigned)(seed * 37 + {part}));",
        "level": f"    total += (long){name}(total % 500);",
        "chain": f"    total += {name}(&records[0]);",
    }[kind]


def generate(folder: str | Path) -> tuple[list[Path], list[str]]:
    """Write the program into ``folder``; return its C sources (main.c first) and every function's name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(15)
    sources: list[Path] = []
    functions: list[str] = ["main"]
    prototypes: list[str] = []
    for part in range(FILES):
        helper = f"helper_{part}"
        lines = [f"/* part {part} of the generated multi-file program (tests/programs/multifile.py) */",
                 '#include "multi.h"', "",
                 f"struct state_{part} {{ int counter; long acc[4]; enum level mode; }};",
                 f"static struct state_{part} state_{part};", "",
                 f"static int {helper}(int v)", "{", f"    state_{part}.counter++;", f"    return v * {part + 2} + 1;",
                 "}", ""]
        functions.append(helper)
        calls: list[str] = []
        for index in range(FUNCTIONS_PER_FILE):
            text, names = _function(rng, part, index)
            lines += [text, ""]
            functions += names
            calls.append(_call(names[-1], part))
        run = f"run_{part}"
        lines += [f"long {run}(int seed)", "{",
                  "    struct record records[2] = { { 1, 10, \"first\", 0 }, { 2, 20, \"second\", 0 } };",
                  "    long total = 0;", "    records[0].next = &records[1];", *calls,
                  f"    state_{part}.acc[seed & 3] = total;", "    multi_total += total;", "    return total;", "}"]
        functions.append(run)
        prototypes.append(f"long {run}(int seed);")
        path = folder / f"part_{part}.c"
        path.write_text("\n".join(lines) + "\n")
        sources.append(path)
    (folder / "multi.h").write_text(HEADER % "\n".join(prototypes))
    main = folder / "main.c"
    main.write_text('#include <stdio.h>\n#include "multi.h"\n\nvolatile int multi_seed = 5;\nlong multi_total;\n\n'
                    "int main(void)\n{\n    long sum = 0;\n"
                    + "".join(f"    sum += run_{p}(multi_seed + {p});\n" for p in range(FILES))
                    + '    printf("%ld %ld\\n", sum, multi_total);\n    return 0;\n}\n')
    return [main, *sources], functions


if __name__ == "__main__":
    written, names = generate(sys.argv[1] if len(sys.argv) > 1 else "multi")
    print(f"{len(written)} files, {sum(len(p.read_text().splitlines()) for p in written)} lines, "
          f"{len(names)} functions")
