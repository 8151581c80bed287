"""Property tests: the parser, the template splitter and the evaluator fail only with
ExpressionError, whatever they are given, and a few algebraic laws of GitHub's operators hold."""
from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.process.language.expressions import (
    ExpressionError,
    StatusFunctions,
    check_template,
    evaluate,
    evaluate_condition,
    is_truthy,
    normalize_condition,
    parse_expression,
    parse_template,
    render_template,
    render_value,
    to_string,
)

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TOKENS = [
    "(", ")", "[", "]", ",", ".", "*", "!", "!=", "==", "<", "<=", ">", ">=", "&&", "||", "=", "&", "|",
    "null", "true", "false", "NaN", "Infinity", "0", "1.5", "-2", ".5", "0x1F", "1e3", "+", "-", "'a'",
    "''", "'it''s'", "'", "github", "steps", "my-step", "outputs", "x_1", "success", "always", "contains",
    "format", "join", "toJSON", "fromJSON", "startsWith", "hashFiles", "'{0}'", "'{{'", "${{", "}}", " ",
]
token_soup = st.lists(st.sampled_from(TOKENS), max_size=25)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=15,
)
CONTEXT_NAMES = ["github", "env", "matrix", "steps", "Data", "x"]
contexts = st.dictionaries(st.sampled_from(CONTEXT_NAMES), json_values, max_size=6)
statuses = st.builds(StatusFunctions, success=st.booleans(), failure=st.booleans(), cancelled=st.booleans())

string_literals = st.text(max_size=6).map(lambda text: "'" + text.replace("'", "''") + "'")
number_literals = st.sampled_from(["0", "-0", "1", "2.5", "-3", "0xff", "1e2", ".5", "NaN", "Infinity"])
key_access = st.sampled_from([".a", ".b", ".*", "[0]", "[1]", "['a']", "[*]", ".my-key", "['']"])
context_paths = st.builds(
    lambda name, keys: name + "".join(keys), st.sampled_from(CONTEXT_NAMES), st.lists(key_access, max_size=3)
)
leaves = st.sampled_from(["null", "true", "false"]) | number_literals | string_literals | context_paths


def _calls(children):
    one, two = children, st.tuples(children, children)
    return st.one_of(
        st.builds("!{}".format, children),
        st.builds("({})".format, children),
        st.builds(lambda pair, operator: f"{pair[0]} {operator} {pair[1]}", two,
                  st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "&&", "||"])),
        st.builds(lambda pair, name: f"{name}({pair[0]}, {pair[1]})", two,
                  st.sampled_from(["contains", "startsWith", "endsWith", "join", "format"])),
        st.builds(lambda arg, name: f"{name}({arg})", one,
                  st.sampled_from(["toJSON", "fromJSON", "join", "format"])),
        st.builds("fromJSON({})[0]".format, children),
        st.sampled_from(["success()", "failure()", "always()", "cancelled()", "format('{1}{0}', 'a')"]),
    )


expressions = st.recursive(leaves, _calls, max_leaves=8)


def _parses(source):
    try:
        return parse_expression(source)
    except ExpressionError:
        return None


@SETTINGS
@given(st.text())
def test_parse_expression_on_any_text_raises_only_expression_error(source):
    try:
        parse_expression(source)
    except ExpressionError as error:
        assert error.offset is None or 0 <= error.offset <= len(source)


@SETTINGS
@given(token_soup, st.sampled_from(["", " "]))
def test_parse_expression_on_token_soup_raises_only_expression_error(tokens, separator):
    source = separator.join(tokens)
    try:
        parse_expression(source)
    except ExpressionError as error:
        assert error.offset is None or 0 <= error.offset <= len(source)


@SETTINGS
@given(st.lists(st.sampled_from(list("${}' ab()=!.,") + ["${{", "}}", "'x'", "''"])).map("".join) | st.text())
def test_parse_template_and_check_template_raise_only_expression_error(text):
    problems = check_template(text)
    try:
        parse_template(text)
    except ExpressionError as error:
        assert problems and error.offset is not None and 0 <= error.offset <= len(text)
    else:
        assert problems == []


@SETTINGS
@given(st.text())
def test_normalize_condition_raises_only_expression_error(text):
    try:
        normalize_condition(text)
    except ExpressionError:
        pass


@SETTINGS
@given(expressions | token_soup.map(" ".join), contexts, statuses)
def test_evaluation_raises_only_expression_error(source, values, status):
    if _parses(source) is None:
        return
    try:
        result = evaluate(source, values, status)
    except ExpressionError:
        return
    assert isinstance(to_string(result), str)
    try:
        held = evaluate_condition(source, values, status)
    except ExpressionError:
        return
    assert isinstance(held, bool)


@SETTINGS
@given(expressions, contexts)
def test_not_is_the_negation_of_truthiness(source, values):
    status = StatusFunctions(success=True, failure=False, cancelled=False)
    if _parses(source) is None or _parses(f"!({source})") is None:
        return
    try:
        value = evaluate(source, values, status)
    except ExpressionError:
        return
    assert evaluate(f"!({source})", values, status) is (not is_truthy(value))


@SETTINGS
@given(json_scalars, json_scalars)
def test_loose_comparison_laws(left, right):
    values = {"l": left, "r": right}
    assert evaluate("l == r", values) == evaluate("r == l", values)
    assert evaluate("l != r", values) is (not evaluate("l == r", values))
    assert evaluate("l <= r", values) == (evaluate("l < r", values) or evaluate("l == r", values))
    assert evaluate("l < r", values) == evaluate("r > l", values)
    assert not (evaluate("l < r", values) and evaluate("l >= r", values))


# numbers are doubles in GitHub, so integers stay exact only up to 2**53
exact_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=15,
)


@SETTINGS
@given(exact_json_values)
def test_tojson_then_fromjson_gives_the_value_back(value):
    assert evaluate("fromJSON(toJSON(v))", {"v": value}) == value


@SETTINGS
@given(st.text().filter(lambda text: "${{" not in text), contexts)
def test_text_without_expressions_renders_as_itself(text, values):
    assert render_template(text, values) == text
    assert render_value(text, values) == text


@SETTINGS
@given(json_values, contexts)
def test_a_single_expression_template_gives_the_raw_value(value, values):
    values = {**values, "v": value}
    rendered = render_value("${{ v }}", values)
    assert rendered is value or (isinstance(value, float) and math.isnan(value) and math.isnan(rendered))
    assert render_template("${{ v }}", values) == to_string(value)
