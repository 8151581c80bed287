"""Create a one-time agent registration token and print the command that installs the agent.

manage.py registration_token                       # a shared agent (any project may use it)
manage.py registration_token --project acme --labels linux,docker --url http://ci.example:8000
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import ApplicationError
from apps.core.models import Project
from apps.environment.install import install_command
from apps.environment.services import registration_token_create


class Command(BaseCommand):
    help = "Create a one-time agent registration token and print the install command."

    def add_arguments(self, parser):
        parser.add_argument("--project", help="Project slug; without it the agent is shared.")
        parser.add_argument("--labels", default="", help="Comma-separated labels.")
        parser.add_argument("--slots", type=int, default=None)
        parser.add_argument("--hours", type=int, default=24, help="Hours until the token expires.")
        parser.add_argument("--user", help="Who creates it (default: the first superuser).")
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="The server URL agents connect to."
        )
        parser.add_argument("--quiet", action="store_true", help="Print the token only.")

    def handle(self, *args, **options):
        project = None
        if options["project"]:
            project = Project.objects.filter(slug=options["project"]).first()
            if project is None:
                raise CommandError(f"No project {options['project']!r}.")
        try:
            _, plaintext = registration_token_create(
                project=project,
                user=self._user(options["user"]),
                labels=[label for label in options["labels"].split(",") if label.strip()],
                slots=options["slots"],
                node_groups=[],
                expires_in=timedelta(hours=options["hours"]),
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        if options["quiet"]:
            self.stdout.write(plaintext)
        else:
            self.stdout.write(install_command(options["url"].rstrip("/"), plaintext))

    def _user(self, username: str | None):
        users = get_user_model().objects.filter(is_active=True)
        user = (
            users.filter(username=username).first() if username else users.filter(is_superuser=True).first()
        )
        if user is None:
            raise CommandError("No such user." if username else "Create a superuser first, or pass --user.")
        return user
