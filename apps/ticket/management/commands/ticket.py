"""`manage.py ticket generate-key | key-status | rotate-key`.

Rotation without downtime: put a new key first in DEVOPS_TICKET_KEYS (keep the old ones after
it), restart web and worker processes, run `rotate-key`; once it reports nothing left under an
old key, drop the old keys from the ring.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from apps.ticket.crypto import DecryptionFailed, key_ring, new_key_entry
from apps.ticket.models import Credential
from apps.ticket.services import credentials_reencrypt


class Command(BaseCommand):
    help = "Credential encryption keys: generate one, show which key encrypts what, re-encrypt."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        generate = commands.add_parser("generate-key", help="print a new id:base64key entry")
        generate.add_argument("--id", dest="key_id", default=None)
        commands.add_parser("key-status", help="credentials per key id")
        rotate = commands.add_parser("rotate-key", help="re-encrypt every value under the current key")
        rotate.add_argument("--batch-size", type=int, default=100)

    def handle(self, *, action, **options):
        if action == "generate-key":
            self.stdout.write(new_key_entry(options["key_id"]))
        elif action == "key-status":
            self.key_status()
        else:
            self.rotate(options["batch_size"])

    def key_status(self):
        ring = key_ring()
        self.stdout.write(f"current key: {ring.current_id}; ring: {', '.join(ring.key_ids)}")
        for row in Credential.objects.values("key_id").annotate(count=Count("id")).order_by("key_id"):
            known = "" if row["key_id"] in ring.key_ids else " (NOT IN THE RING)"
            self.stdout.write(f"{row['key_id']}: {row['count']}{known}")

    def rotate(self, batch_size: int):
        ring = key_ring()
        done = 0
        try:
            for done in credentials_reencrypt(batch_size=max(1, batch_size)):
                self.stdout.write(f"re-encrypted {done}")
        except DecryptionFailed as error:
            raise CommandError(f"stopped after {done}: {error}") from None
        left = Credential.objects.exclude(key_id=ring.current_id).count()
        self.stdout.write(
            self.style.SUCCESS(f"done: {done} re-encrypted under {ring.current_id}; {left} left")
        )
