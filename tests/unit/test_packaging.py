"""What each part of the package needs and ships: the SDK and the Lambda layer without the CLI's and the local
stack's dependencies (pyproject.toml's extras), and `sam build`'s layer without the CLI and the local stack
(layers/pipelinejobs/Makefile)."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pipelinejobs.cli import CLI_DEPENDENCIES

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SOURCE = ROOT / "layers" / "pipelinejobs"
#: What `sam build` (scripts/check-template runs it) makes of the layer: Lambda puts its python/ on sys.path.
BUILT_LAYER = ROOT / ".aws-sam" / "build" / "PipelineJobsLayer" / "python"
#: What only the CLI and the local stack import: nothing Lambda loads may need them.
NOT_FOR_LAMBDA = {"click", "rich", "graphviz", "moto"}
#: What the Lambda runtime brings without the layer.
RUNTIME_PACKAGES = {"boto3", "botocore"}


def _names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(line).name) for line in requirements}


def _without_extras(distribution: str) -> set[str]:
    """Every distribution `pip install <distribution>` pulls, by the installed metadata, with no extra."""
    pulled, todo = set(), [distribution]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in pulled:
            continue
        pulled.add(name)
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return pulled - {canonicalize_name(distribution)}


def test_the_package_without_extras_pulls_none_of_the_clis_or_the_local_stacks_dependencies():
    assert not _names(PROJECT["dependencies"]) & NOT_FOR_LAMBDA
    assert not _without_extras("pipelinejobs") & NOT_FOR_LAMBDA
    assert "boto3" in _without_extras("pipelinejobs")  # the walk does follow the dependencies


def test_the_extras_say_what_the_cli_and_the_local_stack_need():
    extras = PROJECT["optional-dependencies"]
    assert _names(extras["cli"]) == CLI_DEPENDENCIES
    assert "pipelinejobs[cli]" in extras["local"] and "moto" in _names(extras["local"])
    assert "pipelinejobs[cli,local]" in extras["test"]


def test_the_layer_requirements_are_the_base_dependencies_but_boto3_and_pyyaml():
    """boto3 comes with the Lambda runtime; pyyaml is for create_tables(), which reads template.yaml."""
    lines = [line for line in (SOURCE / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    base = {str(Requirement(line)) for line in PROJECT["dependencies"]}
    assert {str(Requirement(line)) for line in lines} == base - {"boto3>=1.34", "pyyaml>=6.0"}


def test_without_click_the_command_says_to_install_the_cli_extra_in_one_line():
    code = "import sys; sys.modules['click'] = None; from pipelinejobs.cli import main; main()"
    for argument in ("stat", "--help"):
        done = subprocess.run([sys.executable, "-c", code, argument], capture_output=True, text=True, timeout=60)
        assert done.returncode == 1
        assert done.stderr.startswith("error: click is not installed") and done.stderr.count("\n") == 1
        assert "pip install 'pipelinejobs[cli]'" in done.stderr


@pytest.fixture(scope="module")
def built_layer() -> Path:
    if not (BUILT_LAYER / "pipelinejobs").is_dir():
        pytest.skip("no `sam build` output: scripts/check-template builds the layer into .aws-sam/build")
    return BUILT_LAYER


def _modules(package: Path) -> set[str]:
    return {str(path.relative_to(package)) for path in package.rglob("*.py") if "__pycache__" not in path.parts}


def test_the_built_layer_is_the_package_without_the_cli_and_the_local_stack(built_layer):
    source = _modules(SOURCE / "pipelinejobs")
    left_out = {m for m in source if m.partition("/")[0] in {"cli", "local", "__main__.py"}}
    assert {"cli/app.py", "local/stack.py", "__main__.py"} <= left_out
    assert _modules(built_layer / "pipelinejobs") == source - left_out


def _import_time_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports a module runs when it is loaded: not those in functions, nor under ``if TYPE_CHECKING``."""
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            todo.extend(ast.iter_child_nodes(node))


def _imported_modules(path: Path, package: str) -> Iterator[str]:
    """The absolute names a module's import-time imports load: ``from x import y`` gives x and x.y (a module
    or, if x has no module y, a name in x)."""
    for node in _import_time_imports(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            parent = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1])
            base = f"{parent}.{base}" if base else parent
        yield base
        yield from (f"{base}.{alias.name}" for alias in node.names)


def _is_module(root: Path, module: str) -> bool:
    path = root.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _loadable(module: str, layer: Path) -> bool:
    """Whether Lambda, with the layer's python/ on sys.path, finds the module: one of the standard library,
    the runtime's, the package's (those of the source tree must be in the layer) or another the layer has."""
    top = module.partition(".")[0]
    if top in sys.stdlib_module_names or top in RUNTIME_PACKAGES:
        return True
    if top == "pipelinejobs":
        return _is_module(layer, module) or not _is_module(SOURCE, module)
    return (layer / top).is_dir() or (layer / f"{top}.py").is_file() or any(layer.glob(f"{top}.*.so"))


def test_everything_the_functions_load_imports_only_what_the_layer_ships(built_layer):
    """The functions' handlers and every module of the built layer: their import-time imports are of the
    standard library, the runtime's boto3, the layer's own modules and requirements.txt's packages."""
    modules = {path: f"handler_of_{path.parent.name}" for path in (ROOT / "functions").glob("*/app.py")}
    for path in (built_layer / "pipelinejobs").rglob("*.py"):
        parts = path.relative_to(built_layer).with_suffix("").parts
        modules[path] = ".".join(parts if parts[-1] == "__init__" else parts[:-1])  # the package it is in
    assert len(modules) > 40
    missing = {f"{path.relative_to(ROOT)}: {name}" for path, package in modules.items()
               for name in _imported_modules(path, package) if not _loadable(name, built_layer)}
    assert not missing, f"imports the layer does not ship: {sorted(missing)}"


DASHBOARD_FILES = {"index.html", "app.js", "app.css"}


def test_the_dashboards_files_are_package_data():
    """The page is served from the package (no CDN, no download at run time): pyproject's package data carries
    pipelinejobs/dashboard/static/."""
    static = SOURCE / "pipelinejobs" / "dashboard" / "static"
    assert {path.name for path in static.iterdir()} == DASHBOARD_FILES
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "dashboard/static/*" in package_data["pipelinejobs"]


def test_the_built_layer_ships_the_dashboards_files(built_layer):
    assert {path.name for path in (built_layer / "pipelinejobs" / "dashboard" / "static").iterdir()} == DASHBOARD_FILES
