"""The one error the expression language raises, for bad syntax and for failed evaluation alike."""
from __future__ import annotations


class ExpressionError(Exception):
    """A problem in an expression or a template. `offset` is the 0-based position in the source
    text where the problem is (None when it has no single place)."""

    def __init__(self, message: str, offset: int | None = None):
        super().__init__(message, offset)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        return self.message

    def shifted(self, delta: int) -> ExpressionError:
        """The same error with its offset moved by `delta` (an expression inside a larger text)."""
        if self.offset is None or delta == 0:
            return self
        return ExpressionError(self.message, self.offset + delta)
