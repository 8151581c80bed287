"""Table-driven cases for the `${{ }}` expression language. Expected values follow GitHub Actions'
documented behaviour (Expressions: literals, operators, loose equality, functions, object filters)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import pytest

from apps.process.language.expressions import (
    ContextName,
    ExpressionError,
    Node,
    StatusFunctions,
    check_template,
    evaluate,
    evaluate_condition,
    normalize_condition,
    parse_expression,
    parse_template,
    referenced_contexts,
    render_template,
    render_value,
    to_string,
    uses_status_function,
)

OK = StatusFunctions(success=True, failure=False, cancelled=False)
FAILED = StatusFunctions(success=False, failure=True, cancelled=False)
CANCELLED = StatusFunctions(success=False, failure=False, cancelled=True)

CONTEXTS: dict[str, Any] = {
    "github": {
        "event_name": "push",
        "ref": "refs/heads/main",
        "actor": "Mona",
        "event": {"issue": {"labels": [{"name": "bug"}, {"name": "help wanted"}]}},
    },
    "env": {"GREETING": "Hello", "EMPTY": "", "NUM": "42"},
    "matrix": {"py": "3.12", "os": "debian", "experimental": True},
    "steps": {
        "my-step": {"outputs": {"version": "1.2.3"}, "outcome": "success", "conclusion": "success"},
        "my_step": {"outputs": {}, "outcome": "failure", "conclusion": "success"},
    },
    "needs": {"setup": {"outputs": {"matrix": '{"py": ["3.11", "3.12"]}'}, "result": "success"}},
    "inputs": {"dry_run": False, "count": 3, "target": "prod"},
    "codes": {"200": "ok", "true": "yes", "": "empty key"},
    "fruits": [
        {"name": "apple", "quantity": 1},
        {"name": "orange", "quantity": 2},
        {"name": "pear", "quantity": 1},
    ],
    "vegetables": {
        "scallions": {"colors": ["green", "white", "red"], "ediblePortions": ["roots", "stalks"]},
        "beets": {"colors": ["purple", "red", "gold"], "ediblePortions": ["roots", "stems", "leaves"]},
        "artichokes": {"colors": ["green", "purple"], "ediblePortions": ["hearts", "stems"]},
    },
}


@dataclass(frozen=True)
class Fails:
    """An expected ExpressionError whose message contains `fragment`."""

    fragment: str


NaN = float("nan")


def case(mode: str, text: Any, expected: Any, status: StatusFunctions | None = OK) -> Any:
    return pytest.param(mode, text, expected, status, id=f"{mode}:{text!r}"[:90])


def expr(text: str, expected: Any, status: StatusFunctions | None = OK) -> Any:
    return case("expr", text, expected, status)


LITERALS = [
    expr("null", None),
    expr("true", True),
    expr("false", False),
    expr("711", 711),
    expr("-9.2", -9.2),
    expr("0xff", 255),
    expr("0xFF", 255),
    expr("-2.99e-2", -0.0299),
    expr("1E+1", 10),
    expr(".5", 0.5),
    expr("+1", 1),
    expr("0o17", 15),
    expr("Infinity", math.inf),
    expr("NaN", NaN),
    expr("'It''s open source!'", "It's open source!"),
    expr("''", ""),
    expr("  'spaced'  ", "spaced"),
    expr("'${{ not a template }}'", "${{ not a template }}"),
    expr("'}}'", "}}"),
]

EQUALITY = [
    expr("1 == 1", True),
    expr("1 == 2", False),
    expr("1 == 1.0", True),
    expr("'abc' == 'ABC'", True),
    expr("'abc' != 'abd'", True),
    expr("'a' == 'a '", False),
    expr("null == null", True),
    expr("null == 0", True),
    expr("null == ''", True),
    expr("null == false", True),
    expr("true == 1", True),
    expr("false == 0", True),
    expr("true == 'true'", False),
    expr("'1' == true", True),
    expr("'' == false", True),
    expr("'0' == false", True),
    expr("'1' == 1", True),
    expr("1 == '1.0'", True),
    expr("'' == 0", True),
    expr("' 42 ' == 42", True),
    expr("'0x10' == 16", True),
    expr("'1e2' == 100", True),
    expr("'abc' == 0", False),
    expr("NaN == NaN", False),
    expr("NaN != NaN", True),
    expr("fromJSON('[]') == fromJSON('[]')", False),
    expr("fromJSON('{}') != fromJSON('{}')", True),
    expr("github.event == github.event", True),
    expr("github.event != github.event", False),
    expr("fruits == 'Array'", False),
    expr("null == fromJSON('{}')", False),
    expr("inputs.count == '3'", True),
    expr("matrix.experimental == true", True),
    expr("matrix.experimental == 'true'", False),
    expr("env.NUM == 42", True),
    expr("steps.my-step.outputs.version == '1.2.3'", True),
]

ORDERING = [
    expr("1 < 2", True),
    expr("2 < 1", False),
    expr("1 <= 1", True),
    expr("2 >= 3", False),
    expr("3 > 2", True),
    expr("'a' < 'B'", True),
    expr("'b' > 'A'", True),
    expr("'abc' < 'abd'", True),
    expr("'ABC' <= 'abc'", True),
    expr("'ABC' >= 'abc'", True),
    expr("'10' < '9'", True),
    expr("10 < '9'", False),
    expr("'10' > 9", True),
    expr("'1.5' > 1", True),
    expr("true > false", True),
    expr("false < true", True),
    expr("true > true", False),
    expr("true > 0", True),
    expr("1 >= true", True),
    expr("null < 1", True),
    expr("null >= 0", True),
    expr("null > -1", True),
    expr("'abc' < 1", False),
    expr("'abc' >= 1", False),
    expr("NaN < 1", False),
    expr("NaN >= NaN", False),
    expr("fromJSON('{}') < fromJSON('{}')", False),
    expr("fruits >= fruits", True),
    expr("fruits > fruits", False),
]

LOGIC = [
    expr("true && true", True),
    expr("true && false", False),
    expr("'a' && 'b'", "b"),
    expr("'' && 'b'", ""),
    expr("0 && 'x'", 0),
    expr("null && 'x'", None),
    expr("'a' || 'b'", "a"),
    expr("'' || 'b'", "b"),
    expr("null || 0", 0),
    expr("false || null", None),
    expr("0 || '' || 'x'", "x"),
    expr("1 && 2 && 3", 3),
    expr("1 && 0 && 3", 0),
    expr("github.missing || 'default'", "default"),
    expr("!true", False),
    expr("!0", True),
    expr("!-0", True),
    expr("!''", True),
    expr("!'false'", False),
    expr("!null", True),
    expr("!NaN", True),
    expr("!fromJSON('{}')", False),
    expr("!fromJSON('[]')", False),
    expr("!!'x'", True),
    expr("! ! 0", False),
]

PRECEDENCE = [
    expr("true || false && false", True),
    expr("(true || false) && false", False),
    expr("!false && false", False),
    expr("!(false && false)", True),
    expr("1 == 1 && 2 == 3", False),
    expr("1 < 2 == true", True),
    expr("1 == 2 < 3", True),
    expr("false == 1 > 2", True),
    expr("!1 == 0", True),
    expr("'a' || 'b' == 'c'", "a"),
    expr("('a' || 'b') == 'A'", True),
    expr("1 == 1 == true", True),
]

PROPERTIES = [
    expr("github.event_name", "push"),
    expr("github['event_name']", "push"),
    expr("GITHUB.EVENT_NAME", "push"),
    expr("Github.Event_Name", "push"),
    expr("github['EVENT_NAME']", "push"),
    expr("github . event_name", "push"),
    expr("(github).event_name", "push"),
    expr("github.missing", None),
    expr("github.missing.deeper", None),
    expr("nosuchcontext", None),
    expr("nosuchcontext.x[0]", None),
    expr("steps.my-step.outputs.version", "1.2.3"),
    expr("steps['my-step'].outputs['version']", "1.2.3"),
    expr("steps.my_step.outcome", "failure"),
    expr("steps.MY-STEP.conclusion", "success"),
    expr("fruits[0].name", "apple"),
    expr("fruits[1]['name']", "orange"),
    expr("fruits[5]", None),
    expr("fruits[-1]", None),
    expr("fruits['1'].name", "orange"),
    expr("fruits[1.9].name", "orange"),
    expr("fruits[true].name", "orange"),
    expr("fruits[null].name", "apple"),
    expr("fruits['x']", None),
    expr("github.event_name[0]", None),
    expr("codes[200]", "ok"),
    expr("codes[true]", "yes"),
    expr("codes[null]", "empty key"),
    expr("github[fromJSON('{}')]", None),
    expr("fromJSON('{\"a\": {\"b\": 1}}').a.b", 1),
    expr("fromJSON('[10, 20]')[1]", 20),
    expr("github.event.issue.labels[1].name", "help wanted"),
    expr("inputs.dry_run", False),
    expr("a.null", None),
]

FILTERS = [
    expr("fruits.*.name", ["apple", "orange", "pear"]),
    expr("fruits[*].name", ["apple", "orange", "pear"]),
    expr("fruits.*.quantity", [1, 2, 1]),
    expr("fruits.*.missing", []),
    expr("fruits.*.name[0]", []),
    expr("github.event_name.*", []),
    expr("nosuchcontext.*.x", []),
    expr("github.event.issue.labels.*.name", ["bug", "help wanted"]),
    expr(
        "vegetables.*.ediblePortions",
        [["roots", "stalks"], ["roots", "stems", "leaves"], ["hearts", "stems"]],
    ),
    expr("vegetables.*.ediblePortions.*", ["roots", "stalks", "roots", "stems", "leaves", "hearts", "stems"]),
    expr("vegetables.*.colors[0]", ["green", "purple", "green"]),
    expr("vegetables.*.COLORS[2]", ["red", "gold"]),
    expr("fromJSON('[[1, 2], [3]]').*[1]", [2]),
    expr("fromJSON('{\"a\": {\"x\": null}, \"b\": {}}').*.x", [None]),
    expr("fruits.* == fruits.*", False),
    expr("contains(fruits.*.name, 'PEAR')", True),
    expr("join(fruits.*.name, ', ')", "apple, orange, pear"),
    expr("toJSON(fruits.*.quantity)", "[\n  1,\n  2,\n  1\n]"),
]

CONTAINS_STARTS_ENDS = [
    expr("contains('Hello world', 'llo')", True),
    expr("contains('Hello world', 'LLO')", True),
    expr("contains('Hello', 'xyz')", False),
    expr("contains('abc', '')", True),
    expr("contains(github.event.issue.labels.*.name, 'bug')", True),
    expr("contains(github.event.issue.labels.*.name, 'BUG')", True),
    expr("contains(github.event.issue.labels.*.name, 'feature')", False),
    expr("contains(fromJSON('[\"push\", \"pull_request\"]'), github.event_name)", True),
    expr("contains(fromJSON('[1, 2]'), '2')", True),
    expr("contains(fromJSON('[1, 2]'), 3)", False),
    expr("contains(fromJSON('[null]'), 0)", True),
    expr("contains(fromJSON('{\"a\": 1}'), 'a')", False),
    expr("contains(123, 2)", True),
    expr("contains(true, 'RU')", True),
    expr("contains(null, '')", True),
    expr("contains('abc', fromJSON('[]'))", False),
    expr("CONTAINS('abc', 'b')", True),
    expr("startsWith('Hello world', 'He')", True),
    expr("startsWith('Hello world', 'he')", True),
    expr("startsWith('Hello', 'lo')", False),
    expr("startsWith(github.ref, 'refs/heads/')", True),
    expr("startsWith(12345, 12)", True),
    expr("startsWith(fromJSON('[\"a\"]'), 'a')", False),
    expr("startswith('abc', 'a')", True),
    expr("startsWith('', '')", True),
    expr("endsWith('Hello world', 'ld')", True),
    expr("endsWith('Hello world', 'LD')", True),
    expr("endsWith('Hello', 'He')", False),
    expr("endsWith(true, 'UE')", True),
    expr("ENDSWITH('abc', 'c')", True),
    expr("endsWith('abc', null)", True),
]

FORMAT = [
    expr("format('Hello {0} {1} {2}', 'Mona', 'the', 'Octocat')", "Hello Mona the Octocat"),
    expr("format('{{Hello {0} {1} {2}!}}', 'Mona', 'the', 'Octocat')", "{Hello Mona the Octocat!}"),
    expr("format('{0}{0}', 'ab')", "abab"),
    expr("format('{1}-{0}', 'a', 'b')", "b-a"),
    expr("format('{0}', null)", ""),
    expr("format('{0}', true)", "true"),
    expr("format('{0}', 1.5)", "1.5"),
    expr("format('{0}', 10)", "10"),
    expr("format('{0}', 1e3)", "1000"),
    expr("format('{0}', 2.0)", "2"),
    expr("format('{0}', 0.1)", "0.1"),
    expr("format('{0}', 1e15)", "1E+15"),
    expr("format('{0}', 123456789012345)", "123456789012345"),
    expr("format('{0}', 0.0001)", "0.0001"),
    expr("format('{0}', 0.00001)", "1E-05"),
    expr("format('{0}', 0.333333333333333333)", "0.333333333333333"),
    expr("format('{0}', -0)", "0"),
    expr("format('{0}', -Infinity)", "-Infinity"),
    expr("format('{0}', NaN)", "NaN"),
    expr("format('{0}', fromJSON('[]'))", "Array"),
    expr("format('{0}', github)", "Object"),
    expr("format('no placeholders')", "no placeholders"),
    expr("format('}}{{')", "}{"),
    expr("format('{{0}}', 1)", "{0}"),
    expr("format('{{{0}}}', 1)", "{1}"),
    expr("FORMAT('{0}', 'x')", "x"),
    expr("format('{0} {1}', 'a')", Fails("argument {1}")),
    expr("format('{')", Fails("invalid format string")),
    expr("format('}')", Fails("invalid format string")),
    expr("format('{x}', 1)", Fails("invalid format string")),
    expr("format('{}', 1)", Fails("invalid format string")),
    expr("format('{0', 1)", Fails("invalid format string")),
    expr("format('{256}', 1)", Fails("invalid format string")),
    expr("format('{0:D2}', 1)", Fails("format specifiers")),
]

JOIN_JSON = [
    expr("join(github.event.issue.labels.*.name, ', ')", "bug, help wanted"),
    expr("join(fromJSON('[\"a\", \"b\"]'))", "a,b"),
    expr("join(fromJSON('[]'))", ""),
    expr("join('abc')", "abc"),
    expr("join(null)", ""),
    expr("join(1.5)", "1.5"),
    expr("join(github)", ""),
    expr("join(fromJSON('[1, true, null]'), '-')", "1-true-"),
    expr("join(fromJSON('[[1], {}]'))", "Array,Object"),
    expr("join(fromJSON('[\"a\", \"b\"]'), fromJSON('{}'))", "a,b"),
    expr("join(fromJSON('[\"a\", \"b\"]'), null)", "ab"),
    expr("join(fromJSON('[\"a\", \"b\"]'), 1)", "a1b"),
    expr("toJSON('abc')", '"abc"'),
    expr("toJSON(1)", "1"),
    expr("toJSON(1.5)", "1.5"),
    expr("toJSON(null)", "null"),
    expr("toJSON(true)", "true"),
    expr("toJSON(fromJSON('{}'))", "{}"),
    expr("toJSON(fromJSON('[]'))", "[]"),
    expr("toJSON(fromJSON('2.0'))", "2"),
    expr("toJSON(matrix)", '{\n  "py": "3.12",\n  "os": "debian",\n  "experimental": true\n}'),
    expr(
        "toJSON(fromJSON('{\"a\": [1, {\"b\": null}]}'))",
        '{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ]\n}',
    ),
    expr("toJSON('é')", '"é"'),
    expr("toJSON('a\"b')", '"a\\"b"'),
    expr("tojson(1)", "1"),
    expr("fromJSON('{\"a\": 1}').a", 1),
    expr("fromJSON('[1, 2, 3]')", [1, 2, 3]),
    expr("fromJSON('true')", True),
    expr("fromJSON('null')", None),
    expr("fromJSON('\"x\"')", "x"),
    expr("fromJSON('1.5')", 1.5),
    expr("fromJSON(' 7 ')", 7),
    expr("fromJSON(needs.setup.outputs.matrix).py", ["3.11", "3.12"]),
    expr("fromJSON(inputs.count)", 3),
    expr("fromJSON('10') > 9", True),
    expr("fromjson('1')", 1),
    expr("fromJSON('{bad')", Fails("invalid JSON")),
    expr("fromJSON('')", Fails("empty")),
    expr("fromJSON(null)", Fails("empty")),
    expr("fromJSON(github)", Fails("invalid JSON")),
]

STATUS = [
    expr("success()", True),
    expr("failure()", False),
    expr("always()", True),
    expr("cancelled()", False),
    expr("Success()", True),
    expr("ALWAYS()", True),
    expr("success()", False, FAILED),
    expr("failure()", True, FAILED),
    expr("cancelled()", True, CANCELLED),
    expr("always()", True, CANCELLED),
    expr("always()", True, None),
    expr("success()", Fails("only be used in a condition"), None),
    expr("failure() || 'no status needed'", Fails("only be used in a condition"), None),
]

PARSE_ERRORS = [
    expr("", Fails("an expression was expected")),
    expr("   ", Fails("an expression was expected")),
    expr("1 +", Fails("invalid number '+'")),
    expr("a ==", Fails("unexpected end of expression")),
    expr("== a", Fails("unexpected symbol '=='")),
    expr("(a", Fails("never closed")),
    expr("a)", Fails("unexpected symbol ')'")),
    expr("a[0", Fails("never closed")),
    expr("a]", Fails("unexpected symbol ']'")),
    expr("a[]", Fails("unexpected symbol ']'")),
    expr("a.'c'", Fails("unexpected symbol")),
    expr("a.1", Fails("unexpected symbol '1'")),
    expr("a.(b)", Fails("unexpected symbol '('")),
    expr("a.b()", Fails("unexpected symbol '('")),
    expr("true()", Fails("unexpected symbol '('")),
    expr("'abc'[0]", Fails("unexpected symbol '['")),
    expr("a = b", Fails("did you mean '=='")),
    expr("a & b", Fails("did you mean '&&'")),
    expr("a | b", Fails("did you mean '||'")),
    expr('"double"', Fails("unexpected symbol")),
    expr("'unterminated", Fails("unterminated string")),
    expr("1.2.3", Fails("invalid number '1.2.3'")),
    expr("0x", Fails("invalid number")),
    expr("0xZZ", Fails("invalid number")),
    expr("-0xFF", Fails("invalid number")),
    expr("a b", Fails("unexpected symbol 'b'")),
    expr("a @ b", Fails("unexpected symbol '@'")),
    expr("!", Fails("unexpected end of expression")),
    expr("contains(,)", Fails("unexpected symbol ','")),
    expr("format('a',)", Fails("unexpected symbol ')'")),
    expr("${{ a }}", Fails("'${{' inside an expression")),
    expr("hashFiles('**/package-lock.json')", Fails("unknown function 'hashFiles()'")),
    expr("foo()", Fails("unknown function 'foo()'")),
    expr("contains('a')", Fails("contains() takes exactly 2 arguments (1 given)")),
    expr("startsWith('a', 'b', 'c')", Fails("startsWith() takes exactly 2 arguments (3 given)")),
    expr("format()", Fails("format() takes at least 1 argument (0 given)")),
    expr("join()", Fails("join() takes at least 1 argument (0 given)")),
    expr("join(1, 2, 3)", Fails("join() takes at most 2 arguments (3 given)")),
    expr("toJSON()", Fails("toJSON() takes exactly 1 argument (0 given)")),
    expr("fromJSON(1, 2)", Fails("fromJSON() takes exactly 1 argument (2 given)")),
    expr("success(1)", Fails("success() takes no arguments (1 given)")),
    expr("ALWAYS(true)", Fails("always() takes no arguments (1 given)")),
    expr("(" * 60 + "1" + ")" * 60, Fails("nested more than 50 levels")),
    expr("!" * 60 + "true", Fails("nested more than 50 levels")),
    expr("a" + ".b" * 60, Fails("nested more than 50 levels")),
    expr("'" + "x" * 21000 + "'", Fails("longer than 21000 characters")),
]

TEMPLATES = [
    case("template", "plain text", "plain text"),
    case("template", "", ""),
    case("template", "${{ env.GREETING }}, ${{ github.actor }}!", "Hello, Mona!"),
    case("template", "${{ 1 }}${{ 2 }}", "12"),
    case("template", "a ${{ null }} b", "a  b"),
    case("template", "${{ true }}/${{ false }}", "true/false"),
    case("template", "${{ 1.50 }}", "1.5"),
    case("template", "${{ 3 }}", "3"),
    case("template", "v${{ 1e2 }}", "v100"),
    case("template", "${{ format('{{0}}', 1) }}", "{0}"),
    case("template", "${{ format('{0}}}', 1) }}", "1}"),
    case("template", "${{ '}}' }}", "}}"),
    case("template", "${{ 'it''s' }}", "it's"),
    case("template", "${{ '${{' }}", "${{"),
    case("template", "${{matrix.py}}-${{ matrix.os }}", "3.12-debian"),
    case("template", "${{ fromJSON('[1, 2]') }}", "[\n  1,\n  2\n]"),
    case("template", "${{ fromJSON('{\"a\": 1}') }}", '{\n  "a": 1\n}'),
    case("template", "echo ${{ steps.my-step.outputs.version }}", "echo 1.2.3"),
    case("template", "[${{ github.missing }}]", "[]"),
    case("template", "$ {{ not }} ${ {x} } }} {{", "$ {{ not }} ${ {x} } }} {{"),
    case("template", "line1\n${{ env.NUM }}\nline3", "line1\n42\nline3"),
    case("template", "${{ github.ref", Fails("never closed")),
    case("template", "${{ 'abc }}", Fails("never closed")),
    case("template", "ok ${{ }}", Fails("holds no expression")),
    case("template", "a ${{ foo() }}", Fails("unknown function 'foo()'")),
    case("template", "${{ fromJSON('x') }}", Fails("invalid JSON")),
    case("value", "${{ fromJSON('[1, 2]') }}", [1, 2]),
    case("value", "${{ true }}", True),
    case("value", "${{ 3 }}", 3),
    case("value", "${{ null }}", None),
    case("value", "${{ fromJSON(needs.setup.outputs.matrix) }}", {"py": ["3.11", "3.12"]}),
    case("value", "${{ fruits.*.name }}", ["apple", "orange", "pear"]),
    case("value", "${{ matrix.experimental && inputs.count }}", 3),
    case("value", " ${{ true }}", " true"),
    case("value", "${{ 1 }}${{ 2 }}", "12"),
    case("value", "text", "text"),
    case("value", False, False),
    case("value", 5, 5),
]

CONDITIONS = [
    case("if", None, True),
    case("if", None, False, FAILED),
    case("if", "success()", True),
    case("if", "success()", False, FAILED),
    case("if", "failure()", False),
    case("if", "failure()", True, FAILED),
    case("if", "always()", True, FAILED),
    case("if", "always()", True, CANCELLED),
    case("if", "cancelled()", True, CANCELLED),
    case("if", "cancelled()", False),
    case("if", "ALWAYS", True, FAILED),
    case("if", " ALWAYS ", True, CANCELLED),
    case("if", "SUCCESS", False, FAILED),
    case("if", "SUCCESS", True),
    case("if", "FAILURE", True, FAILED),
    case("if", "FAILURE", False),
    case("if", "CANCELED", True, CANCELLED),
    case("if", "CANCELLED", True, CANCELLED),
    case("if", "CANCELLED", False, FAILED),
    case("if", "ALWAYS_UNLESS_CANCELLED", True, FAILED),
    case("if", "ALWAYS_UNLESS_CANCELLED", False, CANCELLED),
    case("if", "always", False),
    case("if", "${{ always() }}", True, FAILED),
    case("if", "  ${{ failure() }}  ", True, FAILED),
    case("if", "github.ref == 'refs/heads/main'", True),
    case("if", "github.ref == 'refs/heads/main'", False, FAILED),
    case("if", "${{ github.event_name == 'push' }}", True),
    case("if", "github.event_name == 'pull_request'", False),
    case("if", "failure() || github.ref == 'x'", True, FAILED),
    case("if", "!cancelled() && github.actor == 'mona'", True, FAILED),
    case("if", "true", False, FAILED),
    case("if", "false", False),
    case("if", True, True),
    case("if", False, False),
    case("if", "1", True),
    case("if", "0", False),
    case("if", "'false'", True),
    case("if", "''", False),
    case("if", "", True),
    case("if", "matrix.experimental", True),
    case("if", "inputs.dry_run", False),
    case("if", "env.EMPTY", False),
    case("if", "contains(github.event.issue.labels.*.name, 'bug')", True),
    case("if", "steps.my-step.outcome == 'success'", True),
    case("if", "needs.setup.result == 'success' || always()", True, FAILED),
    case("if", "${{ a }} && ${{ b }}", Fails("single expression")),
    case("if", "${{ a", Fails("never closed")),
    case("if", "${{ }}", Fails("holds no expression")),
    case("if", "a ==", Fails("unexpected end of expression")),
    case("normalize", None, None),
    case("normalize", True, "true"),
    case("normalize", False, "false"),
    case("normalize", "", None),
    case("normalize", "  ", None),
    case("normalize", "ALWAYS", "always()"),
    case("normalize", "SUCCESS", "success()"),
    case("normalize", "FAILURE", "failure()"),
    case("normalize", "CANCELED", "cancelled()"),
    case("normalize", "CANCELLED", "cancelled()"),
    case("normalize", "ALWAYS_UNLESS_CANCELLED", "!cancelled()"),
    case("normalize", "Always", "Always"),
    case("normalize", "${{ always() }}", "always()"),
    case("normalize", "  ${{  a == b  }}  ", "a == b"),
    case("normalize", "a == b", "a == b"),
    case("normalize", "${{ format('}}') }}", "format('}}')"),
    case("normalize", "${{ a }} ${{ b }}", Fails("single expression")),
]

CASES = (
    LITERALS + EQUALITY + ORDERING + LOGIC + PRECEDENCE + PROPERTIES + FILTERS + CONTAINS_STARTS_ENDS
    + FORMAT + JOIN_JSON + STATUS + PARSE_ERRORS + TEMPLATES + CONDITIONS
)


def run(mode: str, text: Any, status: StatusFunctions | None) -> Any:
    if mode == "expr":
        return evaluate(text, CONTEXTS, status)
    if mode == "template":
        return render_template(text, CONTEXTS, status)
    if mode == "value":
        return render_value(text, CONTEXTS, status)
    if mode == "if":
        return evaluate_condition(text, CONTEXTS, status)
    return normalize_condition(text)


def same(actual: Any, expected: Any) -> bool:
    """Equality that keeps booleans apart from numbers and lets NaN equal NaN."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(same, actual, expected))
    if isinstance(expected, dict):
        return isinstance(actual, dict) and actual.keys() == expected.keys() and all(
            same(actual[key], expected[key]) for key in expected
        )
    comparable = type(actual) is type(expected) or {type(actual), type(expected)} == {int, float}
    return comparable and actual == expected


