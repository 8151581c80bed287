"""Writes of API tokens: create (shown once, stored as a sha256 digest), revoke, authenticate.

A token is `dvp_` + 43 URL-safe characters (256 random bits); the prefix lets secret scanners
recognise a leaked one. Project bot tokens act as a bot user made for the token, a member of the
project with the role its scopes need, so the ordinary membership rules scope everything it reads.
"""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from apps.core.choices import Role
from apps.core.errors import PermissionDenied, ValidationFailed
from apps.core.models import Membership, Project
from apps.core.permissions import require_role
from apps.openapi.choices import Scope
from apps.openapi.models import ApiToken

TOKEN_PREFIX = "dvp_"
TOUCH_INTERVAL = timedelta(minutes=1)
BOT_ROLE = {Scope.READ: Role.VIEWER, Scope.TRIGGER: Role.DEVELOPER, Scope.WRITE: Role.DEVELOPER}
BOT_ROLE[Scope.ADMIN] = Role.MAINTAINER


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _scopes(scopes: list[str]) -> list[str]:
    wrong = sorted(set(scopes) - set(Scope.values))
    if not scopes or wrong:
        raise ValidationFailed(
            "Choose one or more scopes of read, trigger, write, admin.",
            details={"scopes": [f"Unknown scope '{name}'." for name in wrong] or ["Choose a scope."]},
        )
    return [scope for scope in Scope.values if scope in scopes]


def _expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is not None and expires_at <= timezone.now():
        details = {"expires_at": ["Must be later than now."]}
        raise ValidationFailed("The expiry must be in the future.", details=details)
    return expires_at


def _new_token(**fields) -> tuple[ApiToken, str]:
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        token_hash=token_digest(plaintext), hint=plaintext[: len(TOKEN_PREFIX) + 4], **fields
    )
    return token, plaintext


@transaction.atomic
def token_create(*, user, name: str, scopes: list[str], expires_at: datetime | None = None) -> tuple:
    """A personal access token of `user`; returns (token, plaintext). The plaintext is never stored."""
    if not user.is_authenticated or ApiToken.objects.filter(user=user, project__isnull=False).exists():
        raise PermissionDenied("Only people have personal tokens; a project bot token cannot make them.")
    return _new_token(
        user=user, created_by=user, name=name, scopes=_scopes(scopes), expires_at=_expiry(expires_at)
    )


def _bot_user(project: Project, name: str):
    username = f"bot-{project.slug}-{secrets.token_hex(3)}"[:150]
    bot = get_user_model().objects.create(username=username, first_name=name[:150])
    bot.set_unusable_password()
    bot.save(update_fields=["password"])
    return bot


@transaction.atomic
def project_token_create(
    *, project: Project, user, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple:
    """A bot token of the project (maintainers and owners); returns (token, plaintext)."""
    require_role(user, project, Role.MAINTAINER)
    scopes = _scopes(scopes)
    bot = _bot_user(project, name)
    top = max((Scope(scope) for scope in scopes), key=lambda scope: scope.rank)
    Membership.objects.create(project=project, user=bot, role=BOT_ROLE[top])
    return _new_token(
        user=bot, project=project, created_by=user, name=name, scopes=scopes, expires_at=_expiry(expires_at)
    )


@transaction.atomic
def token_revoke(*, token: ApiToken, user) -> ApiToken:
    """Revoke at once: the next request with it is refused. A bot token also loses its bot membership."""
    if token.project_id is not None:
        require_role(user, token.project, Role.MAINTAINER)
        Membership.objects.filter(user_id=token.user_id).delete()
        get_user_model().objects.filter(id=token.user_id).update(is_active=False)
    elif token.user_id != user.id:
        raise PermissionDenied("This token belongs to someone else.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        ApiToken.objects.filter(id=token.id).update(revoked_at=token.revoked_at)
    return token


def token_authenticate(plaintext: str) -> ApiToken | None:
    """The live token this plaintext proves, or None (unknown, revoked, expired, or user inactive)."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    digest = token_digest(plaintext)
    token = ApiToken.objects.select_related("user", "project").filter(token_hash=digest).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    now = timezone.now()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if not token.user.is_active:
        return None
    token_touch(token=token, now=now)
    return token


def token_touch(*, token: ApiToken, now: datetime) -> None:
    """Record the last use at most once a minute, so a busy token does not write on every request."""
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_INTERVAL:
        return
    stale = ApiToken.objects.filter(id=token.id, last_used_at__lt=now - TOUCH_INTERVAL)
    (stale | ApiToken.objects.filter(id=token.id, last_used_at__isnull=True)).update(last_used_at=now)
    token.last_used_at = now
