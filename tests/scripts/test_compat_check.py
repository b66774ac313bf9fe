"""Tests of scripts/compat_check.py against tiny fake Home Assistant trees.

No network: the newest release is a fake wheel built with zipfile, the old
release a fake source directory, and pip is replaced where a download is tested.
"""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path
import runpy
import subprocess
import sys
import textwrap
from types import ModuleType
from typing import Any
import zipfile

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compat_check.py"
# The check is a tool of the stage-1 toolchain (Python 3.11): it falls back to a
# text scan where the running Python cannot parse newer syntax (PEP 695/758).
# The second test stage runs Python 3.14, which parses everything: there the
# fallback is never needed, which these tests assert instead.
PARSES_NEW_SYNTAX = sys.version_info >= (3, 14)
needs_python_311 = pytest.mark.skipif(
    PARSES_NEW_SYNTAX,
    reason="Python 3.14 parses PEP 695 syntax; the 3.11 parse error does not exist",
)


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compat_check", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["compat_check"] = module
    spec.loader.exec_module(module)
    return module


cc = _load()


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite-wide fixture: these tests need no Home Assistant."""


def _const(major: int, minor: int, patch: int) -> str:
    return (
        "from typing import Final\n"
        f"MAJOR_VERSION: Final = {major}\n"
        f"MINOR_VERSION: Final = {minor}\n"
        f'PATCH_VERSION: Final = "{patch}"\n'
        "_DEPRECATED_TEMP_CELSIUS = DeprecatedConstant('°C', 'UnitOfTemperature', '2025.1')\n"
        "__getattr__ = partial(check_if_deprecated_constant, module_globals=globals())\n"
    )


OLD_FILES = {
    "homeassistant/__init__.py": "",
    "homeassistant/const.py": _const(2024, 3, 3),
    "homeassistant/data_entry_flow.py": "class FlowResult(dict):\n    pass\n",
    "homeassistant/config_entries.py": (
        "from .data_entry_flow import FlowResult\nclass ConfigEntry:\n    pass\n"
    ),
    "homeassistant/helpers/__init__.py": "",
    "homeassistant/helpers/config_validation.py": "string = str\n",
    "homeassistant/helpers/device_registry.py": "class DeviceInfo(dict):\n    pass\n",
    "homeassistant/helpers/entity.py": (
        "from .device_registry import DeviceInfo\nclass EntityDescription:\n    pass\n"
    ),
    "homeassistant/helpers/event.py": (
        "def async_track_state_change():\n    pass\n"
        "def async_track_state_change_event():\n    pass\n"
    ),
    "homeassistant/backports/__init__.py": "",
    "homeassistant/backports/enum.py": "class StrEnum(str):\n    pass\n",
    "homeassistant/components/__init__.py": "",
    "homeassistant/components/notify/__init__.py": (
        "from .legacy import BaseNotificationService\n"
    ),
    "homeassistant/components/notify/legacy.py": (
        "class BaseNotificationService:\n    pass\n"
    ),
}

# The newest release: Python 3.14 syntax that Python 3.11 cannot parse.
NEW_FILES = {
    "homeassistant/__init__.py": "",
    "homeassistant/const.py": _const(2026, 11, 2),
    "homeassistant/data_entry_flow.py": (
        "class FlowResult[_T](dict):\n    pass\n"
        "try:\n    pass\nexcept KeyError, ValueError:\n    pass\n"
    ),
    "homeassistant/config_entries.py": textwrap.dedent(
        """\
        from .data_entry_flow import (
            FlowResult,
        )
        type ConfigFlowResult = FlowResult[str]
        class ConfigEntry[_DataT]:
            '''A docstring mentioning
            class NotAName:
            '''
            def method(self):
                Inner = 1
        def helper[T](x: T) -> T:
            return x
        """
    ),
    "homeassistant/helpers/__init__.py": "",
    "homeassistant/helpers/config_validation.py": "string = str\n",
    "homeassistant/helpers/device_registry.py": (
        "class DeviceInfo(dict):\n    pass\n"
        "try:\n    pass\nexcept KeyError, ValueError:\n    pass\n"
    ),
    "homeassistant/helpers/entity.py": (
        "from .device_registry import DeviceInfo\n"
        "class EntityDescription[T]:\n    pass\n"
    ),
    "homeassistant/helpers/event.py": (
        "def async_track_state_change_event[T]():\n    pass\n"
    ),
    "homeassistant/backports/__init__.py": "",
    "homeassistant/components/__init__.py": "",
    "homeassistant/components/notify/__init__.py": (
        "from .legacy import BaseNotificationService\n"
        "from .entity import NotifyEntity\n"
    ),
    "homeassistant/components/notify/legacy.py": (
        "class BaseNotificationService:\n    pass\n"
    ),
    "homeassistant/components/notify/entity.py": "class NotifyEntity:\n    pass\n",
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` below ``root`` and return ``root``."""
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def make_wheel(path: Path, files: dict[str, str]) -> Path:
    """Write a wheel (zip) holding ``files`` and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as wheel:
        for relpath, text in files.items():
            wheel.writestr(relpath, text)
        wheel.writestr(
            "homeassistant-2026.11.2.dist-info/METADATA", "Name: homeassistant\n"
        )
    return path


class Env:
    """A fake old tree, a fake new wheel and an integration directory."""

    def __init__(self, tmp_path: Path) -> None:
        """Build both Home Assistant versions below ``tmp_path``."""
        self.old = write_tree(tmp_path / "old", OLD_FILES)
        self.wheel = make_wheel(
            tmp_path / "wheels" / "homeassistant-2026.11.2-py3-none-any.whl", NEW_FILES
        )
        self.integration = tmp_path / "custom_components" / "silver_bell"
        self.integration.mkdir(parents=True)

    def add(self, name: str, source: str) -> Path:
        """Add an integration module."""
        path = self.integration / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return path

    def args(self, *extra: str) -> list[str]:
        """Return command-line arguments for ``main``."""
        return [
            "--integration",
            str(self.integration),
            "--wheel",
            str(self.wheel),
            "--old",
            str(self.old),
            *extra,
        ]

    def report(self) -> Any:
        """Run ``check`` and return the report."""
        source = cc.WheelSource(self.wheel)
        try:
            return cc.check(
                self.integration,
                cc.Version(cc.DirectorySource(self.old)),
                cc.Version(source),
            )
        finally:
            source.close()


@pytest.fixture
def env(tmp_path: Path) -> Env:
    """Return a fresh fake environment."""
    return Env(tmp_path)


# --------------------------------------------------------------------------
# Import rules
# --------------------------------------------------------------------------


def test_all_imports_resolve(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    """Imports present in both versions pass with a one-line summary."""
    env.add(
        "__init__.py",
        """\
        from __future__ import annotations
        from typing import TYPE_CHECKING
        import voluptuous as vol
        from . import const
        from homeassistant.helpers.entity import EntityDescription
        from homeassistant.helpers.event import async_track_state_change_event
        if TYPE_CHECKING:
            from homeassistant.config_entries import ConfigEntry
        """,
    )
    assert cc.main(env.args()) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == (
        "compat: 3 imports checked against 2024.3.3 and 2026.11.2: ok"
    )


def test_plain_import_missing_in_new(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plain import that the newest release lacks is an error."""
    env.add(
        "household.py",
        """\
        from homeassistant.helpers.event import (
            async_track_state_change,
            async_track_state_change_event,
        )
        """,
    )
    assert cc.main(env.args()) == 1
    out = capsys.readouterr().out
    assert "household.py:1: from homeassistant.helpers.event import " in out
    assert "async_track_state_change: missing in 2026.11.2" in out
    assert (
        "async_track_state_change is not defined in homeassistant.helpers.event" in out
    )
    assert "2 imports checked against 2024.3.3 and 2026.11.2: 1 problem(s)" in out