def test_the_table_is_large_enough():
    assert len(CASES) >= 200


@pytest.mark.parametrize(("mode", "text", "expected", "status"), CASES)
def test_expression_case(mode, text, expected, status):
    if isinstance(expected, Fails):
        with pytest.raises(ExpressionError) as raised:
            run(mode, text, status)
        assert expected.fragment in raised.value.message
    else:
        actual = run(mode, text, status)
        assert same(actual, expected), f"{text!r} gave {actual!r}, expected {expected!r}"


def test_evaluation_leaves_the_contexts_unchanged():
    before = repr(CONTEXTS)
    for param in CASES:
        mode, text, expected, status = param.values
        if not isinstance(expected, Fails):
            run(mode, text, status)
    assert repr(CONTEXTS) == before


@pytest.mark.parametrize(
    ("source", "offset"),
    [("a == )", 5), ("  'open", 2), ("x.y(", 3), ("hashFiles('a')", 0), ("  contains(1)", 2), ("a == ", 5)],
)
def test_parse_errors_carry_the_offset(source, offset):
    with pytest.raises(ExpressionError) as raised:
        parse_expression(source)
    assert raised.value.offset == offset


def test_template_errors_carry_the_offset_into_the_whole_text():
    with pytest.raises(ExpressionError) as raised:
        parse_template("x ${{ a == ) }}")
    assert raised.value.offset == 11
    with pytest.raises(ExpressionError) as raised:
        parse_template("abc ${{ 'no end")
    assert raised.value.offset == 4


