"""Checks on agent labels and node group variables, shared by models, forms and serializers."""

import re

from django.core.exceptions import ValidationError

LABEL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+/-]{0,99}$")
ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def normalize_labels(labels) -> list[str]:
    """Strip, drop duplicates and sort: labels are a set, stored in a stable order."""
    if isinstance(labels, str) or not isinstance(labels, list | tuple | set | frozenset):
        raise ValidationError("Labels must be a list of strings.")
    cleaned = set()
    for label in labels:
        if not isinstance(label, str):
            raise ValidationError("Labels must be a list of strings.")
        label = label.strip()
        if not LABEL_PATTERN.match(label):
            raise ValidationError(
                f"{label!r} is not a valid label: use up to 100 letters, digits or . _ : + / -, "
                "starting with a letter or digit."
            )
        cleaned.add(label)
    return sorted(cleaned)


def validate_labels(labels) -> None:
    normalize_labels(labels)


def validate_env(env) -> None:
    if not isinstance(env, dict):
        raise ValidationError("Variables must be an object of names to string values.")
    for name, value in env.items():
        if not ENV_NAME_PATTERN.match(name):
            raise ValidationError(f"{name!r} is not a valid variable name.")
        if not isinstance(value, str):
            raise ValidationError(f"The value of {name} must be a string.")


def parse_labels_text(text: str) -> list[str]:
    """Labels typed in a form: separated by commas, spaces or new lines."""
    return normalize_labels([part for part in re.split(r"[\s,]+", text or "") if part])


def parse_env_text(text: str) -> dict[str, str]:
    """Variables typed in a form, one `NAME=value` a line; blank lines and `#` comments are skipped."""
    env = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, separator, value = line.partition("=")
        if not separator:
            raise ValidationError(f"Line {number}: write NAME=value.")
        env[name.strip()] = value
    validate_env(env)
    return env


def format_env_text(env: dict[str, str]) -> str:
    return "\n".join(f"{name}={value}" for name, value in sorted(env.items()))
