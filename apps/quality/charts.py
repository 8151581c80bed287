"""Metric charts of a pipeline page: a few numeric metrics over its last builds, as SVG geometry.

The page draws each chart as an inline <svg> on the server (templates/quality/_metric_charts.html),
no JavaScript. The builds are the pipeline's last CHART_BUILDS that reported any metric; the
metrics, at most CHART_LIMIT, are those most of these builds reported (standard ones first on a
tie). A build's value of a metric is the one reported last, as for quality gates.
"""

from apps.quality.metrics import metric_text
from apps.quality.models import Metric

CHART_BUILDS = 20
CHART_LIMIT = 4
WIDTH, HEIGHT, PAD = 320, 90, 8
PREFERRED = (
    "coverage.line",
    "tests.failed",
    "tests.total",
    "coverage.branch",
    "tests.duration_seconds",
    "tests.errors",
    "tests.skipped",
    "tests.passed",
)


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def chart_points(values: list[tuple[int, float]], positions: dict[int, int], count: int) -> list[dict]:
    """SVG coordinates of (build number, value) pairs: x by the build's position among `count`
    builds (oldest left), y scaled between the lowest and the highest value (top is highest)."""
    low, high = min(value for _, value in values), max(value for _, value in values)
    step = (WIDTH - 2 * PAD) / (count - 1) if count > 1 else 0
    points = []
    for number, value in values:
        x = PAD + positions[number] * step if count > 1 else WIDTH / 2
        y = HEIGHT / 2 if high == low else PAD + (high - value) / (high - low) * (HEIGHT - 2 * PAD)
        points.append({"x": round(x, 1), "y": round(y, 1), "number": number, "text": metric_text(value)})
    return points


def pipeline_metric_charts(*, pipeline_id: int, builds: int = CHART_BUILDS, limit: int = CHART_LIMIT) -> list:
    """[{name, latest, low, high, points: [{x, y, number, text}], polyline, builds}] for the page."""
    recent = list(
        Metric.objects.filter(build__pipeline_id=pipeline_id)
        .order_by("-build__number")
        .values_list("build__number", flat=True)
        .distinct()[:builds]
    )
    if not recent:
        return []
    numbers = sorted(recent)
    rows = (
        Metric.objects.filter(build__pipeline_id=pipeline_id, build__number__in=numbers)
        .order_by("reported_at", "id")
        .values_list("build__number", "name", "value")
    )
    by_name: dict[str, dict[int, float]] = {}
    for number, name, value in rows:
        if is_number(value):
            by_name.setdefault(name, {})[number] = value
        else:
            by_name.get(name, {}).pop(number, None)  # a later non-number replaced it
    ranked = sorted(
        (name for name, values in by_name.items() if values),
        key=lambda name: (-len(by_name[name]), PREFERRED.index(name) if name in PREFERRED else 99, name),
    )
    positions = {number: index for index, number in enumerate(numbers)}
    charts = []
    for name in ranked[:limit]:
        values = sorted(by_name[name].items())
        points = chart_points(values, positions, len(numbers))
        charts.append({
            "name": name,
            "latest": metric_text(values[-1][1]),
            "low": metric_text(min(value for _, value in values)),
            "high": metric_text(max(value for _, value in values)),
            "points": points,
            "polyline": " ".join(f"{point['x']},{point['y']}" for point in points),
            "builds": len(numbers),
            "width": WIDTH,
            "height": HEIGHT,
        })
    return charts
