#!/usr/bin/env python3
"""Static import compatibility check against two Home Assistant versions.

Every absolute ``homeassistant`` import in the integration must resolve in the
Home Assistant the tests run on (the installed package, 2024.3.3) and in the
newest Home Assistant release (read from its wheel, never installed).  Imports
inside ``try:``/``except ImportError:`` are evaluated per try statement: it is
enough that one branch (the ``try`` body or an ``except`` body) resolves fully
in each version.

Sources are read statically.  Newer Home Assistant sources use Python 3.12+
syntax that Python 3.11's ``ast`` cannot parse; those modules are scanned as
text instead (see ``scan_text``) and reported as such.

Usage::

    python scripts/compat_check.py [--integration PATH] [--wheel WHEEL]
                                   [--old PATH] [--cache-dir DIR] [--offline]
                                   [--json] [--newest-version] [--verbose]

Exit status: 0 no problems, 1 problems found, 2 the check could not run.
"""

from __future__ import annotations

import argparse
import ast
from dataclasses import dataclass, field, replace
import importlib.util
import json
from pathlib import Path
import re
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Protocol
import zipfile

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INTEGRATION = REPO_ROOT / "custom_components" / "silver_bell"
DEFAULT_CACHE_DIR = REPO_ROOT / ".cache" / "compat"
# The newest releases require Python >= 3.14.2; asking pip for an older
# interpreter silently yields an older release.
TARGET_PYTHON = "3.15"
PIP_TIMEOUT_SECONDS = 600
ROOT_PACKAGE = "homeassistant"
DEPRECATED_PREFIX = "_DEPRECATED_"
WHEEL_NAME_RE = re.compile(r"^homeassistant-(?P<version>[^-]+)-.*\.whl$")
PIP_WHEEL_RE = re.compile(
    r"(?:Saved|File was already downloaded)\s+(?P<path>\S+?homeassistant-[^\s]+\.whl)"
)

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_ERROR = 2

# Exceptions whose handler makes a failed import acceptable.  A missing *name*
# in an existing module raises a plain ImportError, which ModuleNotFoundError
# handlers do not catch.
_CATCH_ALL = frozenset({"ImportError", "Exception", "BaseException"})
_CATCH_MODULE = frozenset({"ModuleNotFoundError"})


class CompatError(Exception):
    """The check cannot run (no wheel, no old sources, bad arguments)."""


# --------------------------------------------------------------------------
# Source trees
# --------------------------------------------------------------------------


class SourceTree(Protocol):
    """Read-only access to the files of one Home Assistant version."""

    label: str

    def is_file(self, relpath: str) -> bool:
        """Return whether ``relpath`` (posix, e.g. ``homeassistant/core.py``) exists."""

    def read(self, relpath: str) -> bytes:
        """Return the bytes of ``relpath``."""


class DirectorySource:
    """A directory that contains the ``homeassistant`` package (site-packages)."""

    def __init__(self, root: Path, label: str = "") -> None:
        """Use ``root`` (the directory holding ``homeassistant/``)."""
        self.root = root
        self.label = label or str(root)

    def is_file(self, relpath: str) -> bool:
        """Return whether the file exists below the root."""
        return (self.root / relpath).is_file()

    def read(self, relpath: str) -> bytes:
        """Return the file's bytes."""
        return (self.root / relpath).read_bytes()


class WheelSource:
    """A wheel read as a zip file; members are read on demand."""

    def __init__(self, wheel: Path, label: str = "") -> None:
        """Open ``wheel`` and index its member names."""
        if not wheel.is_file():
            msg = f"wheel not found: {wheel}"
            raise CompatError(msg)
        try:
            self._zip = zipfile.ZipFile(wheel)
        except (OSError, zipfile.BadZipFile) as err:
            msg = f"cannot open wheel {wheel}: {err}"
            raise CompatError(msg) from err
        self._names = frozenset(self._zip.namelist())
        self.label = label or wheel.name

    def is_file(self, relpath: str) -> bool:
        """Return whether the wheel has this member."""
        return relpath in self._names

    def read(self, relpath: str) -> bytes:
        """Return the member's bytes."""
        return self._zip.read(relpath)

    def close(self) -> None:
        """Close the zip file."""
        self._zip.close()


_VERSION_PART_RE = {
    part: re.compile(
        rf"^{part}_VERSION\s*(?::[^=]*)?=\s*['\"]?(\w+)['\"]?", re.MULTILINE
    )
    for part in ("MAJOR", "MINOR", "PATCH")
}


def read_version(source: SourceTree) -> str | None:
    """Return the version in ``homeassistant/const.py`` (read as text)."""
    relpath = f"{ROOT_PACKAGE}/const.py"
    if not source.is_file(relpath):
        return None
    text = source.read(relpath).decode("utf-8", "replace")
    parts = []
    for regex in _VERSION_PART_RE.values():
        match = regex.search(text)
        if match is None:
            return None
        parts.append(match.group(1))
    return ".".join(parts)


