"""The language, its expressions and the engine's decisions are pure Python: they import the
standard library (no network module) and only the third-party packages named here, and importing
them loads no framework (STYLE.md, convention 2)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[3]
FORBIDDEN = {"django", "celery", "kombu", "redis", "channels", "rest_framework", "requests", "httpx"}
NETWORK = {"socket", "ssl", "http", "urllib", "asyncio"}
PACKAGES = {
    # package: (third-party packages it may import, other project packages it may import)
    "apps.process.language.expressions": (set(), ()),
    "apps.process.language": ({"yaml", "croniter"}, ()),
    "apps.process.engine": (set(), ("apps.process.language",)),
}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_modules_import_only_what_is_allowed(package):
    third_party, project = PACKAGES[package]
    files = sorted((REPOSITORY / package.replace(".", "/")).glob("*.py"))
    assert len(files) > 3
    for path in files:
        for name in imported_modules(path):
            top = name.split(".")[0]
            allowed = (
                (top in sys.stdlib_module_names and top not in NETWORK)
                or top in third_party
                or name.startswith(project)
            )
            assert allowed, f"{path.name} imports {name}"


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_importing_and_using_it_loads_no_framework_or_network_module(package):
    code = (
        f"import sys, {package}, apps.process.language\n"
        "apps.process.language.compile_pipeline("
        "'on: {schedule: [{cron: \"0 3 * * *\"}]}\\njobs: {a: {steps: [{run: x}]}}')\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN | NETWORK)!r}))"
    )
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPOSITORY, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout
