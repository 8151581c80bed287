"""The build events other apps listen to (notify, quality), sent once the change has committed.

`build_event` is sent with `build_id`, `event` and, for stage events, `stage_index`. Events:
`build.succeeded`, `build.failed`, `build.canceled`, `build.timed_out` (a build ended),
`review.requested` (a stage waits for review), `gate.blocked` (a stage's quality gate blocked it).
Receivers must be quick and must not raise: queue a Celery task and return.
"""

from django.db import transaction
from django.dispatch import Signal

build_event = Signal()


def build_event_on_commit(build_id: int, event: str, **details) -> None:
    transaction.on_commit(
        lambda: build_event.send_robust(sender=None, build_id=build_id, event=event, **details)
    )