# --------------------------------------------------------------------------
# Module contents: ast, with a text fallback for newer syntax
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleInfo:
    """What one module defines at module level."""

    names: frozenset[str]
    star_imports: tuple[str, ...]
    strings: frozenset[str]
    text_fallback: bool

    @property
    def has_getattr(self) -> bool:
        """Return whether the module has a module-level ``__getattr__``."""
        return "__getattr__" in self.names

    @property
    def deprecated(self) -> frozenset[str]:
        """Return names served by ``_DEPRECATED_<name>`` constants."""
        return frozenset(
            name[len(DEPRECATED_PREFIX) :]
            for name in self.names
            if name.startswith(DEPRECATED_PREFIX)
        )


def resolve_relative(module: str, *, is_package: bool, level: int, target: str) -> str:
    """Return the absolute name of a relative import inside ``module``."""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)]
    base = ".".join(parts)
    if target:
        return f"{base}.{target}" if base else target
    return base


def _target_names(target: ast.expr) -> Iterator[str]:
    """Yield the plain names bound by an assignment target."""
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _target_names(element)
    elif isinstance(target, ast.Starred):
        yield from _target_names(target.value)


def _binding_names(node: ast.stmt) -> Iterator[str]:
    """Yield the names a single module-level statement binds."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        yield node.name
    elif isinstance(node, ast.Assign):
        for target in node.targets:
            yield from _target_names(target)
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        yield from _target_names(node.target)
    elif isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.asname or alias.name.split(".")[0]
    elif isinstance(node, ast.ImportFrom):
        for alias in node.names:
            if alias.name != "*":
                yield alias.asname or alias.name


def _nested_bodies(node: ast.stmt) -> list[list[ast.stmt]]:
    """Return the statement lists of a module-level block statement."""
    if isinstance(node, ast.If | ast.For | ast.AsyncFor | ast.While):
        return [node.body, node.orelse]
    if isinstance(node, ast.With | ast.AsyncWith):
        return [node.body]
    if isinstance(node, ast.Match):
        return [case.body for case in node.cases]
    if isinstance(node, ast.Try | ast.TryStar):
        return [
            node.body,
            *(handler.body for handler in node.handlers),
            node.orelse,
            node.finalbody,
        ]
    return []


def scan_ast(tree: ast.Module, module: str, *, is_package: bool) -> ModuleInfo:
    """Collect module-level names from a parsed module."""
    names: set[str] = set()
    stars: list[str] = []
    pending: list[list[ast.stmt]] = [tree.body]
    while pending:
        for node in pending.pop():
            names.update(_binding_names(node))
            if isinstance(node, ast.ImportFrom) and any(
                alias.name == "*" for alias in node.names
            ):
                target = node.module or ""
                if node.level:
                    target = resolve_relative(
                        module, is_package=is_package, level=node.level, target=target
                    )
                stars.append(target)
            pending.extend(_nested_bodies(node))
    strings: set[str] = set()
    if "__getattr__" in names:
        strings = {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
    return ModuleInfo(
        frozenset(names), tuple(stars), frozenset(strings), text_fallback=False
    )


_STRING_START_RE = re.compile(r"'''|\"\"\"|'|\"")


def mask_strings_and_comments(text: str) -> tuple[str, list[str]]:
    """Blank out string contents and comments; return the text and the strings.

    Newlines are kept so that line numbers and indentation stay valid.  Quote
    characters stay in place.  This is a tokenizer-free approximation: it is
    used only for sources that Python 3.11 cannot parse.
    """
    out: list[str] = []
    strings: list[str] = []
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char == "#":
            end = text.find("\n", index)
            end = length if end == -1 else end
            out.append(" " * (end - index))
            index = end
            continue
        match = _STRING_START_RE.match(text, index)
        if match is None:
            out.append(char)
            index += 1
            continue
        quote = match.group()
        start = index + len(quote)
        cursor = start
        while cursor < length:
            current = text[cursor]
            if current == "\\":
                cursor += 2
                continue
            if text.startswith(quote, cursor):
                break
            if current == "\n" and len(quote) == 1:
                break  # unterminated single-quoted string: resync at the line end
            cursor += 1
        cursor = min(cursor, length)
        body = text[start:cursor]
        strings.append(body)
        out.append(quote)
        out.append("".join(c if c == "\n" else " " for c in body))
        if text.startswith(quote, cursor):
            out.append(quote)
            cursor += len(quote)
        index = cursor
    return "".join(out), strings


@dataclass(frozen=True)
class LogicalLine:
    """One statement of a text-scanned module."""

    lineno: int
    indent: int
    text: str


def logical_lines(masked: str) -> Iterator[LogicalLine]:
    """Join physical lines into statements (brackets and backslashes)."""
    depth = 0
    current: list[str] = []
    start_line = indent = 0
    for lineno, raw in enumerate(masked.splitlines(), start=1):
        line = raw.expandtabs()
        if not current:
            if not line.strip():
                continue
            start_line = lineno
            indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        continued = stripped.endswith("\\")
        current.append(stripped.removesuffix("\\"))
        depth = max(
            0,
            depth
            + sum(line.count(c) for c in "([{")
            - sum(line.count(c) for c in ")]}"),
        )
        if depth == 0 and not continued:
            yield LogicalLine(
                start_line, indent, " ".join(part for part in current if part)
            )
            current = []
    if current:
        yield LogicalLine(
            start_line, indent, " ".join(part for part in current if part)
        )


_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_HARD_KEYWORDS = frozenset(
    {
        "False", "None", "True", "and", "as", "assert", "async", "await", "break",
        "class", "continue", "def", "del", "elif", "else", "except", "finally", "for",
        "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or",
        "pass", "raise", "return", "try", "while", "with", "yield",
    }
)  # fmt: skip
_TRANSPARENT_HEADER_RE = re.compile(
    r"^(?:async\s+)?(?:if|elif|else|try|except|finally|with|for|while)\b"
)
_SOFT_HEADER_RE = re.compile(r"^(?:match|case)\s+[^=]*:$")
_DEF_RE = re.compile(rf"^(?:async\s+)?def\s+({_IDENT})|^class\s+({_IDENT})")
_TYPE_ALIAS_RE = re.compile(rf"^type\s+({_IDENT})\s*[\[=]")
_ANNOTATED_RE = re.compile(rf"^({_IDENT})\s*:(?!=)")
_TARGET_SPLIT_RE = re.compile(r"[\s,()\[\]*]+")
_IDENT_RE = re.compile(rf"^{_IDENT}$")
# ``x[i] = ...``, ``f(a)[i] = ...``, ``x.a = ...`` bind no module-level name.
_SUBSCRIPT_OR_ATTRIBUTE_RE = re.compile(r"[\w)\]]\s*[\[(.]")
_IMPORT_RE = re.compile(r"^import\s+(.+)$")
_FROM_IMPORT_RE = re.compile(r"^from\s+(\.*)\s*([\w.]*)\s+import\s+(.+)$")


def _split_assignments(text: str) -> list[str]:
    """Split a statement at its top-level ``=`` signs (not ``==``, ``<=``, ``:=`` ...)."""
    parts: list[str] = []
    depth = start = 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif (
            char == "="
            and depth == 0
            and text[index + 1 : index + 2] != "="
            and (index == 0 or text[index - 1] not in "=!<>:+-*/%&|^@")
        ):
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def _assignment_targets(text: str) -> list[str]:
    """Return names bound by ``a = ...``, ``a, (b, *c) = ...``, ``a: T = ...``, ``a = b = ...``.

    An annotation without a value (``a: T``) binds nothing.
    """
    annotated = _ANNOTATED_RE.match(text)
    if annotated is not None:
        name = annotated.group(1)
        if name in _HARD_KEYWORDS:
            return []
        return [name] if len(_split_assignments(text[annotated.end() :])) > 1 else []
    found: list[str] = []
    for target in _split_assignments(text)[:-1]:
        names = [token for token in _TARGET_SPLIT_RE.split(target) if token]
        if _SUBSCRIPT_OR_ATTRIBUTE_RE.search(target) or not all(
            _IDENT_RE.match(name) and name not in _HARD_KEYWORDS for name in names
        ):
            break
        found.extend(names)
    return found


def _line_bindings(text: str) -> tuple[list[str], str | None]:
    """Return the names one module-level statement binds and its star import."""
    if match := _DEF_RE.match(text):
        return [match.group(1) or match.group(2)], None
    if match := _TYPE_ALIAS_RE.match(text):
        return [match.group(1)], None
    if match := _IMPORT_RE.match(text):
        names = []
        for part in match.group(1).split(","):
            words = part.split()
            if len(words) >= 3 and words[1] == "as":
                names.append(words[2])
            elif words:
                names.append(words[0].split(".")[0])
        return names, None
    if match := _FROM_IMPORT_RE.match(text):
        imported = match.group(3).strip().strip("()")
        if imported.strip() == "*":
            return [], match.group(1) + match.group(2)
        names = []
        for part in imported.split(","):
            words = part.split()
            if len(words) >= 3 and words[1] == "as":
                names.append(words[2])
            elif words:
                names.append(words[0])
        return names, None
    return _assignment_targets(text), None


def scan_text(source: str, module: str, *, is_package: bool) -> ModuleInfo:
    """Collect module-level names by scanning source text (no ``ast``).

    Statements at module level and inside module-level ``if``/``try``/``with``/
    ``for``/``while`` blocks count; bodies of ``def`` and ``class`` do not.
    """
    masked, strings = mask_strings_and_comments(source)
    names: set[str] = set()
    stars: list[str] = []
    # (indent, is_scope) of the open blocks enclosing the current statement
    blocks: list[tuple[int, bool]] = []
    for line in logical_lines(masked):
        while blocks and blocks[-1][0] >= line.indent:
            blocks.pop()
        text = line.text
        is_header = bool(
            _TRANSPARENT_HEADER_RE.match(text) or _SOFT_HEADER_RE.match(text)
        )
        is_def = bool(_DEF_RE.match(text))
        if not any(is_scope for _, is_scope in blocks) and not is_header:
            found, star = _line_bindings(text)
            names.update(found)
            if star is not None:
                level = len(star) - len(star.lstrip("."))
                target = star.lstrip(".")
                if level:
                    target = resolve_relative(
                        module, is_package=is_package, level=level, target=target
                    )
                stars.append(target)
        if is_header or is_def:
            blocks.append((line.indent, is_def))
    kept = frozenset(strings) if "__getattr__" in names else frozenset()
    return ModuleInfo(frozenset(names), tuple(stars), kept, text_fallback=True)


# --------------------------------------------------------------------------
# Resolving names in one version
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """Whether an import resolves in one version, and how."""

    ok: bool
    detail: str
    module_missing: bool = False
    note: str | None = None


class Version:
    """One Home Assistant version: a source tree plus a cache of scanned modules."""

    def __init__(self, source: SourceTree, version: str | None = None) -> None:
        """Wrap ``source``; the version is read from its ``const.py`` if not given."""
        self.source = source
        self.version = version or read_version(source) or source.label
        self._modules: dict[str, ModuleInfo | None] = {}
        self.text_fallback_modules: set[str] = set()

    def module_file(self, module: str) -> tuple[str, bool] | None:
        """Return (relpath, is_package) of a module, or None if it does not exist."""
        base = module.replace(".", "/")
        if self.source.is_file(f"{base}/__init__.py"):
            return f"{base}/__init__.py", True
        if self.source.is_file(f"{base}.py"):
            return f"{base}.py", False
        return None

    def has_module(self, module: str) -> bool:
        """Return whether the module (or package) exists."""
        return self.module_file(module) is not None

    def info(self, module: str) -> ModuleInfo | None:
        """Return the scanned contents of a module (cached)."""
        if module in self._modules:
            return self._modules[module]
        located = self.module_file(module)
        result: ModuleInfo | None = None
        if located is not None:
            relpath, is_package = located
            raw = self.source.read(relpath)
            try:
                tree = ast.parse(raw, filename=relpath)
            except (SyntaxError, ValueError):
                text = raw.decode("utf-8", "replace")
                result = scan_text(text, module, is_package=is_package)
                self.text_fallback_modules.add(module)
            else:
                result = scan_ast(tree, module, is_package=is_package)
        self._modules[module] = result
        return result

    def resolve_module(self, module: str) -> Resolution:
        """Resolve ``import module``."""
        if self.has_module(module):
            return Resolution(ok=True, detail="module")
        return Resolution(
            ok=False, detail=f"module {module} not found", module_missing=True
        )

    def resolve_name(self, module: str, name: str) -> Resolution:
        """Resolve ``from module import name``."""
        located = self.module_file(module)
        if located is None:
            return Resolution(
                ok=False, detail=f"module {module} not found", module_missing=True
            )
        if located[1] and self.has_module(f"{module}.{name}"):
            return Resolution(ok=True, detail="submodule")
        return self._lookup(module, name, set())

    def _lookup(self, module: str, name: str, seen: set[str]) -> Resolution:
        seen.add(module)
        info = self.info(module)
        if info is None:
            return Resolution(ok=False, detail=f"module {module} not found")
        if name in info.names:
            return Resolution(ok=True, detail="defined")
        for star in info.star_imports:
            if star in seen:
                continue
            if star.split(".")[0] != ROOT_PACKAGE or not self.has_module(star):
                return Resolution(
                    ok=True,
                    detail="star import",
                    note=(
                        f"{module}.{name} assumed present: {module} has "
                        f"'from {star} import *' which is not checked"
                    ),
                )
            if name.startswith("_"):
                continue
            found = self._lookup(star, name, seen)
            if found.ok:
                return Resolution(
                    ok=True, detail=f"via 'from {star} import *'", note=found.note
                )
        if info.has_getattr:
            if name in info.deprecated:
                return Resolution(
                    ok=True,
                    detail="__getattr__",
                    note=(
                        f"{module}.{name} exists only as a deprecated constant "
                        f"(_DEPRECATED_{name}, served by __getattr__)"
                    ),
                )
            if name in info.strings:
                return Resolution(
                    ok=True,
                    detail="__getattr__",
                    note=f"{module}.{name} is served lazily by the module's __getattr__",
                )
        return Resolution(ok=False, detail=f"{name} is not defined in {module}")


# --------------------------------------------------------------------------
# Imports of the integration
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRef:
    """One imported module or name."""

    path: str
    lineno: int
    module: str
    name: str | None = None  # None for ``import module``

    @property
    def text(self) -> str:
        """Return the import as Python source."""
        if self.name is None:
            return f"import {self.module}"
        return f"from {self.module} import {self.name}"

    def resolve(self, version: Version) -> Resolution:
        """Resolve this import in ``version``."""
        if self.name is None:
            return version.resolve_module(self.module)
        return version.resolve_name(self.module, self.name)


@dataclass
class Branch:
    """Requirements that must all resolve (a try body, an except body, a file)."""

    lineno: int
    label: str
    items: list[ImportRef | TryGroup] = field(default_factory=list)

    def imports(self) -> Iterator[ImportRef]:
        """Yield every import in this branch, nested groups included."""
        for item in self.items:
            if isinstance(item, ImportRef):
                yield item
            else:
                for branch in item.branches:
                    yield from branch.imports()
                if item.orelse is not None:
                    yield from item.orelse.imports()


@dataclass
class TryGroup:
    """A try statement whose handlers catch import errors: one branch must resolve."""

    path: str
    lineno: int
    end_lineno: int
    catches_missing_names: bool
    branches: list[Branch] = field(default_factory=list)
    # ``else:`` runs only after the try body succeeded, outside the handlers.
    orelse: Branch | None = None


def _handler_catches(handler: ast.ExceptHandler) -> tuple[bool, bool]:
    """Return (catches ModuleNotFoundError, catches ImportError for missing names)."""
    if handler.type is None:
        return True, True
    nodes = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    names = set()
    for node in nodes:
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    if names & _CATCH_ALL:
        return True, True
    return bool(names & _CATCH_MODULE), False


def _reraises(body: Sequence[ast.stmt]) -> bool:
    """Return whether a handler body ends by raising (so it is no fallback)."""
    return any(isinstance(node, ast.Raise) for node in body)


class ImportCollector:
    """Collect the absolute ``homeassistant`` imports of one file, grouped."""

    def __init__(self, path: str) -> None:
        """Collect imports for the file shown as ``path`` in the report."""
        self.path = path
        self.notes: list[str] = []

    def collect(self, tree: ast.Module) -> Branch:
        """Return the file's requirements."""
        branch = Branch(lineno=1, label="file")
        self._statements(tree.body, branch)
        return branch

    def _statements(self, nodes: Iterable[ast.stmt], branch: Branch) -> None:
        for node in nodes:
            self._statement(node, branch)

    def _statement(self, node: ast.stmt, branch: Branch) -> None:
        if isinstance(node, ast.Import):
            branch.items.extend(
                ImportRef(self.path, node.lineno, alias.name)
                for alias in node.names
                if alias.name.split(".")[0] == ROOT_PACKAGE
            )
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 0 and module.split(".")[0] == ROOT_PACKAGE:
                branch.items.extend(
                    ImportRef(self.path, node.lineno, module, alias.name)
                    if alias.name != "*"
                    else ImportRef(self.path, node.lineno, module)
                    for alias in node.names
                )
        elif isinstance(node, ast.Try | ast.TryStar):
            self._try(node, branch)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    self._statement(child, branch)
                elif isinstance(child, ast.ExceptHandler | ast.match_case):
                    self._statements(child.body, branch)

    def _try(self, node: ast.Try | ast.TryStar, branch: Branch) -> None:
        fallbacks: list[ast.ExceptHandler] = []
        catches_missing_names = False
        for handler in node.handlers:
            catches_module, catches_names = _handler_catches(handler)
            if catches_module and not _reraises(handler.body):
                fallbacks.append(handler)
                catches_missing_names = catches_missing_names or catches_names
            else:
                self._statements(handler.body, branch)
        if not fallbacks:
            self._statements(node.body, branch)
            self._statements(node.orelse, branch)
            self._statements(node.finalbody, branch)
            return
        group = TryGroup(
            path=self.path,
            lineno=node.lineno,
            end_lineno=node.end_lineno or node.lineno,
            catches_missing_names=catches_missing_names,
        )
        body = Branch(lineno=node.lineno, label="try")
        self._statements(node.body, body)
        group.branches.append(body)
        if node.orelse:
            group.orelse = Branch(lineno=node.orelse[0].lineno, label="else")
            self._statements(node.orelse, group.orelse)
        for handler in fallbacks:
            fallback = Branch(lineno=handler.lineno, label="except")
            self._statements(handler.body, fallback)
            group.branches.append(fallback)
        if any(True for _ in body.imports()):
            branch.items.append(group)
        else:
            # No homeassistant import can fail in the try body, so whether the
            # handlers run does not depend on the Home Assistant version.
            if any(True for fallback in group.branches[1:] for _ in fallback.imports()):
                self.notes.append(
                    f"{self.path}:{node.lineno}: homeassistant imports in the except "
                    "branch not checked (the try body has no homeassistant import)"
                )
            if group.orelse is not None:
                branch.items.extend(group.orelse.items)
        self._statements(node.finalbody, branch)


