"""docs/architecture.md stays true: pure core, thin glue, no modules importing each other.

Read from the source with tools/imports.py (nothing is imported): the pure modules
import nothing from Home Assistant, aiohttp or voluptuous, and only other pure
modules; no two modules of the integration import each other at run time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.imports import cycles, impure, read_package
from tools.sizes import MAX_FUNCTION_LINES, MAX_MODULE_LINES, function_lines, too_large

PACKAGE = Path(__file__).resolve().parents[1] / "custom_components" / "silver_bell"

# The pure core (docs/architecture.md): plain Python, tested without Home Assistant.
PURE_PACKAGE = "core"
# Pure modules outside core/: constants, the household's settings, the hub's
# repository (the standard library's sqlite3 only).
PURE_OUTSIDE_CORE = ("const", "household.settings", "hub.repository")


@pytest.fixture(scope="module")
def modules() -> dict:
    """The integration's modules and their runtime imports."""
    return read_package(PACKAGE)


def test_pure_modules_import_no_glue(modules: dict) -> None:
    """Everything in core/ (and a few modules beside it) imports no Home Assistant, no glue."""
    core = [
        name
        for name in modules
        if name == PURE_PACKAGE or name.startswith(f"{PURE_PACKAGE}.")
    ]
    assert len(core) > 20
    assert set(PURE_OUTSIDE_CORE) <= set(modules), "renamed: update PURE_OUTSIDE_CORE"
    assert impure(modules, [*core, *PURE_OUTSIDE_CORE]) == {}


def test_no_modules_import_each_other_at_run_time(modules: dict) -> None:
    """Imports under TYPE_CHECKING (annotations) are fine; anything else is a cycle."""
    assert cycles(modules) == []


def test_no_room_over_600_lines_no_function_over_60() -> None:
    """Modules and functions stay small enough to read (tools/sizes.py lists them)."""
    assert too_large(PACKAGE) == []
    assert (MAX_MODULE_LINES, MAX_FUNCTION_LINES) == (600, 60)


def test_sizes_counts_decorators_and_nested_functions(tmp_path: Path) -> None:
    """A method's size includes its decorators; nested functions are named by their parents."""
    root = _write(
        tmp_path / "pkg",
        {
            "a.py": "class A:\n    @property\n    def b(self):\n"
            "        def c():\n            return 1\n        return c()\n",
        },
    )
    assert function_lines(root) == {"a.py::A.b": 5, "a.py::A.b.c": 2}
    long = "def f():\n" + "    x = 1\n" * 60
    _write(root, {"long.py": long, "big.py": "x = 1\n" * 601})
    assert too_large(root) == ["big.py (601)", "long.py::f (61)"]


def test_the_glue_is_glue(modules: dict) -> None:
    """The checker sees the glue (so an empty answer above means something)."""
    assert "homeassistant.core" in modules["household.runtime"].glue
    assert "household.runtime" in modules[""].imports  # the package's __init__


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_checker_finds_cycles_and_glue(tmp_path: Path) -> None:
    """A made-up package: a function-level cycle counts, TYPE_CHECKING does not."""
    package = _write(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "a.py": "from .b import thing\n",
            "b.py": "def f():\n    from .a import other\n",
            "c.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from .d import D\n"
                "import homeassistant.core\n"
            ),
            "d.py": "from . import c\nimport aiohttp\n",
            "sub/__init__.py": "",
            "sub/e.py": "from ..c import x\nfrom .. import d\n",
        },
    )
    modules = read_package(package)
    assert cycles(modules) == [["a", "b"]]
    assert modules["c"].imports == set()
    assert modules["sub.e"].imports == {"c", "d"}
    assert impure(modules, ["a", "c", "d"]) == {
        "a": ["b (glue)"],
        "c": ["homeassistant.core"],
        "d": ["aiohttp"],
    }
