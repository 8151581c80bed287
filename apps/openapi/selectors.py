"""Reads of tokens, webhook settings and deliveries, scoped to what the asking user may see."""

from django.db.models import QuerySet

from apps.core.choices import Role
from apps.core.errors import NotFound
from apps.core.models import Project
from apps.core.permissions import require_role
from apps.openapi.models import ApiToken, WebhookDelivery, WebhookSettings


def token_list_for_user(user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user, project__isnull=True).select_related("created_by")


def token_get_for_user(user, token_id) -> ApiToken:
    token = token_list_for_user(user).filter(id=_number(token_id)).first()
    if token is None:
        raise NotFound("Token not found.")
    return token


def project_token_list(*, project: Project, user) -> QuerySet[ApiToken]:
    require_role(user, project, Role.MAINTAINER)
    return ApiToken.objects.filter(project=project).select_related("created_by", "user", "project")


def project_token_get(*, project: Project, user, token_id) -> ApiToken:
    token = project_token_list(project=project, user=user).filter(id=_number(token_id)).first()
    if token is None:
        raise NotFound("Token not found.")
    return token


def webhook_settings_get(pipeline) -> WebhookSettings | None:
    return WebhookSettings.objects.filter(pipeline=pipeline).first()


def delivery_list(pipeline) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(pipeline=pipeline).select_related("build")


def _number(value) -> int:
    return int(value) if str(value).isdigit() else -1