@dataclass(frozen=True)
class Problem:
    """One failed requirement in one or more versions."""

    path: str
    lineno: int
    what: str
    versions: tuple[str, ...]
    details: tuple[str, ...]
    verb: str = "missing in"

    def render(self) -> str:
        """Return the problem as report lines."""
        where = f"{self.path}:{self.lineno}: {self.what}"
        if self.versions:
            where += f": {self.verb} {', '.join(self.versions)}"
        lines = [where]
        lines.extend(f"    {detail}" for detail in self.details)
        return "\n".join(lines)


@dataclass
class Evaluation:
    """Problems and notes of one file in one version."""

    failures: list[Problem] = field(default_factory=list)
    notes: set[str] = field(default_factory=set)


def _branch_failures(
    branch: Branch, version: Version, evaluation: Evaluation
) -> list[tuple[ImportRef | TryGroup, Resolution | None]]:
    """Return the failing items of a branch; collect notes of resolving imports."""
    failing: list[tuple[ImportRef | TryGroup, Resolution | None]] = []
    for item in branch.items:
        if isinstance(item, ImportRef):
            resolution = item.resolve(version)
            if not resolution.ok:
                failing.append((item, resolution))
            elif resolution.note:
                evaluation.notes.add(f"{item.path}:{item.lineno}: {resolution.note}")
        elif not _group_ok(item, version, evaluation):
            failing.append((item, None))
    return failing


