"""The language is pure Python: besides the standard library it imports only PyYAML and croniter,
and importing it loads no framework and no network module."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import apps.process.language as language

PACKAGE = Path(language.__file__).parent
REPOSITORY = PACKAGE.parents[2]
ALLOWED_THIRD_PARTY = {"yaml", "croniter"}
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


def test_modules_import_only_the_standard_library_pyyaml_and_croniter():
    files = sorted(PACKAGE.glob("*.py"))
    assert len(files) > 5
    for path in files:
        for name in imported_modules(path):
            top = name.split(".")[0]
            allowed = (top in sys.stdlib_module_names and top not in NETWORK) or top in ALLOWED_THIRD_PARTY
            assert allowed, f"{path.name} imports {name}"


def test_importing_the_language_loads_no_framework_or_network_module():
    code = (
        "import sys, apps.process.language\n"
        "apps.process.language.validate("
        "'on: {schedule: [{cron: \"0 3 * * *\"}]}\\njobs: {a: {steps: [{run: x}]}}')\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN | NETWORK)!r}))"
    )
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPOSITORY, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", result.stdout
