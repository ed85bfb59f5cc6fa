"""Who may see staff pages."""

from django.conf import settings
from django.contrib.auth.decorators import user_passes_test


def is_staff(user):
    return user.is_active and user.is_staff


# Anonymous visitors and non-staff accounts go to the login page.
staff_required = user_passes_test(is_staff, login_url=settings.LOGIN_URL)
