"""Routes of the notifications REST API, mounted at /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.core.api.schema import URL_SEGMENT
from apps.notify.api.views import NotificationDeliveryViewSet, NotificationSettingViewSet, SubscriptionViewSet

app_name = "notify-api"

PIPELINE = rf"projects/(?P<project_slug>{URL_SEGMENT})/pipelines/(?P<pipeline_slug>{URL_SEGMENT})"

router = SimpleRouter()
router.register(
    rf"{PIPELINE}/notification-settings", NotificationSettingViewSet, basename="notification-setting"
)
router.register(
    rf"{PIPELINE}/notification-deliveries", NotificationDeliveryViewSet, basename="notification-delivery"
)
router.register(r"notification-subscriptions", SubscriptionViewSet, basename="notification-subscription")

urlpatterns = router.urls