def test_check_template_reports_every_problem():
    text = "a ${{ foo() }} b ${{ ok }} ${{ format() }} ${{ 'never"
    problems = check_template(text)
    assert [problem.offset for problem in problems] == [6, 31, 43]
    assert "unknown function 'foo()'" in problems[0].message
    assert "format() takes at least 1 argument" in problems[1].message
    assert "never closed" in problems[2].message
    assert check_template("fine ${{ github.ref }} and ${{ always() }}") == []


def test_parse_template_splits_text_and_expressions():
    parts = parse_template("a ${{ b }} c${{ 'd' }}")
    assert parts[0] == "a " and parts[2] == " c"
    assert isinstance(parts[1], ContextName) and parts[1].name == "b"
    assert isinstance(parts[3], Node) and evaluate(parts[3], {}) == "d"
    assert parse_template("") == []


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("github.ref == env.X || contains(needs.a.outputs.b, matrix.os)",
         {"github", "env", "needs", "matrix"}),
        ("GitHub.ref", {"github"}),
        ("1 == 1 && success()", set()),
        ("fromJSON(steps.x.outputs.y)[inputs.i]", {"steps", "inputs"}),
        ("a.github.env", {"a"}),
        ("fruits.*.name", {"fruits"}),
    ],
)
def test_referenced_contexts(source, names):
    assert referenced_contexts(source) == names
    assert referenced_contexts(parse_expression(source)) == names


