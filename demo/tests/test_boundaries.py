"""The demo stays outside the product: no product module imports it."""

import ast
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _product_modules():
    for package in ROOT.iterdir():
        if package.name == "demo" or not (package / "__init__.py").exists():
            continue
        for path in package.rglob("*.py"):
            if "tests" not in path.relative_to(ROOT).parts:
                yield path


def _imports_demo(node):
    if isinstance(node, ast.ImportFrom):
        return node.level == 0 and (node.module or "").split(".")[0] == "demo"
    return isinstance(node, ast.Import) and any(alias.name.split(".")[0] == "demo" for alias in node.names)


def test_nothing_in_the_product_imports_the_demo():
    modules = list(_product_modules())
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in modules for node in ast.walk(ast.parse(path.read_text())) if _imports_demo(node)
    ]

    assert len(modules) > 50  # the scan saw the apps
    assert offenders == []
