"""A stage's `check-in` / `check-out`: manual reviews and quality gates, kept as data for the engine
and the quality app after their shape is checked. A gate rule reads `<metric> <op> <number>`."""

from __future__ import annotations

import re

from .checks import read_template, read_templates
from .inputs import read_inputs
from .schema import CHECK, CONTINUE_ON_FAIL, GATE, REVIEWS, Reader
from .yaml_source import YNode, YSeq, describe

RULE = re.compile(r"^\s*([A-Za-z_][\w.-]*)\s*(>=|<=|==|!=|>|<)\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*$")
DEFAULT_REVIEW_HOURS = 24


def read_check(reader: Reader, node: YNode | None) -> dict | None:
    if node is None:
        return None
    fields = reader.mapping(node, CHECK)
    if fields is None:
        return None
    if not fields:
        reader.report(node, "a stage check needs 'reviews' or 'gates'")
    return {
        "reviews": _read_reviews(reader, fields.get("reviews")),
        "gates": _read_gates(reader, fields.get("gates")),
    }


def _read_reviews(reader: Reader, node: YNode | None) -> dict | None:
    fields = reader.mapping(node, REVIEWS)
    if fields is None:
        return None
    reviewers = read_templates(reader, fields.get("reviewers"))
    if "reviewers" in fields and not reviewers:
        reader.report(fields["reviewers"], "reviews need at least one reviewer")
    return {
        "reviewers": reviewers,
        "timeout_hours": reader.amount(fields.get("timeout-hours"), DEFAULT_REVIEW_HOURS, "hours"),
        "description": read_template(reader, fields.get("description"), "") or "",
        "inputs": read_inputs(reader, fields.get("inputs")).spec,
    }


def _read_gates(reader: Reader, node: YNode | None) -> list[dict]:
    if node is None:
        return []
    if not isinstance(node, YSeq):
        reader.report(node, f"gates must be a list, got {describe(node)}")
        return []
    gates = []
    for item in node.items:
        fields = reader.mapping(item, GATE)
        if fields is None:
            continue
        keepers = reader.mapping(fields.get("continue-on-fail"), CONTINUE_ON_FAIL)
        gates.append(
            {
                "name": reader.text(fields.get("name"), "") or "",
                "rules": _read_rules(reader, fields.get("rule")),
                "continue_on_fail": {
                    "gatekeepers": read_templates(reader, keepers.get("gatekeepers")),
                    "timeout_minutes": reader.amount(keepers.get("timeout-minutes"), None, "minutes"),
                }
                if keepers
                else None,
            }
        )
    return gates


def _read_rules(reader: Reader, node: YNode | None) -> list[dict]:
    rules = []
    items = reader.items(node)
    for item in items:
        text = reader.text(item)
        if text is None:
            continue
        match = RULE.match(text)
        if not match:
            reader.report(
                item, f"gate rule '{text}' must read '<metric> <op> <number>', e.g. 'coverage.line >= 80'"
            )
            continue
        threshold = float(match.group(3))
        rules.append(
            {
                "metric": match.group(1),
                "operator": match.group(2),
                "threshold": int(threshold) if threshold.is_integer() else threshold,
                "source": text.strip(),
            }
        )
    if node is not None and not items:
        reader.report(
            node, "a gate needs at least one rule (or no 'rule' key, to use the quality rules of its name)"
        )
    return rules
