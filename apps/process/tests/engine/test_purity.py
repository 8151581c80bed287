"""The engine's decisions are pure Python: nothing from Django, Celery or the network."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import apps.process.engine as engine

PACKAGE = Path(engine.__file__).parent
REPOSITORY = PACKAGE.parents[2]
FORBIDDEN = {"django", "celery", "kombu", "redis", "channels", "rest_framework", "requests", "httpx"}
NETWORK = {"socket", "ssl", "http", "asyncio"}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def test_the_engine_imports_the_standard_library_and_the_language_only():
    files = sorted(PACKAGE.glob("*.py"))
    assert files
    for path in files:
        for name in imported_modules(path):
            top = name.split(".")[0]
            allowed = name.startswith("apps.process.language") or (
                top in sys.stdlib_module_names and top not in NETWORK
            )
            assert allowed, f"{path.name} imports {name}"


def test_importing_the_engine_loads_no_framework():
    code = (
        "import sys, apps.process.engine\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN | NETWORK)!r}))"
    )
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]", result.stdout
