"""Imports run one way: each package pulls in only the packages below it, and the core no UI.

Each package is imported alone, with every one of its modules (entry points ``__main__`` aside:
they sit at the top, like ``app.py``), in a fresh interpreter; what it pulled in is checked
against the layers in CONTRIBUTING.md.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from podlens.config import REPO_ROOT

IN_REPO = ("podlens", "ingest", "index", "library", "snips", "ask", "demos", "ui", "app_pages")

# package -> the in-repo packages it may import (besides itself)
ALLOWED = {
    "podlens": set(),
    "ingest": {"podlens"},
    "index": {"podlens"},
    "library": {"podlens", "ingest", "index"},
    "snips": {"podlens", "index"},
    "ask": {"podlens", "index", "snips"},
    "demos": {"podlens", "index"},
    "ui": {"podlens", "ingest", "index", "library", "snips", "ask", "demos"},
}

_PROBE = """
import importlib, json, pkgutil, sys
pkg = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
    if not info.name.endswith(".__main__"):
        importlib.import_module(info.name)
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def _pulled_in(package: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, package],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


@pytest.mark.parametrize("package", [p for p in ALLOWED if (REPO_ROOT / p).is_dir()])
def test_each_package_imports_only_the_layers_below_it(package):
    pulled = _pulled_in(package)
    in_repo = {p for p in IN_REPO if p in pulled} - {package}
    assert in_repo <= ALLOWED[package], f"{package} imports {sorted(in_repo - ALLOWED[package])}"
    if package != "ui":
        assert "streamlit" not in pulled, f"core package {package} imports streamlit"


def _imports_written_in(package: str) -> dict[str, set[str]]:
    """In-repo packages each module of ``package`` names in an import, function bodies included
    (a deferred import hides a cycle from the interpreter, not from the layering)."""
    found: dict[str, set[str]] = {}
    for path in sorted((REPO_ROOT / package).rglob("*.py")):
        if path.name == "__main__.py":
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(REPO_ROOT))] = {n for n in names if n in IN_REPO} - {package}
    return found


@pytest.mark.parametrize("package", [p for p in ALLOWED if (REPO_ROOT / p).is_dir()])
def test_no_module_names_a_package_above_its_own_even_in_a_function(package):
    wrong = {m: sorted(n - ALLOWED[package]) for m, n in _imports_written_in(package).items()}
    assert not {m: n for m, n in wrong.items() if n}
