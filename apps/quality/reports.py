"""Test and coverage reports turned into standard metrics: JUnit XML and Cobertura / coverage.py XML.

Reports come from builds, so their XML is parsed defensively with the standard library only:
a size limit, and no DOCTYPE with declarations of its own, no ENTITY (no "billion laughs", no
external entity) — such a report is refused with a `ReportError` naming the reason, as is anything
that is not well-formed or not the expected kind of report. A bare `<!DOCTYPE coverage SYSTEM
"…coverage-04.dtd">`, which Cobertura and gcovr write, is accepted: the DTD is never read.

    tests.total, tests.passed, tests.failed, tests.errors, tests.skipped, tests.duration_seconds
    coverage.line, coverage.branch   (percentages, 2 decimals; branch only when it was measured)
"""

from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from apps.core.errors import ValidationFailed
from apps.quality.choices import MetricSource

REPORT_MAX_BYTES = 5 * 1024 * 1024
REPORT_TYPES = (MetricSource.JUNIT.value, MetricSource.COVERAGE.value)


class ReportError(ValidationFailed):
    code = "invalid_report"
    default_message = "The report could not be read."


def _refuse_doctype(_name, _system_id, _public_id, has_internal_subset) -> None:
    if has_internal_subset:
        raise ReportError("the report has a DOCTYPE with declarations; DTDs and entities are not accepted")


def _refuse_entity(*_args) -> None:
    raise ReportError("the report declares an ENTITY; entities are not accepted")


def xml_root(content: bytes) -> Element:
    """The root element of `content`, parsed without DTDs or entities and within the size limit."""
    if len(content) > REPORT_MAX_BYTES:
        raise ReportError(f"the report is {len(content)} bytes; the limit is {REPORT_MAX_BYTES} bytes")
    if not content.strip():
        raise ReportError("the report is empty")
    builder = TreeBuilder()
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_doctype
    parser.EntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_entity
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(content, True)
    except expat.ExpatError as error:
        raise ReportError(f"the report is not well-formed XML: {expat.ErrorString(error.code)} "
                          f"(line {error.lineno}, column {error.offset + 1})") from None
    return builder.close()


def _local_name(element: Element) -> str:
    return element.tag.rsplit(":", 1)[-1]


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip().replace(",", ""))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _outermost_suites(root: Element) -> list[Element]:
    """The <testsuite> elements not nested in another one (their counts include the nested)."""
    if _local_name(root) == "testsuite":
        return [root]
    found, pending = [], list(root)
    while pending:
        element = pending.pop(0)
        if _local_name(element) == "testsuite":
            found.append(element)
        else:
            pending.extend(element)
    return found


def _case_outcome(case: Element) -> str:
    children = {_local_name(child) for child in case}
    for outcome, marker in (("failed", "failure"), ("errors", "error"), ("skipped", "skipped")):
        if marker in children:
            return outcome
    return "passed"


def junit_metrics(root: Element) -> dict:
    """Counts per test case (a case with a <failure> is failed, else with an <error> an error,
    else with <skipped> skipped, else passed); a report of suites without cases uses the suites'
    `tests`/`failures`/`errors`/`skipped` attributes. The duration is the root's `time`, else the
    sum over the outermost suites, else over the cases."""
    if _local_name(root) not in ("testsuites", "testsuite"):
        raise ReportError(f"not a JUnit XML report: the root element is <{root.tag}>, "
                          "expected <testsuites> or <testsuite>")
    suites = _outermost_suites(root)
    cases = [element for element in root.iter() if _local_name(element) == "testcase"]
    counts = {"failed": 0, "errors": 0, "skipped": 0, "passed": 0}
    if cases:
        for case in cases:
            counts[_case_outcome(case)] += 1
    else:
        for suite in suites:
            tests = int(_number(suite.get("tests")) or 0)
            failed = int(_number(suite.get("failures")) or 0)
            errors = int(_number(suite.get("errors")) or 0)
            skipped = int(_number(suite.get("skipped") or suite.get("disabled")) or 0)
            counts["failed"] += failed
            counts["errors"] += errors
            counts["skipped"] += skipped
            counts["passed"] += max(tests - failed - errors - skipped, 0)
    duration = _number(root.get("time"))
    if duration is None:
        times = [_number(suite.get("time")) for suite in suites]
        if not any(value is not None for value in times):
            times = [_number(case.get("time")) for case in cases]
        duration = sum(value for value in times if value is not None)
    return {
        "tests.total": sum(counts.values()),
        "tests.passed": counts["passed"],
        "tests.failed": counts["failed"],
        "tests.errors": counts["errors"],
        "tests.skipped": counts["skipped"],
        "tests.duration_seconds": round(float(duration), 3),
    }


def _percentage(root: Element, kind: str, plural: str) -> float | None:
    """`covered`/`valid` counts when given (None when nothing was measured), else the rate."""
    covered, valid = _number(root.get(f"{plural}-covered")), _number(root.get(f"{plural}-valid"))
    if valid is not None and covered is not None:
        return round(100.0 * covered / valid, 2) if valid > 0 else None
    rate = _number(root.get(f"{kind}-rate"))
    if rate is None:
        return None
    return round(100.0 * rate, 2)


def coverage_metrics(root: Element) -> dict:
    """coverage.line and coverage.branch of a Cobertura or coverage.py (`coverage xml`) report."""
    if _local_name(root) != "coverage":
        raise ReportError(f"not a Cobertura / coverage.py XML report: the root element is <{root.tag}>, "
                          "expected <coverage>")
    line = _percentage(root, "line", "lines")
    if line is None:
        if root.get("line-rate") is None and root.get("lines-valid") is None:
            raise ReportError("not a Cobertura / coverage.py XML report: <coverage> has no line-rate")
        line = 100.0  # no line to cover: nothing is missed
    found = {"coverage.line": line}
    branch = _percentage(root, "branch", "branches")
    if branch is not None:
        found["coverage.branch"] = branch
    return found


PARSERS = {MetricSource.JUNIT.value: junit_metrics, MetricSource.COVERAGE.value: coverage_metrics}


def report_type_check(kind: str | None) -> str:
    kind = (kind or "").strip().lower()
    if kind not in PARSERS:
        raise ReportError(f"unknown report type {kind!r}: use one of {', '.join(REPORT_TYPES)}")
    return kind


def report_metrics(*, kind: str, content: bytes) -> dict:
    """The metrics of a report of type `kind` (junit or coverage); ReportError says what is wrong."""
    return PARSERS[report_type_check(kind)](xml_root(content))
