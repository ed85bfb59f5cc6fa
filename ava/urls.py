from django.contrib import admin
from django.urls import include, path

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
]
