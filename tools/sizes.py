"""Sizes of the integration's modules and functions, read from the source.

``tests/test_architecture.py`` keeps the house small with it: no module over
``MAX_MODULE_LINES`` lines and no function over ``MAX_FUNCTION_LINES`` lines
(decorators, signature and docstring included), except those still listed as
known exceptions there. Run it as a script to see the largest ones.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
import sys

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60


def module_lines(package: Path) -> dict[str, int]:
    """Lines of every module, keyed by its path relative to the package."""
    return {
        path.relative_to(package).as_posix(): len(
            path.read_text(encoding="utf-8").splitlines()
        )
        for path in sorted(package.rglob("*.py"))
    }


def _functions(tree: ast.AST, prefix: str) -> Iterator[tuple[str, int]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            end = node.end_lineno or node.lineno
            name = f"{prefix}{node.name}"
            yield name, end - start + 1
            yield from _functions(node, f"{name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")


def function_lines(package: Path) -> dict[str, int]:
    """Lines of every function and method, keyed ``path::Class.method``."""
    sizes: dict[str, int] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(package).as_posix()
        for name, lines in _functions(tree, ""):
            sizes[f"{where}::{name}"] = lines
    return sizes


def too_large(package: Path) -> list[str]:
    """Modules and functions over the limits, largest first."""
    found = [
        (lines, name)
        for name, lines in module_lines(package).items()
        if lines > MAX_MODULE_LINES
    ]
    found += [
        (lines, name)
        for name, lines in function_lines(package).items()
        if lines > MAX_FUNCTION_LINES
    ]
    return [f"{name} ({lines})" for lines, name in sorted(found, reverse=True)]


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "custom_components/silver_bell")
    sys.stdout.write("\n".join(too_large(root)) + "\n")
