"""Credential names: an upper-case letter, then upper-case letters, digits and underscores."""

from django.core.validators import RegexValidator

NAME_PATTERN = r"^[A-Z][A-Z0-9_]*$"

credential_name_validator = RegexValidator(
    NAME_PATTERN, "A name starts with an upper-case letter and has only A-Z, 0-9 and _ (like DEPLOY_TOKEN)."
)
