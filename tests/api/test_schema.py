"""The OpenAPI schema lists every endpoint under /api/ and nothing else, and is served to staff without a CDN."""

import re
import uuid

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern
from drf_spectacular.generators import SchemaGenerator

# The schema's own pages: drf-spectacular leaves them out of the schema on purpose.
NOT_IN_THE_SCHEMA = {"/api/schema/", "/api/docs/", "/api/redoc/"}
SAMPLE_VALUES = {"integer": "1", "string": "slug"}


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def _routes(patterns, prefix=""):
    """(path as the schema writes it, view) for every URL Django serves."""
    for entry in patterns:
        if not isinstance(entry.pattern, RoutePattern):
            # Only path() is used under /api/; a regex there needs its own translation here.
            route = entry.pattern.regex.pattern.lstrip("^").rstrip("$")
        else:
            route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + route, entry.callback


def _as_schema_path(route):
    # drf-spectacular names a `pk` path parameter `id` (SCHEMA_COERCE_PATH_PK).
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{%s}" % ("id" if m[1] == "pk" else m[1]), route)
    assert not re.search(r"[\\^$()?*+\[\]]", path), f"{route}: translate this regex route in the test"
    return path


def _methods(view):
    view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
    if view_class is None:
        return set()
    return {m for m in view_class.http_method_names if hasattr(view_class, m) and m not in ("options", "head")}


def api_endpoints():
    """{(path, method)} of every endpoint Django serves under /api/, by walking the URL resolver."""
    endpoints = set()
    for route, view in _routes(get_resolver().url_patterns):
        if not route.startswith("/api/"):
            continue
        path = _as_schema_path(route)
        if path not in NOT_IN_THE_SCHEMA:
            endpoints |= {(path, method) for method in _methods(view) or {"get"}}
    return endpoints


def test_every_endpoint_under_api_is_in_the_schema_and_no_other(schema):
    served = api_endpoints()
    described = {
        (path, method) for path, operations in schema["paths"].items() if path.startswith("/api/")
        for method in operations
    }
    assert len(served) >= 20
    assert served - described == set(), "served under /api/ but missing from the schema"
    assert described - served == set(), "in the schema but not served"


def test_every_path_in_the_schema_resolves(schema):
    for path, operations in schema["paths"].items():
        parameters = [p for operation in operations.values() for p in operation.get("parameters", []) if p["in"] == "path"]
        concrete = path
        for parameter in parameters:
            sample = str(uuid.uuid4()) if parameter["schema"].get("format") == "uuid" else SAMPLE_VALUES[parameter["schema"]["type"]]
            concrete = concrete.replace("{%s}" % parameter["name"], sample)
        try:
            resolve(concrete)
        except Resolver404:
            pytest.fail(f"{path} is in the schema but {concrete} does not resolve")


def test_the_walk_would_see_a_missing_endpoint(schema, settings):
    """The check above can fail: an endpoint the schema does not know is found."""
    settings.ROOT_URLCONF = "tests.api.urls_with_an_undescribed_endpoint"
    assert ("/api/undescribed", "get") in api_endpoints()
    assert "/api/undescribed" not in schema["paths"]


def test_the_schema_builds_without_warnings(tmp_path):
    # Warnings mean a guessed or missing description (an untyped parameter, an unknown response).
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/admin/communications" in (tmp_path / "schema.yaml").read_text()


COMMUNICATIONS = ("/api/customers", "/api/admin/communications", "/api/admin/calls")


def test_every_communications_operation_has_an_example_and_typed_parameters(schema):
    for path, operations in schema["paths"].items():
        if not path.startswith(COMMUNICATIONS):
            continue
        for method, operation in operations.items():
            success = next(r for code, r in operation["responses"].items() if code.startswith("2"))
            assert success["content"]["application/json"].get("examples"), f"{method} {path}: no example"
            for parameter in operation.get("parameters", []):
                assert parameter["schema"].get("type"), f"{method} {path}: {parameter['name']} has no type"
            for code in ("403", "429"):
                error = operation["responses"][code]["content"]["application/json"]["schema"]
                assert error == {"$ref": "#/components/schemas/Error"}


def test_health_is_described_as_public(schema):
    operation = schema["paths"]["/health"]["get"]
    assert operation["security"] == []
    assert set(operation["responses"]) == {"200", "503"}


@pytest.mark.django_db
def test_the_schema_and_its_viewers_are_for_staff(staff_client):
    for url in ("/api/schema/", "/api/docs/", "/api/redoc/"):
        assert Client().get(url).status_code == 403
    response = staff_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")
    assert "/api/admin/calls/{id}/transcript" in response.json()["paths"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_viewers_load_everything_from_this_server(staff_client, url):
    page = staff_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    scripts = [s for s in sources if s.endswith(".js")]
    assert scripts, html
    for source in sources:
        assert source.startswith("/"), f"{url} loads {source} from elsewhere"
    for script in scripts:
        response = staff_client.get(script)
        assert response.status_code == 200, script
        assert b"".join(response.streaming_content if response.streaming else [response.content])
