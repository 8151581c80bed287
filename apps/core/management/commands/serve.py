"""Start the ASGI server (HTTP and websockets) for the embedded default."""
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the CI server on ADDRESS (default 127.0.0.1:8000)."

    def add_arguments(self, parser):
        parser.add_argument("address", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, address, **options):
        call_command("runserver", address, use_reloader=False)