@pytest.mark.parametrize(
    ("source", "uses"),
    [
        ("success()", True),
        ("always() && x", True),
        ("x == 1 || !cancelled()", True),
        ("x == 1", False),
        ("ALWAYS", True),
        ("${{ failure() }}", True),
        ("Cancelled()", True),
        ("'success()'", False),
        ("steps.success", False),
        (None, False),
    ],
)
def test_uses_status_function(source, uses):
    assert uses_status_function(source) is uses


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (1, "1"),
        (1.0, "1"),
        (-0.0, "0"),
        (1.5, "1.5"),
        (1e20, "1E+20"),
        (2**70, "1.18059162071741E+21"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        ("x", "x"),
        ({"a": 1}, '{\n  "a": 1\n}'),
        ([1, "b"], '[\n  1,\n  "b"\n]'),
    ],
)
def test_to_string(value, text):
    assert to_string(value) == text


def test_parsing_is_cached_and_trees_are_frozen():
    tree = parse_expression("github.ref == 'refs/heads/main'")
    assert parse_expression("github.ref == 'refs/heads/main'") is tree
    with pytest.raises(dataclasses.FrozenInstanceError):
        tree.operator = "!="


def test_filters_come_back_as_plain_lists():
    assert type(evaluate("fruits.*.name", CONTEXTS)) is list


def test_the_error_reads_as_its_message():
    error = ExpressionError("something is wrong", 3)
    assert str(error) == "something is wrong" and error.offset == 3
    assert ExpressionError("no place").offset is None
