"""Plans for the engine's tests, compiled from YAML by the language for a push to main (as a
build would get them), and where the shared example pipelines live (docs/examples)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from apps.process.language import TriggerEvent, compile_pipeline

REPOSITORY = Path(__file__).resolve().parents[4]
EXAMPLES = REPOSITORY / "docs" / "examples"
PUSH = TriggerEvent(event="push", ref="refs/heads/main", sha="0123456789abcdef", actor="alice")


def plan_of(text: str) -> dict:
    return compile_pipeline(textwrap.dedent(text), trigger=PUSH)
