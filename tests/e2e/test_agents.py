"""In the browser: "Add a build machine" gives a copy-paste command; run as it stands in a shell, it
downloads the agent from the server, registers it and starts it, and the agents page shows it online."""

import os
import re
import shutil
import signal
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from apps.core.services import project_create
from devops.embedded import AGENT_FILE

pytestmark = [pytest.mark.django_db(transaction=True)]


def install_command(url: str) -> re.Pattern:
    return re.compile(
        rf"^curl -fsSL {re.escape(url)}/api/agent/v1/download -o devops_agent\.py && "
        rf"python3 devops_agent\.py register --url {re.escape(url)} --token reg-\S+ --run$"
    )


def as_this_machine_can_run(command: str, url: str) -> str:
    """The command as it stands where curl and python3 exist; else the repo's agent file and this Python."""
    if not shutil.which("curl"):
        command = command.replace(f"curl -fsSL {url}/api/agent/v1/download", f"cp {AGENT_FILE}")
    if not shutil.which("python3"):
        command = command.replace("python3 ", f"{sys.executable} ")
    return command


@pytest.fixture
def machine(tmp_path):
    """A shell on a 'build machine': its own home and working directory; stopped with all it started."""
    home = tmp_path / "machine"
    home.mkdir()
    started = []

    def run(command: str) -> subprocess.Popen:
        env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}
        with open(home / "output.log", "ab") as output:
            process = subprocess.Popen(
                ["bash", "-c", command], cwd=home, env=env, stdin=subprocess.DEVNULL,
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )
        started.append(process)
        return process

    run.home = home
    yield run
    for process in started:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_add_a_build_machine_with_the_copy_paste_command(admin_page, server, superuser, machine, screenshot):
    project_create(user=superuser, slug="shop", name="Shop")
    page = admin_page

    page.goto("/projects/shop/")
    page.get_by_role("link", name="Build machines").click()
    expect(page.get_by_role("heading", name="Build machines")).to_be_visible()
    expect(page.locator("p.empty")).to_contain_text("No build machine matches.")
    page.get_by_role("link", name="Add a build machine").first.click()
    page.get_by_label("Labels").fill("linux, e2e")
    page.get_by_label("Slots").fill("2")
    page.get_by_role("button", name="Create the command").click()

    command = page.locator("#install-command")
    expect(command).to_have_text(install_command(server.url))
    screenshot(page, "command")

    process = machine(as_this_machine_can_run(command.inner_text(), server.url))
    page.get_by_role("link", name="Back to build machines").click()
    row = page.locator("table.agents tbody tr")
    for _ in range(40):
        if row.count() == 1 and row.locator(".badge").first.inner_text() == "online":
            break
        assert process.poll() is None, (machine.home / "output.log").read_text()
        page.wait_for_timeout(500)
        page.reload()
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1).locator(".badge")).to_have_text("online")
    expect(row.locator(".badge.label")).to_contain_text(["e2e", "linux", "self-hosted"])
    expect(row.locator("td").nth(5)).to_have_text("2")
    expect(row.locator("td").nth(2)).not_to_have_text("-")
    assert (machine.home / "devops_agent.py").exists()
    assert (machine.home / ".devops-agent" / "agent.json").exists()
    expect(page.get_by_role("heading", name="Unused registration tokens")).to_have_count(0)
    screenshot(page)


def test_create_a_node_group(admin_page, superuser, screenshot):
    project_create(user=superuser, slug="shop", name="Shop")
    page = admin_page

    page.goto("/projects/shop/agents/")
    page.get_by_role("link", name="Node groups").click()
    expect(page.locator("p.empty")).to_contain_text("No node group matches.")
    page.get_by_role("link", name="New node group").click()
    page.get_by_label("Name").fill("linux-pool")
    page.get_by_label("Description").fill("The Linux machines of the shop.")
    page.get_by_label("Variables").fill("REGION=eu\nTIER=gold")
    page.get_by_role("button", name="Create node group").click()

    expect(page.locator(".messages")).to_contain_text("Node group linux-pool created.")
    expect(page.locator(".tabs a.active")).to_have_text("Node groups")
    row = page.locator("tbody tr")
    expect(row).to_have_count(1)
    description = "The Linux machines of the shop."
    expect(row.locator("td")).to_have_text(["linux-pool", "Build", "0", "2", description])
    screenshot(page)