def test_plain_import_missing_module_in_both(env: Env) -> None:
    """A missing module is reported for each version that lacks it."""
    env.add(
        "a.py",
        """\
        import homeassistant.helpers.nothing
        from homeassistant.backports.enum import StrEnum
        """,
    )
    report = env.report()
    assert [(p.lineno, p.versions) for p in report.problems] == [
        (1, ("2024.3.3", "2026.11.2")),
        (2, ("2026.11.2",)),
    ]
    assert (
        "module homeassistant.backports.enum not found" in report.problems[1].details[0]
    )


def test_try_except_one_branch_resolves(env: Env) -> None:
    """The try body resolves in the new version, the fallback in the old one."""
    env.add(
        "compat.py",
        """\
        try:
            from homeassistant.config_entries import ConfigFlowResult
        except ImportError:
            from homeassistant.data_entry_flow import FlowResult as ConfigFlowResult
        try:
            from homeassistant.components.notify import NotifyEntity
        except (ImportError, AttributeError):
            NotifyEntity = None
        try:
            from homeassistant.components.notify import NotifyEntity
        except Exception:
            NotifyEntity = None
        try:
            from homeassistant.components.notify import NotifyEntity
        except builtins.ImportError:
            NotifyEntity = None
        """,
    )
    report = env.report()
    assert report.ok, report.render()
    assert report.imports_checked == 5


