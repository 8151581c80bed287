"""The one copy-paste command that installs, registers and starts an agent on a build machine."""

from django.urls import reverse


def server_base_url(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def install_command(base_url: str, token: str) -> str:
    download_url = base_url + reverse("environment-agent:download")
    return (
        f"curl -fsSL {download_url} -o devops_agent.py && "
        f"python3 devops_agent.py register --url {base_url} --token {token} --run"
    )
