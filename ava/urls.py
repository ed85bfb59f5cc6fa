from django.contrib import admin
from django.urls import include, path
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
    path("api/", include("scheduling.api_urls")),
    path("api/", include("communications.api_urls")),
    # The OpenAPI schema and its two viewers, served from here (drf-spectacular-sidecar), staff only.
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]
