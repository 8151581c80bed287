"""Quality gates, as pure functions: which gates apply at a stage's control point, and their verdicts.

A gate is a dict (from the YAML's `check-in`/`check-out` `gates:`, or a quality rule of the
database as `apps.quality.selectors.rule_as_gate` shapes it):

    {"name", "rule_id": int | None, "indicators": [{"metric", "operator", "threshold", "type"}],
     "action": "fail" | "block", "gatekeepers": [...], "timeout_minutes": int}

A rule applies at `check-in`/`check-out` of the stage whose id or name it names, or (control
point `gate`) wherever a YAML gate of its name stands. A YAML gate with no rules of its own takes
its indicators from those rules only. An indicator passes when the metric was reported and its
value compares true; a missing metric fails with "not reported".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CHECK_IN = "check-in"
CHECK_OUT = "check-out"
PASSED, FAILED, BLOCKED = "passed", "failed", "blocked"
DEFAULT_GATE_TIMEOUT_MINUTES = 24 * 60

COMPARE = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


@dataclass(frozen=True)
class GateVerdict:
    gate: dict
    passed: bool
    indicators: tuple[dict, ...]  # each indicator with "value" (None: not reported), "passed", "reason"

    @property
    def blocking(self) -> bool:
        return self.gate.get("action") == "block"

    @property
    def reason(self) -> str:
        failing = [item["reason"] for item in self.indicators if not item["passed"]]
        return f"gate {self.gate['name']}: " + "; ".join(failing or ["no indicator"])


def yaml_gate(gate: dict) -> dict:
    keepers = (gate.get("continue_on_fail") or {}).get("gatekeepers") or []
    return {
        "name": gate["name"],
        "rule_id": None,
        "indicators": [{**rule, "type": "float"} for rule in gate.get("rules") or []],
        "action": "block" if keepers else "fail",
        "gatekeepers": list(keepers),
        "timeout_minutes": (gate.get("continue_on_fail") or {}).get("timeout_minutes")
        or DEFAULT_GATE_TIMEOUT_MINUTES,
    }


def stage_gates(plan_stage: dict, point: str, rules: list[dict]) -> list[dict]:
    """Every gate at `point` of a stage: the YAML's, then the rules attached to it."""
    check = plan_stage.get("check_in" if point == CHECK_IN else "check_out") or {}
    gates = []
    for declared in check.get("gates") or []:
        named = [
            rule for rule in rules if rule.get("control_point") == "gate" and rule["gate"] == declared["name"]
        ]
        if declared.get("rules") or not named:
            gates.append(yaml_gate(declared))
        gates.extend(named)
    names = {plan_stage.get("id"), plan_stage.get("name")} - {None, ""}
    gates.extend(rule for rule in rules if rule.get("control_point") == point and rule.get("stage") in names)
    return gates


def evaluate_gate(gate: dict, metrics: Mapping[str, Any]) -> GateVerdict:
    indicators = tuple(evaluate_indicator(item, metrics) for item in gate.get("indicators") or [])
    if not indicators:
        missing = {
            "metric": "",
            "value": None,
            "passed": False,
            "reason": f"no quality rule named {gate['name']}",
        }
        return GateVerdict(gate, False, (missing,))
    return GateVerdict(gate, all(item["passed"] for item in indicators), indicators)


def evaluate_indicator(indicator: dict, metrics: Mapping[str, Any]) -> dict:
    name, operator, threshold = indicator["metric"], indicator["operator"], indicator["threshold"]
    wanted = f"{name} {operator} {threshold}"
    if name not in metrics:
        return {
            **indicator,
            "value": None,
            "passed": False,
            "reason": f"{name} not reported (wanted {wanted})",
        }
    value = metrics[name]
    try:
        seen, limit = (
            typed(value, indicator.get("type", "float")),
            typed(threshold, indicator.get("type", "float")),
        )
        passed = bool(COMPARE[operator](seen, limit))
    except (TypeError, ValueError, KeyError):
        return {
            **indicator,
            "value": value,
            "passed": False,
            "reason": f"{name} is {value!r}, not comparable ({wanted})",
        }
    reason = "" if passed else f"{name} is {value} (wanted {wanted})"
    return {**indicator, "value": value, "passed": passed, "reason": reason}


def typed(value: Any, kind: str) -> Any:
    if kind == "string":
        return str(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(f"{value!r} is not a boolean")
        return text in ("true", "1", "yes")
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    number = float(value)
    if math.isnan(number):
        raise ValueError("NaN")
    return int(number) if kind == "int" and number.is_integer() else number


def gates_outcome(verdicts: list[GateVerdict]) -> str:
    """passed when every gate passed; failed when a failing gate fails the build; else blocked."""
    failing = [verdict for verdict in verdicts if not verdict.passed]
    if not failing:
        return PASSED
    return BLOCKED if all(verdict.blocking for verdict in failing) else FAILED


def block_minutes(verdicts: list[GateVerdict]) -> float:
    return min(
        verdict.gate.get("timeout_minutes") or DEFAULT_GATE_TIMEOUT_MINUTES
        for verdict in verdicts
        if not verdict.passed
    )
