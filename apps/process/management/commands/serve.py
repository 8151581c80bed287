"""`manage.py serve`: the whole CI server in one process for the embedded default.

It starts the ASGI server (HTTP and websockets); with the in-memory broker also the Celery worker
thread and the periodic tasks; and, unless --no-agent, a local agent attached to this server
(a shared agent labelled self-hosted, local and the OS name) plus a demo project whose sample
pipeline runs once, so a newcomer sees a green build right away.
"""
import signal
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

from apps.process.local_agent import ensure_demo_project, start_attached_agent
from devops.embedded import start_embedded_worker, uses_embedded_broker


class Command(BaseCommand):
    help = "Serve the CI server on ADDRESS (default 127.0.0.1:8000) with a local agent attached."

    def add_arguments(self, parser):
        parser.add_argument("address", nargs="?", default="127.0.0.1:8000")
        parser.add_argument("--no-agent", action="store_true", help="do not start the local agent")
        parser.add_argument("--no-demo", action="store_true", help="do not create the demo project")

    def handle(self, *args, address, no_agent, no_demo, **options):
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        if uses_embedded_broker():
            start_embedded_worker()
        url = f"http://{address}"
        if not no_agent:
            start_attached_agent(url=url)
            self.stdout.write(f"A local agent is attached to {url} (labels: self-hosted, local).")
        if not no_demo:
            build = ensure_demo_project()
            if build is not None:
                self.stdout.write(f"The demo pipeline is running: {url}/projects/demo/pipelines/hello/")
        call_command("runserver", address, use_reloader=False)
