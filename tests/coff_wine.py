"""Test-only: run Windows programs under wine, headless, in a prefix kept between test runs.

Creating a prefix takes ~10-20 s, so it lives in a fixed cache folder. A wineserver that outlives its last program by
30 s serves the whole session (else a program can pay ~2 s for a server start) and then goes away by itself: nothing
is killed, so test sessions running at the same time share the prefix safely. Wine's helper processes outlive the
programs, so no pipe is shared with them: their output goes to a file.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest
from conftest import require_tool


def _prefix() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "dwarfkit" / f"wine-prefix-{os.getuid()}"


@pytest.fixture(scope="session")
def wine() -> Iterator[Callable[[Path], int]]:
    """``wine(path)`` runs a console program and returns its exit code."""
    wine_tool, server = require_tool("wine"), require_tool("wineserver")
    prefix = _prefix()
    prefix.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "WINEPREFIX": str(prefix), "WINEDEBUG": "-all", "WINEDLLOVERRIDES": "mscoree,mshtml=",
           "DISPLAY": ""}

    def call(args: list[str], timeout: float) -> int:
        with tempfile.TemporaryFile() as log:
            result = subprocess.run(args, env=env, timeout=timeout, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=log)
        return result.returncode

    call([server, "--persistent=30"], 60)  # fails harmlessly when a server for the prefix is running already
    call([wine_tool, "wineboot", "--init"], 180)
    yield lambda path: call([wine_tool, str(path)], 60)
