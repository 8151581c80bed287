"""Matrix expansion with GitHub Actions' semantics.

The cross product of the axes (first axis varies slowest), minus every combination an `exclude`
entry matches, then `include`: an entry extends every combination whose original-axis values it
matches, never overwriting an original value (values added by an earlier include may be
overwritten); an entry that extends nothing becomes a combination of its own. At most 256
combinations. `expand_matrix` is pure and also serves the engine for a matrix given as an
expression, once its value is known; `read_matrix` checks a matrix in the YAML with positions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from .checks import check_text, template_contexts
from .contexts import STATIC_CONTEXTS
from .expressions import ExpressionError, render_value
from .schema import Reader
from .yaml_source import YMap, YNode, YScalar, YSeq, describe

MAX_COMBINATIONS = 256
MAX_CROSS_PRODUCT = MAX_COMBINATIONS * MAX_COMBINATIONS
LISTS = ("include", "exclude")


class MatrixError(ValueError):
    """A matrix that cannot be expanded (the message says why)."""


def expand_matrix(matrix: Mapping) -> list[dict]:
    """Every combination of `matrix` (axes plus optional `include` / `exclude` lists), in order."""
    if not isinstance(matrix, Mapping):
        raise MatrixError(f"a matrix must be a mapping, got {type(matrix).__name__}")
    axes = {key: value for key, value in matrix.items() if key not in LISTS}
    include = _entries_of(matrix.get("include"), "include")
    exclude = _entries_of(matrix.get("exclude"), "exclude")
    for name, values in axes.items():
        if not isinstance(values, list):
            raise MatrixError(f"matrix axis '{name}' must be a list, got {type(values).__name__}")
        if not values:
            raise MatrixError(f"matrix axis '{name}' is empty")
    for entry in exclude:
        unknown = [key for key in entry if key not in axes]
        if unknown:
            raise MatrixError(f"exclude names '{unknown[0]}', which is not a matrix axis")
    size = math.prod(len(values) for values in axes.values()) if axes else 0
    if size > MAX_CROSS_PRODUCT:
        raise MatrixError(f"matrix has {size} combinations; the limit is {MAX_COMBINATIONS}")
    combinations = (
        [dict(zip(axes, values, strict=True)) for values in _product(list(axes.values()))] if axes else []
    )
    combinations = [combo for combo in combinations if not any(_matches(combo, entry) for entry in exclude)]
    combinations = _apply_include(combinations, include, set(axes))
    if not combinations:
        raise MatrixError("matrix has no combinations")
    if len(combinations) > MAX_COMBINATIONS:
        raise MatrixError(f"matrix has {len(combinations)} combinations; the limit is {MAX_COMBINATIONS}")
    return combinations


def combination_label(combination: Mapping) -> str:
    """'3.11, debian' — the values of a combination as they appear in a job's name."""
    return ", ".join(_value_text(value) for value in combination.values())


def _value_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _entries_of(value, name: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(entry, Mapping) for entry in value):
        raise MatrixError(f"matrix {name} must be a list of mappings")
    return [dict(entry) for entry in value]


def _product(axes: list[list]) -> list[tuple]:
    combos: list[tuple] = [()]
    for values in axes:
        combos = [(*combo, value) for combo in combos for value in values]
    return combos


def _same(left, right) -> bool:
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return all(key in left and _same(left[key], value) for key, value in right.items())
    return left == right


def _matches(combination: Mapping, entry: Mapping) -> bool:
    return all(key in combination and _same(combination[key], value) for key, value in entry.items())


def _apply_include(combinations: list[dict], include: list[dict], originals: set[str]) -> list[dict]:
    added: list[dict] = []
    for entry in include:
        original_part = {key: value for key, value in entry.items() if key in originals}
        extension = {key: value for key, value in entry.items() if key not in originals}
        matched = [combo for combo in combinations if _matches(combo, original_part)]
        for combo in matched:
            combo.update(extension)
        if not matched:
            added.append(dict(entry))
    return combinations + added


def render_matrix(template, contexts: dict):
    """A matrix written with expressions, rendered: each `${{ }}` string becomes its value.
    Raises ExpressionError."""
    if isinstance(template, str):
        return render_value(template, contexts) if is_template(template) else template
    if isinstance(template, dict):
        return {key: render_matrix(value, contexts) for key, value in template.items()}
    if isinstance(template, list):
        return [render_matrix(item, contexts) for item in template]
    return template


def expand_matrix_expression(template, contexts: dict) -> list[dict]:
    """Render a deferred matrix (the Plan's `matrix_expression`) and expand it."""
    return expand_matrix(render_matrix(template, contexts))


