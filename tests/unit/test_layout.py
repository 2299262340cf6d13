"""The package layout's one rule (docs/architecture.md): imports go one way, from entry points
down to leaves, and no module reaches itself through its imports. Every import counts: at
the top of a file, inside a function, or under ``if TYPE_CHECKING``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "seqlab"

# Lowest first: a package may import from its own layer's package and from layers below it.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "rng"),
    ("text",),
    ("spec",),
    ("config",),
    ("data", "models"),
    ("tasks",),
    ("reporting",),
    ("objectives",),
    ("diagnostics",),
    ("engine",),
    ("inference",),
    ("cli",),
    # the ``python -m seqlab.<command>`` entry points: three lines each, calling seqlab.cli
    ("train", "evaluate", "translate", "plot", "summarize", "prepare", "generate"),
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The seqlab modules a file imports, wherever in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("seqlab"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "seqlab":
                found.update(f"seqlab.{a.name}" for a in node.names)
            elif node.module.startswith("seqlab."):
                found.add(node.module)
    return found


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in ROOT.rglob("*.py")}
    return {name: imports_of(path) & set(modules) for name, path in modules.items()}


def test_every_package_has_a_layer() -> None:
    packages = {package_of(m) for m in graph()} - {""}
    assert packages <= set(RANK), f"add {packages - set(RANK)} to LAYERS and the architecture doc"


def test_imports_go_one_way() -> None:
    upward = []
    for module, imported in graph().items():
        if module == "seqlab":
            continue
        mine = package_of(module)
        for target in imported:
            theirs = package_of(target)
            if theirs != mine and RANK[theirs] >= RANK[mine]:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports against the layers:\n" + "\n".join(sorted(upward))


def test_no_import_circles() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1 on the path, 2 done
    circles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not circles, "\n".join(" -> ".join(c) for c in circles)


def test_importing_seqlab_changes_no_global_state() -> None:
    """No side effects at import: Hydra's ConfigStore, OmegaConf's resolvers and the warning
    filters are untouched until a command or a test asks (register_schemas)."""
    modules = sorted(m for m in graph() if m != "seqlab")
    probe = (
        "import warnings, importlib; from hydra.core.config_store import ConfigStore;"
        "from omegaconf import OmegaConf; import torch, lightning, matplotlib.pyplot, sacrebleu;"
        "before = (list(warnings.filters), sorted(ConfigStore.instance().repo));"
        f"[importlib.import_module(m) for m in {modules!r}];"
        "after = (list(warnings.filters), sorted(ConfigStore.instance().repo));"
        "assert not OmegaConf.has_resolver('seqlab_run_dir'), 'a resolver was registered';"
        "assert before == after, (before, after)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


def test_every_package_is_listed_for_the_wheel() -> None:
    """pyproject.toml lists seqlab's packages by name (configs/ travels as seqlab.configs), so a
    new package must be added there or a wheel install would lack it."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT.parent / "pyproject.toml").read_text())["tool"]["setuptools"][
            "packages"
        ]
    )
    found = {module_name(p) for p in ROOT.rglob("__init__.py")}
    assert found | {"seqlab.configs"} == listed