def _uncaught(
    group: TryGroup, failing: list[tuple[ImportRef | TryGroup, Resolution | None]]
) -> bool:
    """Return whether a failure of the try body escapes the group's handlers."""
    if group.catches_missing_names:
        return False
    return any(
        resolution is None or not resolution.module_missing for _, resolution in failing
    )


def _group_ok(group: TryGroup, version: Version, evaluation: Evaluation) -> bool:
    """Return whether a try group has a fully resolving branch in ``version``."""
    try_branch, *fallbacks = group.branches
    scratch = Evaluation()
    failing = _branch_failures(try_branch, version, scratch)
    if not failing:
        if group.orelse is not None and _branch_failures(
            group.orelse, version, scratch
        ):
            return False
        evaluation.notes.update(scratch.notes)
        return True
    if _uncaught(group, failing):
        return False
    for fallback in fallbacks:
        scratch = Evaluation()
        if not _branch_failures(fallback, version, scratch):
            evaluation.notes.update(scratch.notes)
            return True
    return False


def _group_detail(group: TryGroup, version: Version) -> list[str]:
    """Describe why each branch of a failing group fails."""
    lines = []
    branches = list(group.branches)
    if group.orelse is not None:
        branches.insert(1, group.orelse)
    for branch in branches:
        failing = _branch_failures(branch, version, Evaluation())
        reasons = "; ".join(
            f"{item.text} ({resolution.detail})"
            if isinstance(item, ImportRef) and resolution is not None
            else f"nested try at line {item.lineno} fails"
            for item, resolution in failing
        )
        lines.append(f"{branch.label} branch (line {branch.lineno}): {reasons or 'ok'}")
        if branch.label == "try" and _uncaught(group, failing):
            lines.append(
                "the handlers catch only ModuleNotFoundError, which a missing name "
                "(plain ImportError) escapes"
            )
    return lines


