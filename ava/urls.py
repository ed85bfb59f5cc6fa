from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from ava import health

admin.site.site_header = "Ava: clinic settings"
admin.site.site_title = "Ava admin"
admin.site.index_title = "Catalogue, hours, providers and the assistant"

urlpatterns = [
    path("health", health.health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/admin/", include("analytics.api_urls")),
    path("dashboard/", include("ava.dashboard_urls")),
    path("call/", include("receptionist.urls")),
    path("api/", include("scheduling.api_urls")),
    path("api/", include("communications.api_urls")),
    # Signed provider webhooks: Twilio (texts, delivery status) and SendGrid Inbound Parse.
    path("webhooks/", include("communications.webhook_urls")),
    # The OpenAPI schema and its two viewers, served from here (drf-spectacular-sidecar), staff only.
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html"), name="api-redoc"),
]


def not_found(request, exception):
    """An address nothing answers: under /api/, a 404 in the API's one error shape; elsewhere Django's page."""
    if request.path.startswith("/api/"):
        error = {"code": "not_found", "message": "Nothing is served at this address.", "details": {}}
        return JsonResponse({"error": error}, status=404)
    return page_not_found(request, exception)


handler404 = not_found
