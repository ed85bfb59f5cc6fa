"""One direction of imports: every app may import conventions; conventions imports no app; no app imports ava.

`ava` is the project (settings, URLs, ASGI, Celery): it wires the apps together, so an app that
imported it would import every other app with it. Tests are not app modules: they may start the
project (ava.asgi, ava.celery) to test it whole.
"""

import ast
from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# The project's own apps sit at the top of the checkout (the virtualenv's do not).
OUR_APPS = sorted(config.name for config in apps.get_app_configs() if Path(config.path).parent == ROOT)

def modules(package):
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT)
        if "tests" not in relative.parts and relative.name != "conftest.py":
            yield relative


def imported(path):
    """The dotted names a module imports, wherever in the module (an import inside a function counts)."""
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


def test_the_apps_are_found():
    assert {"conventions", "communications", "scheduling", "receptionist", "analytics"} <= set(OUR_APPS)


def test_conventions_imports_no_app():
    others = {name for name in OUR_APPS if name != "conventions"} | {"ava"}
    found = [f"{path}: {name}" for path in modules("conventions") for name in imported(path)
             if name.split(".")[0] in others]
    assert found == []


def test_no_app_imports_the_project():
    found = {}
    for app in OUR_APPS:
        for path in modules(app):
            for name in imported(path):
                if name == "ava" or name.startswith("ava."):
                    found.setdefault(name, set()).add(str(path))
    assert found == {}
