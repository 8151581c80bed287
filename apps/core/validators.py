"""Validators shared by every app's models."""

from django.core.validators import RegexValidator

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"

slug_validator = RegexValidator(
    SLUG_PATTERN,
    "Use 2 to 63 lowercase letters, digits or hyphens, starting with a letter or digit.",
)
