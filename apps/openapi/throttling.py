"""Rate limits: per API token, and per client IP for anonymous callers (the remote-trigger and
webhook URLs). Counters live in Django's cache (Redis when REDIS_URL is set); rates come from the
settings DEVOPS_THROTTLE_TOKEN / DEVOPS_THROTTLE_ANON. Over the limit the answer is 429 with
Retry-After and the usual error body. Session users and agents are not limited here."""

from rest_framework.throttling import SimpleRateThrottle

from apps.openapi.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.token_hash[:32]}


class AnonymousIpRateThrottle(SimpleRateThrottle):
    scope = "anon"

    def get_cache_key(self, request, view):
        if request.auth is not None or request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
