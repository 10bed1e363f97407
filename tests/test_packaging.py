"""pyproject lists every package explicitly (backends/ is mapped to dwarfkit.backends): none may be forgotten."""
from __future__ import annotations

import tomllib
from conftest import REPO


def source_packages() -> set[str]:
    found = set()
    for top, name in (("dwarfkit", "dwarfkit"), ("backends", "dwarfkit.backends")):
        for init in (REPO / top).rglob("__init__.py"):
            relative = init.parent.relative_to(REPO / top).parts
            found.add(".".join((name, *relative)))
    return found


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert set(config["packages"]) == source_packages()
    assert config["package-dir"]["dwarfkit.backends"] == "backends"
