"""The import graph of the integration, read from the source (nothing is imported).

``tests/test_architecture.py`` keeps docs/architecture.md true with it: the pure
modules import nothing from Home Assistant (nor aiohttp or voluptuous, which only
the glue needs), and no two modules import each other at run time. An import under
``if TYPE_CHECKING:`` is for annotations only and does not count; an import inside
a function does (it runs when the function is called).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Third-party packages that are glue by nature: a pure module never imports them.
GLUE_PACKAGES = ("homeassistant", "aiohttp", "voluptuous")


@dataclass(slots=True)
class Module:
    """One module: its runtime imports inside the package and of glue packages."""

    name: str
    path: Path
    imports: set[str] = field(default_factory=set)
    glue: set[str] = field(default_factory=set)


def module_name(package: Path, path: Path) -> str:
    """``household/runtime.py`` → ``household.runtime``; a package's ``__init__`` → its name."""
    parts = list(path.relative_to(package).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(body: Iterable[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that runs at some point (not under TYPE_CHECKING)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _runtime_imports(node.orelse)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    yield from _runtime_imports([child])


def _base(name: str, is_package: bool, level: int) -> list[str]:
    """The package a relative import of ``level`` dots starts from."""
    parts = name.split(".") if name else []
    if not is_package:
        parts = parts[:-1]
    return parts[: len(parts) - (level - 1)] if level > 1 else parts


def read_package(package: Path) -> dict[str, Module]:
    """The modules of ``package`` (a directory) with their runtime imports."""
    modules = {
        module_name(package, path): Module(module_name(package, path), path)
        for path in sorted(package.rglob("*.py"))
    }
    for module in modules.values():
        tree = ast.parse(module.path.read_text(encoding="utf-8"))
        is_package = module.path.name == "__init__.py"
        for node in _runtime_imports(tree.body):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    _note_absolute(module, alias.name)
            elif node.level == 0:
                _note_absolute(module, node.module or "")
            else:
                base = _base(module.name, is_package, node.level)
                target = ".".join([*base, *([node.module] if node.module else [])])
                for alias in node.names:
                    candidate = f"{target}.{alias.name}" if target else alias.name
                    if candidate in modules:
                        module.imports.add(candidate)
                    elif target in modules:
                        module.imports.add(target)
        module.imports.discard(module.name)
    return modules


def _note_absolute(module: Module, imported: str) -> None:
    top = imported.split(".", maxsplit=1)[0]
    if top in GLUE_PACKAGES:
        module.glue.add(imported)


def cycles(modules: Mapping[str, Module]) -> list[list[str]]:
    """Groups of modules that import each other at run time (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for other in sorted(modules[name].imports):
            if other not in index:
                visit(other)
                low[name] = min(low[name], low[other])
            elif other in on_stack:
                low[name] = min(low[name], index[other])
        if low[name] == index[name]:
            group: list[str] = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                group.append(other)
                if other == name:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for name in sorted(modules):
        if name not in index:
            visit(name)
    return found


def impure(modules: Mapping[str, Module], pure: Iterable[str]) -> dict[str, list[str]]:
    """For each module that should be pure: what glue it imports (nothing, if it is).

    A pure module may import only other pure modules of the package.
    """
    pure = set(pure)
    problems: dict[str, list[str]] = {}
    for name in sorted(pure):
        module = modules[name]
        bad = sorted(module.glue) + sorted(
            f"{other} (glue)" for other in module.imports if other not in pure
        )
        if bad:
            problems[name] = bad
    return problems
