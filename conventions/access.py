"""Who may see what: staff (the dashboard and the API) and owners (Django admin, the audit log, forgetting).

An owner is a superuser or an active staff member of the "Owners" group. Everything else
needs a signed-in staff account, except the public call page, /health, signing in and out,
and the provider webhooks, which check their own signatures (ava/tests/test_access.py walks
every URL to hold this).
"""

import ipaddress

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.decorators import user_passes_test
from django.shortcuts import render
from rest_framework.permissions import BasePermission

OWNERS_GROUP = "Owners"


def is_staff(user):
    return bool(user and user.is_active and user.is_staff)


def is_owner(user):
    if not is_staff(user):
        return False
    if user.is_superuser:
        return True
    if not hasattr(user, "_ava_is_owner"):
        # Once per request: templates and permission checks ask several times.
        user._ava_is_owner = user.groups.filter(name=OWNERS_GROUP).exists()
    return user._ava_is_owner


# Anonymous visitors and non-staff accounts go to the login page.
staff_required = user_passes_test(is_staff, login_url=settings.LOGIN_URL)
# Staff who are not owners go to the login page too, where they may sign in as an owner.
owner_required = user_passes_test(is_owner, login_url=settings.LOGIN_URL)


class IsOwner(BasePermission):
    """DRF: owners only."""

    def has_permission(self, request, view):
        return is_owner(request.user)


def owner_admin_permission(request):
    """Django admin is for owners: the catalogue, hours, clinic settings, accounts and the audit log."""
    return is_owner(request.user)


class OwnersBackend:
    """Owners hold every model permission in admin, as superusers do.

    It authenticates no one (ModelBackend does); it only answers permission checks, so making
    someone an owner is one thing: adding them to the Owners group.
    """

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None

    def has_perm(self, user, perm, obj=None):
        return is_owner(user)

    def has_module_perms(self, user, app_label):
        return is_owner(user)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes: refuses a sign-in while its address and username are locked out.

    A call to authenticate() without a request (the shell, Django's test client) is not an
    attempt from an address, so it is neither counted nor locked; every sign-in over HTTP
    (the login page, admin, DRF) carries its request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_address(request):
    """The address a request came from: REMOTE_ADDR, or the proxy's X-Forwarded-For when it is trusted.

    With TRUST_X_FORWARDED_FOR=1 (a proxy in front that appends the address it saw) the last
    entry is used: the earlier ones are whatever the client chose to send. Without it the
    header is ignored, so nobody can pose as another address. None when there is no valid address.
    """
    address = request.META.get("REMOTE_ADDR", "")
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            address = forwarded[-1]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out sign-in: 429 and a page that says what happened and for how long."""
    return render(request, "registration/locked_out.html", {"cooloff_minutes": settings.AXES_COOLOFF_MINUTES},
                  status=429)
