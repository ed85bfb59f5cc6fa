from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path
from django.templatetags.static import static
from django.views.defaults import page_not_found
from django.views.generic import RedirectView
from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from ava import health
from conventions.access import owner_admin_permission, staff_required

admin.site.site_header = "Ava: clinic settings"
admin.site.site_title = "Ava admin"
admin.site.index_title = "Catalogue, hours, providers and the assistant"
# Owners only (superusers and the Owners group); other staff have the dashboard.
admin.site.has_permission = owner_admin_permission

urlpatterns = [
    # The server's address: staff land on the dashboard, anyone else on the sign-in page (which links the call page).
    path("", staff_required(RedirectView.as_view(pattern_name="dashboard:home")), name="home"),
    path("health", health.health, name="health"),
    # Admin and the API docs have no icon link, so browsers ask for /favicon.ico.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True), name="favicon"),
    path("admin/", admin.site.urls),
    # Signing in and out, and changing one's own password; no public password reset (owners reset in admin).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("api/admin/", include("analytics.api_urls")),
    path("dashboard/", include("ava.dashboard_urls")),
    path("call/", include("receptionist.urls")),
    path("api/", include("scheduling.api_urls")),
    path("api/", include("communications.api_urls")),
    # Signed provider webhooks: Twilio (texts, delivery status) and SendGrid Inbound Parse.
    path("webhooks/", include("communications.webhook_urls")),
    # The phone number's signed webhooks: a call comes in, its status, the front desk rung, a message left.
    path("webhooks/twilio/", include("receptionist.phone.urls")),
    # The OpenAPI schema and its two viewers, served from here (drf-spectacular-sidecar), staff only.
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's start-up script is a file of its own (the split view), so no inline script is needed.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
         name="api-docs"),
    # Redoc writes its styles into <style> elements and runs its search in a worker made from a blob:
    # allowed on this page only.
    path("api/redoc/", csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})(
        SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html")), name="api-redoc"),
]


def not_found(request, exception):
    """An address nothing answers: under /api/, a 404 in the API's one error shape; elsewhere Django's page."""
    if request.path.startswith("/api/"):
        error = {"code": "not_found", "message": "Nothing is served at this address.", "details": {}}
        return JsonResponse({"error": error}, status=404)
    return page_not_found(request, exception)


handler404 = not_found
