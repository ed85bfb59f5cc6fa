"""Ava's URLs plus a plain Django view under /api/: test_schema checks that the walk finds it."""

from django.http import JsonResponse
from django.urls import path

from ava.urls import urlpatterns as ava_urlpatterns


def undescribed(request):
    return JsonResponse({})


urlpatterns = [*ava_urlpatterns, path("api/undescribed", undescribed)]
