"""Each process decodes a build's Plan once.

A Plan is frozen when its build is created and nothing writes to it afterwards, so the agent
calls and engine events that touch a build many times load it with `.defer("plan")` and take the
decoded Plan from here. Entries are keyed by id and creation time (an id alone could come back
after a rolled-back transaction) and treated as read-only by every reader.
"""

import threading
from collections import OrderedDict

from apps.process.models import Build

PLAN_CACHE_SIZE = 64

_plans: OrderedDict[tuple, dict] = OrderedDict()
_lock = threading.Lock()


def build_with_plan(build: Build) -> Build:
    """Fill in the Plan of a build loaded without it; a build that has its Plan is left alone."""
    if "plan" not in build.get_deferred_fields():
        return build
    key = (build.id, build.created_at)
    with _lock:
        plan = _plans.get(key)
        if plan is not None:
            _plans.move_to_end(key)
    if plan is None:
        plan = Build.objects.values_list("plan", flat=True).get(id=build.id)
        with _lock:
            _plans[key] = plan
            while len(_plans) > PLAN_CACHE_SIZE:
                _plans.popitem(last=False)
    build.plan = plan
    return build