def test_try_except_both_branches_fail(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    """No branch resolving in one version is an error that names each branch."""
    env.add(
        "compat.py",
        """\
        try:
            from homeassistant.config_entries import NewestFlowResult
        except ImportError:
            from homeassistant.config_entries import NoSuchFlowResult
        """,
    )
    assert cc.main(env.args()) == 1
    out = capsys.readouterr().out
    assert (
        "compat.py:1: try/except ImportError (lines 1-4): "
        "no branch resolves in 2024.3.3, 2026.11.2"
    ) in out
    for version in ("2024.3.3", "2026.11.2"):
        assert (
            f"{version}: try branch (line 1): from homeassistant.config_entries "
            "import NewestFlowResult (NewestFlowResult is not defined in "
            "homeassistant.config_entries)"
        ) in out
        assert (
            f"{version}: except branch (line 3): from homeassistant.config_entries "
            "import NoSuchFlowResult"
        ) in out


def test_module_not_found_handler_does_not_catch_missing_name(env: Env) -> None:
    """ModuleNotFoundError does not catch a missing name in an existing module."""
    env.add(
        "a.py",
        """\
        try:
            from homeassistant.components.notify import NotifyEntity
        except ModuleNotFoundError:
            NotifyEntity = None
        try:
            from homeassistant.components.brand_new import Thing
        except ModuleNotFoundError:
            Thing = None
        try:
            import homeassistant.components.brand_new
        except ModuleNotFoundError:
            pass
        """,
    )
    report = env.report()
    assert [(p.lineno, p.versions) for p in report.problems] == [(1, ("2024.3.3",))]
    assert any("ModuleNotFoundError" in line for line in report.problems[0].details)


def test_handlers_that_do_not_fall_back(env: Env) -> None:
    """Re-raising or unrelated handlers leave the imports plain requirements."""
    env.add(
        "a.py",
        """\
        try:
            from homeassistant.config_entries import ConfigFlowResult
        except ImportError:
            raise
        try:
            from homeassistant.config_entries import ConfigFlowResult
        except ValueError:
            from homeassistant.helpers.event import async_track_state_change
        finally:
            from homeassistant.components import notify
        """,
    )
    report = env.report()
    assert [(p.lineno, p.what) for p in report.problems] == [
        (2, "from homeassistant.config_entries import ConfigFlowResult"),
        (6, "from homeassistant.config_entries import ConfigFlowResult"),
        (8, "from homeassistant.helpers.event import async_track_state_change"),
    ]


def test_try_else_and_bare_except(env: Env) -> None:
    """``else:`` must resolve where the try body does; a bare except catches all."""
    env.add(
        "a.py",
        """\
        try:
            from homeassistant.components.notify import NotifyEntity
        except:  # noqa: E722
            NotifyEntity = None
        else:
            from homeassistant.helpers.event import async_track_state_change
        """,
    )
    report = env.report()
    assert [(p.lineno, p.versions) for p in report.problems] == [(1, ("2026.11.2",))]


def test_nested_try_groups(env: Env) -> None:
    """A try inside a fallback branch is evaluated as a group of its own."""
    env.add(
        "a.py",
        """\
        try:
            from homeassistant.config_entries import NewestName
        except ImportError:
            try:
                from homeassistant.config_entries import ConfigFlowResult
            except ImportError:
                from homeassistant.data_entry_flow import FlowResult
        try:
            try:
                from homeassistant.config_entries import Missing1
            except ModuleNotFoundError:
                pass
        except ImportError:
            from homeassistant.config_entries import Missing2
        """,
    )
    report = env.report()
    assert report.imports_checked == 5
    assert [(p.lineno, p.versions) for p in report.problems] == [
        (8, ("2024.3.3", "2026.11.2"))
    ]
    assert any(
        "nested try at line 9 fails" in line for line in report.problems[0].details
    )


def test_try_without_homeassistant_import_in_body(env: Env) -> None:
    """Fallback imports behind a third-party import are noted, not checked."""
    env.add(
        "a.py",
        """\
        try:
            import zigpy
        except ImportError:
            from homeassistant.helpers.event import async_track_state_change
        else:
            from homeassistant.helpers.event import async_track_state_change_event
        """,
    )
    report = env.report()
    assert report.ok
    assert report.notes == [
        (
            f"{cc._display_path(env.integration / 'a.py')}:1: "
            "homeassistant imports in the except branch not checked "
            "(the try body has no homeassistant import)"
        )
    ]
    assert report.imports_checked == 1


def test_imports_inside_functions_classes_and_match(env: Env) -> None:
    """Imports anywhere in the file are collected, not only at module level."""
    env.add(
        "a.py",
        """\
        class A:
            def f(self):
                from homeassistant.helpers.event import async_track_state_change
        async def g(x):
            match x:
                case 1:
                    from homeassistant.backports.enum import StrEnum
            with open(x):
                import homeassistant.helpers.config_validation as cv
        """,
    )
    report = env.report()
    assert [p.lineno for p in report.problems] == [3, 7]


# --------------------------------------------------------------------------
# Name resolution
# --------------------------------------------------------------------------


def test_submodule_and_reexport(env: Env) -> None:
    """Submodules, module imports and re-exported names resolve."""
    env.add(
        "a.py",
        """\
        import homeassistant
        import homeassistant.helpers.config_validation as cv
        from homeassistant.components import notify
        from homeassistant.components.notify import BaseNotificationService
        from homeassistant.helpers.entity import DeviceInfo
        from homeassistant.config_entries import FlowResult
        from homeassistant.helpers import *
        """,
    )
    report = env.report()
    assert report.ok, report.render()


def test_deprecated_constant_via_getattr(env: Env) -> None:
    """``_DEPRECATED_<name>`` with a module ``__getattr__`` counts, with a note."""
    env.add("a.py", "from homeassistant.const import TEMP_CELSIUS, TEMP_KELVIN\n")
    report = env.report()
    assert [(p.what, p.versions) for p in report.problems] == [
        ("from homeassistant.const import TEMP_KELVIN", ("2024.3.3", "2026.11.2"))
    ]
    assert any(
        "TEMP_CELSIUS exists only as a deprecated constant" in note
        for note in report.notes
    )
    assert "\nnotes:\n  " in report.render()


def test_getattr_names_given_as_strings(tmp_path: Path) -> None:
    """A lazy ``__getattr__`` serves the names it mentions as strings."""
    root = write_tree(
        tmp_path,
        {
            "homeassistant/__init__.py": "",
            "homeassistant/lazy.py": (
                "def __getattr__(name):\n"
                "    if name == 'LazyThing':\n"
                "        return 1\n"
                "    raise AttributeError(name)\n"
            ),
        },
    )
    version = cc.Version(cc.DirectorySource(root), "test")
    assert version.resolve_name("homeassistant.lazy", "LazyThing").ok
    assert "lazily" in (
        version.resolve_name("homeassistant.lazy", "LazyThing").note or ""
    )
    assert not version.resolve_name("homeassistant.lazy", "Other").ok


def test_star_imports(tmp_path: Path) -> None:
    """Star imports are followed inside Home Assistant and assumed outside it."""
    root = write_tree(
        tmp_path,
        {
            "homeassistant/__init__.py": "",
            "homeassistant/pkg/__init__.py": "from .const import *\nfrom .loop import *\n",
            "homeassistant/pkg/const.py": "A = 1\n_PRIVATE = 2\nfrom .more import *\n",
            "homeassistant/pkg/more.py": "B = 1\n",
            "homeassistant/pkg/loop.py": "from . import *\n",
            "homeassistant/ext.py": "from zigpy.types import *\n",
        },
    )
    version = cc.Version(cc.DirectorySource(root), "test")
    assert version.resolve_name("homeassistant.pkg", "A").detail == (
        "via 'from homeassistant.pkg.const import *'"
    )
    assert version.resolve_name("homeassistant.pkg", "B").ok
    assert not version.resolve_name("homeassistant.pkg", "_PRIVATE").ok
    assert not version.resolve_name("homeassistant.pkg", "C").ok
    external = version.resolve_name("homeassistant.ext", "Anything")
    assert external.ok
    assert "not checked" in (external.note or "")


def test_missing_module_and_info_cache(tmp_path: Path) -> None:
    """Unknown modules resolve to nothing; scanned modules are cached."""
    root = write_tree(tmp_path, {"homeassistant/__init__.py": "X = 1\n"})
    version = cc.Version(cc.DirectorySource(root), "test")
    assert version.info("homeassistant.nothing") is None
    assert version._lookup("homeassistant.nothing", "X", set()).ok is False
    assert version.info("homeassistant") is version.info("homeassistant")
    assert version.version == "test"
    assert cc.Version(cc.DirectorySource(root)).version == str(root)


@pytest.mark.skipif(
    PARSES_NEW_SYNTAX,
    reason=(
        "compat_check runs on the stage-1 Python (3.11) only; parsed by Python 3.14, "
        "its AST reader does not see `type X = ...` aliases as definitions"
    ),
)
def test_text_fallback_recorded(env: Env) -> None:
    """PEP 695 and PEP 758 sources are scanned as text, and that is reported."""
    env.add(
        "a.py",
        """\
        from homeassistant.config_entries import ConfigFlowResult, helper
        from homeassistant.config_entries import NotAName
        from homeassistant.config_entries import Inner
        """,
    )
    report = env.report()
    assert [(p.what, p.versions) for p in report.problems] == [
        ("from homeassistant.config_entries import ConfigFlowResult", ("2024.3.3",)),
        ("from homeassistant.config_entries import helper", ("2024.3.3",)),
        (
            "from homeassistant.config_entries import NotAName",
            ("2024.3.3", "2026.11.2"),
        ),
        ("from homeassistant.config_entries import Inner", ("2024.3.3", "2026.11.2")),
    ]
    assert report.text_fallback == {
        "2024.3.3": [],
        "2026.11.2": ["homeassistant.config_entries"],
    }
    assert "read as text" in report.render()
    assert "homeassistant.config_entries" in report.render(verbose=True)


# --------------------------------------------------------------------------
# The text scanner
# --------------------------------------------------------------------------

SCANNED = textwrap.dedent(
    '''\
    """Module docstring.

    class InDocstring:
    def in_docstring():
    """
    from __future__ import annotations
    import os.path, json as _json
    from .sibling import (
        One,
        Two as Deux,  # a comment with def NotThis
    )
    from . import *
    from ..up import *
    from homeassistant.const import *
    A = B = 1
    C, (D, *E) = 1, (2, 3)
    [F, G] = 1, 2
    H: int = 1
    I: Final[int]
    J += 1
    K == 2
    L.attr = 3
    M[0] = 4
    print(N := 5)
    f(x=1)
    s = "def not_a_def(): pass"
    t = 'it\\'s'
    u = f"{s["k"]} value"
    long = 1 + \\
        2
    type Alias = int
    type Generic[T] = list[T]
    class Klass[T](Base):
        attr = 1
        def method(self):
            local = 2
    async def coro[T]():
        inner = 1
    @decorator
    def decorated():
        pass
    if TYPE_CHECKING:
        from x import InIf
    else:
        InElse = None
    try:
        InTry = 1
    except ImportError, ValueError:
        InExcept = 2
    finally:
        InFinally = 3
    with ctx():
        InWith = 1
    for InFor in range(3):
        InForBody = 1
    while False:
        InWhile = 1
    match = 1
    match command:
        case 1:
            InCase = 1
    else_ = 2
    lambda: None
    '''
)


def test_scan_text_names() -> None:
    """The text scanner finds module-level names like the ast scanner."""
    info = cc.scan_text(SCANNED, "homeassistant.pkg.mod", is_package=False)
    assert info.text_fallback
    expected = {
        "annotations", "os", "_json", "One", "Deux", "A", "B", "C", "D", "E", "F",
        "G", "H", "s", "t", "u", "long", "Alias", "Generic", "Klass", "coro",
        "decorated", "InIf", "InElse", "InTry", "InExcept", "InFinally", "InWith",
        "InForBody", "InWhile", "match", "InCase", "else_",
    }  # fmt: skip
    assert info.names == expected
    assert info.star_imports == (
        "homeassistant.pkg",
        "homeassistant.up",
        "homeassistant.const",
    )
    assert "I" not in info.names  # an annotation without a value binds nothing
    assert not info.has_getattr
    assert info.strings == frozenset()


def test_scan_text_matches_ast_on_parseable_source() -> None:
    """On source both can read, the two scanners agree."""
    source = SCANNED.replace(
        "except ImportError, ValueError:", "except (ImportError, ValueError):"
    )
    for old, new in (
        ("type Alias = int", "Alias = int"),
        ("type Generic[T] = list[T]", "Generic = list"),
        ("class Klass[T](Base):", "class Klass(Base):"),
        ("async def coro[T]():", "async def coro():"),
        ('u = f"{s["k"]} value"', 'u = f"{s} value"'),
    ):
        source = source.replace(old, new)
    tree = ast.parse(source)
    by_ast = cc.scan_ast(tree, "homeassistant.pkg.mod", is_package=False)
    by_text = cc.scan_text(source, "homeassistant.pkg.mod", is_package=False)
    assert by_ast.names == by_text.names
    assert by_ast.star_imports == by_text.star_imports


def test_scan_text_getattr_strings() -> None:
    """With a module ``__getattr__`` the string literals are kept."""
    info = cc.scan_text(
        "def __getattr__(name):\n    if name == 'Lazy':\n        pass\n"
        "_DEPRECATED_OLD = 1\n",
        "homeassistant.x",
        is_package=True,
    )
    assert info.has_getattr
    assert "Lazy" in info.strings
    assert info.deprecated == frozenset({"OLD"})


def test_mask_strings_and_comments() -> None:
    """String contents and comments are blanked; line structure is kept."""
    text = "a = 'x#y' # comment\nb = '''\ndef f():\n'''\nc = 'unterminated\nd = 1\ne = 'tail"
    masked, strings = cc.mask_strings_and_comments(text)
    assert masked.splitlines() == [
        "a = '   '          ",
        "b = '''",
        "        ",
        "'''",
        "c = '            ",
        "d = 1",
        "e = '    ",
    ]
    assert strings == ["x#y", "\ndef f():\n", "unterminated", "tail"]


def test_logical_lines_unterminated_bracket() -> None:
    """An unbalanced bracket at the end still yields the last statement."""
    lines = list(cc.logical_lines("x = 1\n\ny = (1,\n"))
    assert [(line.lineno, line.text) for line in lines] == [
        (1, "x = 1"),
        (3, "y = (1,"),
    ]


def test_resolve_relative() -> None:
    """Relative imports resolve against the module and its package."""
    assert (
        cc.resolve_relative("a.b.c", is_package=False, level=1, target="d") == "a.b.d"
    )
    assert cc.resolve_relative("a.b", is_package=True, level=1, target="") == "a.b"
    assert cc.resolve_relative("a.b.c", is_package=False, level=2, target="x") == "a.x"
    assert cc.resolve_relative("a", is_package=False, level=1, target="x") == "x"


def test_scan_ast_module_level_blocks() -> None:
    """The ast scanner looks into module-level if/try/with/loop blocks only."""
    tree = ast.parse(
        textwrap.dedent(
            """\
            import a.b
            from .c import *
            X: int = 1
            Y += 1
            for (P, Q) in []:
                R = 1
            while False:
                S = 1
            with x:
                T = 1
            try:
                U = 1
            except ImportError:
                V = 1
            else:
                W = 1
            finally:
                Z = 1
            def f():
                hidden = 1
            def __getattr__(name):
                return name == "lazy"
            """
        )
    )
    info = cc.scan_ast(tree, "homeassistant.m", is_package=False)
    assert info.names == {
        "a", "X", "R", "S", "T", "U", "V", "W", "Z", "f", "__getattr__",
    }  # fmt: skip
    assert info.star_imports == ("homeassistant.c",)
    assert "lazy" in info.strings


# --------------------------------------------------------------------------
# Versions, wheels, downloads
# --------------------------------------------------------------------------


def test_read_version(tmp_path: Path) -> None:
    """The version comes from const.py; missing parts give None."""
    assert (
        cc.read_version(cc.DirectorySource(write_tree(tmp_path / "a", OLD_FILES)))
        == "2024.3.3"
    )
    assert cc.read_version(cc.DirectorySource(tmp_path / "none")) is None
    broken = write_tree(
        tmp_path / "b", {"homeassistant/const.py": "MAJOR_VERSION = 1\n"}
    )
    assert cc.read_version(cc.DirectorySource(broken)) is None


def test_version_key_and_cached_wheels(tmp_path: Path) -> None:
    """Cached wheels sort newest first; pre-releases before their release."""
    assert cc.version_key("2026.11.0b1") < cc.version_key("2026.11.0")
    assert cc.version_key("2026.10.9") < cc.version_key("2026.11.0")
    assert cc.version_key("garbage") == (0,)
    assert cc.cached_wheels(tmp_path / "missing") == []
    for version in ("2026.2.0", "2026.11.0", "2026.10.3"):
        (tmp_path / f"homeassistant-{version}-py3-none-any.whl").touch()
    (tmp_path / "other-1.0-py3-none-any.whl").touch()
    assert [p.name for p in cc.cached_wheels(tmp_path)] == [
        "homeassistant-2026.11.0-py3-none-any.whl",
        "homeassistant-2026.10.3-py3-none-any.whl",
        "homeassistant-2026.2.0-py3-none-any.whl",
    ]


def _fake_pip(
    monkeypatch: pytest.MonkeyPatch,
    *,
    returncode: int = 0,
    version: str | None = "2026.11.2",
    stdout_path: bool = True,
    raises: Exception | None = None,
) -> list[list[str]]:
    calls: list[list[str]] = []

    def run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        if raises is not None:
            raise raises
        dest = Path(command[command.index("-d") + 1])
        stdout = ""
        if returncode == 0 and version is not None:
            wheel = make_wheel(
                dest / f"homeassistant-{version}-py3-none-any.whl", NEW_FILES
            )
            if stdout_path:
                stdout = f"Collecting homeassistant\n  Saved {wheel}\n"
        stderr = (
            "WARNING: Retrying\nERROR: No matching distribution" if returncode else ""
        )
        return subprocess.CompletedProcess(command, returncode, stdout, stderr)

    monkeypatch.setattr(cc.subprocess, "run", run)
    return calls


def test_download_newest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The newest wheel is asked for the newest wheel; older cached wheels go."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "homeassistant-2026.1.0-py3-none-any.whl").touch()
    calls = _fake_pip(monkeypatch)
    wheel = cc.obtain_wheel(cache)
    assert wheel.name == "homeassistant-2026.11.2-py3-none-any.whl"
    assert [p.name for p in cc.cached_wheels(cache)] == [wheel.name]
    command = calls[0]
    assert command[1:4] == ["-m", "pip", "download"]
    assert "--no-deps" in command
    assert "--only-binary=:all:" in command
    assert command[command.index("--python-version") + 1] == "3.15"


def test_download_without_path_in_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If pip's output names no file, the newest cached wheel is used."""
    _fake_pip(monkeypatch, stdout_path=False)
    assert cc.download_newest(tmp_path, verbose=True).name.startswith(
        "homeassistant-2026.11.2"
    )


def test_download_success_without_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pip success without a wheel is an error."""
    _fake_pip(monkeypatch, version=None)
    with pytest.raises(cc.CompatError, match="no homeassistant wheel"):
        cc.download_newest(tmp_path)


def test_offline_uses_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failing download falls back to the cached wheel, saying so."""
    cached = make_wheel(
        tmp_path / "homeassistant-2026.10.0-py3-none-any.whl", NEW_FILES
    )
    _fake_pip(monkeypatch, returncode=1)
    assert cc.obtain_wheel(tmp_path) == cached
    err = capsys.readouterr().err
    assert "pip download failed: ERROR: No matching distribution" in err
    assert "using the cached homeassistant-2026.10.0" in err
    calls = _fake_pip(monkeypatch, raises=OSError("no pip"))
    assert cc.obtain_wheel(tmp_path) == cached
    assert cc.obtain_wheel(tmp_path, offline=True) == cached
    assert len(calls) == 1


def test_no_wheel_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without network and cache the error says what to do."""
    _fake_pip(monkeypatch, raises=subprocess.TimeoutExpired("pip", 1))
    with pytest.raises(
        cc.CompatError, match="Run once with network access, or pass --wheel"
    ):
        cc.obtain_wheel(tmp_path)
    with pytest.raises(cc.CompatError, match="--offline"):
        cc.obtain_wheel(tmp_path, offline=True)


def test_installed_package_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed package is found without importing it."""
    root = cc.installed_package_root()
    assert (root / "homeassistant" / "__init__.py").is_file()
    monkeypatch.setattr(cc.importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(cc.CompatError, match="not installed"):
        cc.installed_package_root()


def test_open_source(tmp_path: Path, env: Env) -> None:
    """Old sources may be a wheel, a site-packages dir or the package dir."""
    assert isinstance(cc.open_source(env.wheel), cc.WheelSource)
    assert isinstance(cc.open_source(env.old), cc.DirectorySource)
    package = cc.open_source(env.old / "homeassistant")
    assert isinstance(package, cc.DirectorySource)
    assert package.root == env.old
    with pytest.raises(cc.CompatError, match="no homeassistant sources"):
        cc.open_source(tmp_path / "nothing")
    bad = tmp_path / "bad.whl"
    bad.write_text("not a zip")
    with pytest.raises(cc.CompatError, match="cannot open wheel"):
        cc.WheelSource(bad)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def test_main_newest_version(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    """--newest-version prints the wheel's version."""
    assert cc.main(["--wheel", str(env.wheel), "--newest-version"]) == 0
    assert capsys.readouterr().out == "2026.11.2\n"


def test_main_downloads_into_cache(
    env: Env,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without --wheel the newest wheel is downloaded into the cache dir."""
    _fake_pip(monkeypatch)
    cache = tmp_path / "cache"
    args = ["--integration", str(env.integration), "--old", str(env.old)]
    assert cc.main([*args, "--cache-dir", str(cache), "-v"]) == 0
    captured = capsys.readouterr()
    assert "asking PyPI" in captured.err
    assert "took" in captured.err
    assert captured.out.endswith("against 2024.3.3 and 2026.11.2: ok\n")


def test_main_json(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints a machine-readable report."""
    env.add(
        "a.py", "from homeassistant.helpers.event import async_track_state_change\n"
    )
    assert cc.main(env.args("--json")) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    assert data["old_version"] == "2024.3.3"
    assert data["new_version"] == "2026.11.2"
    assert data["imports_checked"] == 1
    assert data["files_checked"] == 1
    assert data["problems"][0]["line"] == 1
    assert data["problems"][0]["missing_in"] == ["2026.11.2"]
    assert data["text_fallback_modules"] == {
        "2024.3.3": [],
        "2026.11.2": [] if PARSES_NEW_SYNTAX else ["homeassistant.helpers.event"],
    }


def test_main_default_old_is_installed_package(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    """By default the old side is the Home Assistant installed here."""
    env.add("a.py", "from homeassistant.helpers.entity import EntityDescription\n")
    from homeassistant.const import __version__ as installed

    args = ["--integration", str(env.integration), "--wheel", str(env.wheel)]
    assert cc.main(args) == 0
    assert f"{installed} and 2026.11.2: ok" in capsys.readouterr().out


def test_main_errors(
    env: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Missing inputs exit with status 2 and a clear message."""
    missing = ["--integration", str(tmp_path / "nope"), "--wheel", str(env.wheel)]
    assert cc.main([*missing, "--old", str(env.old)]) == 2
    assert "integration directory not found" in capsys.readouterr().err
    assert cc.main(["--wheel", str(tmp_path / "none.whl")]) == 2
    assert "wheel not found" in capsys.readouterr().err


@needs_python_311
def test_main_syntax_error_in_integration(
    env: Env, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An integration file that Python 3.11 cannot parse is a problem."""
    env.add("bad.py", "type X = int\n")
    monkeypatch.chdir(env.integration.parent.parent)
    assert cc.main(env.args()) == 1
    out = capsys.readouterr().out
    assert (
        "custom_components/silver_bell/bad.py:1: cannot parse the file with Python 3.11"
        in out
    )


def test_script_runs_as_program(
    env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The file runs as a script: ``sys.exit(main())``."""
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), *env.args("--newest-version")])
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    assert exited.value.code == 0
    assert capsys.readouterr().out == "2026.11.2\n"
