"""The agent file that build machines download, with its version and sha256, cached by mtime."""

import hashlib
import re
import threading
from pathlib import Path

from django.conf import settings

from apps.core.errors import NotFound

VERSION_PATTERN = re.compile(rb"""^AGENT_VERSION\s*=\s*["']([^"']+)["']""", re.MULTILINE)
UNKNOWN_VERSION = "0.0.0"

_cache: dict[Path, tuple[int, int, bytes, str, str]] = {}
_lock = threading.Lock()


def agent_file_path() -> Path:
    return Path(getattr(settings, "DEVOPS_AGENT_FILE", settings.BASE_DIR / "agent" / "devops_agent.py"))


def agent_version_of(content: bytes) -> str:
    match = VERSION_PATTERN.search(content)
    return match.group(1).decode() if match else UNKNOWN_VERSION


def agent_package() -> tuple[bytes, str, str]:
    """(file content, AGENT_VERSION, sha256 hex) of the agent file; NotFound when it is missing."""
    path = agent_file_path()
    try:
        stat = path.stat()
    except FileNotFoundError as error:
        raise NotFound("The agent file is not installed on this server.") from error
    with _lock:
        cached = _cache.get(path)
        if cached and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2:]
        content = path.read_bytes()
        entry = (
            stat.st_mtime_ns,
            stat.st_size,
            content,
            agent_version_of(content),
            hashlib.sha256(content).hexdigest(),
        )
        _cache[path] = entry
        return entry[2:]
