"""Conventions every API endpoint shares: one pagination style and one error shape."""

from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(PageNumberPagination):
    """`?page=N&page_size=M` everywhere; `count`, `next`, `previous`, `results` back."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 200


def exception_handler(exc, context):
    """Every error as {"error": {"code", "message", "details"}}, whatever raised it."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    code = getattr(exc, "default_code", "error")
    if isinstance(data, dict) and "detail" in data and len(data) == 1:
        message, details = str(data["detail"]), {}
        code = getattr(data["detail"], "code", code)
    else:
        message, details = "The request is not valid.", data
        code = "invalid" if response.status_code == status.HTTP_400_BAD_REQUEST else code
    response.data = {"error": {"code": code, "message": message, "details": details}}
    return response


def error_response(*, code, message, status_code, details=None):
    """The same shape for errors a view answers itself (a taken slot: 409 with alternatives)."""
    return Response({"error": {"code": code, "message": message, "details": details or {}}}, status=status_code)
