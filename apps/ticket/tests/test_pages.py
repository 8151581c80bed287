"""Every credential page against every role; no page renders a value, not even after a failed post."""

import pytest
from django.test import Client

from apps.ticket.models import Credential
from apps.ticket.services import credential_create, credential_value

pytestmark = pytest.mark.django_db

ROLES = ["owner", "maintainer", "developer", "viewer", "outsider", "superuser", "anonymous"]
VALUE = "PageSecret-31415926"
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nPAGEKEYLINE-abcdef123456\n-----END OPENSSH PRIVATE KEY-----\n"
BASE = "/projects/acme/credentials/"


def statuses(member, manage, outsider=404, anonymous=302):
    return {
        "owner": manage,
        "maintainer": manage,
        "superuser": manage,
        "developer": member,
        "viewer": member,
        "outsider": outsider,
        "anonymous": anonymous,
    }


@pytest.fixture
def key(project, users):
    return credential_create(
        project=project,
        user=users["owner"],
        name="DEPLOY_KEY",
        type="ssh_key",
        values={"private_key": KEY, "passphrase": VALUE},
    )


def client_for(users, role):
    client = Client()
    if role != "anonymous":
        client.force_login(users[role])
    return client


PAGES = [
    ("get", "", None, statuses(200, 200)),
    ("get", "new/", None, statuses(403, 200)),
    ("get", "new/?type=certificate", None, statuses(403, 200)),
    ("get", "DEPLOY_KEY/", None, statuses(403, 200)),
    ("post", "DEPLOY_KEY/", {"description": "d", "shared_with": ""}, statuses(403, 302)),
    ("post", "DEPLOY_KEY/replace/", {"value_private_key": "NEWKEY-xyz"}, statuses(403, 302)),
    ("post", "DEPLOY_KEY/delete/", {}, statuses(403, 302)),
]


@pytest.mark.parametrize("method, path, data, expected", PAGES, ids=[f"{p[0]} {p[1] or '/'}" for p in PAGES])
@pytest.mark.parametrize("role", ROLES)
def test_page_permission_table(users, key, role, method, path, data, expected):
    response = getattr(client_for(users, role), method)(BASE + path, data or {})
    assert response.status_code == expected[role]
    assert VALUE.encode() not in response.content and b"PAGEKEYLINE" not in response.content


def test_list_shows_names_to_viewers_and_details_to_managers(users, key):
    viewer = client_for(users, "viewer").get(BASE).content.decode()
    assert "DEPLOY_KEY" in viewer and "New credential" not in viewer and "Recent changes" not in viewer
    owner = client_for(users, "owner").get(BASE).content.decode()
    assert "New credential" in owner and "Recent changes" in owner


def test_create_through_the_form_and_a_failed_post_does_not_echo_the_value(users, key):
    client = client_for(users, "maintainer")
    data = {
        "type": "certificate",
        "name": "DEPLOY_KEY",
        "value_certificate": "CERT-" + VALUE,
        "value_private_key": "KEY-" + VALUE,
        "shared_with": "",
    }
    again = client.post(BASE + "new/?type=certificate", data)
    assert again.status_code == 200 and b"already exists" in again.content
    assert VALUE.encode() not in again.content
    created = client.post(BASE + "new/?type=certificate", {**data, "name": "TLS"})
    assert created.status_code == 302
    tls = Credential.objects.get(name="TLS")
    assert credential_value(tls) == {"certificate": "CERT-" + VALUE, "private_key": "KEY-" + VALUE}
    detail = client.get(created["Location"])
    assert detail.status_code == 200 and VALUE.encode() not in detail.content and b"Created" in detail.content


def test_replace_from_the_page_changes_the_value_and_records_it(users, key):
    client_for(users, "owner").post(BASE + "DEPLOY_KEY/replace/", {"value_private_key": "NEWKEY-xyz"})
    key.refresh_from_db()
    assert credential_value(key) == {"private_key": "NEWKEY-xyz"}
    page = client_for(users, "owner").get(BASE + "DEPLOY_KEY/").content.decode()
    assert "Value replaced" in page and "NEWKEY" not in page


def test_admin_lists_credentials_without_values(users, key):
    client = client_for(users, "superuser")
    listing = client.get("/admin/ticket/credential/")
    detail = client.get(f"/admin/ticket/credential/{key.pk}/change/")
    assert listing.status_code == 200 and b"DEPLOY_KEY" in listing.content
    assert detail.status_code == 200
    for response in (listing, detail):
        assert VALUE.encode() not in response.content and b"PAGEKEYLINE" not in response.content
        assert b"ciphertext" not in response.content.lower()