def is_template(value) -> bool:
    return isinstance(value, str) and "${{" in value


@dataclass
class MatrixSpec:
    """What a job's strategy says about its matrix: expanded combinations, or a template to expand
    later (`deferred`), or neither when the job has no matrix."""

    combinations: list[dict] | None = None
    deferred: dict | str | None = None


def read_matrix(reader: Reader, strategy: dict[str, YNode], contexts: dict) -> MatrixSpec:
    """Check a job's `strategy.matrix` (+ `include`/`exclude` there or beside it) and expand it.
    A matrix with expressions that read only `contexts` (inputs, variables, ...) is rendered and
    expanded now; one that reads more (`needs`) is deferred to the engine."""
    node = strategy.get("matrix")
    outside = {name: strategy[name] for name in LISTS if name in strategy}
    if node is None:
        for name, value in outside.items():
            reader.report(value, f"strategy.{name} needs a strategy.matrix")
        return MatrixSpec()
    if isinstance(node, YScalar) and is_template(node.value):
        for name, value in outside.items():
            reader.report(value, f"with a matrix given as an expression, put '{name}' inside that expression")
        return _deferred_or_static(reader, node, node.value, contexts, [node])
    if not isinstance(node, YMap):
        reader.report(node, f"matrix must be a mapping or an expression, got {describe(node)}")
        return MatrixSpec()
    parts = {entry.key: entry.value for entry in node.entries}
    for name, value in outside.items():
        if name in parts:
            reader.report(value, f"'{name}' is given both in strategy and in strategy.matrix; keep one")
        else:
            parts[name] = value
    if not _check_parts(reader, node, parts):
        return MatrixSpec()
    matrix = {name: value.plain() for name, value in parts.items()}
    if any(is_template(value) for value in _leaves(matrix)):
        return _deferred_or_static(reader, node, matrix, contexts, list(parts.values()))
    return _expanded(reader, node, matrix)


def _expanded(reader: Reader, node: YNode, matrix) -> MatrixSpec:
    try:
        return MatrixSpec(combinations=expand_matrix(matrix))
    except MatrixError as error:
        reader.report(node, str(error))
        return MatrixSpec()


def _deferred_or_static(
    reader: Reader, node: YNode, template, contexts: dict, sources: list[YNode]
) -> MatrixSpec:
    before = len(reader.problems)
    for scalar in (found for source in sources for found in _template_nodes(source)):
        check_text(reader, scalar, scalar.value)
    if len(reader.problems) > before:
        return MatrixSpec()
    texts = [text for text in _leaves(template) if is_template(text)]
    if not all(template_contexts(text) <= STATIC_CONTEXTS - {"matrix"} for text in texts):
        return MatrixSpec(deferred=template)
    try:
        rendered = render_matrix(template, contexts)
    except ExpressionError as error:
        reader.report(node, f"matrix expression failed: {error}")
        return MatrixSpec()
    return _expanded(reader, node, rendered)


def _template_nodes(node: YNode):
    if isinstance(node, YScalar):
        if is_template(node.value):
            yield node
    elif isinstance(node, YMap):
        for entry in node.entries:
            yield from _template_nodes(entry.value)
    elif isinstance(node, YSeq):
        for item in node.items:
            yield from _template_nodes(item)


def _check_parts(reader: Reader, node: YMap, parts: dict[str, YNode]) -> bool:
    before = len(reader.problems)
    axes = [name for name in parts if name not in LISTS]
    for name, value in parts.items():
        if isinstance(value, YScalar) and is_template(value.value):
            continue
        if name in LISTS:
            _check_entries(reader, name, value, axes)
        elif not isinstance(value, YSeq):
            reader.report(
                value, f"matrix axis '{name}' must be a list or an expression, got {describe(value)}"
            )
        elif not value.items:
            reader.report(value, f"matrix axis '{name}' is empty")
    if not axes and "include" not in parts:
        reader.report(node, "matrix has no axes and no include")
    return len(reader.problems) == before


def _check_entries(reader: Reader, name: str, node: YNode, axes: list[str]) -> None:
    if not isinstance(node, YSeq):
        reader.report(node, f"matrix {name} must be a list of mappings, got {describe(node)}")
        return
    for entry in node.items:
        if isinstance(entry, YScalar) and is_template(entry.value):
            continue
        if not isinstance(entry, YMap):
            reader.report(entry, f"each matrix {name} entry must be a mapping, got {describe(entry)}")
        elif name == "exclude":
            for item in entry.entries:
                if item.key not in axes:
                    reader.report_key(item, f"exclude names '{item.key}', which is not a matrix axis")


def _leaves(value):
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield value
