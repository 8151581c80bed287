"""Quality vocabulary: operators and data types of indicators, control points, gate results."""

from django.db import models


class Operator(models.TextChoices):
    GT = ">", "greater than"
    GE = ">=", "at least"
    LT = "<", "less than"
    LE = "<=", "at most"
    EQ = "==", "equal to"
    NE = "!=", "not equal to"


class DataType(models.TextChoices):
    INT = "int", "Integer"
    FLOAT = "float", "Float"
    BOOL = "bool", "Boolean"
    STRING = "string", "String"


class ControlPoint(models.TextChoices):
    CHECK_IN = "check-in", "Stage check-in (before its jobs)"
    CHECK_OUT = "check-out", "Stage check-out (after its jobs)"
    GATE = "gate", "A gate named in the YAML"


class FailAction(models.TextChoices):
    FAIL = "fail", "Fail the build"
    BLOCK = "block", "Block until a gatekeeper overrides it or the timeout passes"


class GateResult(models.TextChoices):
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    BLOCKED = "blocked", "Blocked"
    OVERRIDDEN = "overridden", "Overridden"
    TIMED_OUT = "timed_out", "Timed out"


class MetricSource(models.TextChoices):
    STEP = "step", "Reported by a step"
    JUNIT = "junit", "JUnit XML report"
    COVERAGE = "coverage", "Cobertura / coverage.py XML report"
    API = "api", "Posted over the API"
