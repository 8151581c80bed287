"""Admin pages: projects with members inline, pipelines with read-only versions, versions read-only."""

import pytest
from django.test import Client

from apps.core.testing import make_team
from apps.process import services
from apps.process.models import PipelineVersion
from apps.process.tests.samples import HELLO

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    project, users = make_team()
    pipeline = services.pipeline_create(project=project, user=users["owner"], name="Build", yaml=HELLO)
    client = Client()
    client.force_login(users["superuser"])
    return client, project, pipeline


def test_admin_change_pages_render(admin_client):
    client, project, pipeline = admin_client
    project_page = client.get(f"/admin/core/project/{project.pk}/change/")
    assert project_page.status_code == 200 and b"acme-viewer" in project_page.content
    pipeline_page = client.get(f"/admin/process/pipeline/{pipeline.pk}/change/")
    assert pipeline_page.status_code == 200
    assert pipeline.current_version.sha256.encode() in pipeline_page.content
    for url in [
        "/admin/core/project/",
        "/admin/core/membership/",
        "/admin/process/pipeline/",
        "/admin/process/pipelineversion/",
    ]:
        assert client.get(url).status_code == 200


def test_versions_are_read_only_in_admin(admin_client):
    client, project, pipeline = admin_client
    version = pipeline.current_version
    assert client.get("/admin/process/pipelineversion/add/").status_code == 403
    assert client.get("/admin/process/pipeline/add/").status_code == 403
    page = client.get(f"/admin/process/pipelineversion/{version.pk}/change/")
    assert page.status_code == 200 and b'name="yaml"' not in page.content
    client.post(
        f"/admin/process/pipelineversion/{version.pk}/change/", {"yaml": "name: changed", "number": 5}
    )
    assert PipelineVersion.objects.get(pk=version.pk).yaml == HELLO
