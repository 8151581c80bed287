"""Every pipeline of docs/examples (the shared examples), run by the real server, worker and
agents, ends with exactly the statuses of its expected.json."""

import json
from pathlib import Path

import pytest

from apps.process.language import TriggerEvent
from apps.process.services.builds import build_start
from tests.integration.harness import job_statuses

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
EXPECTED = json.loads((EXAMPLES / "expected.json").read_text())
PUSH_TO_MAIN = TriggerEvent(event="push", ref="refs/heads/main", sha="0" * 40, actor="owner")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_ends_with_the_expected_statuses(cluster, make_pipeline, owner, name):
    pipeline = make_pipeline(Path(name).stem, (EXAMPLES / name).read_text())
    cluster.start()
    build = build_start(pipeline=pipeline, user=owner, trigger=PUSH_TO_MAIN)
    cluster.start_agents(2)

    build = cluster.wait_build(build, timeout=60)

    assert {"status": build.status, "jobs": job_statuses(build)} == EXPECTED[name]
