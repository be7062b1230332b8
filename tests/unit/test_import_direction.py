"""Imports go downward only (docs/design.md, "Packages and import directions").

Read from the source with ``ast``: every import a module holds, those inside functions included (a lazy
import is still a dependency), but not those under ``if TYPE_CHECKING`` (never run). Then the same from the
running functions: what importing each Lambda handler loads.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "pipelinejobs" / "pipelinejobs"

#: The core every event goes through, and what it stands on: it imports only itself.
CORE = {"service", "storage", "records", "fsm", "events", "tokens", "errors", "config", "identity",
        "task_tokens", "clients", "deadline", "redaction", "observability", "heartbeats", "retention",
        "failures"}
#: The client SDK: nothing the Lambda functions run may import it.
SDK = {"sdk"}
#: Outside the Lambda layer: the command line and the local stack.
NOT_IN_LAYER = {"cli", "local", "__main__"}
#: The package's own face: it names the SDK's public names, imported on first use (never by the functions).
FACADES = {"__init__", "orchestration.__init__"}


def _name(path: Path) -> str:
    """``storage/dynamodb.py`` → ``storage.dynamodb``; ``api/__init__.py`` → ``api.__init__``."""
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


def _under(module: str, prefixes: set[str]) -> bool:
    return any(module == prefix or module.startswith(f"{prefix}.") for prefix in prefixes)


def _all_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: at the top, in functions, in branches; not under TYPE_CHECKING."""
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
        else:
            todo.extend(ast.iter_child_nodes(node))


def imports_of(path: Path) -> set[str]:
    """The package's modules (relative names, e.g. ``orchestration.flow``) that the module at ``path`` imports;
    ``from . import x`` counts as importing ``x``."""
    module = _name(path)
    package = module.split(".")[:-1]  # the package the module is in (``x.__init__`` is in ``x``)
    found: set[str] = set()
    for node in _all_imports(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif node.level == 0:
            names = [node.module or ""]
        else:
            base = package[:len(package) - node.level + 1]
            parent = ".".join(["pipelinejobs", *base, *([node.module] if node.module else [])])
            names = [parent, *(f"{parent}.{alias.name}" for alias in node.names)]
        found |= {name.removeprefix("pipelinejobs.") for name in names if name.startswith("pipelinejobs.")}
    return {name for name in found if (PACKAGE / f"{name.replace('.', '/')}.py").is_file()
            or (PACKAGE / name.replace(".", "/") / "__init__.py").is_file()}


def unresolved(path: Path) -> set[str]:
    """The package's modules a ``from .x import y`` names that do not exist (a lazy import left behind by a move
    fails only when its function runs)."""
    package = _name(path).split(".")[:-1]
    named = {".".join([*package[:len(package) - node.level + 1], node.module])
             for node in _all_imports(ast.parse(path.read_text())) if isinstance(node, ast.ImportFrom)
             and node.level and node.module}
    return {name for name in named if not (PACKAGE / f"{name.replace('.', '/')}.py").is_file()
            and not (PACKAGE / name.replace(".", "/") / "__init__.py").is_file()}


MODULES = {_name(path): path for path in PACKAGE.rglob("*.py") if "__pycache__" not in path.parts}


def _violations(modules: set[str], forbidden: set[str]) -> list[str]:
    return sorted(f"{module} imports {target}" for module in modules
                  for target in imports_of(MODULES[module]) if _under(target, forbidden))


def test_the_walk_sees_lazy_and_relative_imports():
    """The reading itself: a lazy import inside a function and ``from .. import x`` are both found."""
    assert "intake.sqs" in imports_of(PACKAGE / "intake" / "__init__.py")  # imported inside a function
    assert "observability" in imports_of(PACKAGE / "orchestration" / "handlers.py")  # ``from .. import x``
    assert {"service", "cli", "local"} <= {module.partition(".")[0] for module in MODULES}


def test_every_relative_import_names_a_module_that_exists():
    assert not {f"{module}: {name}" for module, path in MODULES.items() for name in unresolved(path)}


def test_the_core_imports_only_the_core():
    core = {module for module in MODULES if _under(module, CORE)}
    assert {"service", "storage.dynamodb", "tokens"} <= core
    outside = {module for module in MODULES if not _under(module, CORE)}
    assert not _violations(core, outside)


def test_no_module_of_the_layer_imports_the_cli_or_the_local_stack():
    layer = {module for module in MODULES if not _under(module, NOT_IN_LAYER)}
    assert not _violations(layer, NOT_IN_LAYER)


def test_the_server_side_never_imports_the_sdk():
    server = {module for module in MODULES if not _under(module, SDK | NOT_IN_LAYER | FACADES)}
    assert {"orchestration.handlers", "api.app", "notify.publish", "intake.sqs"} <= server
    assert not _violations(server, SDK)


@pytest.mark.parametrize("function", sorted(path.name for path in (ROOT / "functions").iterdir()))
def test_a_function_loads_neither_the_sdk_nor_the_cli_nor_the_local_stack(function):
    """What importing a Lambda handler loads, package ``__init__`` files included."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import app; "
            "print(' '.join(m for m in sys.modules if m.startswith('pipelinejobs')))")
    done = subprocess.run([sys.executable, "-c", code, str(ROOT / "functions" / function)],
                          capture_output=True, text=True, timeout=120, check=True)
    loaded = {module.removeprefix("pipelinejobs.") for module in done.stdout.split()}
    assert "service" in loaded
    assert not {module for module in loaded if _under(module, SDK | NOT_IN_LAYER)}
