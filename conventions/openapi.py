"""How the API describes itself (drf-spectacular's DEFAULT_SCHEMA_CLASS): the one error shape on every operation.

Besides what drf-spectacular infers, `AutoSchema` lists the errors every endpoint can answer in
the shape of conventions.api.exception_handler, so a client (and schemathesis) knows them:
400 where there is input, 401/403 unless the view is public, 404 where the path names a thing
or the list has pages, 429 where a throttle applies. A view adds its own (a 409, a 503) with
`@extend_schema(responses={409: error_schema("…")})`.
"""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable and machine-readable: not_found, invalid, throttled, …")
    message = serializers.CharField(help_text="For people.")
    details = serializers.JSONField(help_text="Per-field messages for invalid input; other facts otherwise.")


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers: {"error": {"code", "message", "details"}}."""

    error = ErrorBodySerializer()


def error_schema(description):
    """An OpenAPI response in the error shape, for `@extend_schema(responses={409: error_schema("…")})`."""
    return OpenApiResponse(ErrorSerializer, description=description)


class AutoSchema(openapi.AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code, description in self._errors(operation):
            responses.setdefault(code, self._get_response_for_code(error_schema(description), code))
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _errors(self, operation):
        parameters = operation.get("parameters", [])
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
            yield "400", "The input is not valid; `details` names each field and what is wrong."
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            yield "401", "No valid credentials (when the server asks for a token)."
            yield "403", "Not signed in, the token is not valid, or the account is not staff."
        if any(p["in"] == "path" for p in parameters) or (self._is_list_view() and self._get_paginator()):
            yield "404", "No such thing, or a page past the last one."
        if self.view.get_throttles():
            yield "429", "Too many requests; `Retry-After` says when to try again."
