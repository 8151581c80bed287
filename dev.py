#!/usr/bin/env python3
"""One entry point for a fresh machine with only Python 3.11.

    python3 dev.py serve   # install, migrate, create the admin, start the server on the embedded default
    python3 dev.py test    # install, lint, run the whole test suite (extra arguments go to pytest)

It keeps its own virtual environment in .venv and reinstalls only when a requirements file changes.
"""
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"


def requirements_digest(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_environment(requirements: str) -> None:
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    files = [ROOT / "requirements.txt", ROOT / requirements]
    stamp = VENV / f".installed-{requirements}"
    wanted = requirements_digest(files)
    if stamp.exists() and stamp.read_text() == wanted:
        return
    print(f"Installing {requirements} ...", flush=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", "-r", str(ROOT / requirements)], check=True)
    stamp.write_text(wanted)


def run(*args: str, env: dict | None = None) -> int:
    return subprocess.run([str(PYTHON), *args], cwd=ROOT, env=env).returncode


def replace_process(*args: str) -> int:
    """Become the final command, so signals (Ctrl-C, a supervisor's SIGTERM) reach it directly."""
    os.chdir(ROOT)
    os.execv(str(PYTHON), [str(PYTHON), *args])
    return 1


def serve(extra: list[str]) -> int:
    ensure_environment("requirements.txt")
    for step in (["manage.py", "migrate", "--noinput"], ["manage.py", "ensure_admin"]):
        if run(*step) != 0:
            return 1
    address = os.environ.get("DEVOPS_ADDRESS", "127.0.0.1:8000")
    return replace_process("manage.py", "serve", address, *extra)


def test(extra: list[str]) -> int:
    ensure_environment("requirements-dev.txt")
    if run("-m", "ruff", "check", ".") != 0:
        return 1
    return replace_process("-m", "pytest", *(extra or ["-n", "2"]))


def main() -> int:
    commands = {"serve": serve, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
