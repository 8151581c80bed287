"""The expression language is pure Python: it imports nothing from Django, Celery or the network."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import apps.process.language.expressions as expressions

PACKAGE = Path(expressions.__file__).parent
REPOSITORY = PACKAGE.parents[3]
FORBIDDEN = {"django", "celery", "kombu", "redis", "channels", "rest_framework", "requests", "httpx"}
NETWORK = {"socket", "ssl", "http", "urllib", "asyncio"}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module)
    return names


def test_the_package_imports_only_the_standard_library():
    files = sorted(PACKAGE.glob("*.py"))
    assert files
    for path in files:
        for name in imported_modules(path):
            top = name.split(".")[0]
            assert top in sys.stdlib_module_names and top not in NETWORK, f"{path.name} imports {name}"


def test_importing_the_package_loads_no_framework():
    code = (
        "import sys, apps.process.language.expressions\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN | NETWORK)!r}))"
    )
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, cwd=REPOSITORY, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout
