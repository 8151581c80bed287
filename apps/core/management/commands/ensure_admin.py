"""Create the first administrator if there is none, and say how to log in.

The user name and password come from DEVOPS_ADMIN_USER / DEVOPS_ADMIN_PASSWORD; without them the
user is `admin` with a random password kept in var/admin-password (mode 0600) and printed.
"""
import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the administrator account if missing and print how to log in."

    def handle(self, *args, **options):
        username = os.environ.get("DEVOPS_ADMIN_USER", "admin")
        password = os.environ.get("DEVOPS_ADMIN_PASSWORD")
        password_file = settings.VAR_DIR / "admin-password"
        users = get_user_model()
        if not users.objects.filter(username=username).exists():
            if not password:
                password = secrets.token_urlsafe(12)
                password_file.write_text(password + "\n")
                password_file.chmod(0o600)
            users.objects.create_superuser(username=username, email="", password=password)
            self.stdout.write(f"Created the administrator '{username}'.")
        elif not password and password_file.exists():
            password = password_file.read_text().strip()
        shown = password if password else "(set earlier; unchanged)"
        self.stdout.write(f"Log in at http://127.0.0.1:8000/ as '{username}' with password: {shown}")
