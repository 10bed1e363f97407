"""Shared test fixtures: finding the real tools our output is judged by."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parent.parent

def _find_shared() -> Path:
    """``shared/`` lies beside the clone (for a git worktree nested deeper, further up), or where
    ``DWARFKIT_SHARED`` says."""
    if os.environ.get("DWARFKIT_SHARED"):
        return Path(os.environ["DWARFKIT_SHARED"])
    for folder in REPO.parents:
        if (folder / "shared" / "corpus").is_dir():
            return folder / "shared"
    return REPO.parent / "shared"


SHARED = _find_shared()
CORPUS = SHARED / "corpus"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str) -> str:
    """Path of an external tool. Missing: a failure under CI (it must be installed), a skip elsewhere."""
    path = shutil.which(name)
    if path:
        return path
    tool_missing(f"{name} is not installed (scripts/setup.sh installs it)")


def tool_missing(message: str) -> NoReturn:
    """A tool the test needs is missing (e.g. ``dwarfkit.debuggers.ToolMissing``): fail under CI, skip elsewhere."""
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def require_corpus() -> Path:
    if CORPUS.is_dir():
        return CORPUS
    if IN_CI:
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    pytest.skip(f"the shared corpus is missing at {CORPUS}")


@pytest.fixture
def tool():
    return require_tool


@pytest.fixture
def corpus() -> Path:
    return require_corpus()