def evaluate_file(requirements: Branch, version: Version) -> Evaluation:
    """Evaluate one file's requirements in one version."""
    evaluation = Evaluation()
    for item, resolution in _branch_failures(requirements, version, evaluation):
        if isinstance(item, ImportRef):
            detail = resolution.detail if resolution is not None else ""
            evaluation.failures.append(
                Problem(item.path, item.lineno, item.text, (), (detail,))
            )
        else:
            what = f"try/except ImportError (lines {item.lineno}-{item.end_lineno})"
            details = _group_detail(item, version)
            evaluation.failures.append(
                Problem(
                    item.path,
                    item.lineno,
                    what,
                    (),
                    tuple(details),
                    verb="no branch resolves in",
                )
            )
    return evaluation


# --------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------


@dataclass
class Report:
    """Result of a check."""

    old_version: str
    new_version: str
    imports_checked: int
    files_checked: int
    problems: list[Problem]
    notes: list[str]
    text_fallback: dict[str, list[str]]

    @property
    def ok(self) -> bool:
        """Return whether no problem was found."""
        return not self.problems

    def summary(self) -> str:
        """Return the one-line summary."""
        status = "ok" if self.ok else f"{len(self.problems)} problem(s)"
        return (
            f"compat: {self.imports_checked} imports checked against "
            f"{self.old_version} and {self.new_version}: {status}"
        )

    def render(self, *, verbose: bool = False) -> str:
        """Return the human-readable report."""
        lines = [problem.render() for problem in self.problems]
        if self.notes:
            lines.append("notes:")
            lines.extend(f"  {note}" for note in self.notes)
        for version, modules in self.text_fallback.items():
            if modules:
                shown = ", ".join(modules) if verbose else f"{len(modules)} module(s)"
                lines.append(
                    f"read as text (Python 3.11 cannot parse them) in {version}: {shown}"
                )
        lines.append(self.summary())
        return "\n".join(lines)

    def as_json(self) -> str:
        """Return the report as JSON."""
        return json.dumps(
            {
                "ok": self.ok,
                "old_version": self.old_version,
                "new_version": self.new_version,
                "imports_checked": self.imports_checked,
                "files_checked": self.files_checked,
                "problems": [
                    {
                        "path": problem.path,
                        "line": problem.lineno,
                        "import": problem.what,
                        "missing_in": list(problem.versions),
                        "details": list(problem.details),
                    }
                    for problem in self.problems
                ],
                "notes": self.notes,
                "text_fallback_modules": self.text_fallback,
            },
            indent=2,
        )


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def check(integration: Path, old: Version, new: Version) -> Report:
    """Check every ``.py`` file under ``integration`` against both versions."""
    if not integration.is_dir():
        msg = f"integration directory not found: {integration}"
        raise CompatError(msg)
    merged: dict[tuple[str, int, str], Problem] = {}
    notes: set[str] = set()
    imports_checked = files = 0
    syntax_problems: list[Problem] = []
    for file in sorted(integration.rglob("*.py")):
        shown = _display_path(file)
        files += 1
        try:
            tree = ast.parse(file.read_bytes(), filename=shown)
        except SyntaxError as err:
            syntax_problems.append(
                Problem(
                    shown,
                    err.lineno or 0,
                    "cannot parse the file with Python 3.11",
                    (),
                    (str(err.msg),),
                )
            )
            continue
        collector = ImportCollector(shown)
        requirements = collector.collect(tree)
        notes.update(collector.notes)
        imports_checked += sum(1 for _ in requirements.imports())
        for version in (old, new):
            evaluation = evaluate_file(requirements, version)
            notes.update(f"{note} [{version.version}]" for note in evaluation.notes)
            for failure in evaluation.failures:
                key = (failure.path, failure.lineno, failure.what)
                known = merged.get(key, failure)
                merged[key] = replace(
                    known,
                    versions=(*known.versions, version.version),
                    details=(
                        *(known.details if known is not failure else ()),
                        *(f"{version.version}: {detail}" for detail in failure.details),
                    ),
                )
    problems = syntax_problems + [merged[key] for key in sorted(merged)]
    return Report(
        old_version=old.version,
        new_version=new.version,
        imports_checked=imports_checked,
        files_checked=files,
        problems=problems,
        notes=sorted(notes),
        text_fallback={
            old.version: sorted(old.text_fallback_modules),
            new.version: sorted(new.text_fallback_modules),
        },
    )


