"""Example front ends that show how a compiler uses dwarfkit (not part of the installed distribution; import them from
the repository root as ``examples.*``).

* :mod:`examples.minic` -- a small C-like language and its compiler: source -> ``dwarfkit.Image`` with DWARF.
* :mod:`examples.demo` -- the README's main job: minic's sample program written by every backend and verified.
* :mod:`examples.differential` -- a longer run of the differential debugger tests.

Imports: ``minic`` uses dwarfkit's public API only (``dwarfkit``, ``dwarfkit.asm``, ``expr``, ``frame``, ``program``,
``sections``); it makes an ``Image`` and leaves the container to the caller, so it never imports a backend or the
reader. ``demo`` sits on top of everything (minic, the three backends, ``dwarfkit.reader.verify``). Nothing in
``dwarfkit`` or ``backends`` imports ``examples``.
"""
