"""Server-side masking of secret values in log lines: every value a job received, each line of a
multi-line value, and their base64 and URL-encoded forms become `***`.

The variants are the agent's own (`secret_variants` of agent/devops_agent.py, a stdlib-only module).
A batch is masked as one text: one C-level search per variant over the joined lines instead of
one per line, which keeps ingest fast with many secrets registered.
"""

from collections.abc import Iterable

from agent.devops_agent import MASK, secret_variants

MIN_LINE_SECRET = 4


def flat_values(secrets: dict) -> list[str]:
    """Every non-empty text in a secrets context (fields of multi-part credentials included)."""
    values: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif value not in (None, ""):
            values.append(str(value))

    walk(secrets)
    return sorted(set(values))


class SecretMask:
    """The needles of a set of values, longest first."""

    def __init__(self, values: Iterable[str] = ()):
        needles: set[str] = set()
        for value in values:
            value = str(value)
            parts = [value] + [
                line.strip("\r") for line in value.split("\n") if len(line.strip()) >= MIN_LINE_SECRET
            ]
            for part in parts:
                if part.strip():
                    needles |= secret_variants(part)
        self.needles = sorted(needles, key=lambda needle: (-len(needle), needle))
        self.single_line = [needle for needle in self.needles if "\n" not in needle]

    def __bool__(self) -> bool:
        return bool(self.needles)

    def mask(self, text: str) -> str:
        for needle in self.needles:
            if needle in text:
                text = text.replace(needle, MASK)
        return text

    def mask_texts(self, texts: list[str]) -> list[str]:
        """Each text masked; texts without a newline are searched together."""
        if not self.needles or not texts:
            return list(texts)
        joined = "\n".join(texts)
        if joined.count("\n") != len(texts) - 1:
            return [self.mask(text) for text in texts]
        for needle in self.single_line:
            if needle in joined:
                joined = joined.replace(needle, MASK)
        return joined.split("\n")

    def mask_lines(self, lines: list[dict]) -> list[dict]:
        """Log lines (dicts with `text`) with their text masked."""
        if not self.needles:
            return lines
        texts = self.mask_texts([str(line.get("text", "")) for line in lines])
        return [{**line, "text": text} for line, text in zip(lines, texts, strict=True)]