# --------------------------------------------------------------------------
# Locating both versions
# --------------------------------------------------------------------------


def version_key(version: str) -> tuple[int, ...]:
    """Return a sort key for a release version such as ``2026.11.2``."""
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)(.*)$", version)
    if match is None:
        return (0,)
    major, minor, patch, rest = match.groups()
    # A pre-release (2026.11.0b1) sorts before its release.
    return (int(major), int(minor), int(patch), 0 if rest else 1)


def cached_wheels(cache_dir: Path) -> list[Path]:
    """Return the Home Assistant wheels in ``cache_dir``, newest first."""
    if not cache_dir.is_dir():
        return []
    wheels = [
        (version_key(match.group("version")), path)
        for path in cache_dir.glob("homeassistant-*.whl")
        if (match := WHEEL_NAME_RE.match(path.name))
    ]
    return [path for _, path in sorted(wheels, reverse=True)]


def download_newest(cache_dir: Path, *, verbose: bool = False) -> Path:
    """Download the newest Home Assistant wheel into ``cache_dir``.

    Raises CompatError when pip fails (offline, index unreachable).
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version",
        TARGET_PYTHON,
        "--disable-pip-version-check",
        "--no-input",
        "--retries",
        "1",
        "--timeout",
        "15",
        "--progress-bar",
        "off",
        "homeassistant",
        "-d",
        str(cache_dir),
    ]
    if verbose:
        sys.stderr.write(
            f"compat: asking PyPI for the newest homeassistant wheel ({cache_dir})\n"
        )
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            timeout=PIP_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        msg = f"pip download failed: {err}"
        raise CompatError(msg) from err
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip().splitlines()
        errors = [line for line in output if line.startswith("ERROR")] or output[-2:]
        msg = "pip download failed: " + " | ".join(errors)
        raise CompatError(msg)
    match = PIP_WHEEL_RE.search(result.stdout)
    if match is not None and Path(match.group("path")).is_file():
        wheel = Path(match.group("path"))
    else:
        wheels = cached_wheels(cache_dir)
        if not wheels:
            msg = "pip download reported success but no homeassistant wheel was found"
            raise CompatError(msg)
        wheel = wheels[0]
    for older in cached_wheels(cache_dir):
        if older.resolve() != wheel.resolve():
            older.unlink(missing_ok=True)
    return wheel


def obtain_wheel(
    cache_dir: Path, *, offline: bool = False, verbose: bool = False
) -> Path:
    """Return the newest wheel: download it, or fall back to the cache."""
    error: CompatError | None = None
    if not offline:
        try:
            return download_newest(cache_dir, verbose=verbose)
        except CompatError as err:
            error = err
    wheels = cached_wheels(cache_dir)
    if wheels:
        if error is not None:
            sys.stderr.write(f"compat: {error}; using the cached {wheels[0].name}\n")
        return wheels[0]
    reason = f" ({error})" if error is not None else " (--offline)"
    msg = (
        f"no Home Assistant wheel available{reason}: no homeassistant-*.whl in "
        f"{cache_dir}. Run once with network access, or pass --wheel PATH."
    )
    raise CompatError(msg)


def installed_package_root() -> Path:
    """Return the directory holding the installed ``homeassistant`` package.

    ``find_spec`` of a top-level package locates it without importing it.
    """
    spec = importlib.util.find_spec(ROOT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        msg = (
            "homeassistant is not installed in this interpreter "
            f"({sys.executable}); run with .venv/bin/python or pass --old PATH"
        )
        raise CompatError(msg)
    return Path(next(iter(spec.submodule_search_locations))).parent


def open_source(path: Path) -> SourceTree:
    """Open a wheel, a site-packages directory or a ``homeassistant`` package directory."""
    if path.is_file() and path.suffix == ".whl":
        return WheelSource(path)
    if (path / ROOT_PACKAGE / "__init__.py").is_file():
        return DirectorySource(path)
    if path.name == ROOT_PACKAGE and (path / "__init__.py").is_file():
        return DirectorySource(path.parent)
    msg = f"no homeassistant sources at {path}"
    raise CompatError(msg)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(
        prog="compat_check.py",
        description=(
            "Check that every homeassistant import of the integration resolves in the "
            "installed Home Assistant and in the newest release (read statically)."
        ),
    )
    parser.add_argument(
        "--integration",
        type=Path,
        default=DEFAULT_INTEGRATION,
        help="integration directory (default: custom_components/silver_bell)",
    )
    parser.add_argument(
        "--wheel",
        type=Path,
        help="newest Home Assistant wheel to use instead of downloading",
    )
    parser.add_argument(
        "--old",
        type=Path,
        help="old Home Assistant sources: site-packages dir, package dir or wheel "
        "(default: the package installed in this interpreter)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_CACHE_DIR,
        help="where the downloaded wheel is kept (default: .cache/compat)",
    )
    parser.add_argument(
        "--offline", action="store_true", help="do not ask PyPI; use the cached wheel"
    )
    parser.add_argument(
        "--newest-version",
        action="store_true",
        help="print the newest Home Assistant version (from the wheel) and exit",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list modules read as text and timings",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check; return the exit status."""
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    new_source: WheelSource | None = None
    try:
        wheel = args.wheel or obtain_wheel(
            args.cache_dir, offline=args.offline, verbose=args.verbose
        )
        new_source = WheelSource(wheel)
        new = Version(new_source)
        if args.newest_version:
            sys.stdout.write(f"{new.version}\n")
            return EXIT_OK
        old_root = args.old if args.old is not None else installed_package_root()
        old = Version(open_source(old_root))
        report = check(args.integration, old, new)
    except CompatError as err:
        sys.stderr.write(f"compat: error: {err}\n")
        return EXIT_ERROR
    finally:
        if new_source is not None:
            new_source.close()
    sys.stdout.write(
        (report.as_json() if args.json else report.render(verbose=args.verbose)) + "\n"
    )
    if args.verbose:
        sys.stderr.write(f"compat: took {time.monotonic() - started:.2f}s\n")
    return EXIT_OK if report.ok else EXIT_PROBLEMS


if __name__ == "__main__":
    sys.exit(main())
